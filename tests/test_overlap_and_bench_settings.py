"""Two-batch overlap of the expert all-to-all, and trtllm-bench's engine settings for the published tables."""

from __future__ import annotations

import numpy as np
import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.perf import StepTimeModel, make_deployment
from inferonomics.perf.engines import EngineArgs
from inferonomics.perf.predict import predict_deployment
from inferonomics.validate.trtllm_bench import build_settings


def _moe(overlap: bool, **kw):
    return make_deployment(
        "deepseek-v3", "h800", tp=1, attention_dp=32, ep=32, backend="sglang", two_batch_overlap=overlap, **kw
    )


@pytest.mark.parametrize("tokens", [64.0, 1024.0, 16384.0])
def test_overlap_hides_the_all_to_all_behind_the_other_micro_batch(tokens: float) -> None:
    serial = StepTimeModel(_moe(False)).iteration_breakdown(tokens, tokens * (tokens + 1) / 2, 0.0, 0.0, 1.0)
    stm = StepTimeModel(_moe(True))
    tbo = stm.iteration_breakdown(tokens, tokens * (tokens + 1) / 2, 0.0, 0.0, 1.0)
    half = stm._terms_serial(tokens / 2, tokens * (tokens + 1) / 4, 0.0, 0.0, 0.5, 1.0)
    # the parts still add up, and no term but the network shrinks
    assert tbo["total_s"] == pytest.approx(tbo["compute_s"] + tbo["memory_s"] + tbo["network_s"] + tbo["overhead_s"])
    assert tbo["gemm_s"] >= serial["gemm_s"] * (1 - 1e-9)  # each micro-batch reads the weights itself
    assert tbo["network_s"] < serial["network_s"]
    # what is left of the all-to-all is its excess over one micro-batch's MoE-layer compute, plus one layer
    s = stm._s
    work = half["gemm_s"] + half["attention_decode_s"] + half["attention_prefill_s"]
    moe_work, a2a = work * s.n_moe / s.layers, half["a2a_s"]
    exposed = 2 * max(a2a - moe_work, 0.0) + min(a2a, moe_work) / s.n_moe
    assert tbo["network_s"] == pytest.approx(2 * (half["network_s"] - a2a) + exposed)
    # never faster than the compute alone, never slower than both halves in series
    assert 2 * work <= tbo["total_s"] <= 2 * half["total_s"] + 1e-12


def test_overlap_needs_two_tokens_per_rank_an_moe_model_and_attention_dp() -> None:
    one_each = (0.0, 0.0, 32.0, 32.0 * 2000, 0.0)  # 32 sequences on 32 ranks: nothing to split
    a = StepTimeModel(_moe(True)).iteration_breakdown(*one_each)
    b = StepTimeModel(_moe(False)).iteration_breakdown(*one_each)
    assert a["total_s"] == pytest.approx(b["total_s"])
    dense = [
        StepTimeModel(make_deployment("llama-3.1-70b", "h100_sxm", tp=8, two_batch_overlap=o)).decode_step_time_s(
            64, 2000
        )
        for o in (False, True)
    ]
    assert dense[0] == pytest.approx(dense[1])
    # vectorised: the same answer element by element
    seqs = np.array([32.0, 256.0, 4096.0])
    vec = StepTimeModel(_moe(True)).iteration_time_s(0.0, 0.0, seqs, seqs * 2000)
    each = [StepTimeModel(_moe(True)).iteration_time_s(0.0, 0.0, float(x), float(x) * 2000) for x in seqs]
    assert np.allclose(vec, each)


def test_trtllm_bench_build_heuristic() -> None:
    """`trtllm-bench build`'s settings, worked by hand from tensorrt_llm/bench/build/tuning.py."""
    h100, h200 = get_hardware("h100_sxm").chip, get_hardware("h200_sxm").chip
    # 70B FP8 on one H100: ~8.6 GiB left after a 70.6 GB engine -> ~25 requests of 2,176 tokens: the floors
    s = build_settings(get_model("llama-3.1-70b"), h100, 1, 128, 2048, "fp8", "fp8")
    assert (s.max_batch_size, s.max_num_tokens) == (64, 2048)
    # Mixtral on 8 H200: ~7,200 requests fit, capped at 4,096; tokens 4,096 x (1 + 128/2048) -> 4,608
    s = build_settings(get_model("mixtral-8x7b"), h200, 8, 128, 2048, "fp8", "fp8")
    assert (s.max_batch_size, s.max_num_tokens) == (4096, 4608)
    # 8B on one H100, ISL 2048 / OSL 128: 509 requests -> 512; 509 x 17 tokens -> 9,216
    s = build_settings(get_model("llama-3.1-8b"), h100, 1, 2048, 128, "fp8", "fp8")
    assert (s.max_batch_size, s.max_num_tokens) == (512, 9216)
    assert s.engine_args().gpu_memory_utilization == 0.95


def test_max_throughput_batch_stays_within_max_num_seqs() -> None:
    dep = make_deployment("llama-3.1-8b", "h200_sxm", backend="trtllm", engine_args=EngineArgs(max_num_seqs=96))
    p = predict_deployment(dep, 128, 1024, max_throughput=True)
    assert 1 <= p.concurrency <= 96
