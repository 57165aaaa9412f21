"""The engine settings TensorRT-LLM's published offline tables ran with (`trtllm-bench`, v0.17 flow).

NVIDIA's perf-overview.md (commit 258c7540, "generated using version 0.17") builds every engine with
`trtllm-bench build --tp_size N --quantization FP8 --dataset FILE` and runs `trtllm-bench throughput`,
"in majority of cases" with `--kv_cache_free_gpu_mem_fraction 0.95` (0.90 only on out-of-memory); GH200 ran
`gptManagerBenchmark ... --scheduler_policy guaranteed_no_evict --kv_cache_free_gpu_mem_fraction 0.95`.

Given a dataset, `trtllm-bench build` sizes the engine by a heuristic (`tensorrt_llm/bench/build/tuning.py`,
`calc_engine_setting` / `finetune_setting`), which `build_settings` reproduces:

    KV bytes per token    = 2 x layers x max(tp, kv heads) x head_dim x (1 byte FP8 KV, else 2)
    engine size           = parameters x (1 byte FP8, else 2)
    requests              = 0.95 x (tp x pp x device memory - engine size) / KV per token / (ISL + OSL)
    raw batch             = min(requests, 4096) / pp;   raw tokens = min(raw batch x (1 + ISL / OSL), 32768)
    max_batch_size        = raw batch rounded up: to 32 (at least 64) below 256, to 128 below 1024, else 256
    max_num_tokens        = raw tokens rounded up: to 256 (at least 2048) below 4096, to 512 below 8192,
                            else 1024

The runtime keeps the engine's `max_batch_size` and `max_num_tokens`; the KV cache takes the memory fraction
of what is free after the engine loads (`perf/memory.py`, TensorRT-LLM's plan), and the scheduler
(guaranteed-no-evict) admits a request only when its whole ISL + OSL fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inferonomics.catalog.hardware import Chip
from inferonomics.catalog.models import ModelSpec
from inferonomics.perf.engines import EngineArgs
from inferonomics.perf.memory import GIB, device_memory_bytes

KV_FREE_FRACTION = 0.95
"""`--kv_cache_free_gpu_mem_fraction` of the published runs (perf-overview.md: 0.95 in most cases)."""
BUILD_KV_FRACTION = 0.95
"""`calc_engine_setting`'s `kv_cache_gpu_mem_fraction` default, used only to size the engine."""
MAX_BATCH_CAP = 4096
MAX_TOKENS_CAP = 32768


@dataclass(frozen=True)
class BenchSettings:
    """What `trtllm-bench build` chose for one cell, and the runtime memory fraction."""

    max_batch_size: int
    max_num_tokens: int
    kv_free_fraction: float = KV_FREE_FRACTION

    def engine_args(self) -> EngineArgs:
        return EngineArgs(
            gpu_memory_utilization=self.kv_free_fraction,
            max_num_seqs=self.max_batch_size,
            max_num_batched_tokens=self.max_num_tokens,
        )


def _round_up(raw: float, steps: tuple[tuple[float, int], ...], floor: int) -> int:
    """`raw` rounded up to the granularity of the first (below, granularity) step it falls under, at least
    `floor` (`finetune_setting`'s rounding of the batch size and of the token count)."""
    step = next(granularity for below, granularity in steps if raw < below)
    return max(floor, step * math.ceil(raw / step))


BATCH_STEPS = ((256.0, 32), (1024.0, 128), (math.inf, 256))
TOKEN_STEPS = ((4096.0, 256), (8192.0, 512), (math.inf, 1024))


def build_settings(
    model: ModelSpec,
    chip: Chip,
    tp: int,
    isl: float,
    osl: float,
    weight_precision: str,
    kv_precision: str,
    pp: int = 1,
) -> BenchSettings:
    """`trtllm-bench build`'s max_batch_size and max_num_tokens for a dataset of ISL/OSL (module docstring)."""
    weight_byte = 1.0 if weight_precision in ("fp8", "fp8_block") else 2.0
    kv_byte = 1.0 if kv_precision == "fp8" else 2.0
    kv_gib_per_token = 2.0 * model.num_layers * max(tp, model.num_kv_heads) * model.head_dim * kv_byte / GIB
    engine_gib = model.total_params / 1e9 * weight_byte  # the tool's estimate: parameters in 1e9, bytes in GiB
    free_gib = device_memory_bytes(chip) / GIB * tp * pp - engine_gib
    requests = max(free_gib, 0.0) * BUILD_KV_FRACTION / kv_gib_per_token / (isl + osl)
    raw_batch = min(requests, MAX_BATCH_CAP) / pp
    raw_tokens = min(raw_batch * (1.0 + isl / osl), MAX_TOKENS_CAP)
    return BenchSettings(_round_up(raw_batch, BATCH_STEPS, 64), _round_up(raw_tokens, TOKEN_STEPS, 2048))
