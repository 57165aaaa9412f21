"""Serving engines as they ship: one table of scheduler and memory defaults, and the user's knobs.

Both the simulator (`serving/`) and the closed form (`perf/steady_state.py`) read `ENGINE_POLICIES`;
the memory plan (`perf/memory.py`) reads the memory fraction. Sources (read 2026-12):

- vLLM v1: `vllm/config/scheduler.py` (`max_num_seqs`, `max_num_batched_tokens`, chunked prefill on,
  FCFS), `vllm/config/cache.py` (`block_size=16`, `gpu_memory_utilization=0.9`; 0.92 from v0.21 with
  CUDA-graph memory profiling on), `vllm/v1/core/sched/scheduler.py` (running first, then waiting;
  preemption of the newest running request by recompute). The server defaults used here (256 sequences,
  8,192 tokens) are vLLM's `EngineArgs` defaults for an OpenAI server on a large GPU.
- SGLang: `python/sglang/srt/server_args.py`: `mem_fraction_static` 0.88 / 0.87 / 0.85 / 0.81 / 0.79
  for tp 1 / >= 2 / >= 4 / >= 8 / >= 16, `chunked_prefill_size=8192`, `page_size=1`, radix cache on,
  prefill batches run apart from decode.
- TensorRT-LLM (PyTorch backend): `KvCacheConfig.free_gpu_memory_fraction=0.9` of the memory free after
  weights and activations, `tokens_per_block=32`, `max_batch_size=2048`, `max_num_tokens=8192`,
  chunked context off, in-flight batching mixes context and generation.
- Sarathi-Serve (Agrawal et al., OSDI 2024): vLLM's loop with a 512-token budget.
- Orca (Yu et al., OSDI 2022): iteration-level batching of whole prompts (no chunking).
"""

from __future__ import annotations

from dataclasses import dataclass

from inferonomics.errors import InvalidInputError


@dataclass(frozen=True)
class EnginePolicy:
    """One engine's shipped defaults: scheduler knobs and memory plan."""

    name: str
    max_seqs: int
    """Most requests running at once (vLLM `max_num_seqs`, SGLang `max_running_requests`)."""
    token_budget: int | None
    """Tokens per iteration (`max_num_batched_tokens`, `chunked_prefill_size`); None = a whole prompt."""
    block_size: int
    """Tokens per KV page (vLLM `block_size`, SGLang `page_size`, TensorRT-LLM `tokens_per_block`)."""
    chunked_prefill: bool
    mixed: bool
    """Decodes share iterations with prefills (False: a prefill batch pauses decoding)."""
    preemption: str
    prefix_cache: bool
    memory_fraction: float
    """Share of device memory (vLLM, SGLang tp=1) or of the memory free after weights (TensorRT-LLM)."""
    memory_fraction_name: str
    memory_fraction_of: str
    """'device' (vLLM, SGLang) or 'free' (TensorRT-LLM: what is left after weights and activations)."""
    lpm: bool = False
    """Waiting requests in longest-prefix-match order (SGLang)."""
    watermark: float = 0.01
    """Share of KV blocks kept free when admitting (vLLM v0 `watermark=0.01`; vLLM v1 keeps none)."""
    reserve_full_prompt: bool = False
    """Admit a request only if its whole prompt's blocks fit beside what running prefills still need
    (vLLM v1 `scheduler_reserve_full_isl` in `KVCacheManager.allocate_slots`); blocks are taken per chunk."""
    no_admission_after_preemption: bool = False
    """No waiting request is admitted in a step that preempted one (vLLM v1 `schedule()`)."""
    dp_balance: str = "waiting_running"
    """Which data-parallel rank of a replica takes a new request (`--data-parallel-size`, attention DP):
    `waiting_running`, the lowest 4 x waiting + running (vLLM v1 `DPLBAsyncMPClient.get_core_engine_for_request`
    in `vllm/v1/engine/core_client.py`, ties to the first rank from its start index); `round_robin` (SGLang
    `--load-balance-method` default, `data_parallel_controller.py`); `fewest_tokens`, the rank with the fewest
    active tokens (TensorRT-LLM `ExecutorRequestQueue._balance_requests_across_ranks`, a heap on tokens)."""
    fp8_kv_native: bool = False
    """Decode attention reads an FP8 KV cache in its own format (TensorRT-LLM's XQA kernels fuse FP8 KV
    into generation attention), so the narrow cache streams at the 16-bit efficiency. False: the kernel
    dequantises to bf16 as it reads (vLLM's FlashAttention, whose tables `AttentionFit` is fitted on;
    SGLang's default FP8 KV path, sgl-project/sglang#10083), at `decode_narrow_kv_eff_scale`."""
    description: str = ""


