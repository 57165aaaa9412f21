"""Decode attention by KV-cache format: the kernel tables' FP8 cache streams at about half the per-byte
efficiency of a bf16 one (vLLM's FlashAttention dequantises in the kernel), and one pooled efficiency
predicted bf16 decode attention of GQA models ~35-40% too slow on the tables' own large cases."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.perf import StepTimeModel, default_calibration, make_deployment
from inferonomics.perf.calibration import AttentionFit, Calibration
from inferonomics.perf.kernels import decode_attention_time_s


def test_narrow_cache_streams_at_its_own_efficiency() -> None:
    chip = get_hardware("h100_sxm").chip
    cal = Calibration(attention=AttentionFit(decode_memory_eff=0.8, decode_t0_s=0.0, decode_narrow_kv_eff_scale=0.5))
    kv_bf16 = 1e9
    t_bf16 = decode_attention_time_s(kv_bf16, 1e4, 0.0, chip, cal)
    # the same tokens in FP8: half the bytes at half the efficiency take as long
    t_fp8 = decode_attention_time_s(kv_bf16 / 2, 1e4, 0.0, chip, cal, kv_bytes_per_value=1.0)
    assert t_fp8 == pytest.approx(t_bf16, rel=1e-3)
    assert t_bf16 == pytest.approx(kv_bf16 / (chip.hbm_bandwidth_bytes_per_s * 0.8), rel=1e-3)


def test_engines_that_read_fp8_kv_natively_save_the_time() -> None:
    """TensorRT-LLM's XQA reads FP8 KV in its format; vLLM dequantises (engines.EnginePolicy.fp8_kv_native)."""
    base = default_calibration()
    cal = replace(base, attention=replace(base.attention, decode_narrow_kv_eff_scale=0.5))
    times = {}
    for backend in ("vllm", "trtllm"):
        dep = make_deployment("llama-3.1-8b", "h100_sxm", tp=1, precision="fp8", backend=backend)
        assert dep.kv_precision == "fp8"
        br = StepTimeModel(dep, cal).iteration_breakdown(0.0, 0.0, 128.0, 128.0 * 4000.0)
        times[backend] = float(br["attention_decode_s"])
    assert times["trtllm"] < 0.6 * times["vllm"]


def test_shipped_fit_matches_the_tables_large_bf16_cases(shared_data: Path) -> None:
    cal = default_calibration()
    assert 0.3 < cal.attention.decode_narrow_kv_eff_scale < 0.8
    ratios: dict[str, list[float]] = {"bfloat16": [], "fp8": []}
    for system in ("h100_sxm", "h200_sxm"):
        chip = get_hardware(system).chip
        d = pd.read_parquet(shared_data / "microbench" / system / "generation_attention_perf.parquet")
        d = d[(d.window_size <= 0) & (d.num_key_value_heads == 8) & (d.head_dim == 128)]
        value_bytes = d.kv_cache_dtype.map({"bfloat16": 2.0, "fp8": 1.0}).to_numpy(float)
        kvb = (d.batch_size * 8 * 128 * 2 * d.step).to_numpy(float) * value_bytes
        big = kvb > 2e8  # batch x context where decode attention is a large share of a step
        pred = decode_attention_time_s(
            kvb[big],
            (d.batch_size * 8).to_numpy(float)[big],
            0.0,
            chip,
            cal,
            query_rows=(d.batch_size * d.num_heads).to_numpy(float)[big],
            kv_bytes_per_value=value_bytes[big],
        )
        ratio = pred / (d.latency.to_numpy(float)[big] * 1e-3)
        for kind in ratios:
            ratios[kind] += ratio[(d.kv_cache_dtype.to_numpy()[big] == kind)].tolist()
    # one pooled efficiency (0.65) gave 1.39 / 1.36 for bf16 on H100 / H200; now 1.16 / 1.14
    assert 0.85 < np.median(ratios["bfloat16"]) < 1.2, np.median(ratios["bfloat16"])
    # known limit: the FP8 scale is a compromise over every shape; these large GQA cases stay slow
    # (1.59 / 1.34: H100 reads FP8 at 0.73 of peak, H200 at 0.50, which one scale cannot hold both)
    assert np.median(ratios["fp8"]) < 1.7, np.median(ratios["fp8"])
