"""A self-contained HTML report: Plotly JS inlined once (from the `plotly` package), charts as JSON,
tables as HTML. Opens offline; loads nothing from the network."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inferonomics.report.build import Report
from inferonomics.report.views import plain

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;
color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}td,th{border:1px solid #ddd;padding:.25rem .6rem;
text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.chart{width:100%;height:460px}.muted{color:#666;font-size:.85rem}.grid{display:grid;
grid-template-columns:1fr 1fr;gap:1rem}@media(max-width:800px){.grid{grid-template-columns:1fr}}
"""


def plotly_js() -> str:
    """The plotly.min.js bundled in the Python `plotly` package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1e5 or abs(v) < 1e-3:
            return f"{v:.3g}"
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _script_json(obj: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(plain(obj), allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _chart(div_id: str, fig: dict[str, Any]) -> str:
    return (
        f'<div class="chart" id="{div_id}"></div><script>Plotly.newPlot("{div_id}",'
        f"{_script_json(fig['data'])},{_script_json(fig['layout'])},"
        '{"responsive":true,"displaylogo":false});</script>'
    )


def _data(r: Report, key: str) -> dict[str, Any]:
    sec = r.sections.get(key) or {}
    return sec.get("data") or {}


def _summary(r: Report) -> str:
    p = _data(r, "prediction")
    fl = _data(r, "floors")
    fr = _data(r, "frontier")
    rows: list[list[Any]] = [
        ["deployment", p.get("deployment")],
        ["workload", f"{p['isl']:,} input + {p['osl']:,} output tokens, {_fmt(p['concurrency'])} concurrent users"],
        ["TTFT, ms", p.get("ttft_ms")],
        ["TPOT, ms", p.get("tpot_ms")],
        ["output tokens/s per user", p.get("tokens_per_s_per_user")],
        ["output tokens/s per GPU", p.get("output_tokens_per_s_per_gpu")],
        ["memory per GPU, GB", p.get("memory_gb_per_gpu")],
        ["latency floor, tokens/s per user", (fl.get("latency_floor") or {}).get("tokens_per_s")],
        ["cost floor, USD per M output tokens", (fl.get("cost_floor") or {}).get("usd_per_mtok")],
        ["single user / batched cost (frontier)", fr.get("single_user_to_batched_cost_ratio")],
    ]
    return _table(["", "value"], rows)


def _price_table(ps: dict[str, Any]) -> str:
    d = ps["derived"]
    c = d.get("cost_usd_per_mtok") or {}
    prov = ps.get("provider") or {}
    out = prov.get("output_usd_per_mtok")
    rows = [
        ["input", c.get("input"), d.get("input_usd_per_mtok"), prov.get("input_usd_per_mtok")],
        ["output", c.get("output"), d.get("output_usd_per_mtok"), out],
        [
            "cached input",
            c.get("cached_input"),
            d.get("cached_input_usd_per_mtok"),
            prov.get("cached_input_usd_per_mtok"),
        ],
        [
            "batch output",
            c.get("batch_output"),
            (d.get("batch_usd_per_mtok") or {}).get("output"),
            out * (1 - prov["batch_discount"]) if out and prov.get("batch_discount") else None,
        ],
        ["priority output", c.get("priority_output"), (d.get("priority_usd_per_mtok") or {}).get("output"), None],
    ]
    header = [
        "line (USD per M tokens)",
        "our cost",
        "derived price",
        prov.get("key", "provider") if prov else "provider",
    ]
    out_html = _table(header, rows)
    comp = ps.get("comparison")
    if comp:
        out_html += f"<p>{html.escape(comp['headline'])}</p>"
    return out_html


def _notes(notes: list[str]) -> str:
    return "".join(f'<p class="muted">note: {html.escape(str(n))}</p>' for n in notes or [])


def _section(r: Report, key: str, heading: str, body: Callable[[], list[str]]) -> list[str]:
    """A section's heading and body, or its error message when it could not be computed."""
    sec = r.sections.get(key)
    if sec is None:
        return []
    if sec.get("error"):
        return [f"<h2>{html.escape(heading)}</h2>", f"<p class='muted'>not available: {html.escape(sec['error'])}</p>"]
    return [f"<h2>{html.escape(heading)}</h2>", *body(), _notes(sec.get("notes", []))]


def render_html(r: Report) -> str:
    """The whole document as one string."""
    i = r.inputs
    s = r.sections

    def chart(key: str, name: str, div: str) -> str:
        return _chart(div, s[key]["charts"][name])

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>inferonomics report: {html.escape(i.model)} on {html.escape(i.hardware)}</title>",
        f"<style>{_CSS}</style><script>{plotly_js()}</script></head><body>",
        f"<h1>{html.escape(i.model)} on {html.escape(i.hardware)}</h1>",
        f"<p class='muted'>inferonomics report, {html.escape(r.created)}. Everything below is a model's "
        "prediction from catalog figures; see the notes for assumptions.</p>",
        "<h2>Summary</h2>",
        _summary(r),
        "<h2>Step time and memory</h2><div class='grid'>",
        chart("prediction", "breakdown", "chart-breakdown"),
        chart("prediction", "memory", "chart-memory"),
        "</div>",
    ]
    parts += _section(r, "roofline", "Roofline", lambda: [chart("roofline", "roofline", "chart-roofline")])
    parts += _section(r, "frontier", "Speed/cost frontier", lambda: [chart("frontier", "frontier", "chart-frontier")])
    parts += _section(
        r,
        "price_sheet",
        "Price sheet",
        lambda: [chart("price_sheet", "price_sheet", "chart-prices"), _price_table(s["price_sheet"]["data"])],
    )

    def sim_body() -> list[str]:
        summ = s["simulation"]["data"]["summary"]
        return [
            f"<p>{html.escape(str(summ.get('workload', '')))}; "
            f"{_fmt(summ.get('completed'))} completed, {_fmt(summ.get('throughput_output_tokens_per_s'))} output "
            f"tokens/s, p99 TTFT {_fmt((summ.get('ttft_ms') or {}).get('p99'))} ms.</p><div class='grid'>",
            chart("simulation", "latency_cdf", "chart-cdf"),
            chart("simulation", "kv_occupancy", "chart-kv"),
            "</div>",
        ]

    parts += _section(r, "simulation", "Simulation", sim_body)
    if s.get("floors", {}).get("error"):
        parts.append(f"<p class='muted'>lower bounds not available: {html.escape(s['floors']['error'])}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def write_html(r: Report, path: str | Path) -> Path:
    p = Path(path)
    p.write_text(render_html(r), encoding="utf-8")
    return p


__all__ = ["plotly_js", "render_html", "write_html"]