ENGINE_POLICIES: dict[str, EnginePolicy] = {
    p.name: p
    for p in (
        EnginePolicy(
            name="vllm",
            max_seqs=256,
            token_budget=8192,
            block_size=16,
            chunked_prefill=True,
            mixed=True,
            preemption="recompute",
            prefix_cache=True,
            memory_fraction=0.9,
            memory_fraction_name="gpu_memory_utilization",
            memory_fraction_of="device",
            watermark=0.0,
            reserve_full_prompt=True,
            no_admission_after_preemption=True,
            description="vLLM v1: one token budget for decode and chunked prefill; running first, then waiting",
        ),
        EnginePolicy(
            name="sarathi",
            max_seqs=256,
            token_budget=512,
            block_size=16,
            chunked_prefill=True,
            mixed=True,
            preemption="recompute",
            prefix_cache=False,
            memory_fraction=0.9,
            memory_fraction_name="gpu_memory_utilization",
            memory_fraction_of="device",
            description="Sarathi-Serve stall-free batching: vLLM's loop with a 512-token budget",
        ),
        EnginePolicy(
            name="orca",
            max_seqs=256,
            token_budget=None,
            block_size=16,
            chunked_prefill=False,
            mixed=True,
            preemption="recompute",
            prefix_cache=False,
            memory_fraction=0.9,
            memory_fraction_name="gpu_memory_utilization",
            memory_fraction_of="device",
            description="Orca iteration-level batching of whole prompts",
        ),
        EnginePolicy(
            name="sglang",
            max_seqs=256,
            token_budget=8192,
            block_size=1,
            chunked_prefill=True,
            mixed=False,
            preemption="recompute",
            prefix_cache=True,
            memory_fraction=0.88,
            memory_fraction_name="mem_fraction_static",
            memory_fraction_of="device",
            lpm=True,
            dp_balance="round_robin",
            description="SGLang: prefill batches pause decode, radix cache, longest-prefix-match order",
        ),
        EnginePolicy(
            name="trtllm",
            max_seqs=2048,
            token_budget=8192,
            block_size=32,
            chunked_prefill=False,
            mixed=True,
            preemption="recompute",
            prefix_cache=False,
            memory_fraction=0.9,
            memory_fraction_name="free_gpu_memory_fraction",
            memory_fraction_of="free",
            dp_balance="fewest_tokens",
            fp8_kv_native=True,
            description="TensorRT-LLM in-flight batching (PyTorch backend)",
        ),
        EnginePolicy(
            name="jax",
            max_seqs=256,
            token_budget=8192,
            block_size=16,
            chunked_prefill=True,
            mixed=False,
            preemption="recompute",
            prefix_cache=False,
            memory_fraction=0.9,
            memory_fraction_name="memory_fraction",
            memory_fraction_of="device",
            description="a JAX/TPU engine (Pope et al.): batches of one phase, memory planned like vLLM",
        ),
    )
}
"""The one table of engine defaults (simulator schedulers and performance-model backends)."""

SCHEDULER_NAMES: tuple[str, ...] = ("vllm", "orca", "sarathi", "sglang", "trtllm")


def engine_policy(name: str) -> EnginePolicy:
    try:
        return ENGINE_POLICIES[name]
    except KeyError:
        raise InvalidInputError(f"unknown engine {name!r}; one of {', '.join(ENGINE_POLICIES)}") from None


