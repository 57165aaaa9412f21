"""Plotly figures (plain dicts: `{"data": [...], "layout": {...}}`) from the views in `views.py`.

One definition per chart, used three ways: the web page draws them with the Plotly JS bundled in the
`plotly` package, the HTML report embeds them, and `png.py` redraws them with matplotlib.
Traces use only `scatter` (markers, lines, text) and `bar`, which is all `png.py` translates.
"""

from __future__ import annotations

import math
from typing import Any

Figure = dict[str, Any]

COLORS = {
    "swept": "rgba(120,120,140,0.35)",
    "disagg": "#8c564b",
    "pareto": "#1f77b4",
    "latency": "#d62728",
    "cost": "#2ca02c",
    "single": "#9467bd",
    "market": "#ff7f0e",
    "roof": "#333333",
    "decode": "#1f77b4",
    "prefill": "#d62728",
    "provider": "#ff7f0e",
    "ours": "#1f77b4",
    "cost_bar": "#aec7e8",
}


def _layout(title: str, xtitle: str, ytitle: str, *, xlog: bool = False, ylog: bool = False, **extra: Any) -> Figure:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "xaxis": {"title": {"text": xtitle}, "zeroline": False, **({"type": "log"} if xlog else {})},
        "yaxis": {"title": {"text": ytitle}, "zeroline": False, **({"type": "log"} if ylog else {})},
        "template": "plotly_white",
        "margin": {"l": 70, "r": 20, "t": 50, "b": 60},
        "legend": {"orientation": "h", "y": -0.22},
        "hovermode": "closest",
        **extra,
    }


def _pt(mark: dict[str, Any] | None) -> tuple[float | None, float | None]:
    if not mark:
        return None, None
    return mark.get("tokens_per_s_per_user"), mark.get("usd_per_mtok_output")


def frontier_chart(f: dict[str, Any]) -> Figure:
    """Speed per user vs USD per M output tokens: swept points, the Pareto frontier, the latency floor,
    the cost floor, the single-user point, the analytic floors and the market's observed offers."""
    swept = f.get("swept") or []
    pts = f.get("points") or []
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "swept deployments",
            "x": [p["tokens_per_s_per_user"] for p in swept],
            "y": [p["usd_per_mtok_output"] for p in swept],
            "text": [f"{p['deployment']}, batch {p['batch_size']:.0f}" for p in swept],
            "hovertemplate": "%{x:.1f} tok/s, %{y:.3g} USD/M<br>%{text}<extra></extra>",
            "marker": {"size": 5, "color": COLORS["swept"]},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Pareto frontier",
            "x": [p["tokens_per_s_per_user"] for p in pts],
            "y": [p["usd_per_mtok_output"] for p in pts],
            "text": [f"{p['deployment']}, batch {p['batch_size']:.0f}" for p in pts],
            "hovertemplate": "%{x:.1f} tok/s, %{y:.3g} USD/M<br>%{text}<extra></extra>",
            "line": {"color": COLORS["pareto"], "width": 2},
            "marker": {"size": 6, "color": COLORS["pareto"]},
        },
    ]
    xpyd = f.get("swept_disaggregated") or []
    if xpyd:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "disaggregated (xPyD)",
                "x": [p["tokens_per_s_per_user"] for p in xpyd],
                "y": [p["usd_per_mtok_output"] for p in xpyd],
                "text": [f"{p['deployment']}, {p['batch_size']:.0f} per decode instance" for p in xpyd],
                "hovertemplate": "%{x:.1f} tok/s, %{y:.3g} USD/M<br>%{text}<extra></extra>",
                "marker": {"size": 7, "color": COLORS["disagg"], "symbol": "triangle-up"},
            }
        )
    for key, label, color, symbol in (
        ("latency_floor", "latency floor (fastest)", COLORS["latency"], "star"),
        ("cost_floor", "cost floor (cheapest)", COLORS["cost"], "star"),
        ("single_user", "single user (batch 1)", COLORS["single"], "diamond"),
    ):
        x, y = _pt(f.get(key))
        if x is not None and y is not None:
            data.append(
                {  # named in the legend, not on the plot: marks sit close together and labels collide
                    "type": "scatter",
                    "mode": "markers",
                    "name": label,
                    "x": [x],
                    "y": [y],
                    "hovertemplate": f"{label}: %{{x:.1f}} tok/s, %{{y:.3g}} USD/M<extra></extra>",
                    "marker": {"size": 14, "color": color, "symbol": symbol},
                }
            )
    bounds = f.get("lower_bounds") or {}
    speeds = [p["tokens_per_s_per_user"] for p in (*pts, *swept) if p.get("tokens_per_s_per_user")]
    costs = [p["usd_per_mtok_output"] for p in (*pts, *swept) if p.get("usd_per_mtok_output")]
    cf = (bounds.get("cost_floor") or {}).get("usd_per_mtok")
    lf = (bounds.get("latency_floor") or {}).get("tokens_per_s")
    if cf and speeds:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"analytic cost floor ({cf:.3g} USD/M)",
                "x": [min(speeds), max(max(speeds), lf or 0)],
                "y": [cf, cf],
                "line": {"color": COLORS["cost"], "dash": "dash", "width": 1},
            }
        )
    if lf and costs:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"analytic latency floor ({lf:.0f} tok/s)",
                "x": [lf, lf],
                "y": [min([*costs, cf or min(costs)]), max(costs)],
                "line": {"color": COLORS["latency"], "dash": "dash", "width": 1},
            }
        )
    market = f.get("market_points") or []
    if market:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "market offers (blended price)",
                "x": [p["output_tokens_per_s"] for p in market],
                "y": [p["blended_usd_per_mtok"] for p in market],
                "text": [
                    f"{p.get('label', p['model'])}{' ' + p['precision'] if p.get('precision') else ''}" for p in market
                ],
                "hovertemplate": "%{text}: %{x:.0f} tok/s, %{y:.3g} USD/M blended<extra></extra>",
                "meta": {"label_points": True},  # the PNG places these names where they collide with nothing
                "marker": {"size": 10, "color": COLORS["market"], "symbol": "diamond-open", "line": {"width": 2}},
            }
        )
    title = (
        f"{f.get('model')} on {f.get('hardware')}: speed vs cost ({f.get('isl')}+{f.get('osl')} tokens, "
        f"{(f.get('usd_per_chip_hour') or 0):.2f} USD/chip-h)"
    )
    return {
        "data": data,
        "layout": _layout(title, "output tokens/s per user", "USD per million output tokens", ylog=True),
    }


