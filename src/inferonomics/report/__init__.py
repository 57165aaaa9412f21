"""Reports: a self-contained HTML file (Plotly charts, works offline) and static PNGs (matplotlib).

    from inferonomics.report import ReportInputs, build_report, write_html, write_pngs
    r = build_report(ReportInputs("Llama-3.1-70B", "h100_sxm", provider_sheet="openai/gpt-4o"))
    write_html(r, "report.html"); write_pngs(r, "figures/")

`views` turns the Python API's results into JSON-ready data, `charts` into Plotly figure dicts (the web
page draws the same ones), `png` redraws those with matplotlib.
"""

from __future__ import annotations

from pathlib import Path

from inferonomics.report.build import Report, ReportInputs, build_report
from inferonomics.report.html import render_html, write_html


def write_pngs(r: Report, out_dir: str | Path) -> list[Path]:
    """One PNG per chart of the report in `out_dir` (created if missing)."""
    from inferonomics.report.png import render_png

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [render_png(fig, out / f"{name}.png") for name, fig in r.figures().items()]


__all__ = ["Report", "ReportInputs", "build_report", "render_html", "write_html", "write_pngs"]