def sglang_mem_fraction_static(tp: int) -> float:
    """SGLang's default `mem_fraction_static` by tensor-parallel size (`server_args.py`)."""
    if tp >= 16:
        return 0.79
    if tp >= 8:
        return 0.81
    if tp >= 4:
        return 0.85
    if tp >= 2:
        return 0.87
    return 0.88


VLLM_CUDAGRAPH_BUDGET_VERSION = (0, 21)
"""From vLLM v0.21.0 the start-up memory profile estimates the CUDA-graph pool and takes it out of the KV
budget (`VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS`, default 1 from v0.21.0: `vllm/envs.py`; the worker logs
"CUDA graph memory profiling is enabled (default since v0.21.0)", `vllm/v1/worker/gpu_worker.py`
`determine_available_memory`: available KV = requested - non-KV - `cudagraph_memory_estimate_applied`). The
estimate came in off by default with vLLM PR #30515 (2025-12, "Account for CUDA graphs during memory
profiling"). Before, the graphs lived in the 1 - gpu_memory_utilization left over."""


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """'0.21.0', 'v0.28.1rc2' -> (0, 21, 0) / (0, 28, 1); None or '' -> None."""
    if not text:
        return None
    parts: list[int] = []
    for piece in text.strip().lstrip("vV").split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
    if not parts:
        raise InvalidInputError(f"engine_version must look like 0.21.0, got {text!r}")
    return tuple(parts)


@dataclass(frozen=True)
class EngineArgs:
    """The engine knobs a user sets (None = the engine's default from `ENGINE_POLICIES`)."""

    gpu_memory_utilization: float | None = None
    """vLLM `--gpu-memory-utilization`, SGLang `--mem-fraction-static`, TensorRT-LLM
    `free_gpu_memory_fraction`: the one memory fraction of the engine."""
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    block_size: int | None = None
    engine_version: str | None = None
    """The engine's release ('0.21.0'); None = the plan the table's defaults describe (vLLM before v0.21:
    gpu_memory_utilization 0.9, CUDA graphs outside the KV budget). vLLM >= 0.21 counts its CUDA-graph
    estimate in the KV budget (`VLLM_CUDAGRAPH_BUDGET_VERSION`) and defaults to 0.92."""

    def __post_init__(self) -> None:
        parse_version(self.engine_version)
        u = self.gpu_memory_utilization
        if u is not None and not 0.0 < u <= 1.0:
            raise InvalidInputError(f"gpu_memory_utilization must be in (0, 1], got {u}")
        for name in ("max_num_seqs", "max_num_batched_tokens", "block_size"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise InvalidInputError(f"{name} must be a whole number >= 1, got {v!r}")

    @property
    def is_default(self) -> bool:
        return self == EngineArgs()

    def counts_cudagraphs(self, backend: str) -> bool:
        """Whether the engine takes its CUDA-graph estimate out of the KV budget (vLLM >= 0.21)."""
        version = parse_version(self.engine_version)
        return backend == "vllm" and version is not None and version >= VLLM_CUDAGRAPH_BUDGET_VERSION

    def memory_fraction(self, backend: str, tp: int = 1) -> float:
        if self.gpu_memory_utilization is not None:
            return self.gpu_memory_utilization
        if backend == "sglang":
            return sglang_mem_fraction_static(tp)
        if self.counts_cudagraphs(backend):
            return 0.92
        return engine_policy(backend).memory_fraction

    def max_seqs(self, backend: str) -> int:
        return self.max_num_seqs or engine_policy(backend).max_seqs

    def token_budget(self, backend: str) -> int:
        """Tokens per iteration (a whole-prompt engine: its activation profile uses 8,192)."""
        return self.max_num_batched_tokens or engine_policy(backend).token_budget or 8192

    def block_tokens(self, backend: str) -> int:
        return self.block_size or engine_policy(backend).block_size