def roofline_chart(r: dict[str, Any]) -> Figure:
    """Arithmetic intensity vs attainable FLOP/s: the chip's roof and the step's operators on it."""
    roof = r["roof"]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"{r['chip']} roof ({r['precision']})",
            "x": roof["intensity_flops_per_byte"],
            "y": roof["attainable_flops_per_s"],
            "line": {"color": COLORS["roof"], "width": 2},
        }
    ]
    symbols = ("circle", "diamond", "square", "triangle-up", "cross")
    for phase in ("decode", "prefill"):
        ops = [o for o in r["operators"] if o["phase"] == phase]
        for i, o in enumerate(ops):  # one legend entry per operator: its name never sits on the plot
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": o["name"],
                    "legendgroup": phase,
                    "x": [o["intensity_flops_per_byte"]],
                    "y": [o["attainable_flops_per_s"]],
                    "customdata": [[o["bound"], o["what"]]],
                    "hovertemplate": f"{o['name']}<br>%{{x:.3g}} FLOP/byte, %{{y:.3g}} FLOP/s<br>"
                    "%{customdata[0]}-bound: %{customdata[1]}<extra></extra>",
                    "marker": {"size": 11, "color": COLORS[phase], "symbol": symbols[i % len(symbols)]},
                }
            )
    title = f"Roofline: {r['model']} on {r['chip']} (ridge {r['ridge_flops_per_byte']:,.0f} FLOP/byte)"
    layout = _layout(title, "arithmetic intensity, FLOP/byte", "attainable FLOP/s per chip", xlog=True, ylog=True)
    layout["yaxis"]["exponentformat"] = "SI"
    return {"data": data, "layout": layout}


_TERMS = ("compute_ms", "memory_ms", "network_ms", "overhead_ms", "kv_transfer_ms")


