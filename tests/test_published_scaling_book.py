"""Reproduce the JAX scaling book's inference examples ("How to Scale Your Model", inference
chapters; shared/facts/targets.md) within 5%.

Under `Calibration.ideal()` (every kernel at its roofline, no overheads) the step-time model reduces
to the book's decode formula B x KV / BW + max(2 B P / FLOPs, param bytes / BW): these tests check
that the engine's physics is that formula, on the book's own hardware (TPU v5e)."""

from __future__ import annotations

import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.catalog.model_figures import matmul_params_per_token
from inferonomics.catalog.models import ModelSpec
from inferonomics.perf import Calibration, Deployment, StepTimeModel
from inferonomics.perf.kernels import gemm_kernel_class

IDEAL = Calibration.ideal()

# LLaMA 2 13B (Touvron et al. 2023, Table; Hugging Face config): 40 layers, d_model 5120, 40 heads
# (MHA), FFN 13824, vocab 32000.
LLAMA2_13B = ModelSpec(
    name="LLaMA-2-13B",
    hidden_size=5120,
    num_layers=40,
    vocab_size=32000,
    num_heads=40,
    num_kv_heads=40,
    head_dim=128,
    intermediate_size=13824,
    max_context_tokens=8192,
)


def _decode_ms(model: ModelSpec, chips: int, batch: int, ctx: int, precision: str, kv: str) -> float:
    dep = Deployment(model=model, system=get_hardware("tpu_v5e"), tp=chips, weight_precision=precision, kv_precision=kv)
    return StepTimeModel(dep, IDEAL).decode_step_time_s(float(batch), float(ctx)) * 1e3


def test_v5e_turns_compute_bound_at_batch_240_bf16_and_120_int8_weights() -> None:
    chip = get_hardware("tpu_v5e").chip
    for precision, expected in (("bf16", 240), ("int4", 120 / 2)):
        _, peak, w_bytes = gemm_kernel_class(precision, chip)
        assert peak * w_bytes / (2 * chip.hbm_bandwidth_bytes_per_s) == pytest.approx(expected, rel=0.03)
    # int8 weights with bf16 math: bf16 peak, one byte per weight
    assert chip.peak_flops_per_s("bf16") * 1 / (2 * chip.hbm_bandwidth_bytes_per_s) == pytest.approx(120, rel=0.03)


@pytest.mark.parametrize(
    ("batch", "step_ms", "tokens_per_s"),
    [
        (1, 4.98, 200.6),
        (8, 12.13, 659.3),
        (16, 20.30, 788.0),
        (32, 36.65, 873.2),
        (64, 69.33, 923.1),
        (240, 249.09, 963.5),
    ],
)
def test_llama2_13b_on_8_v5e_at_8k_context(batch: int, step_ms: float, tokens_per_s: float) -> None:
    ms = _decode_ms(LLAMA2_13B, 8, batch, 8192, "bf16", "bf16")
    assert ms == pytest.approx(step_ms, rel=0.05)
    assert batch / ms * 1e3 == pytest.approx(tokens_per_s, rel=0.05)


def test_llama3_70b_int8_batch_32_at_8k_on_4x2() -> None:
    m = get_model("llama-3-70b")
    assert m.kv_bytes_per_token("int8") == 163_840  # "160 kB/token in int8"
    ms = _decode_ms(m, 8, 32, 8192, "int8", "int8")
    assert ms == pytest.approx(17.0, rel=0.05)
    assert 32 / ms * 1e3 == pytest.approx(1882, rel=0.05)


def test_llama3_70b_on_4x4_differs_because_tp_cannot_split_8_kv_heads_16_ways() -> None:
    """The book's 8.5 ms on 16 chips splits the KV cache 16 ways. Tensor parallelism over 16 chips
    with 8 KV heads replicates each head twice (as vLLM and TensorRT-LLM do), so the KV read halves
    only 8-fold: weights / 16 + KV / 8. The model must say that, not the book's number."""
    m = get_model("llama-3-70b")
    chip = get_hardware("tpu_v5e").chip
    ms = _decode_ms(m, 16, 32, 8192, "int8", "int8")
    kv_s = 32 * 8192 * m.kv_bytes_per_token("int8") / (8 * chip.hbm_bandwidth_bytes_per_s)
    w_s = (m.weight_bytes("int8")) / (16 * chip.hbm_bandwidth_bytes_per_s)
    assert ms == pytest.approx((kv_s + w_s) * 1e3, rel=0.05)
    assert ms > 8.5 * 1.2


def test_prefill_8k_tokens_of_llama3_70b_on_16_v5e_at_40_percent_mfu() -> None:
    m = get_model("llama-3-70b")
    chip = get_hardware("tpu_v5e").chip
    seconds = 2 * m.active_params * 8192 / (16 * chip.peak_flops_per_s("bf16") * 0.40)
    assert seconds == pytest.approx(0.91, rel=0.05)
    ideal = Deployment(model=m, system=get_hardware("tpu_v5e"), tp=16, weight_precision="bf16")
    at_peak = StepTimeModel(ideal, IDEAL).prefill_time_s(8192.0)
    # the book counts the 2 P FLOPs per token only; the model adds causal attention over 8k tokens
    attention_share = m.prefill_flops(8192) / (2 * matmul_params_per_token(m) * 8192) - 1
    assert 0.02 < attention_share < 0.10
    assert at_peak / 0.40 == pytest.approx(0.91 * (1 + attention_share), rel=0.05)
