"""Economics CLI commands, run as the installed script runs them (`run_app()`): JSON shapes, plots, and
product errors as one red line with exit code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)

SMALL = ["-m", "llama-3.1-8b", "-H", "h100_sxm"]


def _error_line(code: int, err: str) -> str:
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines and "Traceback" not in err
    return " ".join(lines)


def test_frontier_json_and_html_plot(cli: Any, tmp_path: Path) -> None:
    html = tmp_path / "f.html"
    code, out, _ = cli("frontier", *SMALL, "--max-chips", "2", "--plot", str(html), "--json")
    assert code == 0
    d = json.loads(out[out.index("{") :])
    for key in ("points", "latency_floor", "cost_floor", "single_user_to_batched_cost_ratio"):
        assert key in d
    p = d["points"][0]
    assert {"tokens_per_s_per_user", "usd_per_mtok_output", "batch_size", "chips"} <= set(p)
    text = html.read_text()
    assert "plotly" in text.lower()
    assert not re.search(r"<script[^>]*\bsrc=", text)  # the library is inlined: the file opens offline


@pytest.mark.slow
def test_frontier_png_plot(cli: Any, tmp_path: Path) -> None:
    png = tmp_path / "f.png"
    code, _, _ = cli("frontier", *SMALL, "--max-chips", "1", "--plot", str(png))
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG"


def test_cost_tables_and_own(cli: Any) -> None:
    code, out, _ = cli("cost", *SMALL, "--own", "--own-set", "life_years=4", "--contexts", "1000,20000")
    assert code == 0
    assert "Hourly cost (own)" in out and "capital_server" in out and "Cost against prompt length" in out
    code, out, _ = cli("cost", *SMALL, "--concurrency", "8", "--json")
    d = json.loads(out)
    assert code == 0 and d["concurrency"] == 8 and d["input_usd_per_mtok"] > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["cost", *SMALL, "--utilisation", "1.5"], "utilisation must be in (0, 1]"),
        (["cost", *SMALL, "--usd-per-chip-hour", "-2"], "price >= 0"),
        (
            ["cost", "-m", "llama-3.1-70b", "-H", "h100_sxm", "--tp", "1"],
            "a deployment that fits: TP4 (4 chips; --tp 4",
        ),
        (
            ["cost", "-m", "llama-3.1-70b", "-H", "h100_sxm", "--tp", "3"],
            "a deployment that fits: TP4 (4 chips; --tp 4",
        ),
        (["cost", *SMALL, "--own", "--usd-per-chip-hour", "2"], "give one"),
        (["price-sheet", *SMALL, "--margin", "-1"], "margin must be > -1"),
        (["cost", "-m", "llama-3.1-8b", "-H", "h800"], "no public rental price"),
        (["cost", *SMALL, "--plot", "x.png"], "--contexts"),
        (["read-prices", "openai/gpt-9"], "unknown"),
    ],
)
def test_errors_are_one_red_line(cli: Any, args: list[str], needle: str) -> None:
    code, _, err = cli(*args)
    assert needle in _error_line(code, err)


def test_price_sheet_json_has_the_fields(cli: Any) -> None:
    code, out, _ = cli("price-sheet", *SMALL, "--json")
    d = json.loads(out)
    assert code == 0
    for key in (
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "cache_write_usd_per_mtok",
        "long_context",
        "batch_usd_per_mtok",
    ):
        assert key in d
    assert d["batch_usd_per_mtok"]["output"] <= d["output_usd_per_mtok"]


def test_read_prices(cli: Any) -> None:
    code, out, _ = cli("read-prices", "google/gemini-2.5-pro", "--json")
    d = json.loads(out)
    assert code == 0 and d["sheet"]["key"] == "google/gemini-2.5-pro"
    assert {"output_input_ratio", "long_context", "cache_read"} <= {f["topic"] for f in d["findings"]}
    code, out, _ = cli("read-prices", "deepseek/deepseek-v3")
    assert code == 0 and "off_peak" in out


def test_compare_subcommands(cli: Any) -> None:
    code, out, _ = cli(
        "compare", "hardware", "-m", "llama-3.1-8b", "-o", "h100_sxm", "-o", "h200_sxm", "--max-chips", "4", "--json"
    )
    d = json.loads(out)
    assert code == 0 and len(d["rows"]) == 2 and d["rows"][0]["perf_per_dollar_vs_first"] == 1.0
    code, out, _ = cli("compare", "prices", "deepseek/deepseek-v3", *SMALL, "--json")
    assert code == 0 and "break_even_utilisation" in json.loads(out)["rows"][0]


def test_capacity_and_modes(cli: Any, tmp_path: Path) -> None:
    code, out, _ = cli("capacity", "voice", *SMALL, "--max-chips", "4", "--json")
    assert code == 0 and json.loads(out)["best"]["ttft_s"] <= 0.5
    code, out, _ = cli("capacity", "coding", "--sheet", "anthropic/claude-haiku-4.5", "--turns", "5", "--json")
    assert code == 0 and json.loads(out)["totals_usd"]["anthropic/claude-haiku-4.5"] > 0
    portfolio = tmp_path / "p.json"
    portfolio.write_text(
        json.dumps(
            {
                "classes": [
                    {
                        "name": "qa",
                        "share": 1,
                        "input_tokens": 100,
                        "modes": [
                            {"name": "fast", "output_tokens": 100, "quality": 0.5},
                            {"name": "think", "output_tokens": 1000, "quality": 0.9},
                        ],
                    }
                ]
            }
        )
    )
    code, out, _ = cli("modes", "--portfolio", str(portfolio), "--sheet", "openai/gpt-5", "--json")
    d = json.loads(out)
    assert code == 0 and [r["qa"] for r in d["frontier"]] == ["fast", "think"]
    code, _, err = cli("modes", "--sheet", "openai/gpt-5", *SMALL)
    assert "not both" in _error_line(code, err)
