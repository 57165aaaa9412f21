"""Pictures of the economics: PNG through matplotlib (Agg, no display) or self-contained HTML through
plotly (the library inlined, no CDN: the file opens offline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inferonomics.errors import InvalidInputError


@dataclass(frozen=True)
class Series:
    name: str
    x: list[float]
    y: list[float]
    mode: str = "markers"
    """'markers', 'lines' or 'lines+markers'."""
    labels: list[str] = field(default_factory=list)


def save_plot(
    path: str | Path,
    series: list[Series],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """Write `series` to `path` (.png or .html) and return the path."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".png", ".html"):
        raise InvalidInputError(f"plot file must end in .png or .html, got {str(path)!r}")
    if suffix == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5.5))
        for s in series:
            style: dict[str, Any] = {"label": s.name}
            if s.mode == "markers" and len(s.x) <= 3:  # a mark: large, on top of the cloud
                ax.scatter(s.x, s.y, s=110, marker="*", edgecolors="black", linewidths=0.5, zorder=3, **style)
            elif s.mode == "markers":
                ax.scatter(s.x, s.y, s=12, alpha=0.5, **style)
            else:
                ax.plot(s.x, s.y, marker="o" if "markers" in s.mode else None, markersize=4, **style)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        from inferonomics.report.png import place_labels

        for s in series:  # after the legend and the layout: names go where they overlap nothing
            if s.labels:
                place_labels(ax, s.x, s.y, s.labels)
        fig.savefig(p, dpi=120, bbox_inches="tight", pad_inches=0.1)
        plt.close(fig)
        return p
    import plotly.graph_objects as go

    fig = go.Figure()
    for s in series:
        fig.add_trace(
            go.Scatter(
                x=s.x,
                y=s.y,
                name=s.name,
                mode=s.mode,
                text=s.labels or None,  # on hover: names on the plot collide where points sit close
                hovertemplate="%{text}: %{x:.3g}, %{y:.3g}<extra></extra>" if s.labels else None,
            )
        )
    fig.update_layout(title=title, xaxis_title=xlabel, yaxis_title=ylabel, template="plotly_white")
    if logx:
        fig.update_xaxes(type="log")
    if logy:
        fig.update_yaxes(type="log")
    fig.write_html(p, include_plotlyjs=True, full_html=True)
    return p


def plot_frontier(f: Any, path: str | Path) -> Path:
    """All swept points (disaggregated ones as their own series), the Pareto frontier, and the latency floor /
    cost floor / single-user marks."""
    pts = f.all_points
    front = f.points
    marks = [("latency floor", f.latency_floor), ("cost floor", f.cost_floor), ("single user", f.single_user)]
    disagg = pts["mode"] == "disagg"
    agg = pts[~disagg]
    xpyd = pts[disagg]
    return save_plot(
        path,
        [
            Series("swept points", agg["tokens_per_s_per_user"].tolist(), agg["usd_per_mtok_output"].tolist()),
            *(
                [
                    Series(
                        "disaggregated (xPyD) points",
                        xpyd["tokens_per_s_per_user"].tolist(),
                        xpyd["usd_per_mtok_output"].tolist(),
                    )
                ]
                if len(xpyd)
                else []
            ),
            Series(
                "Pareto frontier",
                front["tokens_per_s_per_user"].tolist(),
                front["usd_per_mtok_output"].tolist(),
                "lines+markers",
            ),
            *(  # one legend entry each: the marks can sit on one point (single user = latency floor)
                Series(name, [m["tokens_per_s_per_user"]], [m["usd_per_mtok_output"]], "markers") for name, m in marks
            ),
        ],
        title=f"{f.model} on {f.hardware}: speed vs cost ({f.isl}+{f.osl} tokens, "
        f"{f.chip_hour.usd_per_chip_hour:.2f} USD/chip-h, {f.utilisation:.0%} utilisation)",
        xlabel="output tokens/s per user",
        ylabel="USD per million output tokens",
        logy=True,
    )


def plot_context(cc: Any, path: str | Path) -> Path:
    t = cc.table
    return save_plot(
        path,
        [
            Series("output", t["context_tokens"].tolist(), t["output_usd_per_mtok"].tolist(), "lines+markers"),
            Series("input", t["context_tokens"].tolist(), t["input_usd_per_mtok"].tolist(), "lines+markers"),
            Series(
                "KV-read floor (output)",
                t["context_tokens"].tolist(),
                t["kv_read_floor_usd_per_mtok"].tolist(),
                "lines",
            ),
        ],
        title="Cost per token against context length",
        xlabel="prompt tokens",
        ylabel="USD per million tokens",
        logx=True,
        logy=True,
    )


def plot_policies(pf: Any, path: str | Path) -> Path:
    df, fr = pf.policies, pf.frontier
    return save_plot(
        path,
        [
            Series("policies", df["usd_per_request"].tolist(), df["quality"].tolist()),
            Series("frontier", fr["usd_per_request"].tolist(), fr["quality"].tolist(), "lines+markers"),
        ],
        title=f"Router policies at {pf.rates.label}",
        xlabel="USD per request",
        ylabel="quality",
    )


__all__ = ["Series", "plot_context", "plot_frontier", "plot_policies", "save_plot"]
