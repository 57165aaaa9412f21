"""Routed experts in their own format (NVIDIA's FP4 checkpoints of DeepSeek-R1 keep attention in FP8 and
store only the MoE experts in NVFP4): memory, step time, the validator's `moe_quant_mode`, the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from inferonomics.catalog.model_figures import param_breakdown
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import UnknownNameError
from inferonomics.perf import StepTimeModel, make_deployment
from inferonomics.perf.memory import weight_bytes_per_chip
from inferonomics.validate.serving import plan_row


def _dsr1(**kw):  # type: ignore[no-untyped-def]
    return make_deployment("DeepSeek-R1", "b200_sxm", tp=8, ep=8, backend="trtllm", **kw)


def test_expert_bytes_follow_the_expert_format() -> None:
    mixed, fp8, fp4 = _dsr1(precision="fp8", expert_precision="nvfp4"), _dsr1(precision="fp8"), _dsr1(precision="nvfp4")
    p = param_breakdown(mixed.model)
    saved = p["routed_experts"] * (1.0 - get_precision("nvfp4").bytes_per_value) / 8  # experts over EP8
    assert weight_bytes_per_chip(fp8) - weight_bytes_per_chip(mixed) == pytest.approx(saved, rel=1e-9)
    assert weight_bytes_per_chip(fp4) < weight_bytes_per_chip(mixed) < weight_bytes_per_chip(fp8)
    assert "nvfp4 experts" in mixed.describe() and "experts" not in fp8.describe()


def test_decode_step_sits_between_the_two_uniform_formats() -> None:
    t = {
        name: StepTimeModel(dep).decode_step_time_s(16, 2048)
        for name, dep in {
            "fp8": _dsr1(precision="fp8"),
            "mixed": _dsr1(precision="fp8", expert_precision="nvfp4"),
            "fp4": _dsr1(precision="nvfp4"),
        }.items()
    }
    assert t["fp4"] < t["mixed"] < t["fp8"]


def test_same_expert_format_changes_nothing() -> None:
    a, b = _dsr1(precision="fp8"), _dsr1(precision="fp8", expert_precision="fp8_e4m3")
    assert StepTimeModel(a).decode_step_time_s(64, 1024) == StepTimeModel(b).decode_step_time_s(64, 1024)


def test_unknown_expert_format_is_named() -> None:
    with pytest.raises(UnknownNameError, match="nvfp8"):
        _dsr1(precision="fp8", expert_precision="nvfp8")


def _row(model: str, gemm: str, moe: str) -> pd.Series:
    return pd.Series(
        {
            "id": "r",
            "silicon_data_source": "x; silicon_concurrency=8",
            "backend": "trtllm",
            "model_path": model,
            "system": "b200_sxm",
            "mode": "agg",
            "isl": 1024,
            "osl": 1024,
            "gemm_quant_mode": gemm,
            "moe_quant_mode": moe,
            "tp_size": 8,
            "moe_ep_size": 8 if "DeepSeek" in model else 1,
            "silicon_ttft_ms": 100.0,
            "silicon_tpot_ms": 10.0,
        }
    )


def test_validator_reads_moe_quant_mode_for_moe_models_only() -> None:
    moe = plan_row(0, _row("deepseek-ai/DeepSeek-R1", "fp8_block", "nvfp4"))
    assert moe.reason is None and moe.deployment is not None
    assert moe.deployment.weight_precision == "fp8_block" and moe.deployment.routed_expert_precision == "nvfp4"
    same = plan_row(1, _row("deepseek-ai/DeepSeek-R1", "fp8", "fp8"))
    assert same.deployment is not None and same.deployment.expert_precision is None
    dense = plan_row(2, _row("meta-llama/Llama-3.1-70B", "fp8", "nvfp4"))
    assert dense.deployment is not None and dense.deployment.expert_precision is None


def test_cli_expert_precision(run_cli) -> None:
    args = "predict -m DeepSeek-R1 -H b200_sxm --tp 8 --ep 8 --backend trtllm --isl 1024 --osl 1024 -c 16 --json"
    fp8 = json.loads(run_cli(*args.split(), "--precision", "fp8").stdout)
    mixed = json.loads(run_cli(*args.split(), "--precision", "fp8", "--expert-precision", "nvfp4").stdout)
    assert mixed["memory"]["weights_gb"] < fp8["memory"]["weights_gb"] and mixed["tpot_ms"] < fp8["tpot_ms"]
    assert (mixed["expert_precision"], fp8["expert_precision"]) == ("nvfp4", "fp8")
    bad = run_cli(*args.split(), "--expert-precision", "nvfp8")
    assert bad.exit_code == 2 and "nvfp8" in bad.output


def test_aiconfigurator_mode_names_resolve() -> None:
    """aiconfigurator's GEMM modes `fp8_ootb` (out-of-the-box FP8) and `sq` (SmoothQuant W8A8)."""
    assert (get_precision("fp8_ootb").name, get_precision("sq").name) == ("fp8", "int8")
