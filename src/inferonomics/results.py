"""How result objects show themselves in a notebook: a short `repr`, a small HTML table (and the
chart, where the result has one), `.to_frame()` and `.to_dict()`.

`ResultMixin` is mixed into the result classes (`ServingPrediction`, `Frontier`, `TokenCost`,
`DerivedPriceSheet`, `Comparison`, `CapacityPlan`, `PriceReading`, `SimResult`, `SearchResult`).
Their dataclasses are declared with `repr=False` so the mixin's `__repr__` is the one used. Nothing
here computes a figure: it formats what `to_dict()` already holds, and draws charts with the same
`report.charts` definitions the web page and the reports use.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import pandas as pd

MAX_SUMMARY_ROWS = 12
"""Key figures shown in `repr` and in the HTML table."""
MAX_FRAME_ROWS_HTML = 8
"""Rows of `to_frame()` shown under the key figures in the HTML view."""

_FRAME_ATTR = {"Frontier": "points", "SearchResult": "pareto", "SimResult": "requests"}
"""Which table `to_frame()` returns where a result holds several (default: its first DataFrame field)."""

_SUMMARY_KEYS = {
    "ServingPrediction": (
        "ttft_ms",
        "tpot_ms",
        "tokens_per_s_per_user",
        "output_tokens_per_s",
        "output_tokens_per_s_per_gpu",
        "requests_per_s",
        "chips",
        "memory_gb_per_gpu",
        "fits",
    ),
    "SimResult": (
        "completed",
        "ttft_ms.p50",
        "ttft_ms.p99",
        "tpot_ms.p50",
        "tpot_ms.p99",
        "throughput_output_tokens_per_s",
        "slo_attainment",
    ),
    "SearchResult": ("best.description", "best.ttft_ms", "best.tpot_ms", "best.chips", "best.usd_per_mtok"),
    "Frontier": (
        "cost_floor.usd_per_mtok_output",
        "cost_floor.tokens_per_s_per_user",
        "latency_floor.tokens_per_s_per_user",
        "latency_floor.usd_per_mtok_output",
        "single_user.usd_per_mtok_output",
        "single_user_to_batched_cost_ratio",
        "usd_per_chip_hour",
        "isl",
        "osl",
        "n_points_swept",
    ),
    "TokenCost": (
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "all_in_usd_per_mtok_output",
        "usd_per_request",
        "tokens_per_s_per_user",
        "ttft_s",
        "concurrency",
        "chips",
        "usd_per_hour",
        "utilisation",
    ),
    "DerivedPriceSheet": (
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "batch_output_usd_per_mtok",
        "priority_output_usd_per_mtok",
        "utilisation",
        "margin",
        "usd_per_chip_hour",
    ),
}
_HEADLINE_KEYS = ("title", "headline")


def _flat(d: dict[str, Any], prefix: str = "", depth: int = 1) -> dict[str, Any]:
    """Scalars of `d`, one nested level flattened as 'outer.inner'."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and depth > 0:
            out.update(_flat(v, f"{key}.", depth - 1))
        elif v is None or isinstance(v, str | int | float | bool):
            out[key] = v
    return out


def _fmt(v: Any) -> str:
    from inferonomics.cli.render import fmt

    return fmt(v)


class ResultMixin:
    """Notebook display for a result: see the module docstring."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values (classes with their own `to_dict` keep it; this is the fallback)."""
        summary = getattr(self, "summary", None)
        if isinstance(summary, dict):
            return dict(summary)
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if not isinstance(getattr(self, f.name), pd.DataFrame)
        }

    def to_frame(self) -> pd.DataFrame:
        """The result's main table: the Pareto set, the options, the compared rows, the requests ... ;
        a one-row frame of its figures where it has no table."""
        name = _FRAME_ATTR.get(type(self).__name__)
        if name is not None and isinstance(getattr(self, name, None), pd.DataFrame):
            return getattr(self, name)
        if dataclasses.is_dataclass(self):
            for f in dataclasses.fields(self):
                value = getattr(self, f.name)
                if isinstance(value, pd.DataFrame):
                    return value
        return pd.DataFrame([_flat(self.to_dict())])

    def _summary(self) -> list[tuple[str, Any]]:
        d = self.to_dict()
        flat = _flat(d)
        keys = _SUMMARY_KEYS.get(type(self).__name__)
        if keys:
            items = [(k, flat[k]) for k in keys if k in flat]
        else:
            items = [(k, v) for k, v in flat.items() if k not in _HEADLINE_KEYS]
        return items[:MAX_SUMMARY_ROWS]

    def _headline(self) -> str:
        for attr in (*_HEADLINE_KEYS, "deployment"):
            v = getattr(self, attr, None)
            if isinstance(v, str) and v:
                return v
        if hasattr(getattr(self, "deployment", None), "describe"):
            return str(self.deployment.describe())  # type: ignore[attr-defined]
        parts = [
            str(getattr(self, a))
            for a in ("model", "hardware", "deployment")
            if isinstance(getattr(self, a, None), str)
        ]
        return " on ".join(parts[:2]) if parts else ""

    def __repr__(self) -> str:
        headline = self._headline()
        head = f"<{type(self).__name__}{': ' + headline if headline else ''}>"
        width = max((len(k) for k, _ in self._summary()), default=0)
        lines = [f"  {k:<{width}}  {_fmt(v)}" for k, v in self._summary()]
        frame = self.to_frame()
        if len(frame) > 1:
            lines.append(f"  .to_frame(): {len(frame)} rows x {len(frame.columns)} columns")
        return "\n".join([head, *lines])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self._summary()
        )
        parts = [
            f"<div><b>{html.escape(type(self).__name__)}</b> {html.escape(self._headline())}",
            f"<table>{rows}</table>",
        ]
        frame = self.to_frame()
        if len(frame) > 1:
            parts.append(
                f"<details><summary>.to_frame(): {len(frame)} rows</summary>"
                f"{frame.head(MAX_FRAME_ROWS_HTML).to_html(index=False, max_cols=10)}</details>"
            )
        chart = _chart_png(self)
        if chart:
            parts.append(f"<img alt='chart' style='max-width:100%' src='data:image/png;base64,{chart}'>")
        parts.append("</div>")
        return "".join(parts)


def _figure(obj: Any) -> dict[str, Any] | None:
    """The chart that belongs to a result (the web page's and the reports' definition), if any."""
    from inferonomics.report import charts, views

    name = type(obj).__name__
    if name == "Frontier":
        return charts.frontier_chart(views.plain(obj.to_dict()))
    if name == "SimResult":
        return charts.latency_cdf_chart(views.simulation_view(obj))
    if name == "SearchResult":
        return charts.pareto_chart(views.search_view(obj))
    if name == "ServingPrediction":
        return charts.breakdown_chart(views.plain(obj.to_dict()))
    return None


def _chart_png(obj: Any) -> str | None:
    """The result's chart as base64 PNG (matplotlib, offline), or None."""
    import base64
    import tempfile
    from pathlib import Path

    from inferonomics.report.png import render_png

    fig = _figure(obj)
    if fig is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        path = render_png(fig, Path(d) / "chart.png", width_in=7.0, height_in=4.2)
        return base64.b64encode(path.read_bytes()).decode("ascii")


__all__ = ["ResultMixin"]