def breakdown_chart(pred: dict[str, Any]) -> Figure:
    """Mean engine iteration by term (ms); detail terms (GEMM, attention) apart."""
    b = pred.get("breakdown") or {}

    def label(k: str) -> str:  # 'attention_prefill_ms' -> 'attention prefill'
        return k.removesuffix("_ms").replace("_", " ")

    main = [(label(k), b[k]) for k in _TERMS if b.get(k) is not None]
    detail = [(label(k), v) for k, v in b.items() if k not in (*_TERMS, "total_ms") and v is not None]
    data = [
        {  # horizontal: the terms' names read level on a phone as on a desktop
            "type": "bar",
            "orientation": "h",
            "name": "ms per iteration",
            "y": [k for k, _ in main] + [k for k, _ in detail],
            "x": [v for _, v in main] + [v for _, v in detail],
            "marker": {"color": [COLORS["decode"]] * len(main) + [COLORS["cost_bar"]] * len(detail)},
            "hovertemplate": "%{y}: %{x:.3g} ms<extra></extra>",
        }
    ]
    total = b.get("total_ms")
    title = "Step time breakdown" + (f" (iteration {total:.2f} ms)" if total else "")
    layout = _layout(title, "ms per iteration", "terms (dark) and their detail (light)")
    layout["showlegend"] = False
    layout["yaxis"].update({"automargin": True, "autorange": "reversed"})  # first term on top, names never cut
    return {"data": data, "layout": layout}


def memory_chart(pred: dict[str, Any]) -> Figure:
    """Memory per GPU: weights, KV cache, activations and reserve against the capacity."""
    mem = pred.get("memory") or {}
    parts = [("weights", "weights_gb"), ("KV cache", "kv_cache_gb"), ("activations", "activations_gb")]
    parts.append(("reserve", "reserve_gb"))
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#bbbbbb"]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": label,
            "x": ["per GPU"],
            "y": [mem.get(key) or 0.0],
            "marker": {"color": color},
        }
        for (label, key), color in zip(parts, colors, strict=True)
    ]
    cap = mem.get("capacity_gb")
    fits = "fits" if mem.get("fits", True) else "DOES NOT FIT"
    title = f"Memory per GPU: {mem.get('total_gb', 0):.1f} of {cap or 0:.1f} GB ({fits})"
    layout = _layout(title, "", "GB", barmode="stack")
    if cap:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": cap,
                "y1": cap,
                "line": {"color": "#d62728", "width": 3},
                "name": f"HBM capacity {cap:.1f} GB",
            }
        ]
        layout["annotations"] = [
            {
                "xref": "paper",
                "x": 0.0,
                "y": cap,
                "yref": "y",
                "text": f"HBM capacity {cap:.1f} GB",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
            }
        ]
        layout["yaxis"]["range"] = [0, max(cap, mem.get("total_gb") or 0) * 1.1]
    return {"data": data, "layout": layout}


_SHEET_LINES = (
    ("input", "input_usd_per_mtok", "input_usd_per_mtok"),
    ("output", "output_usd_per_mtok", "output_usd_per_mtok"),
    ("cached input", "cached_input_usd_per_mtok", "cached_input_usd_per_mtok"),
)


def price_sheet_chart(view: dict[str, Any]) -> Figure:
    """Derived price and cost per line beside a real provider's price, USD per million tokens."""
    d = view["derived"]
    prov = view.get("provider")
    cost = d.get("cost_usd_per_mtok") or {}
    lines = ["input", "output", "cached<br>input", "batch<br>output", "priority<br>output"]  # level on a phone
    ours = [
        d.get("input_usd_per_mtok"),
        d.get("output_usd_per_mtok"),
        d.get("cached_input_usd_per_mtok"),
        (d.get("batch_usd_per_mtok") or {}).get("output"),
        (d.get("priority_usd_per_mtok") or {}).get("output"),
    ]
    costs = [
        cost.get("input"),
        cost.get("output"),
        cost.get("cached_input"),
        cost.get("batch_output"),
        cost.get("priority_output"),
    ]
    data: list[dict[str, Any]] = [
        {"type": "bar", "name": "our cost", "x": lines, "y": costs, "marker": {"color": COLORS["cost_bar"]}},
        {
            "type": "bar",
            "name": f"derived price (margin {d.get('margin', 0):+.0%})",
            "x": lines,
            "y": ours,
            "marker": {"color": COLORS["ours"]},
        },
    ]
    if prov:
        out = prov.get("output_usd_per_mtok")
        batch = out * (1 - prov["batch_discount"]) if out and prov.get("batch_discount") else None
        mult = prov.get("priority_multiplier") or prov.get("fast_multiplier")
        data.append(
            {
                "type": "bar",
                "name": f"{prov['key']} price",
                "x": lines,
                "y": [
                    prov.get("input_usd_per_mtok"),
                    out,
                    prov.get("cached_input_usd_per_mtok"),
                    batch,
                    out * mult if out and mult else None,
                ],
                "marker": {"color": COLORS["provider"]},
            }
        )
    values = [v for t in data for v in t["y"] if v]
    for t in data:  # each bar carries its value (the axis is logarithmic: heights alone do not read)
        t["text"] = [_usd(v) if v else "" for v in t["y"]]
        t.update(
            {
                "textposition": "outside",
                "textangle": -90,
                "textfont": {"size": 10},
                "cliponaxis": False,
                "constraintext": "none",
                "hovertemplate": f"{t['name']}: %{{x}} %{{y:.4g}} USD/M<extra></extra>",
            }
        )
    title = f"Price sheet: {d.get('deployment')} at {d.get('utilisation', 0):.0%} utilisation"
    layout = _layout(title, "", "USD per million tokens", ylog=True, barmode="group")
    if values:  # headroom above the tallest bar for its value (log axis: the range is in decades)
        layout["yaxis"]["range"] = [math.log10(min(values)) - 0.3, math.log10(max(values)) + 0.9]
    layout["xaxis"].update({"automargin": True, "tickangle": 0})
    return {"data": data, "layout": layout}


