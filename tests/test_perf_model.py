"""The performance model's physics: kernels, one iteration, memory, steady state, bounds."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.errors import DoesNotFitError, InvalidInputError
from inferonomics.perf import (
    Deployment,
    DisaggSpec,
    StepTimeModel,
    default_calibration,
    make_deployment,
    max_sequences,
    memory_use,
    predict,
    predict_deployment,
    predict_disaggregated,
)
from inferonomics.perf.bounds import active_weight_bytes, floors
from inferonomics.perf.kernels import CollectiveKernel, GemmKernel
from inferonomics.perf.moe import busiest_rank_assignments, touched_experts_per_rank
from inferonomics.perf.steady_state import closed_loop


@pytest.fixture(scope="module")
def llama70() -> Deployment:
    return make_deployment("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8", backend="vllm")


def test_gemm_time_follows_the_roofline_limits() -> None:
    chip = get_hardware("h100_sxm").chip
    cal = default_calibration()
    g = GemmKernel.prepare(chip, "bf16", cal)
    m = np.array([1.0, 16, 256, 4096, 32768])
    t = g.time_s(m, 8192.0, 8192.0)
    assert np.all(np.diff(t) >= 0), "more rows never take less time"
    # small M: bounded below by reading the weights at full bandwidth
    assert t[0] >= 8192 * 8192 * 2 / chip.hbm_bandwidth_bytes_per_s
    # large M: bounded below by FLOPs at peak, and within 2x of the fitted efficiency
    flops = 2 * 32768 * 8192 * 8192
    assert flops / chip.peak_flops_per_s("bf16") < t[-1] < 2 * flops / chip.peak_flops_per_s("bf16")
    assert g.time_s(0.0, 8192.0, 8192.0) == 0.0


def test_fp8_gemm_reads_half_the_weight_bytes_of_bf16() -> None:
    chip = get_hardware("h100_sxm").chip
    cal = default_calibration()
    assert GemmKernel.prepare(chip, "fp8", cal).weight_bytes == GemmKernel.prepare(chip, "bf16", cal).weight_bytes / 2


def test_collective_latency_grows_with_group_and_message() -> None:
    system = get_hardware("h100_sxm")
    cal = default_calibration()
    small = [CollectiveKernel.prepare("all_reduce", n, system, cal).time_s(4096.0) for n in (2, 4, 8)]
    assert small[0] <= small[1] <= small[2]
    big = CollectiveKernel.prepare("all_reduce", 8, system, cal).time_s(256e6)
    assert big > 10 * small[2]
    assert CollectiveKernel.prepare("all_reduce", 1, system, cal).time_s(1e6) == 0.0
    # leaving the NVLink domain adds the slower inter-node stage
    across = CollectiveKernel.prepare("all_reduce", 16, system, cal).time_s(64e6)
    assert across > CollectiveKernel.prepare("all_reduce", 8, system, cal).time_s(64e6)


def test_breakdown_adds_up_and_scalar_equals_vector(llama70: Deployment) -> None:
    stm = StepTimeModel(llama70)
    b = stm.iteration_breakdown(512.0, 512.0 * 1000, 32.0, 32.0 * 2048, 2.0)
    parts = b["compute_s"] + b["memory_s"] + b["network_s"] + b["overhead_s"]
    assert parts == pytest.approx(b["total_s"], rel=1e-9)
    vec = stm.iteration_time_s(
        np.array([512.0, 0.0]),
        np.array([512.0 * 1000, 0.0]),
        np.array([32.0, 32.0]),
        np.array([32.0 * 2048, 32.0 * 2048]),
        np.array([2.0, 1.0]),
    )
    assert vec[0] == pytest.approx(stm.iteration_time_s(512.0, 512.0 * 1000, 32.0, 32.0 * 2048, 2.0))
    assert vec[1] == pytest.approx(stm.decode_step_time_s(32.0, 2048.0))


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 256), ctx=st.integers(1, 32768), extra=st.integers(1, 4096))
def test_decode_step_is_monotone_in_batch_and_context(batch: int, ctx: int, extra: int) -> None:
    stm = StepTimeModel(make_deployment("llama-3.1-8b", "h100_sxm", tp=1, precision="bf16"))
    t = stm.decode_step_time_s(float(batch), float(ctx))
    assert np.isfinite(t) and t > 0
    assert stm.decode_step_time_s(float(batch + 1), float(ctx)) >= t
    assert stm.decode_step_time_s(float(batch), float(ctx + extra)) >= t


def test_decode_is_memory_bound_and_prefill_compute_bound(llama70: Deployment) -> None:
    stm = StepTimeModel(llama70)
    dec = stm.iteration_breakdown(0.0, 0.0, 1.0, 1024.0)
    pre = stm.iteration_breakdown(8192.0, 8192.0 * 4096, 0.0, 0.0)
    assert dec["memory_s"] > 3 * dec["compute_s"]
    assert pre["compute_s"] > 3 * pre["memory_s"]


def test_tensor_parallelism_cuts_the_step_but_adds_network() -> None:
    t = {}
    for tp in (1, 2, 4, 8):
        stm = StepTimeModel(make_deployment("llama-3.1-70b", "h200_sxm", tp=tp, precision="fp8"))
        t[tp] = stm.iteration_breakdown(0.0, 0.0, 8.0, 8.0 * 2048)
    assert t[1]["network_s"] == 0.0 < t[2]["network_s"] <= t[8]["network_s"]
    assert t[8]["total_s"] < t[4]["total_s"] < t[2]["total_s"] < t[1]["total_s"]
    # but far from linear scaling: fixed per-layer costs do not shrink
    assert t[1]["total_s"] / t[8]["total_s"] < 8


def test_pipeline_stages_do_not_split_a_sequence() -> None:
    """Fewer sequences than stages leave pipeline bubbles: one MoE sequence decodes no faster under PP
    (it reads the same touched experts through every stage), while a batch of PP sequences fills it."""
    one = {}
    full = {}
    for pp in (1, 2, 8):
        stm = StepTimeModel(make_deployment("deepseek-v3", "h200_sxm", tp=8, pp=pp, precision="fp8"))
        one[pp] = stm.iteration_breakdown(0.0, 0.0, 1.0, 2048.0)["total_s"]
        full[pp] = stm.iteration_breakdown(0.0, 0.0, 8.0, 8.0 * 2048)["total_s"]
    assert one[1] <= one[2] <= one[8]  # only the stage hand-offs are added
    assert full[8] < full[1]  # 8 micro-batches of one sequence: each stage reads fewer experts


def test_moe_decode_reads_only_touched_experts() -> None:
    m = get_model("deepseek-v3")
    one = active_weight_bytes(m, "fp8", tokens=1)
    many = active_weight_bytes(m, "fp8", tokens=4096)
    assert one < 0.1 * m.weight_bytes("fp8")
    assert many == pytest.approx(m.weight_bytes("fp8") - (m.params["embedding"]) * 2 + 0, rel=0.02)


def test_memory_fit_and_error_message() -> None:
    dep = make_deployment("llama-3.1-70b", "h100_sxm", tp=1, precision="bf16")
    with pytest.raises(DoesNotFitError, match=r"weights alone need 14\d\.\d GB"):
        predict_deployment(dep, 1024, 1024, 1)
    ok = make_deployment("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8")
    most = max_sequences(ok, 2048)
    assert memory_use(ok, most, 2048).fits
    assert not memory_use(ok, most + ok.attention_dp * 2, 2048).fits
    # past the KV capacity clients queue, as engines do: no error, memory holds `most`, TTFT grows
    full = predict_deployment(ok, 1024, 1024, most)
    over = predict_deployment(ok, 1024, 1024, most * 4)
    assert over.fits and over.queued_clients == pytest.approx(most * 3)
    assert over.memory.kv_cache_bytes == pytest.approx(full.memory.kv_cache_bytes)
    assert over.ttft_s > 2 * full.ttft_s
    assert over.tpot_s == pytest.approx(full.tpot_s, rel=0.02)


def test_fp8_kv_holds_twice_the_sequences_of_bf16() -> None:
    a = make_deployment("llama-3.1-8b", "h100_sxm", tp=1, precision="bf16", kv_precision="bf16")
    b = a.with_(kv_precision="fp8")
    assert max_sequences(b, 4096) == pytest.approx(2 * max_sequences(a, 4096), rel=0.01)


def test_closed_loop_obeys_littles_law_and_saturates(llama70: Deployment) -> None:
    stm = StepTimeModel(llama70)
    c = np.array([1.0, 4, 16, 64, 256])
    ss = closed_loop(stm, c, 1024, 512)
    e2e = ss.ttft_s + (512 - 1) * ss.tpot_s
    assert np.allclose(ss.requests_per_s * e2e, c, rtol=1e-6)
    assert np.all(np.diff(ss.output_tokens_per_s) > 0), "throughput grows with concurrency"
    assert np.all(np.diff(ss.tpot_s) > 0), "each user gets slower"
    gain = ss.output_tokens_per_s[1:] / ss.output_tokens_per_s[:-1]
    assert gain[-1] < gain[0], "and the gains shrink as compute takes over"


def test_ttft_range_brackets_the_prediction_and_opens_with_concurrency(llama70: Deployment) -> None:
    """Spread clients wait for no other prefill; synchronised ones queue behind a wave of prompts, so the
    range is empty for one client and widens with more (the point prediction lies inside it)."""
    ss = closed_loop(StepTimeModel(llama70), np.array([1.0, 8, 64]), 2048, 256)
    low, high = ss.ttft_range_s
    assert np.all(low <= ss.ttft_s + 1e-12) and np.all(ss.ttft_s <= high + 1e-12)
    assert high[0] == pytest.approx(low[0], rel=1e-9)
    assert np.all(np.diff(high / low) > 0)
    spec = DisaggSpec(prefill=llama70, decode=llama70, prefill_instances=1, decode_instances=1)
    one, many = (predict_disaggregated(spec, 2048, 256, c) for c in (1, 8))
    assert one.ttft_range_s == pytest.approx((one.ttft_s, one.ttft_s), rel=1e-9), "one client has no first wave"
    low, high = many.ttft_range_s
    assert low == pytest.approx(many.ttft_s) and high > 2.0 * low, "8 prompts at once queue at the prefill pool"


def test_clients_beyond_kv_capacity_queue() -> None:
    dep = make_deployment("llama-3.1-70b", "h100_sxm", tp=2, precision="fp8")
    most = max_sequences(dep, 9216)
    stm = StepTimeModel(dep)
    ss = closed_loop(stm, np.array([most, 2.0 * most]), 1024, 8192)
    assert ss.ttft_s[1] > 5 * ss.ttft_s[0]
    assert ss.output_tokens_per_s[1] == pytest.approx(ss.output_tokens_per_s[0], rel=0.05)


def test_speculative_decoding_raises_tokens_per_step() -> None:
    dep = make_deployment("llama-3.1-70b", "h200_sxm", tp=4, precision="fp8")
    spec = dep.with_(speculative_tokens=3, acceptance_rate=0.8)
    assert spec.tokens_per_step == pytest.approx(1 + 0.8 * (1 - 0.8**3) / 0.2)
    base = predict_deployment(dep, 1024, 1024, 8)
    fast = predict_deployment(spec, 1024, 1024, 8)
    assert fast.tpot_s < base.tpot_s


def test_disaggregated_serving_has_transfer_and_no_prefill_stalls() -> None:
    p = make_deployment("llama-3.1-70b", "h200_sxm", tp=4, precision="fp8")
    spec = DisaggSpec(prefill=p, decode=p, prefill_instances=1, decode_instances=1)
    dis = predict_disaggregated(spec, 4096, 512, 32)
    agg = predict_deployment(p, 4096, 512, 32)
    assert dis.breakdown["kv_transfer_s"] > 0
    assert dis.tpot_s < agg.tpot_s, "decode no longer shares iterations with prefills"
    more = predict_disaggregated(DisaggSpec(p, p, 1, 2), 4096, 512, 32)
    assert more.tpot_s < dis.tpot_s and more.chips == 12


def test_kv_transfer_uses_nvlink_inside_one_rack_and_the_network_across_nodes() -> None:
    def transfer_s(system: str, decode_instances: int) -> float:
        p = make_deployment("llama-3.1-70b", system, tp=4, precision="fp8")
        spec = DisaggSpec(prefill=p, decode=p, prefill_instances=1, decode_instances=decode_instances)
        return predict_disaggregated(spec, 8192, 256, 8).breakdown["kv_transfer_s"]

    in_rack, across_rack = transfer_s("gb200", 1), transfer_s("gb200", 20)  # 8 vs 84 GPUs in a 72-GPU domain
    assert across_rack > 5 * in_rack
    assert transfer_s("b200_sxm", 2) > 5 * transfer_s("b200_sxm", 1), "12 GPUs span two 8-GPU HGX nodes"


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InvalidInputError, match="isl"):
        predict("llama-3.1-8b", "h100_sxm", isl=0, osl=10, concurrency=1)
    with pytest.raises(InvalidInputError, match="concurrency"):
        predict("llama-3.1-8b", "h100_sxm", isl=10, osl=10, concurrency=0)
    with pytest.raises(InvalidInputError, match="context window"):
        predict("llama-3.1-8b", "h100_sxm", isl=200_000, osl=10, concurrency=1)
    with pytest.raises(InvalidInputError, match="moe_ep"):
        make_deployment("llama-3.1-8b", "h100_sxm", ep=2)
    with pytest.raises(InvalidInputError, match="backend"):
        make_deployment("llama-3.1-8b", "h100_sxm", backend="tgi")


def test_floors_bracket_real_predictions() -> None:
    m, s = get_model("llama-3.1-70b"), get_hardware("h100_sxm")
    f = floors(m, s, context_tokens=2048, precision="fp8", kv_precision="fp8")
    assert f.single_user_to_batched_cost_ratio > 1
    for tp in (2, 4, 8):
        p = predict(m, s, tp=tp, precision="fp8", isl=1024, osl=2048, concurrency=1)
        assert p.tpot_s >= f.latency_floor_s_per_token
    best = predict(m, s, tp=8, precision="fp8", isl=1024, osl=1024, max_throughput=True)
    usd_per_mtok = 8 * s.rental_usd_per_hour / 3600 / best.output_tokens_per_s * 1e6
    assert usd_per_mtok >= f.cost_floor_usd_per_mtok


def test_erdil_long_context_kv_floor() -> None:
    """Erdil 2025: Mistral Large 2 reads 36 GB of KV per token at 100K context, ~6 USD/M on H100."""
    f = floors(
        get_model("mistral-large-2"),
        get_hardware("h100_sxm"),
        context_tokens=100_000,
        precision="bf16",
        kv_precision="bf16",
        usd_per_chip_hour=2.0,
    )
    assert f.cost_floor_bound == "kv-cache bandwidth"
    assert f.cost_floor_usd_per_mtok == pytest.approx(6.0, rel=0.05)


def test_prediction_json_has_the_documented_keys(llama70: Deployment) -> None:
    d = predict_deployment(llama70, 1024, 256, 16).to_dict()
    for key in (
        "ttft_ms",
        "tpot_ms",
        "output_tokens_per_s",
        "output_tokens_per_s_per_gpu",
        "requests_per_s",
        "batch_size",
        "fits",
        "memory_gb_per_gpu",
        "breakdown",
        "ttft_range_ms",
    ):
        assert key in d
    json.dumps(d)
    assert d["ttft_range_ms"][0] <= d["ttft_ms"] <= d["ttft_range_ms"][1]
    assert d["breakdown"]["total_ms"] > 0


def test_sram_resident_kv_helps_small_batches_only() -> None:
    base = make_deployment("llama-3.1-8b", "h100_sxm", tp=1, precision="fp8", kv_precision="fp8")
    sram = base.with_(kv_in_sram=True)
    a, b = StepTimeModel(base), StepTimeModel(sram)
    small = (a.decode_step_time_s(1.0, 1024.0), b.decode_step_time_s(1.0, 1024.0))
    large = (a.decode_step_time_s(256.0, 8192.0), b.decode_step_time_s(256.0, 8192.0))
    assert small[1] < small[0]
    assert large[1] == pytest.approx(large[0], rel=0.01), "256 x 8k tokens of KV do not fit in 50 MB of L2"


def test_unseen_weight_format_takes_the_engines_fastest_format_scale() -> None:
    from inferonomics.perf.calibration import EngineFit

    eng = EngineFit(format_scales={"bf16": 1.0, "fp8": 1.44})
    assert eng.format_scale("fp8") == 1.44
    assert eng.format_scale("fp4") == 1.0


def test_tiny_gemms_run_below_the_roofline_occupancy() -> None:
    """Few output tiles leave SMs idle and a narrow weight matrix streams below HBM bandwidth: the
    fitted GEMM families must make a 16-row, 256-column GEMM slower per FLOP and per byte than a wide one."""
    chip = get_hardware("h100_sxm").chip
    k = GemmKernel.prepare(chip, "fp8", default_calibration())
    narrow = k.time_s(4096.0, 256.0, 8192.0) / 256.0
    wide = k.time_s(4096.0, 8192.0, 8192.0) / 8192.0
    assert narrow > 1.3 * wide
    decode_narrow = k.time_s(8.0, 256.0, 8192.0) / 256.0
    decode_wide = k.time_s(8.0, 8192.0, 8192.0) / 8192.0
    assert decode_narrow > decode_wide


@pytest.mark.parametrize(
    ("experts", "top_k", "ep", "tokens"), [(128, 8, 8, 4), (128, 8, 8, 16), (256, 8, 32, 128), (64, 6, 2, 3)]
)
def test_expert_load_matches_uniform_routing(experts: int, top_k: int, ep: int, tokens: int) -> None:
    """Monte Carlo of uniform top-k routing: a rank's mean touched experts and the busiest rank's
    token-expert assignments are within 10% of perf/moe.py's closed forms."""
    rng = np.random.default_rng(7)
    local = experts // ep
    touched, busiest = [], []
    for _ in range(400):
        chosen = np.argsort(rng.random((tokens, experts)), axis=1)[:, :top_k]
        rank = chosen // local
        touched.append(np.mean([len(np.unique(chosen[rank == r])) for r in range(ep)]))
        busiest.append(np.bincount(rank.ravel(), minlength=ep).max())
    assert touched_experts_per_rank(tokens, experts, top_k, ep) == pytest.approx(np.mean(touched), rel=0.10)
    assert busiest_rank_assignments(tokens, top_k, ep) == pytest.approx(np.mean(busiest), rel=0.10)
    assert busiest_rank_assignments(tokens, top_k, ep) > tokens * top_k / ep


def test_one_expert_rank_carries_every_assignment() -> None:
    t = np.array([1.0, 7.0, 300.0])
    assert np.allclose(busiest_rank_assignments(t, 8.0, 1), 8.0 * t)
    assert np.allclose(touched_experts_per_rank(t, 256.0, 8.0, 1), 256.0 * (1.0 - (1.0 - 8.0 / 256.0) ** t))
    # the busiest rank's excess over the balanced share shrinks as the batch grows (a small-batch effect)
    excess = busiest_rank_assignments(t, 8.0, 8) / (8.0 * t / 8)
    assert np.all(np.diff(excess) < 0) and excess[-1] < 1.2
