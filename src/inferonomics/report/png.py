"""Static PNGs: the Plotly figure dicts of `charts.py` redrawn with matplotlib (Agg, no display).

Translates what `charts.py` uses: scatter traces (markers, lines, text labels, dashes), bar traces
(grouped or stacked), log axes, titles and axis ranges.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_SYMBOLS = {"star": "*", "diamond": "D", "diamond-open": "D", "square": "s", "circle": "o", "triangle-up": "^"}
_DASH = {"dash": "--", "dot": ":", "dashdot": "-."}
_RGBA = re.compile(r"rgba?\(([^)]*)\)")


def _color(c: Any) -> Any:
    """Plotly colour strings matplotlib does not read ('rgba(r,g,b,a)') as tuples (lists: each)."""
    if isinstance(c, list):
        return [_color(x) for x in c]
    if not isinstance(c, str):
        return None
    m = _RGBA.fullmatch(c.replace(" ", ""))
    if not m:
        return c
    parts = [float(p) for p in m.group(1).split(",")]
    rgb = [p / 255.0 for p in parts[:3]]
    return (*rgb, parts[3] if len(parts) > 3 else 1.0)


def _nums(values: list[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _title(obj: Any) -> str:
    text = str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")
    return text.replace("<br>", "\n")


def _si(v: float, _pos: Any = None) -> str:
    """Tick labels without mathtext (which is slow): 0.01, 1, 10k, 1M, 1T."""
    if v <= 0:
        return "0"
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:g}{unit}"
    return f"{v:g}"


LABEL_OFFSETS_PT = ((5, 5), (5, -12), (-5, 5), (-5, -12), (0, 11), (0, -16), (9, -3), (-9, -3))
"""Where a point's name may go, in points from the point, tried in this order."""


