"""Reports: the HTML is self-contained (Plotly inlined, no network), the PNGs are written, the CLI works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inferonomics.report import ReportInputs, build_report, render_html, write_pngs
from inferonomics.report.charts import frontier_chart
from inferonomics.report.views import plain


@pytest.fixture(scope="module")
def report():
    return build_report(
        ReportInputs("Llama-3.1-8B", "h100_sxm", max_chips=8, provider_sheet="openai/gpt-4o", simulate_requests=200)
    )


def test_report_sections_and_figures(report) -> None:
    assert set(report.sections) == {"prediction", "floors", "roofline", "frontier", "price_sheet", "simulation"}
    figs = report.figures()
    assert set(figs) == {"breakdown", "memory", "roofline", "frontier", "price_sheet", "latency_cdf", "kv_occupancy"}
    for name, fig in figs.items():
        assert fig["data"], name
        assert any(len(t.get("x") or []) > 0 for t in fig["data"]), name


def test_html_is_self_contained(report) -> None:
    text = render_html(report)
    assert text.count("Plotly.newPlot(") == 7
    assert len(text) > 3_000_000  # plotly.min.js inlined
    # nothing is fetched: outside the inlined library, no src/href to another host, no CDN
    from inferonomics.report.html import plotly_js

    ours = text.replace(plotly_js(), "")
    assert len(ours) < 1_000_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", ours)
    assert "<script src" not in ours and "cdn.plot.ly" not in ours
    assert "openai/gpt-4o" in text and "Llama-3.1-8B" in text


def test_pngs(report, tmp_path: Path) -> None:
    paths = write_pngs(report, tmp_path / "figs")
    assert len(paths) == 7
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def test_plain_cleans_values() -> None:
    import numpy as np
    import pandas as pd

    out = plain({"a": np.float64("nan"), "b": [np.int64(3), float("inf")], "c": pd.DataFrame({"x": [1.5]})})
    assert out == {"a": None, "b": [3, None], "c": [{"x": 1.5}]}
    assert frontier_chart({"points": [], "swept": []})["data"][0]["x"] == []


def test_report_cli(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run_cli("report", "--model", "Llama-3.1-8B", "--hardware", "h100_sxm", "--max-chips", "2", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 3_000_000 and "self-contained" in res.stdout
    # hardware without a catalog price: the money sections say so, the rest still reports
    res = run_cli("report", "-m", "Llama-3.1-8B", "-H", "m4_max", "--max-chips", "2", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "not available" in out.read_text() and "no rental price" in out.read_text()


def test_report_cli_errors(run_cli, tmp_path: Path) -> None:
    res = run_cli("report", "--model", "nope-model", "--hardware", "h100_sxm", "--out", str(tmp_path / "r.html"))
    assert res.exit_code == 2 and "unknown model" in res.stderr
    res = run_cli("report", "--model", "Llama-3.1-8B", "--hardware", "h100_sxm")
    assert res.exit_code == 2 and "--out" in res.stderr
    res = run_cli("report", "--model", "Llama-3.1-8B", "--hardware", "h100_sxm", "--out", str(tmp_path / "r.txt"))
    assert res.exit_code == 2 and ".html" in res.stderr


def test_serve_cli_prints_url_and_binds_localhost(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import uvicorn

    with socket.socket() as s:  # a port free now (a fixed one fails when something else holds it)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    res = run_cli("serve", "--no-open", "--port", str(port))
    assert res.exit_code == 0, res.output
    assert f"http://127.0.0.1:{port}/" in res.stdout
    assert seen["host"] == "127.0.0.1" and seen["port"] == port


def test_serve_cli_port_in_use(run_cli) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = run_cli("serve", "--no-open", "--port", str(port))
    assert res.exit_code == 2 and "--port" in res.stderr
