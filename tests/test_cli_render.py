"""Terminal output at 100 columns: tables fit, no cell is wrapped mid-word, numbers read as numbers.

The commands run as the installed script would (a subprocess with COLUMNS=100), and each table's
cells are checked against the same command's `--json`: every word of every shown cell must appear
whole on one line of the table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inferonomics.cli.render import Column, fmt, human_bytes, human_count, records_table, shorten_labels

SRC = str(Path(__file__).resolve().parents[1] / "src")
WIDTH = 100


def _run(*args: str, columns: int = WIDTH) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", "PYTHONPATH": SRC}
    env.pop("INFERONOMICS_HARDWARE", None)
    return subprocess.run(
        [sys.executable, "-m", "inferonomics", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _table_lines(out: str) -> list[str]:
    """Lines inside table bodies (between the heavy header rule and the bottom rule)."""
    lines, inside = [], False
    for line in out.splitlines():
        if line.startswith("┡"):
            inside = True
        elif line.startswith("└"):
            inside = False
        elif inside:
            lines.append(line)
    return lines


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("│").split("│")]


def _assert_fits_and_whole(out: str, values: list[str]) -> None:
    """No line is wider than the terminal; every word of `values` appears whole in some table cell."""
    assert all(len(line) <= WIDTH for line in out.splitlines()), max(out.splitlines(), key=len)
    words = {w for line in _table_lines(out) for c in _cells(line) for w in c.split()}
    missing = [w for v in values for w in str(v).split() if w not in words]
    assert not missing, f"cut mid-word or missing: {missing[:8]}"


def _shown_headers(out: str) -> str:
    head = []
    for line in out.splitlines():
        if line.startswith("┡"):
            break
        head.append(line)
    return " ".join(head)


@pytest.fixture(scope="module")
def models_json() -> list[dict[str, Any]]:
    res = _run("models", "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_models_at_100_columns_show_whole_hf_ids_and_aliases(models_json: list[dict[str, Any]]) -> None:
    res = _run("models")
    assert res.returncode == 0, res.stderr
    hf_ids = [m["hf_id"] or m["name"] for m in models_json]
    _assert_fits_and_whole(res.stdout, hf_ids)
    # each HF id sits whole on one line, once per model row (one line per row unless aliases wrap)
    body = _table_lines(res.stdout)
    assert all(any(_cells(line)[0] == h for line in body) for h in hf_ids)
    assert "also known as" in _shown_headers(res.stdout) and "params" in _shown_headers(res.stdout)
    assert "llama3-70b" in res.stdout  # an alias
    assert "more columns with --wide" in res.stdout
    assert "e+" not in res.stdout


def test_models_wide_shows_every_column(models_json: list[dict[str, Any]]) -> None:
    res = _run("models", "--wide")
    assert res.returncode == 0, res.stderr
    headers = _shown_headers(res.stdout)
    for h in ("context", "attention", "layers", "family", "weights"):
        assert h in headers
    assert "more columns" not in res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) > WIDTH  # runs past the terminal, unsqueezed


def test_hardware_at_100_columns() -> None:
    res = _run("hardware")
    rows = json.loads(_run("hardware", "--json").stdout)
    assert res.returncode == 0, res.stderr
    _assert_fits_and_whole(res.stdout, [r["system"] for r in rows])
    assert len(_table_lines(res.stdout)) == len(rows)  # one line per system
    assert "HBM" in _shown_headers(res.stdout)
    assert ".0 " not in res.stdout and "e+" not in res.stdout  # 141, not 141.0; 1,979, not 1.98e+03


def test_prices_at_100_columns() -> None:
    res = _run("prices", "anthropic")
    rows = json.loads(_run("prices", "anthropic", "--json").stdout)
    assert res.returncode == 0, res.stderr
    _assert_fits_and_whole(res.stdout, [r["key"] for r in rows])
    assert len(_table_lines(res.stdout)) == len(rows)
    assert "-50%" in res.stdout  # the batch discount in words people read


def test_capacity_agents_at_100_columns() -> None:
    args = ("capacity", "agents", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--agents", "50", "--max-chips", "8")
    res = _run(*args)
    plan = json.loads(_run(*args, "--json").stdout)
    assert res.returncode == 0, res.stderr
    options = plan["options"][:8]
    short, _ = shorten_labels([o["deployment"] for o in options])
    _assert_fits_and_whole(res.stdout, short)
    assert len(_table_lines(res.stdout)) == len(options)  # one line per option (was 5-7 before)


def test_compare_lab_vs_provider_at_100_columns() -> None:
    res = _run("compare", "lab-vs-provider")
    data = json.loads(_run("compare", "lab-vs-provider", "--json").stdout)
    assert res.returncode == 0, res.stderr
    rows = data["rows"]
    _assert_fits_and_whole(res.stdout, [r["step"] for r in rows] + [r["model"] for r in rows])
    assert "cheaper" in _shown_headers(res.stdout) and "USD/request" in _shown_headers(res.stdout)


def test_help_shows_words_not_type_placeholders() -> None:
    res = _run("capacity", "agents", "--help")
    assert res.returncode == 0
    assert "<bool>" not in res.stdout and "<int range>" not in res.stdout and "<str>" not in res.stdout
    assert "INTEGER" in res.stdout and "FLOAT" in res.stdout


def test_disaggregated_prediction_describes_each_pool() -> None:
    res = _run(
        "predict", "-m", "llama-3.1-70b", "-H", "h200_sxm", "--mode", "disagg", "--prefill-tp", "4",
        "--decode-tp", "4", "--prefill-instances", "1", "--decode-instances", "2",
        "--isl", "4096", "--osl", "512", "-c", "64",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "prefill: 1 instance of 4x h200_sxm (TP4) = 4 chips" in res.stdout
    assert "decode: 2 instances of 4x h200_sxm (TP4) = 8 chips" in res.stdout
    assert "12 chips in all" in res.stdout


def test_trace_directory_says_directory(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    res = _run("simulate", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--trace", str(tmp_path))
    assert res.returncode == 2
    assert "is a directory" in res.stderr and "a.csv" in res.stderr and "not found" not in res.stderr


def test_search_says_which_weights_and_why_two_ttfts() -> None:
    res = _run(
        "search", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--isl", "512", "--osl", "128", "--rate", "4",
        "--ttft-ms", "2000", "--tpot-ms", "100", "--recheck", "1", "--recheck-requests", "60", "--mode", "agg",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    text = re.sub(r"\s*│\s*", " ", res.stdout)
    assert "weights:" in text and ("checkpoint's own format" in text or "instead of the checkpoint's" in text)
    assert "why two figures" in text and "steady-state mean" in text


# --- the formatting itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (175000.0, "175,000"),
        (123.0, "123"),
        (1, "1"),
        (2.039, "2.039"),
        (4.525, "4.525"),
        (0.000959, "0.000959"),
        (2953.3, "2,953"),
        (float("nan"), "-"),
        (None, "-"),
        (True, "yes"),
        (-0.5, "-0.5"),
    ],
)
def test_fmt_human_numbers(value: Any, text: str) -> None:
    assert fmt(value) == text


def test_human_units() -> None:
    assert human_count(70_553_706_496) == "70.6B" and human_count(596_000_000) == "596M"
    assert human_bytes(131072) == "131 kB" and human_bytes(80e9) == "80 GB"


def test_columns_give_way_by_priority_and_prose_wraps_at_words() -> None:
    from rich.console import Console

    rows = [{"id": "a-very-long-identifier-that-must-stay-whole", "n": 1.0, "note": "words that may wrap " * 3}]
    cols = [Column("id", "id", priority=0), Column("note", "note", priority=2), Column("n", "n", priority=1)]
    console = Console(width=80, record=True, no_color=True)
    console.print(records_table("t", rows, cols, wide=False))
    out = console.export_text()
    assert "a-very-long-identifier-that-must-stay-whole" in out
    assert all(len(line) <= 80 for line in out.splitlines()) and len(_table_lines(out)) > 1  # the note wraps
    body = " ".join(_table_lines(out))
    assert all(w in body.split() for w in ["words", "that", "may", "wrap"])
    narrow = Console(width=54, record=True, no_color=True)
    narrow.print(records_table("t", rows, cols, wide=False))
    assert "1 more column with --wide: note" in narrow.export_text()  # prose gives way before n
