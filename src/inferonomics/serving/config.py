"""Knobs of the serving simulator: engine (one replica), cluster (replicas, router, front end), SLO, limits.

Defaults follow the engines they name, from the one table `inferonomics.perf.engines.ENGINE_POLICIES`
(vLLM v1, Sarathi-Serve, Orca, SGLang, TensorRT-LLM); a knob left at None takes the deployment's
`engine_args` (`--max-num-seqs`, `--max-num-batched-tokens`, `--block-size`), else the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inferonomics.errors import InvalidInputError
from inferonomics.perf.engines import SCHEDULER_NAMES, EngineArgs, engine_policy

SchedulerName = Literal["vllm", "orca", "sarathi", "sglang", "trtllm"]
RouterName = Literal["round_robin", "least_outstanding", "least_kv", "prefix_aware"]
Preemption = Literal["recompute", "swap"]

ROUTER_NAMES: tuple[str, ...] = ("round_robin", "least_outstanding", "least_kv", "prefix_aware")


@dataclass(frozen=True)
class KVTier:
    """A tier below HBM that holds evicted prefix blocks (host DRAM, local SSD, remote store).

    Capacity and bandwidth are per replica; a hit here costs `latency_s + bytes / bandwidth` before
    the prefill that uses it (loads are synchronous, as in LMCache's blocking retrieve).
    """

    name: str
    capacity_bytes: float
    bandwidth_bytes_per_s: float
    latency_s: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity_bytes < 0:
            raise InvalidInputError(f"KV tier {self.name!r}: capacity_bytes must be >= 0")
        if self.bandwidth_bytes_per_s <= 0:
            raise InvalidInputError(f"KV tier {self.name!r}: bandwidth_bytes_per_s must be > 0")
        if self.latency_s < 0:
            raise InvalidInputError(f"KV tier {self.name!r}: latency_s must be >= 0")


def host_dram_tier(capacity_bytes: float, bandwidth_bytes_per_s: float = 50e9) -> KVTier:
    """Host DRAM over PCIe 5.0 x16 (64 GB/s nominal, ~50 GB/s achieved one way)."""
    return KVTier("host_dram", capacity_bytes, bandwidth_bytes_per_s, 5e-6)


def ssd_tier(capacity_bytes: float, bandwidth_bytes_per_s: float = 6e9) -> KVTier:
    """A local NVMe SSD (PCIe 4.0 x4, ~6-7 GB/s sequential read) with ~100 us access latency."""
    return KVTier("ssd", capacity_bytes, bandwidth_bytes_per_s, 100e-6)


@dataclass(frozen=True)
class EngineConfig:
    """How one replica schedules and keeps its KV cache.

    `None` means the scheduler's own default (see the module docstring). The watermark is the
    fraction of KV blocks kept free when admitting a new request (vLLM v0 `watermark=0.01`).
    """

    scheduler: SchedulerName = "vllm"
    max_batch_size: int | None = None
    max_tokens_per_iter: int | None = None
    block_size_tokens: int | None = None
    watermark: float | None = None
    """None = the scheduler's (`ENGINE_POLICIES`: vLLM v1 none, the others vLLM v0's 0.01)."""
    preemption: Preemption = "recompute"
    prefix_cache: bool | None = None
    sglang_policy: Literal["lpm", "fcfs"] = "lpm"
    kv_tiers: tuple[KVTier, ...] = ()
    """Tiers below HBM, fastest first; evicted prefix blocks move down, hits load them back."""
    swap_space_bytes: float | None = None
    """Host memory for preemption by swap; None = the first KV tier's capacity, else 4 GiB per chip
    (vLLM `--swap-space` default)."""
    swap_bandwidth_bytes_per_s: float = 50e9
    kv_capacity_tokens: int | None = None
    """Override the step-time model's KV capacity (tokens per replica)."""

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULER_NAMES:
            raise InvalidInputError(f"scheduler must be one of {', '.join(SCHEDULER_NAMES)}, got {self.scheduler!r}")
        if self.max_batch_size is not None and self.max_batch_size < 1:
            raise InvalidInputError(f"max_batch_size must be >= 1, got {self.max_batch_size}")
        if self.max_tokens_per_iter is not None and self.max_tokens_per_iter < 1:
            raise InvalidInputError(f"max_tokens_per_iter must be >= 1, got {self.max_tokens_per_iter}")
        if self.block_size_tokens is not None and self.block_size_tokens < 1:
            raise InvalidInputError(f"block_size_tokens must be >= 1, got {self.block_size_tokens}")
        if self.watermark is not None and not 0.0 <= self.watermark < 1.0:
            raise InvalidInputError(f"watermark must be in [0, 1), got {self.watermark}")
        if self.preemption not in ("recompute", "swap"):
            raise InvalidInputError(f"preemption must be 'recompute' or 'swap', got {self.preemption!r}")
        if self.sglang_policy not in ("lpm", "fcfs"):
            raise InvalidInputError(f"sglang_policy must be 'lpm' or 'fcfs', got {self.sglang_policy!r}")
        if self.kv_capacity_tokens is not None and self.kv_capacity_tokens < (self.block_size_tokens or 1):
            raise InvalidInputError(f"kv_capacity_tokens must be >= one block, got {self.kv_capacity_tokens}")
        if self.swap_bandwidth_bytes_per_s <= 0:
            raise InvalidInputError("swap_bandwidth_bytes_per_s must be > 0")

    def batch_limit(self, args: EngineArgs | None = None) -> int:
        """Most running requests: this config's, else the deployment's `max_num_seqs`, else the table's."""
        return self.max_batch_size or (args and args.max_num_seqs) or engine_policy(self.scheduler).max_seqs

    def block_size(self, args: EngineArgs | None = None) -> int:
        return self.block_size_tokens or (args and args.block_size) or engine_policy(self.scheduler).block_size

    def token_budget(self, max_context_tokens: int, fitted: float | None = None, args: EngineArgs | None = None) -> int:
        """Tokens per iteration: the one given (here or as the deployment's `max_num_batched_tokens`);
        else, for vllm and sglang, the budget the performance model's calibration fitted for the engine
        (so simulator and closed form agree); else the scheduler's default (Sarathi's small budget is the
        point of it; Orca and TensorRT-LLM without chunked context take whole prompts)."""
        given = self.max_tokens_per_iter or (args and args.max_num_batched_tokens)
        if given:
            return given
        if fitted and self.scheduler in ("vllm", "sglang"):
            return int(fitted)
        policy = engine_policy(self.scheduler)
        if not policy.chunked_prefill:
            return max(max_context_tokens, policy.token_budget or 0, 8192)
        return policy.token_budget or max(max_context_tokens, 8192)

    @property
    def watermark_fraction(self) -> float:
        return engine_policy(self.scheduler).watermark if self.watermark is None else self.watermark

    @property
    def chunked_prefill(self) -> bool:
        return engine_policy(self.scheduler).chunked_prefill

    @property
    def prefix_cache_enabled(self) -> bool:
        return engine_policy(self.scheduler).prefix_cache if self.prefix_cache is None else self.prefix_cache


