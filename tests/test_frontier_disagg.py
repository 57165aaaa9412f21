"""Prefill/decode disaggregation as a lever of the frontier: swept by default, switchable, priced by the one
closed form (`perf.steady_state.disaggregated` with the planner's instance counts), shown as a labelled
option in the output and the charts, and on the Pareto set where it wins (long prompts on SGLang, whose
aggregated iterations pause decoding for prefill batches)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)
from inferonomics.economics import frontier
from inferonomics.economics.disaggregation import cheapest_prefill
from inferonomics.economics.frontier import candidate_deployments, unit_cost_frontier
from inferonomics.perf import StepTimeModel
from inferonomics.perf.steady_state import disaggregated, plan_disaggregated_workers

LONG = dict(isl=8192, osl=1024, precision="fp8", speculative_tokens=0, backend="sglang")


@pytest.fixture(scope="module")
def long_prompts() -> Any:
    return frontier("deepseek-v3", "h200_sxm", **LONG)


def test_disaggregation_wins_part_of_the_frontier_with_long_prompts(long_prompts: Any) -> None:
    pts = long_prompts.all_points
    front = pts[pts["pareto"]]
    assert (front["mode"] == "disagg").any() and (front["mode"] == "agg").any()
    assert any("Pareto points are disaggregated" in n for n in long_prompts.notes)
    best = long_prompts.disaggregated
    assert best is not None and best["mode"] == "disagg" and best["ttft_s"] <= 2.0
    # within max_chips, every group: prefill instances x prefill chips + decode instances x decode chips
    disagg = pts[pts["mode"] == "disagg"]
    assert (disagg["chips"] <= 64).all() and (disagg["prefill_instances"] >= 1).all()


def test_disaggregated_points_are_the_closed_form_at_the_planners_counts(long_prompts: Any) -> None:
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model

    m, s = get_model("deepseek-v3"), get_hardware("h200_sxm")
    pts = long_prompts.all_points
    row = pts[(pts["mode"] == "disagg") & pts["pareto"]].iloc[0]
    kw = dict(precision="fp8", backend="sglang")
    pre = cheapest_prefill(candidate_deployments(m, s, isl=8192, osl=1, **kw), 8192)
    dec = next(
        d
        for d in candidate_deployments(m, s, isl=8192, osl=1024, **kw)
        if (d.tp, d.pp, d.attention_dp, d.moe_ep) == (row["tp"], row["pp"], row["attention_dp"], row["ep"])
    )
    stm_p, stm_d = StepTimeModel(pre), StepTimeModel(dec)
    x, y = plan_disaggregated_workers(stm_p, stm_d, float(row["concurrency"]), 8192, 1024)
    assert (x, y) == (row["prefill_instances"], row["decode_instances"])
    ss = disaggregated(stm_p, stm_d, x, y, row["concurrency"], 8192, 1024)
    assert float(np.asarray(ss.ttft_s)) == pytest.approx(row["ttft_s"], rel=1e-9)
    assert 1.0 / float(np.asarray(ss.tpot_s)) == pytest.approx(row["tokens_per_s_per_user"], rel=1e-9)
    chips = x * pre.chips_per_replica + y * dec.chips_per_replica
    assert row["chips"] == chips


def test_switch_off_and_cost_sweeps_leave_it_out() -> None:
    off = frontier("deepseek-v3", "h200_sxm", **LONG, disaggregation=False)
    assert (off.all_points["mode"] == "agg").all() and off.disaggregated is None
    unit = unit_cost_frontier("llama-3.1-8b", "h100_sxm", 1024, 256, 8, "fp8", None)  # compare / capacity
    assert (unit.all_points["mode"] == "agg").all()


def test_cli_shows_the_serving_column_and_the_mark(cli: Any) -> None:
    args = ["frontier", "-m", "deepseek-v3", "-H", "h200_sxm", "--isl", "8192", "--backend", "sglang"]
    code, out, err = cli(*args, "--precision", "fp8", "--speculative-tokens", "0", "--wide")
    assert code == 0, err
    assert "serving" in out and "P1D" in out and "disaggregated, TTFT <= 2 s" in out
    code, out, err = cli(*args, "--precision", "fp8", "--speculative-tokens", "0", "--no-disagg", "--json")
    d = json.loads(out)
    assert code == 0 and d["levers"]["disaggregation"] is False and d["disaggregated"] is None
    assert {p["mode"] for p in d["points"]} == {"agg"}


def test_web_chart_labels_the_disaggregated_option() -> None:
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.report import charts, views

    out = views.frontier_view(get_model("deepseek-v3"), get_hardware("h200_sxm"), **LONG)
    assert out["swept_disaggregated"] and all("P" in p["deployment"].split(":")[0] for p in out["swept_disaggregated"])
    names = [t.get("name") for t in charts.frontier_chart(out)["data"]]
    assert "disaggregated (xPyD)" in names
