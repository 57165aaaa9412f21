"""Engine memory plans and the replay of a real vLLM run (`validate vllm-run`, `validate vllm-bench`).

The real run (shared/data/engine_runs/vllm-0.19_rtxpro6000_llama-3.1-8b: vLLM 0.19, Llama-3.1-8B bf16,
one RTX PRO 6000 Blackwell Server, 300 ShareGPT requests at 10/s, max_num_seqs 128, max_num_batched_tokens
2048) records no KV-cache size in its meta.json. What it does show: 128 requests running at once holding
up to ~171k tokens of KV with no sign of preemption, so the engine's KV cache held at least that.
Measured against it (README "Engine memory plans"): TPOT p50/p90/p99 +7.6/+6.3/+5.8%, TTFT +13.1/+14.7/
+13.3% (before decode attention was fitted per KV format: +15.3/+13.6/+12.7% and +26.3/+30.8/+28.9%). The
TTFT target (10%) is not met: decode-only steps are still predicted ~13% slow (vLLM's bf16 GEMM scale,
fitted on vLLM 0.12 Qwen3-32B runs), and TTFT here is waiting for one of the 128 seats.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferonomics.catalog.hardware import GIB
from inferonomics.perf import make_deployment
from inferonomics.perf.engines import ENGINE_POLICIES, EngineArgs, sglang_mem_fraction_static
from inferonomics.perf.memory import (
    DRIVER_RESERVED_FRACTION,
    NCCL_BYTES,
    NON_TORCH_BYTES,
    activation_peak_bytes,
    kv_capacity_tokens,
    memory_plan,
    weight_bytes_per_chip,
)

RUN = Path(__file__).resolve().parents[2] / "shared" / "data" / "engine_runs" / "vllm-0.19_rtxpro6000_llama-3.1-8b"
RUN_ARGS = EngineArgs(max_num_seqs=128, max_num_batched_tokens=2048, engine_version="0.19.0")


def test_device_memory_is_binary_less_the_driver_share() -> None:
    dep = make_deployment("llama-3.1-8b", "h100_sxm")
    assert dep.system.chip.hbm_bytes == 80 * GIB  # an "80 GB" H100 holds 80 GiB
    plan = memory_plan(dep)
    assert plan.device_bytes == pytest.approx(80 * GIB * (1 - DRIVER_RESERVED_FRACTION))
    # CUDA reports 79.19 GiB for an 80 GiB H100 (vLLM start-up logs): within 0.1%
    assert plan.device_bytes / GIB == pytest.approx(79.19, rel=1e-3)


def test_vllm_plan_by_hand() -> None:
    dep = make_deployment("llama-3.1-8b", "rtx_pro_6000", engine_args=RUN_ARGS)
    plan = memory_plan(dep)
    device = 96 * GIB * (1 - DRIVER_RESERVED_FRACTION)
    weights = weight_bytes_per_chip(dep)
    assert weights == pytest.approx(2 * 8_030_261_248, rel=1e-3)
    act = activation_peak_bytes(dep, 2048, 128)
    kv = 0.9 * device - weights - act - NON_TORCH_BYTES
    per_block = 16 * 2 * 2 * 128 * 8 * 32  # 16 tokens x (K, V) x bf16 x head_dim x kv heads x layers
    assert plan.num_blocks == int(kv // per_block)
    assert plan.kv_tokens == plan.num_blocks * 16 == kv_capacity_tokens(dep)
    assert "GPU KV cache size: " in plan.log_line() and f"{plan.kv_tokens:,} tokens" in plan.log_line()
    # the knobs move it the way the engine's do
    more = memory_plan(dep.with_(engine_args=EngineArgs(gpu_memory_utilization=0.95, max_num_seqs=128)))
    assert more.kv_cache_bytes > plan.kv_cache_bytes
    assert memory_plan(dep.with_(engine_args=EngineArgs(block_size=32))).block_size == 32


def test_vllm_plan_against_a_logged_run_on_the_same_device() -> None:
    """vLLM 0.28 on the same RTX PRO 6000 Server and model, gpu_memory_utilization 0.92, max_num_seqs 128,
    max_num_batched_tokens 2048 logged 35,913 blocks = 574,608 tokens (casys-kaist/LLMServingSim
    bench/examples/RTXPRO6000/Llama-3.1-8B/vllm/meta.json, commit 0acc21b2; not fitted to). That version
    also subtracts its CUDA-graph estimate (`memory.cudagraph_memory_bytes`, 1.89 GiB here): 572,800 predicted,
    -0.3% (without the estimate, the plan of earlier versions: 588,320, +2.4%)."""
    args = EngineArgs(0.92, max_num_seqs=128, max_num_batched_tokens=2048, engine_version="0.28.0")
    dep = make_deployment("llama-3.1-8b", "rtx_pro_6000", engine_args=args)
    plan = memory_plan(dep)
    assert plan.kv_tokens == pytest.approx(574_608, rel=0.01)
    assert plan.cudagraph_bytes > 0 and "CUDA graphs" in plan.log_line()
    before = memory_plan(dep.with_(engine_args=EngineArgs(0.92, 128, 2048, engine_version="0.20.2")))
    assert before.cudagraph_bytes == 0 and before.kv_tokens > plan.kv_tokens
    assert memory_plan(dep.with_(engine_args=EngineArgs(engine_version="0.21"))).fraction == 0.92


def test_sglang_and_trtllm_plans() -> None:
    assert [sglang_mem_fraction_static(tp) for tp in (1, 2, 4, 8, 16)] == [0.88, 0.87, 0.85, 0.81, 0.79]
    dep = make_deployment("llama-3.1-70b", "h100_sxm", tp=4, backend="sglang")
    plan = memory_plan(dep)
    device = 80 * GIB * (1 - DRIVER_RESERVED_FRACTION)
    kv = 0.85 * device - weight_bytes_per_chip(dep) - NON_TORCH_BYTES - NCCL_BYTES
    assert plan.block_size == ENGINE_POLICIES["sglang"].block_size == 1
    assert plan.kv_cache_bytes == pytest.approx(kv)
    trt = memory_plan(dep.with_(backend="trtllm"))
    free = device - weight_bytes_per_chip(dep) - trt.activation_bytes - NON_TORCH_BYTES - NCCL_BYTES
    assert trt.kv_cache_bytes == pytest.approx(0.9 * free)
    assert trt.block_size == 32 and trt.fraction_name == "free_gpu_memory_fraction"


def test_memory_knob_validation() -> None:
    from inferonomics.errors import InvalidInputError

    for bad in ({"gpu_memory_utilization": 0.0}, {"gpu_memory_utilization": 1.5}, {"max_num_seqs": 0}):
        with pytest.raises(InvalidInputError):
            EngineArgs(**bad)  # type: ignore[arg-type]


@pytest.mark.skipif(not RUN.is_dir(), reason=f"shared data not found at {RUN}")
def test_real_vllm_run() -> None:
    from inferonomics.validate.vllm_run import compare_run, read_vllm_run

    run = read_vllm_run(RUN)
    assert run.engine_args == RUN_ARGS and run.input_tokens.size == 300
    assert run.kv_tokens_logged is None  # this meta.json records no KV size
    cmp = compare_run(run, "rtx_pro_6000")
    assert cmp.completed == 300
    # the plan holds what the engine demonstrably held (128 running, no preemption)
    assert run.kv_tokens_peak_in_use and cmp.kv_tokens_predicted >= run.kv_tokens_peak_in_use > 150_000
    tpot, ttft = cmp.error_pct("tpot"), cmp.error_pct("ttft")
    # what is met: TPOT percentiles within 10%, TTFT within 16% (target 10%: not met, see the docstring)
    assert all(abs(e) <= 10.0 for e in tpot), tpot
    assert all(abs(e) <= 16.0 for e in ttft), ttft


def test_vllm_bench_json(tmp_path: Path) -> None:
    from inferonomics.validate.vllm_run import compare_run, read_vllm_bench

    n = 40
    f = tmp_path / "bench.json"
    f.write_text(
        json.dumps(
            {
                "model_id": "meta-llama/Llama-3.1-8B",
                "request_rate": 4.0,
                "burstiness": 1.0,
                "max_concurrency": None,
                "input_lens": [512] * n,
                "output_lens": [64] * n,
                "ttfts": [0.05] * n,
                "itls": [[0.01] * 63] * n,
            }
        )
    )
    run = read_vllm_bench(f)
    assert run.input_tokens.size == n and run.tpot_s == pytest.approx(0.01)
    assert any("re-drawn" in note for note in run.notes)
    cmp = compare_run(run, "h100_sxm")
    assert cmp.completed == n and len(cmp.simulated["ttft"]) == 3


def test_cli_errors_are_one_line(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("validate", "vllm-run", str(tmp_path), "-H", "h100_sxm")
    assert code == 2 and "meta.json is missing" in err and err.count("\n") <= 2
    bad = tmp_path / "x.json"
    bad.write_text('{"input_lens": [1], "output_lens": [1]}')
    code, _, err = cli("validate", "vllm-bench", str(bad), "-m", "llama-3.1-8b", "-H", "h100_sxm")
    assert code == 2 and "ttfts" in err
