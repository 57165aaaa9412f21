"""The memory plan with a speculative drafter (its weights and its layers' KV, as vLLM allocates them) and
vLLM >= 0.21's CUDA-graph estimate (`perf/memory.py`)."""

from __future__ import annotations

import pytest

from inferonomics.catalog.model_figures import kv_bytes_per_token_per_layer, mtp_params
from inferonomics.catalog.precision import get_precision
from inferonomics.perf import make_deployment
from inferonomics.perf.memory import (
    cudagraph_capture_sizes,
    draft_bytes_per_chip,
    kv_bytes_per_sequence_per_chip,
    kv_bytes_per_token_per_chip,
    memory_plan,
    weight_bytes_per_chip,
)


def test_a_draft_model_costs_its_weights_and_its_kv_per_token() -> None:
    target = make_deployment("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8")
    spec = target.with_(
        speculative_tokens=4,
        acceptance_rate=0.7,
        draft="model",
        draft_model=make_deployment("llama-3.1-8b", "h100_sxm").model,
    )
    draft = spec.draft_deployment
    assert draft is not None and draft.tp == 4 and draft.speculative_tokens == 0
    plain, with_draft = memory_plan(target), memory_plan(spec)
    assert with_draft.draft_weights_bytes == pytest.approx(weight_bytes_per_chip(draft))
    assert with_draft.weights_bytes == pytest.approx(plain.weights_bytes + weight_bytes_per_chip(draft))
    per_token = kv_bytes_per_token_per_chip(target) + kv_bytes_per_token_per_chip(draft)
    assert with_draft.kv_bytes_per_token == pytest.approx(per_token)
    assert with_draft.kv_cache_bytes == pytest.approx(plain.kv_cache_bytes - weight_bytes_per_chip(draft))
    assert with_draft.num_blocks == int(with_draft.kv_cache_bytes // (16 * per_token))
    # the 8B draft's 32 layers beside the 70B's 80 (both fp8 KV): ~29% fewer tokens and the lost weights
    assert with_draft.kv_tokens < 0.72 * plain.kv_tokens
    # a sequence's footprint, which the closed form's in-flight limit reads, counts the draft's KV too
    assert float(kv_bytes_per_sequence_per_chip(spec, 1000.0)) == pytest.approx(
        float(kv_bytes_per_sequence_per_chip(target, 1000.0)) + 1000.0 * kv_bytes_per_token_per_chip(draft)
    )


def test_mtp_and_eagle_heads_cost_one_decoder_layer_each() -> None:
    dsv3 = make_deployment("deepseek-v3", "h200_sxm", tp=8, precision="fp8")
    mtp = dsv3.with_(speculative_tokens=1, acceptance_rate=0.85)
    w, kv = draft_bytes_per_chip(mtp)
    m = dsv3.model
    assert m.mtp_layers == 1
    # an MoE head: ~11.6B parameters of the 14B DeepSeek-V3 publishes for its MTP module (weights + embedding
    # shared with the model), over the 8 chips in fp8
    assert w == pytest.approx(mtp_params(m) * get_precision("fp8").bytes_per_value / 8, rel=0.02)
    assert kv == pytest.approx(kv_bytes_per_token_per_layer(m, "fp8"))  # MLA: every chip holds the latent
    assert memory_plan(mtp).kv_tokens < memory_plan(dsv3).kv_tokens
    llama = make_deployment("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8")
    w, kv = draft_bytes_per_chip(llama.with_(speculative_tokens=3, acceptance_rate=0.66))
    assert kv == pytest.approx(kv_bytes_per_token_per_chip(llama) / 80)  # one of the 80 layers' KV
    assert 0.15e9 < w < 0.3e9  # one 70B decoder layer (0.86B parameters) in fp8 over 4 chips
    assert draft_bytes_per_chip(llama) == (0.0, 0.0)


def test_cudagraph_capture_sizes_are_vllms() -> None:
    assert cudagraph_capture_sizes(256, 8192) == [1, 2, 4, *range(8, 256, 8), *range(256, 513, 16)]
    assert cudagraph_capture_sizes(128, 2048)[-3:] == [240, 248, 256] and len(cudagraph_capture_sizes(128, 2048)) == 35
    assert cudagraph_capture_sizes(4, 8192) == [1, 2, 4, 8]
    # 1, 2, 4, 8, 16, ..., 48 (8 x 3 x 2) rounded up to multiples of 3
    assert cudagraph_capture_sizes(8, 8192, speculative_tokens=2) == [3, 6, 9, 18, 24, 33, 42, 48]
