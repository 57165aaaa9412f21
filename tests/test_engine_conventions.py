"""Engine parallelism conventions and redundant experts (issue 15, item 7).

SGLang's DP attention: `--tp-size` counts every GPU of the instance and attention is tensor-parallel over
tp_size / dp_size GPUs (sglang `srt/layers/dp_attention.py`, compute_dp_attention_world_info). Expert-
parallel sizes that do not divide the expert count get redundant experts (vLLM EPLB docs: DeepSeek-R1's
256 experts + 32 redundant = 288 physical, 9 per rank on 32 EP ranks).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.catalog.model_figures import param_breakdown
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import InvalidInputError
from inferonomics.perf.deployment import Deployment
from inferonomics.perf.memory import weight_bytes_per_chip
from inferonomics.validate.conventions import read_parallelism
from inferonomics.validate.serving import validate_serving


def _read(tp: int, adp: int | None, moe_tp: int, ep: int, backend: str = "sglang", heads: int = 128, moe: bool = True):
    return read_parallelism(tp, 1, adp, moe_tp, ep, backend=backend, num_heads=heads, is_moe=moe)


def test_sglang_dp_attention_counts_every_gpu_in_tp_size() -> None:
    p = _read(48, 48, 1, 48)
    assert (p.tp, p.attention_dp, p.moe_ep) == (1, 48, 48) and p.notes
    p = _read(32, 16, 1, 32)  # attention TP 2 in 16 groups
    assert (p.tp, p.attention_dp) == (2, 16)


def test_aiconfigurator_layout_is_left_alone() -> None:
    for tp, adp, moe_tp, ep in ((1, 8, 1, 8), (1, 64, 8, 8), (8, 1, 1, 8), (64, 1, 8, 8)):
        p = _read(tp, adp, moe_tp, ep, backend="trtllm")
        assert (p.tp, p.attention_dp) == (tp, adp) and not p.notes
    p = _read(2, None, 1, 4, backend="trtllm")  # experts over 4 GPUs, attention TP 2: DP 2 inferred
    assert (p.tp, p.attention_dp) == (2, 2) and p.notes


def test_dense_sglang_row_without_expert_columns() -> None:
    p = _read(48, 48, 0, 1, heads=64, moe=False)
    assert (p.tp, p.attention_dp) == (1, 48)
    p = _read(8, 8, 0, 1, backend="trtllm", heads=64, moe=False)  # 8 divides the heads: TRT-LLM layout kept
    assert (p.tp, p.attention_dp) == (8, 8)


def test_expert_parallel_size_that_does_not_divide_the_experts_places_copies() -> None:
    model, system = get_model("deepseek-r1"), get_hardware("gb200")
    dep = Deployment(model, system, tp=1, attention_dp=72, moe_ep=72, weight_precision="fp8")
    assert dep.physical_experts == 288 and dep.expert_slots_extra == 32
    assert any("redundant" in n for n in dep.notes)
    p = param_breakdown(model)
    experts_per_rank = p["routed_experts"] * get_precision("fp8").bytes_per_value / 72
    dividing = Deployment(model, system, tp=1, attention_dp=64, moe_ep=64, weight_precision="fp8")
    # the 72-rank layout holds 288 / 72 = 4 experts per rank, 256 / 64 = 4 on 64 ranks: same expert bytes
    extra = weight_bytes_per_chip(dep) - (weight_bytes_per_chip(dividing) - experts_per_rank * 72 / 64)
    assert extra == pytest.approx(experts_per_rank * 288 / 256, rel=1e-6)
    given = Deployment(model, system, tp=1, attention_dp=32, moe_ep=32, redundant_experts=32)
    assert given.physical_experts // 32 == 9  # vLLM's EPLB example
    with pytest.raises(InvalidInputError, match="redundant_experts = 32"):
        Deployment(model, system, tp=1, attention_dp=48, moe_ep=48, redundant_experts=5)
    assert not Deployment(model, system, tp=8, moe_ep=8).notes


HEADER = (
    "id,silicon_data_source,backend,model_path,system,mode,isl,osl,gemm_quant_mode,moe_quant_mode,"
    "tp_size,pp_size,attention_dp_size,moe_tp_size,moe_ep_size,silicon_ttft_ms,silicon_tpot_ms"
)
ROWS = [
    "sgl_dp48,silicon_concurrency=768,sglang,deepseek-ai/DeepSeek-R1,h200_sxm,agg,1024,1024,"
    "fp8_block,fp8_block,48,1,48,1,48,900,40",
    "sgl_dp72,silicon_concurrency=2304,sglang,deepseek-ai/DeepSeek-R1,gb200,agg,1024,1024,"
    "fp8_block,fp8_block,72,1,72,1,72,900,40",
    "trt_ep72,silicon_concurrency=1152,trtllm,deepseek-ai/DeepSeek-R1,gb200,agg,1024,1024,fp8,nvfp4,1,1,72,1,72,900,40",
    "glm_zhipu,silicon_concurrency=192,vllm,zhipuai/GLM-5,h200_sxm,agg,1024,1024,fp8,fp8,1,1,24,1,24,900,40",
    "r1_nvfp4,silicon_concurrency=64,trtllm,nvidia/DeepSeek-R1-NVFP4,b200_sxm,agg,1024,1024,nvfp4,nvfp4,1,1,8,1,8,900,40",
    "q32_nvfp4,silicon_concurrency=32,trtllm,nvidia/Qwen3-32B-NVFP4,b200_sxm,agg,1024,1024,nvfp4,,1,1,1,1,1,900,40",
]


def test_validator_accepts_unseen_conventions_with_a_note(tmp_path: Path) -> None:
    """Before these conventions all six rows were refused (4 for EP sizes, 2 for model ids)."""
    csv = tmp_path / "rows.csv"
    csv.write_text("\n".join([HEADER, *ROWS]) + "\n")
    summary, res = validate_serving(csv)
    assert summary["predicted"] == summary["rows"] == 6
    notes = dict(zip(res["id"], res["assumptions"], strict=True))
    assert "SGLang's DP-attention convention: 48 GPUs" in notes["sgl_dp48"]
    assert "288 over EP72" in notes["trt_ep72"] and "288 over EP72" in notes["sgl_dp72"]
    assert notes["q32_nvfp4"] == ""
    assert summary["rows_with_assumptions"] == 4


@pytest.mark.shared_data
def test_shared_runs_read_as_before() -> None:
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "measured" / "serving_h100_h200.csv"
    if not path.is_file():
        pytest.skip("../shared/data/measured/serving_h100_h200.csv not present")
    summary, res = validate_serving(path)
    assert summary["predicted"] == summary["rows"] == 1359
    # the only assumption in the calibration set: attention DP inferred from the experts' span
    assert set(res["assumptions"].str.split(":").str[0].unique()) <= {"", "attention_dp_size empty"}