@dataclass(frozen=True)
class Disaggregation:
    """Prefill/decode disaggregation (DistServe, Mooncake): separate pools, KV shipped between them.

    The KV of a prompt moves once, after its prefill, in `latency + bytes / bandwidth`; None takes the
    system's inter-node figures (per chip, times the prefill replica's chips). Transfers do not
    contend with each other (one NIC per chip, RDMA).
    """

    prefill_replicas: int
    decode_replicas: int
    kv_transfer_bandwidth_bytes_per_s: float | None = None
    kv_transfer_latency_s: float | None = None
    decode_engine: EngineConfig | None = None
    """Engine of the decode pool; None = the same as the prefill pool."""

    def __post_init__(self) -> None:
        if self.prefill_replicas < 1 or self.decode_replicas < 1:
            raise InvalidInputError("disaggregation needs >= 1 prefill and >= 1 decode replica")
        if self.kv_transfer_bandwidth_bytes_per_s is not None and self.kv_transfer_bandwidth_bytes_per_s <= 0:
            raise InvalidInputError("kv_transfer_bandwidth_bytes_per_s must be > 0")
        if self.kv_transfer_latency_s is not None and self.kv_transfer_latency_s < 0:
            raise InvalidInputError("kv_transfer_latency_s must be >= 0")


@dataclass(frozen=True)
class ClusterConfig:
    """Replicas behind a router, with an API gateway and a load balancer in front.

    Front-end latencies are one way and paid on the way in and on the way out (so TTFT and end-to-end
    latency grow by twice their sum; TPOT does not change). `prefix_aware` routes to the replica with
    the longest cached prefix unless its outstanding requests exceed the least loaded replica's by
    more than `balance_threshold` (SGLang router's cache-aware policy).
    """

    router: RouterName = "round_robin"
    gateway_latency_s: float = 0.0
    load_balancer_latency_s: float = 0.0
    balance_threshold: int = 8
    disaggregation: Disaggregation | None = None

    def __post_init__(self) -> None:
        if self.router not in ROUTER_NAMES:
            raise InvalidInputError(f"router must be one of {', '.join(ROUTER_NAMES)}, got {self.router!r}")
        if self.gateway_latency_s < 0 or self.load_balancer_latency_s < 0:
            raise InvalidInputError("front-end latencies must be >= 0")
        if self.balance_threshold < 0:
            raise InvalidInputError("balance_threshold must be >= 0")

    @property
    def frontend_latency_s(self) -> float:
        return self.gateway_latency_s + self.load_balancer_latency_s


@dataclass(frozen=True)
class SLO:
    """A request meets the SLO when its TTFT and its TPOT are both within bounds (None = no bound)."""

    ttft_s: float | None = None
    tpot_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("ttft_s", "tpot_s"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise InvalidInputError(f"SLO {name} must be > 0, got {v}")


@dataclass(frozen=True)
class RunLimits:
    """Budgets for one run; when one is exceeded the run stops with a partial, marked result."""

    max_wall_s: float | None = None
    max_memory_bytes: float | None = None
    """Resident memory of the process (Linux /proc/self/statm; peak RSS elsewhere)."""
    max_sim_time_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_wall_s", "max_memory_bytes", "max_sim_time_s"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise InvalidInputError(f"{name} must be > 0, got {v}")