def place_labels(ax: Any, xs: list[float], ys: list[float], labels: list[str], color: Any = None) -> list[Any]:
    """Name points where each name overlaps no other text, the legend or the axes' edge; a name with
    no free place is left off (it stays in the interactive chart's hover). Returns the annotations."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    taken = [t.get_window_extent(renderer) for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        taken.append(legend.get_window_extent(renderer))
    placed = []
    for x, y, label in zip(xs, ys, labels, strict=False):
        if not label or x != x or y != y:
            continue
        for dx, dy in LABEL_OFFSETS_PT:
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            ann = ax.annotate(
                str(label), (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=7, ha=ha, color=color
            )
            bb = ann.get_window_extent(renderer)
            inside = bb.x0 >= box.x0 and bb.x1 <= box.x1 and bb.y0 >= box.y0 and bb.y1 <= box.y1
            if inside and not any(bb.overlaps(o) for o in taken):
                taken.append(bb)
                placed.append(ann)
                break
            ann.remove()
    return placed


def draw_figure(fig: dict[str, Any], *, width_in: float = 9.0, height_in: float = 5.5) -> Any:
    """The matplotlib Figure of one Plotly figure dict (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    layout = fig.get("layout", {})
    traces = fig.get("data", [])
    f, ax = plt.subplots(figsize=(width_in, height_in))
    bars = [t for t in traces if t.get("type") == "bar"]
    stacked = layout.get("barmode") == "stack"
    horizontal = any(t.get("orientation") == "h" for t in bars)
    cat_key, val_key = ("y", "x") if horizontal else ("x", "y")
    categories: list[str] = []
    for t in bars:
        for c in t.get(cat_key, []):
            if c not in categories:
                categories.append(str(c))
    pos = {c: i for i, c in enumerate(categories)}
    width = 0.8 / (1 if stacked else max(len(bars), 1))
    bottom = np.zeros(len(categories))
    for i, t in enumerate(bars):
        xs = [pos[str(c)] for c in t.get(cat_key, [])]
        ys = np.array(_nums(t.get(val_key, [])))
        ys_plot = np.nan_to_num(ys)
        color = _color((t.get("marker") or {}).get("color"))
        if horizontal:
            ax.barh(xs, ys_plot, width, label=t.get("name"), color=color)
        elif stacked:
            b = bottom[xs] if xs else 0
            ax.bar(xs, ys_plot, width, bottom=b, label=t.get("name"), color=color)
            bottom[xs] += ys_plot
        else:
            offset = (i - (len(bars) - 1) / 2.0) * width
            bars_drawn = ax.bar([x + offset for x in xs], ys_plot, width, label=t.get("name"), color=color)
            if t.get("text"):  # the value on each bar, upright text along the bar as on the web page
                ax.bar_label(bars_drawn, labels=[str(v) for v in t["text"]], rotation=90, fontsize=7, padding=2)
    to_label: list[tuple[list[float], list[float], list[str], Any]] = []
    for t in traces:
        if t.get("type", "scatter") != "scatter":
            continue
        xs_raw = t.get("x", [])
        if categories and xs_raw and isinstance(xs_raw[0], str):
            xv = [float(pos.get(str(x), 0)) for x in xs_raw]
        else:
            xv = _nums(xs_raw)
        yv = _nums(t.get("y", []))
        mode = t.get("mode", "markers")
        marker = t.get("marker") or {}
        line = t.get("line") or {}
        color = _color(line.get("color") or marker.get("color"))
        kw: dict[str, Any] = {"label": t.get("name"), "color": color}
        if "lines" in mode:
            ax.plot(
                xv,
                yv,
                linestyle=_DASH.get(line.get("dash", ""), "-"),
                linewidth=line.get("width", 1.5),
                marker=_SYMBOLS.get(marker.get("symbol", "circle"), "o") if "markers" in mode else None,
                markersize=max(float(marker.get("size", 6)) * 0.6, 2),
                **kw,
            )
        elif "markers" in mode:
            sym = marker.get("symbol", "circle")
            ax.scatter(
                xv,
                yv,
                s=float(marker.get("size", 6)) ** 2 * 0.6,
                marker=_SYMBOLS.get(sym, "o"),
                facecolors="none" if str(sym).endswith("-open") else color,
                edgecolors=color,
                zorder=3,
                **{k: v for k, v in kw.items() if k != "color"},
            )
        if "text" in mode or (t.get("meta") or {}).get("label_points"):
            to_label.append((xv, yv, list(t.get("text") or []), color))
    for shape in layout.get("shapes") or []:
        line = shape.get("line") or {}
        style = {"color": _color(line.get("color")), "lw": line.get("width", 1.5), "label": shape.get("name")}
        if shape.get("type") == "line" and shape.get("xref") == "paper" and shape.get("y0") == shape.get("y1"):
            ax.axhline(float(shape["y0"]), **style)
        elif shape.get("type") == "line" and shape.get("yref") == "paper" and shape.get("x0") == shape.get("x1"):
            ax.axvline(float(shape["x0"]), **style)
    names = [c.replace("<br>", "\n") for c in categories]
    if categories and horizontal:
        ax.set_yticks(range(len(categories)))
        ax.set_yticklabels(names)
        ax.invert_yaxis()  # the first category on top, as Plotly's reversed axis shows it
    elif categories:
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels(names)
    xa, ya = layout.get("xaxis", {}), layout.get("yaxis", {})
    from matplotlib.ticker import FuncFormatter, LogLocator

    for axis, spec, setter in ((ax.xaxis, xa, ax.set_xscale), (ax.yaxis, ya, ax.set_yscale)):
        if spec.get("type") == "log" and not (categories and axis is (ax.yaxis if horizontal else ax.xaxis)):
            setter("log")
            axis.set_major_locator(LogLocator(base=10.0, numticks=8))
            axis.set_major_formatter(FuncFormatter(_si))
            axis.set_minor_locator(LogLocator(base=10.0, subs=(), numticks=1))  # no minor ticks: fast and clear
    if ya.get("range"):  # Plotly gives a log axis's range in decades
        lo, hi = ya["range"]
        ax.set_ylim(*((10**lo, 10**hi) if ya.get("type") == "log" else (lo, hi)))
    ax.set_title(_title(layout.get("title")), fontsize=10)
    ax.set_xlabel(_title(xa.get("title")))
    ax.set_ylabel(_title(ya.get("title")))
    ax.grid(True, which="major", alpha=0.3)
    if layout.get("showlegend", True) and any(t.get("name") for t in traces):
        ax.legend(fontsize=7, loc="best")
    f.subplots_adjust(left=0.09, right=0.98, top=0.92, bottom=0.14 if categories else 0.11)
    for xv, yv, labels, color in to_label:  # after the legend and the layout, so names avoid both
        place_labels(ax, xv, yv, labels, color)
    return f


def render_png(fig: dict[str, Any], path: str | Path, *, width_in: float = 9.0, height_in: float = 5.5) -> Path:
    """Draw one figure dict to `path` (PNG, 120 dpi; nothing cut at the edges) and return the path."""
    import matplotlib.pyplot as plt

    f = draw_figure(fig, width_in=width_in, height_in=height_in)
    p = Path(path)
    f.savefig(p, dpi=120, bbox_inches="tight", pad_inches=0.1)
    plt.close(f)
    return p


__all__ = ["draw_figure", "place_labels", "render_png"]
