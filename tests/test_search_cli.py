"""`inferonomics search`, run as the installed script runs it (`run_app()`): JSON keys, tables, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)
from inferonomics.search import read_sweep

BASE = [
    "search",
    "--model",
    "Llama-3.1-8B",
    "-H",
    "h100_sxm",
    "--isl",
    "1000",
    "--osl",
    "200",
    "--batch-sizes",
    "4,16,64",
    "--recheck",
    "1",
    "--recheck-requests",
    "100",
]


def test_search_json_answer(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    code, stdout, _ = cli(*BASE, "--rate", "10", "--ttft-ms", "500", "--tpot-ms", "30", "--json", "--out", str(out))
    assert code == 0
    d = json.loads(stdout)
    best = d["best"]
    for key in ("hardware", "chips", "parallelism", "precision", "mode", "ttft_ms", "tpot_ms", "usd_per_mtok"):
        assert key in best
    assert best["hardware"] == "h100_sxm" and best["ttft_ms"] <= 500 and best["tpot_ms"] <= 30
    assert best["usd_per_mtok"] > 0 and set(best["parallelism"]) >= {"tp", "pp", "ep", "attention_dp"}
    assert isinstance(d["pareto"], list) and d["pareto"] and all("usd_per_mtok" in p for p in d["pareto"])
    assert isinstance(d["evaluated"], int) and d["evaluated"] > 10
    assert isinstance(d["elapsed_s"], float) and d["elapsed_s"] > 0
    assert d["runner_up_reason"]
    rows, meta = read_sweep(out)
    assert len(rows) == d["evaluated"] and meta["screen_key"]["model"] == "Llama-3.1-8B"


def test_search_tables(cli: Any) -> None:
    code, stdout, _ = cli(*BASE, "--rate", "10", "--ttft-ms", "500", "--tpot-ms", "30", "--mode", "agg")
    assert code == 0
    assert "Recommended" in stdout and "Pareto set" in stdout and "runner-up" in stdout


def test_impossible_slo_is_answered(cli: Any) -> None:
    code, stdout, _ = cli(*BASE, "--rate", "10", "--tpot-ms", "0.1", "--json", "--mode", "agg")
    assert code == 0
    d = json.loads(stdout)
    assert d["best"] is None and d["infeasible"]["binding"] == ["tpot"]
    assert "TPOT binds" in d["infeasible"]["message"] and d["infeasible"]["closest"]
    code, stdout, _ = cli(*BASE, "--rate", "10", "--tpot-ms", "0.1", "--mode", "agg")
    assert code == 0 and "Nothing meets the targets" in stdout and "Closest configurations" in stdout


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--rate", "1", "--trace", "x.csv"], "exactly one of --rate or --trace"),
        ([], "exactly one of --rate or --trace"),
        (["--rate", "1", "--backend", "spark"], "--backend"),
        (["--rate", "1", "--address", "127.0.0.1:6379"], "--address needs --backend ray"),
        (["--rate", "1", "--resume"], "--resume needs --out"),
        (["--rate", "1", "--usd-per-chip-hour", "h100_sxm"], "NAME=PRICE"),
        (["--rate", "1", "--objective", "latency"], "objective"),
        (["--rate", "-1"], "rate_per_s"),
        (["--rate", "1", "--backend", "ray", "--address", "127.0.0.1:1"], "cannot reach a Ray cluster"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: Any, extra: list[str], words: str) -> None:
    code, stdout, stderr = cli(*BASE, *extra)
    assert code == 2 and stdout == ""
    assert words in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_unknown_model_exit_2(cli: Any) -> None:
    code, _, stderr = cli("search", "--model", "Llama-9-1T", "--isl", "10", "--osl", "10", "--rate", "1")
    assert code == 2 and "unknown model" in stderr and "Traceback" not in stderr
