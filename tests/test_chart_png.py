"""Static PNG charts: names of points placed where they overlap nothing and stay inside the axes;
values on the price-sheet bars; the step-time breakdown's names level and whole."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from inferonomics.report import charts, views  # noqa: E402
from inferonomics.report.png import draw_figure  # noqa: E402


def _boxes(fig, ax):
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts], ax.get_window_extent(renderer), renderer


def test_frontier_png_names_every_market_point_without_overlap() -> None:
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model

    view = views.frontier_view(get_model("llama-3.1-70b"), get_hardware("h100_sxm"), max_chips=8, batch_points=8)
    chart = charts.frontier_chart(view)
    market = [t for t in chart["data"] if (t.get("meta") or {}).get("label_points")]
    assert market and market[0]["text"]
    fig = draw_figure(chart)
    ax = fig.axes[0]
    labels, axes_box, renderer = _boxes(fig, ax)
    names = {t for t, _ in labels}
    assert set(market[0]["text"]) <= names  # every offer named, none dropped
    legend = ax.get_legend().get_window_extent(renderer)
    for i, (name, bb) in enumerate(labels):
        assert axes_box.x0 <= bb.x0 and bb.x1 <= axes_box.x1 and axes_box.y0 <= bb.y0 and bb.y1 <= axes_box.y1, name
        assert not bb.overlaps(legend), name
        assert not any(bb.overlaps(other) for _, other in labels[i + 1 :]), name


def test_price_sheet_png_carries_each_bars_value() -> None:
    from inferonomics.perf import make_deployment

    view = views.price_sheet_view(make_deployment("llama-3.1-8b", "h100_sxm"), "openai/gpt-4o")
    fig = draw_figure(charts.price_sheet_chart(view))
    ax = fig.axes[0]
    values = [t.get_text() for t in ax.texts if t.get_text()]
    assert len(values) >= 12  # 5 lines x (cost, price) + the provider's 3-5
    lo, hi = ax.get_ylim()
    assert hi > max(float(v.replace(",", "")) for v in values) * 3  # headroom: the value above the tallest bar


def test_breakdown_png_names_are_level_and_whole() -> None:
    from inferonomics.perf import make_deployment, predict_deployment

    pred = predict_deployment(make_deployment("llama-3.1-8b", "h100_sxm"), 512, 128, 8).to_dict()
    fig = draw_figure(charts.breakdown_chart(pred))
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert "attention prefill" in names and "memory" in names
    assert all(t.get_rotation() == 0 for t in ax.get_yticklabels())
