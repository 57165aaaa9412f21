"""Speculative decoding as deployed (drafts per position, MTP and draft-model cost), disaggregated serving
(KV transfer, decode admission, the planner for unrecorded worker counts, the validator's assumptions) and
the search screen at the offered load."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from inferonomics.errors import InvalidInputError
from inferonomics.perf import StepTimeModel, make_deployment
from inferonomics.perf.steady_state import (
    closed_loop,
    disaggregated,
    kv_transfer_s,
    open_loop,
    plan_disaggregated_workers,
)
from inferonomics.serving.replica import draw_verify_steps


def _r1(**kw):  # type: ignore[no-untyped-def]
    return make_deployment("deepseek-ai/DeepSeek-R1", "h200_sxm", tp=8, ep=8, precision="fp8", backend="trtllm", **kw)


# --- speculative decoding -----------------------------------------------------------------------------


def test_tokens_per_step_is_the_sum_of_products_of_position_acceptances() -> None:
    d = _r1(speculative_tokens=3, acceptance=(0.85, 0.6))
    assert d.position_acceptance == (0.85, 0.6, 0.6)
    assert d.tokens_per_step == pytest.approx(1 + 0.85 + 0.85 * 0.6 + 0.85 * 0.6 * 0.6)
    one_rate = _r1(speculative_tokens=3, acceptance_rate=0.7)
    assert one_rate.tokens_per_step == pytest.approx(1 + 0.7 * (1 - 0.7**3) / (1 - 0.7))  # Leviathan eq. 1
    assert _r1().tokens_per_step == 1.0


def test_acceptance_without_drafts_or_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="needs speculative_tokens"):
        _r1(acceptance=(0.8,))
    with pytest.raises(InvalidInputError, match=r"\[0, 1\)"):
        _r1(speculative_tokens=2, acceptance=(0.8, 1.2))


@pytest.mark.parametrize("acceptance", [0.7, (0.85, 0.6, 0.6), (0.9, 0.3)])
def test_simulator_draws_as_many_tokens_per_step_as_the_formula(acceptance) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    k = 3
    steps = [draw_verify_steps(rng, 20_000, k, acceptance) for _ in range(10)]
    per_pos = acceptance if isinstance(acceptance, tuple) else ()
    rate = acceptance if isinstance(acceptance, float) else 0.0
    expected = _r1(speculative_tokens=k, acceptance=per_pos, acceptance_rate=rate).tokens_per_step
    assert 20_000 / np.mean(steps) == pytest.approx(expected, rel=0.01)


def test_mtp_drafts_cost_one_layer_and_the_lm_head_each() -> None:
    plain = StepTimeModel(_r1())
    mtp = StepTimeModel(_r1(speculative_tokens=1, acceptance=(0.85,)))
    verify_only = plain.iteration_breakdown(0.0, 0.0, 8.0, 8.0 * 1500)
    bd = mtp.iteration_breakdown(0.0, 0.0, 8.0, 8.0 * 1500)
    layer = verify_only["total_s"] / 61
    assert 0.5 * layer < bd["draft_s"] < 3.0 * layer  # one MoE layer plus the LM head, not a whole step
    total = bd["gemm_s"] + bd["attention_decode_s"] + bd["attention_prefill_s"] + bd["network_s"] + bd["overhead_s"]
    assert bd["total_s"] == pytest.approx(total)
    assert "draft_s" not in verify_only  # no drafts, no key
    assert mtp.iteration_breakdown(1000.0, 5e5, 0.0, 0.0)["draft_s"] == 0.0  # a prefill-only step drafts nothing
    # at batch 1 the verified second token is nearly free: TPOT falls by about the tokens per step
    tpot_plain = closed_loop(plain, 1.0, 1024, 1024).tpot_s
    tpot_mtp = closed_loop(mtp, 1.0, 1024, 1024).tpot_s
    assert 1.4 < tpot_plain / tpot_mtp < 1.85


def test_a_draft_model_runs_its_own_decode_step_per_draft() -> None:
    target = make_deployment(
        "llama-3.1-70b",
        "h100_sxm",
        tp=4,
        speculative_tokens=3,
        acceptance_rate=0.7,
        draft="model",
        draft_model="llama-3.1-8b",
    )
    draft_alone = StepTimeModel(make_deployment("llama-3.1-8b", "h100_sxm", tp=4))
    bd = StepTimeModel(target).iteration_breakdown(0.0, 0.0, 8.0, 8000.0)
    assert bd["draft_s"] == pytest.approx(3 * draft_alone.iteration_breakdown(0.0, 0.0, 8.0, 8000.0)["total_s"])
    with pytest.raises(InvalidInputError, match="draft_model"):
        make_deployment("llama-3.1-70b", "h100_sxm", tp=4, speculative_tokens=2, draft="model")


# --- disaggregated serving ----------------------------------------------------------------------------


def test_kv_transfer_is_bytes_over_the_link_plus_its_latency() -> None:
    p = StepTimeModel(make_deployment("llama-3.1-70b", "gb200", tp=4, precision="fp8"))
    d = StepTimeModel(make_deployment("llama-3.1-70b", "gb200", tp=4, precision="fp8"))
    inside, across = kv_transfer_s(p, d, 8, 4096.0), kv_transfer_s(p, d, 80, 4096.0)
    sys = d.deployment.system
    kv = d.deployment.model.kv_bytes(4096.0, d.deployment.kv_precision)
    assert inside == pytest.approx(kv / (sys.intra_node_bandwidth_bytes_per_s * 4) + sys.intra_node_latency_s)
    assert across > inside  # past the NVL72 domain the cache goes over the NICs


def test_decode_admission_and_orchestration_add_to_ttft_not_tpot() -> None:
    p = StepTimeModel(make_deployment("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8", backend="vllm"))
    d = StepTimeModel(p.deployment)

    def run(**eng):  # type: ignore[no-untyped-def]
        cal = replace(p.calibration, engines={"vllm": replace(p.engine, **eng)})
        return disaggregated(StepTimeModel(p.deployment, cal), StepTimeModel(d.deployment, cal), 1, 1, 8.0, 2048, 256)

    base = run(disagg_overhead_s=0.0, disagg_admission_steps=0.0, disagg_iteration_s=0.0)
    later = run(disagg_overhead_s=0.25, disagg_admission_steps=2.0, disagg_iteration_s=0.0)
    assert float(later.ttft_s) == pytest.approx(float(base.ttft_s) + 0.25 + 2.0 * float(base.iteration_s), rel=0.02)
    assert float(later.tpot_s) == pytest.approx(float(base.tpot_s), rel=0.02)
    slower = run(disagg_overhead_s=0.0, disagg_admission_steps=0.0, disagg_iteration_s=0.002)
    assert float(slower.tpot_s) == pytest.approx(float(base.tpot_s) + 0.002, rel=0.05)


def test_the_planner_adds_workers_as_the_clients_grow() -> None:
    p = StepTimeModel(_r1())
    d = StepTimeModel(_r1())
    plans = [plan_disaggregated_workers(p, d, c, 1024.0, 1024.0) for c in (1.0, 64.0, 1024.0, 4096.0)]
    assert all(isinstance(x, int) and isinstance(y, int) and x >= 1 and y >= 1 for x, y in plans)
    assert plans[0] == (1, 1)
    assert [y for _, y in plans] == sorted(y for _, y in plans) and plans[-1][1] > plans[0][1]
    assert [x for x, _ in plans] == sorted(x for x, _ in plans) and plans[-1][0] > plans[0][0]


# --- the validator on the shared disaggregated runs ---------------------------------------------------


@pytest.fixture(scope="module")
def disagg_validation(shared_data: Path):  # type: ignore[no-untyped-def]
    from inferonomics.validate.serving import validate_serving

    return validate_serving(shared_data / "measured" / "serving_disagg_h100_h200.csv")


def test_every_disaggregated_row_is_predicted_and_its_assumptions_stated(disagg_validation) -> None:  # type: ignore[no-untyped-def]
    summary, res = disagg_validation
    assert summary["coverage"] == 1.0
    unrecorded = res["decode_num_workers"].isna()
    assert res.loc[unrecorded, "assumptions"].str.contains("workers not recorded").all()
    assert (res.loc[~unrecorded, "decode_workers"] == res.loc[~unrecorded, "decode_num_workers"]).all()
    no_clients = ~res["silicon_data_source"].str.contains("silicon_concurrency", na=False)
    assert no_clients.sum() == 7 and res.loc[no_clients, "assumptions"].str.contains("decode_batch_size").all()
    both = summary["speculative_both_ways"]
    assert both["rows"] == int(((res["backend"] == "trtllm") & res["model_path"].str.contains("DeepSeek")).sum())
    assert "num_nextn_predict_layers 1" in both["assumption"] and "DeepSeek-V3 technical report" in both["assumption"]
    assert both["on"]["tpot"]["median_ape"] != both["off"]["tpot"]["median_ape"]
    inferred = summary["speculative_inferred"]  # MTP where the measured TPOT undercuts the no-draft floor
    assert 0 < inferred["rows_mtp"] < inferred["rows"] <= summary["predicted"]
    assert inferred["tpot"]["median_ape"] < inferred["off"]["tpot"]["median_ape"]
    spread = summary["same_setting_spread"]  # repeated runs of one setting disagree: the rows omit something
    assert spread["rows"] > 0 and spread["tpot"] > 0.05


def test_validate_cli_says_what_it_assumed(run_cli, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("validate", "serving", str(shared_data / "measured" / "serving_disagg_h100_h200.csv"), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["assumptions"]["workers not recorded"] == 248 and d["speculative_both_ways"]["rows"] > 0


# --- the search at the offered load -------------------------------------------------------------------


def test_open_loop_at_a_closed_loops_rate_holds_its_clients() -> None:
    stm = StepTimeModel(make_deployment("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8", backend="vllm"))
    closed = closed_loop(stm, np.array([4.0, 16.0, 48.0]), 2048, 256, wave_fraction=0.0)
    opened = open_loop(stm, closed.requests_per_s, 2048, 256, 64.0)
    assert np.asarray(opened.decode_batch) == pytest.approx(np.asarray(closed.decode_batch), rel=0.03)
    assert np.asarray(opened.ttft_s) == pytest.approx(np.asarray(closed.ttft_s), rel=0.05)
    light = open_loop(stm, 0.1 * np.asarray(closed.requests_per_s), 2048, 256, 64.0)
    assert np.all(np.asarray(light.tpot_s) <= np.asarray(opened.tpot_s))


def test_the_screen_evaluates_candidates_at_the_offered_load() -> None:
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.search.screen import ScreenInputs, screen_candidates
    from inferonomics.search.space import Candidate, SearchSpace

    space = SearchSpace(hardware=("h100_sxm",), batch_sizes=(8, 64, 256))
    cand = Candidate("h100_sxm", 4, 1, 1, 1, "fp8", "fp8", "vllm", 0, 0)
    model, systems = get_model("llama-3.1-70b"), (get_hardware("h100_sxm"),)
    at_rate = screen_candidates(ScreenInputs(model, systems, 2048, 256, space, None, 2.0), [cand]).rows
    full = screen_candidates(ScreenInputs(model, systems, 2048, 256, space), [cand]).rows
    assert (full["ttft_ms"] == full["ttft_full_batch_ms"]).all()
    assert (at_rate["ttft_full_batch_ms"].to_numpy() == full["ttft_ms"].to_numpy()).all()
    big = at_rate["batch_size"] >= 64  # one replica of a big batch serves 2 req/s far below its capacity
    assert (at_rate.loc[big, "ttft_ms"] < 0.5 * at_rate.loc[big, "ttft_full_batch_ms"]).all()
    assert (at_rate["ttft_ms"] <= at_rate["ttft_full_batch_ms"] * 1.001).all()


# --- interfaces ---------------------------------------------------------------------------------------


def test_predict_cli_takes_acceptance_per_position(run_cli) -> None:  # type: ignore[no-untyped-def]
    args = ["predict", "-m", "deepseek-r1", "-H", "h200_sxm", "--tp", "8", "--ep", "8", "--backend", "trtllm"]
    args += ["--isl", "1024", "--osl", "1024", "-c", "8", "--json"]
    r = run_cli(*args, "--spec-tokens", "2", "--acceptance", "0.85,0.6")
    assert r.exit_code == 0, r.output
    spec = json.loads(r.stdout)["speculative"]
    assert spec["acceptance"] == [0.85, 0.6] and spec["tokens_per_step"] == pytest.approx(1 + 0.85 + 0.85 * 0.6)
    bad = run_cli(*args, "--spec-tokens", "2", "--acceptance", "0.9,often")
    assert bad.exit_code == 2 and "--acceptance" in bad.output and "Traceback" not in bad.output


def test_api_predict_takes_speculative_decoding() -> None:
    from fastapi.testclient import TestClient

    from inferonomics.web.app import create_app

    body = {"model": "DeepSeek-R1", "hardware": "h200_sxm", "tp": 8, "ep": 8, "backend": "trtllm", "concurrency": 4}
    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        plain = c.post("/api/predict", json=body)
        spec = c.post("/api/predict", json={**body, "spec_tokens": 1, "acceptance": [0.85]})
        bad = c.post("/api/predict", json={**body, "acceptance": [0.85]})
    assert plain.status_code == 200 and spec.status_code == 200, spec.text
    assert spec.json()["tpot_ms"] < plain.json()["tpot_ms"] and spec.json()["speculative"]["draft_tokens"] == 1
    assert bad.status_code in (400, 422) and "acceptance" in bad.text


def test_the_screen_evaluates_disaggregated_groups_at_the_offered_load() -> None:
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.search.screen import ScreenInputs, screen_pairs
    from inferonomics.search.space import Candidate, DisaggPair, SearchSpace

    space = SearchSpace(hardware=("h100_sxm",), batch_sizes=(16, 128), max_prefill_instances=2, max_decode_instances=2)
    cand = Candidate("h100_sxm", 4, 1, 1, 1, "fp8", "fp8", "vllm", 0, 0)
    pair = DisaggPair(cand, cand)
    model, systems = get_model("llama-3.1-70b"), (get_hardware("h100_sxm"),)
    at_rate = screen_pairs(ScreenInputs(model, systems, 2048, 256, space, None, 1.0), [pair]).rows
    full = screen_pairs(ScreenInputs(model, systems, 2048, 256, space), [pair]).rows
    assert len(at_rate) == len(full) == 8
    assert (at_rate["ttft_full_batch_ms"].to_numpy() == full["ttft_ms"].to_numpy()).all()
    assert (at_rate["tpot_ms"] <= at_rate["tpot_full_batch_ms"] * 1.001).all()
    big = at_rate["batch_size"] == 128  # 1 req/s is far below a group's capacity at 128 sequences per worker
    assert (at_rate.loc[big, "tpot_ms"] < 0.95 * at_rate.loc[big, "tpot_full_batch_ms"]).all()