def _usd(v: float) -> str:
    """A price on a bar: 0.0076, 0.4, 12.5, 1,200."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def latency_cdf_chart(sim: dict[str, Any]) -> Figure:
    """Cumulative distribution of TTFT, TPOT and end-to-end latency over completed requests."""
    data = []
    for key, label, color in (
        ("ttft", "TTFT", "#1f77b4"),
        ("tpot", "TPOT", "#2ca02c"),
        ("e2e", "end to end", "#d62728"),
    ):
        c = sim["cdf"].get(key) or {}
        if c.get("ms"):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": label,
                    "x": c["ms"],
                    "y": c["fraction"],
                    "line": {"color": color, "width": 2},
                }
            )
    s = sim.get("summary") or {}
    title = f"Latency CDFs ({s.get('completed', 0):,} completed requests)"
    return {"data": data, "layout": _layout(title, "ms", "fraction of requests", xlog=True)}


def kv_occupancy_chart(sim: dict[str, Any]) -> Figure:
    """KV-cache occupancy of each replica over simulated time (duration-weighted bins)."""
    data = []
    for series in sim.get("over_time") or []:
        kv = series["kv_occupancy"]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"replica {series['replica']}",
                "x": kv["t_s"],
                "y": kv["value"],
                "line": {"width": 1.5},
                "connectgaps": False,
            }
        )
    layout = _layout("KV-cache occupancy over time", "simulated time, s", "fraction of KV blocks in use")
    layout["yaxis"]["range"] = [0, 1.05]
    return {"data": data, "layout": layout}


def pareto_chart(res: dict[str, Any]) -> Figure:
    """The search's Pareto set (speed per user vs USD per M output tokens) over its feasible rows."""
    cloud = res.get("feasible_cloud") or []
    pareto = sorted(res.get("pareto") or [], key=lambda r: r.get("tokens_per_s_per_user") or 0)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "feasible configurations",
            "x": [r["tokens_per_s_per_user"] for r in cloud],
            "y": [r["usd_per_mtok"] for r in cloud],
            "marker": {"size": 4, "color": COLORS["swept"]},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Pareto set",
            "x": [r.get("tokens_per_s_per_user") for r in pareto],
            "y": [r.get("usd_per_mtok") for r in pareto],
            "text": [r.get("description", "") for r in pareto],
            "hovertemplate": "%{x:.1f} tok/s, %{y:.3g} USD/M<br>%{text}<extra></extra>",
            "line": {"color": COLORS["pareto"]},
            "marker": {"size": 7, "color": COLORS["pareto"]},
        },
    ]
    best = res.get("best")
    if best:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "recommended",
                "x": [best.get("tokens_per_s_per_user")],
                "y": [best.get("usd_per_mtok")],
                "marker": {"size": 15, "color": COLORS["cost"], "symbol": "star"},
            }
        )
    model = (res.get("inputs") or {}).get("model", "")
    return {
        "data": data,
        "layout": _layout(
            f"Search: {model} Pareto set", "output tokens/s per user", "USD per million output tokens", ylog=True
        ),
    }


__all__ = [
    "breakdown_chart",
    "frontier_chart",
    "kv_occupancy_chart",
    "latency_cdf_chart",
    "memory_chart",
    "pareto_chart",
    "price_sheet_chart",
    "roofline_chart",
]
