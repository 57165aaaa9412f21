"""Result objects in a notebook: short repr, HTML table (+ chart), to_frame / to_dict; the top-level API."""

from __future__ import annotations

import pandas as pd
import pytest

import inferonomics as inf


def test_top_level_names_are_listed() -> None:
    names = set(dir(inf))
    assert {"frontier", "price_sheet", "cost", "simulate", "search", "compare", "predict"} <= names
    assert callable(inf.frontier) and callable(inf.compare)

    assert callable(inf.search)


def _check(result: object, max_repr_chars: int = 1200) -> str:
    text = repr(result)
    assert text.startswith(f"<{type(result).__name__}") and len(text) < max_repr_chars, text
    assert "\n" in text  # key figures, one a line
    assert isinstance(result.to_frame(), pd.DataFrame) and len(result.to_frame()) >= 1  # type: ignore[attr-defined]
    assert isinstance(result.to_dict(), dict)  # type: ignore[attr-defined]
    html = result._repr_html_()  # type: ignore[attr-defined]
    assert "<table>" in html
    return html


def test_prediction_shows_key_figures_and_its_breakdown_chart() -> None:
    p = inf.predict("llama-3.1-8b", "h100_sxm", isl=512, osl=128, concurrency=8)
    html = _check(p)
    assert "ttft_ms" in repr(p) and "h100_sxm" in repr(p).splitlines()[0]
    assert "data:image/png;base64," in html
    assert p.to_frame().loc[0, "tpot_ms"] == pytest.approx(p.tpot_s * 1e3)


def test_cost_price_sheet_and_comparison() -> None:
    c = inf.cost("llama-3.1-8b", "h100_sxm", isl=512, osl=128)
    _check(c)
    assert repr(c).splitlines()[1].split()[0] == "input_usd_per_mtok"
    sheet = inf.price_sheet("llama-3.1-8b", "h100_sxm", margin=0.5)
    _check(sheet)
    assert sheet.margin == 0.5
    cmp = inf.compare("prices", derived=sheet, sheet="openai/gpt-4o")
    _check(cmp)
    with pytest.raises(Exception, match="compare kind"):
        inf.compare("nonsense")


def test_frontier_table_is_its_pareto_set_and_html_has_the_chart() -> None:
    f = inf.frontier("llama-3.1-8b", "h100_sxm", max_chips=2, batch_points=6)
    html = _check(f)
    assert len(f.to_frame()) == len(f.points) and "data:image/png;base64," in html
    assert "cost_floor.usd_per_mtok_output" in repr(f)


def test_simulation_result_display() -> None:
    sim = inf.simulate("llama-3.1-8b", "h100_sxm", rate_per_s=4, num_requests=40, isl=256, osl=32)
    html = _check(sim)
    assert len(sim.to_frame()) == 40  # one row per request
    assert "ttft_ms.p99" in repr(sim) and "data:image/png;base64," in html
