"""`inferonomics simulate`, run as the installed script runs it (`run_app()`): JSON keys, output files,
errors as one red line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)

TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"
BASE = ["simulate", "--model", "llama-3.1-8b", "--hardware", "h100_sxm", "--tp", "1", "--no-progress"]


@pytest.fixture(autouse=True)
def _perf_available() -> None:
    try:
        from inferonomics.perf import make_deployment

        make_deployment("llama-3.1-8b", "h100_sxm")
    except Exception as exc:  # pragma: no cover - catalog or perf not built
        pytest.skip(f"catalog/performance model not available: {exc}")


def test_closed_loop_json(cli: Any) -> None:
    code, out, err = cli(
        *BASE,
        "--concurrency",
        "4",
        "--num-requests",
        "40",
        "--isl-dist",
        "512",
        "--osl-dist",
        "uniform:16,64",
        "--json",
    )
    assert code == 0, err
    s = json.loads(out)
    assert s["completed"] == 40 and s["rejected"] == 0 and not s["partial"]
    for key in ("ttft_ms", "tpot_ms"):
        assert set(s[key]) >= {"p50", "p90", "p99"} and s[key]["p50"] > 0
    for key in ("goodput_rps", "throughput_output_tokens_per_s", "prefix_cache_hit_rate", "sim_wall_s"):
        assert key in s


def test_rate_with_slo_prefix_and_tables(cli: Any) -> None:
    code, out, err = cli(
        *BASE,
        "--rate",
        "5",
        "--num-requests",
        "60",
        "--shared-prefix-tokens",
        "1024",
        "--prefix-cache",
        "--slo-ttft-ms",
        "500",
        "--slo-tpot-ms",
        "50",
        "--replicas",
        "2",
        "--router",
        "prefix_aware",
    )
    assert code == 0, err
    assert "goodput" in out and "TTFT" in out and "replica" in out
    code, out, _ = cli(
        *BASE, "--rate", "5", "--num-requests", "60", "--shared-prefix-tokens", "1024", "--prefix-cache", "--json"
    )
    assert json.loads(out)["prefix_cache_hit_rate"] == pytest.approx(1024 / 2048 * 59 / 60)  # all but the first


def test_trace_replay_writes_outputs(cli: Any, tmp_path: Path) -> None:
    trace = tmp_path / "burst.csv"
    trace.write_text(
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
        + "".join(f"{i * 0.5},ChatGPT,{300 + 10 * i},{20 + i},0,Conversation log\n" for i in range(30))
        + "16,ChatGPT,100,0,100,Conversation log\n"
    )
    out_dir = tmp_path / "out"
    code, out, err = cli(*BASE, "--trace", str(trace), "--out", str(out_dir), "--json")
    assert code == 0, err
    s = json.loads(out)
    assert s["completed"] == 30 and s["rejected"] == 1 and s["rejected_by_reason"] == {"zero_output": 1}
    for name in ("requests.parquet", "requests.csv", "iterations.parquet", "summary.json", "trace.json"):
        assert (out_dir / name).is_file()
    assert json.loads((out_dir / "trace.json").read_text())["traceEvents"]


def test_malformed_trace_is_one_red_line(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": []}\n{"timestamp": 1}\n')
    code, out, err = cli(*BASE, "--trace", str(bad))
    assert code == 2 and out == ""
    assert "bad.jsonl:2" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ([], "exactly one workload"),
        (["--rate", "1", "--concurrency", "2"], "exactly one workload"),
        (["--concurrency", "2", "--scheduler", "fifo"], "scheduler"),
        (["--concurrency", "2", "--isl-dist", "gauss:3"], "length distribution"),
        (["--concurrency", "2", "--prefill-replicas", "1"], "both --prefill-replicas"),
    ],
)
def test_bad_input_exits_2(cli: Any, args: list[str], match: str) -> None:
    code, _, err = cli(*BASE, *args)
    assert code == 2 and match in err and "Traceback" not in err


def test_partial_run_is_marked(cli: Any) -> None:
    code, out, err = cli(
        *BASE,
        "--rate",
        "50",
        "--num-requests",
        "5000",
        "--isl-dist",
        "64",
        "--osl-dist",
        "4",
        "--max-wall-s",
        "0.000001",
        "--json",
    )
    assert code == 0, err
    s = json.loads(out)
    assert s["partial"] and "wall-time" in s["stop_reason"] and s["incomplete"] > 0
    assert s["completed"] + s["rejected"] + s["incomplete"] + s["not_issued"] == 5000 == s["requests"]


def test_disaggregated_and_azure_trace(cli: Any) -> None:
    azure = TRACES / "AzureLLMInferenceTrace_code.csv"
    if not azure.is_file():
        pytest.skip(f"{azure} not available")
    code, out, err = cli(
        *BASE,
        "--trace",
        str(azure),
        "--max-requests",
        "300",
        "--prefill-replicas",
        "1",
        "--decode-replicas",
        "1",
        "--json",
    )
    assert code == 0, err
    s = json.loads(out)
    assert s["completed"] == 300 and s["replicas"] == 2
