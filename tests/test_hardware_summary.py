"""The naive 'model on a chip' summary behind `inferonomics summary` (checked by hand arithmetic)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferonomics.catalog.hardware_catalog import ENV_VAR, get_hardware
from inferonomics.catalog.models import ModelSpec
from inferonomics.errors import InvalidInputError
from inferonomics.summary import naive_summary

# Llama 3.1 8B's shape (config.json): 8.03 B parameters, GQA with 8 KV heads of 128.
LLAMA_8B = ModelSpec(
    name="llama-like-8b",
    hidden_size=4096,
    num_layers=32,
    vocab_size=128256,
    num_heads=32,
    num_kv_heads=8,
    head_dim=128,
    intermediate_size=14336,
)
LLAMA_70B = ModelSpec(
    name="llama-like-70b",
    hidden_size=8192,
    num_layers=80,
    vocab_size=128256,
    num_heads=64,
    num_kv_heads=8,
    head_dim=128,
    intermediate_size=28672,
)
SMALL_MOE = ModelSpec(
    name="small-moe",
    hidden_size=2048,
    num_layers=8,
    vocab_size=32000,
    num_heads=16,
    num_kv_heads=4,
    head_dim=128,
    intermediate_size=8192,
    num_experts=16,
    experts_per_token=2,
    moe_intermediate_size=1024,
)


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_8b_on_one_h100_by_hand() -> None:
    s = naive_summary(LLAMA_8B, get_hardware("H100"))
    weight_bytes = 2 * 8_030_261_248
    assert s.weight_bytes == pytest.approx(weight_bytes)
    assert s.chips_to_hold_weights == s.chips == 1 and s.fits
    kv_per_token = 2 * 2 * 128 * 8 * 32  # K and V, bf16, head_dim, kv heads, layers (scaling book)
    assert s.kv_bytes_per_token == kv_per_token
    assert s.kv_tokens_that_fit == (80 * 2**30 - weight_bytes) // kv_per_token  # an "80 GB" H100 holds 80 GiB
    assert s.naive_decode_tokens_per_s == pytest.approx(3.35e12 / weight_bytes)  # ~209 tok/s
    assert s.naive_decode_s_per_token * s.naive_decode_tokens_per_s == pytest.approx(1.0)
    assert "naive" in s.notes[0]


def test_70b_needs_two_h100s_and_fp8_halves_the_bytes() -> None:
    h100 = get_hardware("h100_sxm")
    bf16 = naive_summary(LLAMA_70B, h100)
    assert bf16.weight_bytes == pytest.approx(2 * LLAMA_70B.total_params)
    assert bf16.chips_to_hold_weights == math.ceil(bf16.weight_bytes / 80e9) == 2
    fp8 = naive_summary(LLAMA_70B, h100, weight_precision="fp8")
    assert fp8.chips_to_hold_weights == 1
    # Embeddings and norms may stay wider than fp8, so "about half", not exactly.
    assert 0.5 <= fp8.weight_bytes / bf16.weight_bytes < 0.53
    assert fp8.naive_decode_tokens_per_s == pytest.approx(3.35e12 / fp8.weight_bytes)


def test_more_chips_more_room_and_speed_and_too_few_do_not_fit() -> None:
    h100 = get_hardware("h100")
    one = naive_summary(LLAMA_70B, h100, chips=1)
    assert not one.fits and one.kv_tokens_that_fit == 0 and any("do not fit" in n for n in one.notes)
    eight = naive_summary(LLAMA_70B, h100, chips=8)
    assert eight.fits and eight.naive_decode_tokens_per_s == pytest.approx(8 * one.naive_decode_tokens_per_s)
    with pytest.raises(InvalidInputError):
        naive_summary(LLAMA_70B, h100, chips=0)


def test_moe_active_bound_and_missing_tier() -> None:
    s = naive_summary(SMALL_MOE, get_hardware("a100"), weight_precision="fp8")
    assert s.active_params < s.total_params
    assert s.naive_decode_tokens_per_s_active == pytest.approx(
        s.naive_decode_tokens_per_s * s.total_params / s.active_params
    )
    assert not s.native_precision_supported  # A100 has no FP8 tensor cores


@settings(max_examples=25, deadline=None)
@given(bw=st.floats(min_value=0.1, max_value=100), hbm=st.floats(min_value=1, max_value=2000))
def test_bound_scales_with_bandwidth_and_chips_with_memory(bw: float, hbm: float) -> None:
    s = naive_summary(LLAMA_8B, get_hardware("b200", {"hbm_bandwidth_tb_s": bw, "hbm_gb": hbm}))
    assert s.naive_decode_tokens_per_s == pytest.approx(s.chips * bw * 1e12 / s.weight_bytes)
    assert s.chips_to_hold_weights == max(1, math.ceil(s.weight_bytes / (hbm * 2**30)))
    assert s.fits and s.free_bytes >= 0
