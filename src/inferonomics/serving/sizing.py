"""How big a simulation is before it runs: replicas, requests, expected engine iterations, and from them
the wall time and memory it will take. Used to refuse (web) or ask for `--force` (CLI) up front.

The estimate is deliberately simple and errs high (measured on this project's 2-core machine, see
`benchmarks/web_load.py` and tests/test_budgets.py):

    wall_s    ~ replicas x REPLICA_S + iterations x ITERATION_S + request_iterations x REQUEST_ITERATION_S
    memory    ~ replicas x REPLICA_BYTES + requests x REQUEST_BYTES + iterations x ITERATION_BYTES

with request_iterations = requests x (mean OSL + prefill chunks per prompt) (the decode steps and
prefill chunks every request takes part in) and iterations = request_iterations / the running batch,
that batch being the smallest of the engine's max batch, the clients (or, open loop, Little's law at a
typical 20 ms step: rate x OSL x 0.02 s) per replica, and the sequences the KV cache holds.
Measured (llama-3.1-8b): building a replica 1-3.5 ms (20,000 replicas: 74 s; 5.4 KB each); an engine
iteration ~11 us and ~0.4 KB of metrics (374,425 iterations: 4.3 s, +150 MB); a decode step of one
request inside an iteration is vectorised (4e7 of them cost ~0.4 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

REPLICA_S = 3.5e-3
ITERATION_S = 1.5e-5
REQUEST_ITERATION_S = 2e-8
REPLICA_BYTES = 8e3
REQUEST_BYTES = 4e3
ITERATION_BYTES = 600.0
TYPICAL_STEP_S = 0.02
LOCKSTEP_STEP_S = 2e-4
"""One step of a lock-step data-parallel group beyond its ranks' own iterations (`serving/dp_group.py`: the
step-time model on every rank's batch, vectorised; decode-only steps in runs): 0.1-0.2 ms measured
(DeepSeek-V3 DP8, 2,589 group steps in 0.3-0.6 s)."""


@dataclass(frozen=True)
class SimulationSize:
    """The size of one simulation run and what it is expected to cost."""

    replicas: int
    requests: int
    request_iterations: float
    iterations: float
    batch: float
    wall_s: float
    memory_bytes: float

    def describe(self) -> str:
        return (
            f"{self.replicas:,} replicas x {self.requests:,} requests, ~{self.request_iterations:.3g} "
            f"request-iterations in ~{self.iterations:.3g} engine iterations (batch ~{self.batch:.0f}): "
            f"about {self.wall_s:,.0f} s "
            f"and {self.memory_bytes / 1e9:.1f} GB"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "replicas": self.replicas,
            "requests": self.requests,
            "request_iterations": self.request_iterations,
            "iterations": self.iterations,
            "estimated_wall_s": self.wall_s,
            "estimated_memory_gb": self.memory_bytes / 1e9,
        }


def size_simulation(
    *,
    replicas: int,
    requests: int,
    mean_isl: float,
    mean_osl: float,
    max_batch: int,
    chunk_tokens: int | None,
    kv_tokens_per_replica: float | None,
    clients: float | None = None,
    rate_per_s: float | None = None,
    lockstep_ranks: int = 1,
) -> SimulationSize:
    """The size of a run: `clients` (closed loop) or `rate_per_s` (open loop) spread over `replicas`
    (engines: a data-parallel rank counts as one); `lockstep_ranks` > 1: the engines step in MoE groups of
    that many, each group step timed by the step-time model (`LOCKSTEP_STEP_S`)."""
    replicas = max(int(replicas), 1)
    requests = max(int(requests), 0)
    chunks = math.ceil(max(mean_isl, 1.0) / chunk_tokens) if chunk_tokens else 1
    request_iterations = requests * (max(mean_osl, 1.0) + chunks)
    batch = float(max(max_batch, 1))
    if clients is not None:
        batch = min(batch, max(clients / replicas, 1.0))
    elif rate_per_s is not None:
        batch = min(batch, max(rate_per_s / replicas * max(mean_osl, 1.0) * TYPICAL_STEP_S, 1.0))
    batch = min(batch, max(requests / replicas, 1.0))
    if kv_tokens_per_replica is not None and kv_tokens_per_replica > 0:
        batch = min(batch, max(kv_tokens_per_replica / max(mean_isl + mean_osl / 2, 1.0), 1.0))
    iterations = request_iterations / batch
    wall_s = replicas * REPLICA_S + iterations * ITERATION_S + request_iterations * REQUEST_ITERATION_S
    if lockstep_ranks > 1:
        wall_s += iterations / lockstep_ranks * LOCKSTEP_STEP_S
    memory = replicas * REPLICA_BYTES + requests * REQUEST_BYTES + iterations * ITERATION_BYTES
    return SimulationSize(replicas, requests, request_iterations, iterations, batch, wall_s, memory)


@dataclass(frozen=True)
class WorkloadShape:
    """What sizing (and the deployment resolver) reads from a workload object: its request count, mean
    prompt and output lengths, and its load (closed-loop clients or open-loop requests per second)."""

    requests: int
    mean_isl: float
    mean_osl: float
    clients: float | None = None
    rate_per_s: float | None = None


def workload_shape(workload: Any) -> WorkloadShape:
    """The `WorkloadShape` of an open loop (trace or synthetic), a closed loop or multi-turn sessions."""
    from inferonomics.serving.workload import ClosedLoop, Sessions, StaticWorkload

    if isinstance(workload, ClosedLoop):
        return WorkloadShape(workload.num_requests, workload.isl.mean, workload.osl.mean, clients=workload.concurrency)
    if isinstance(workload, Sessions):
        turns = workload.turns.mean
        return WorkloadShape(
            int(workload.num_sessions * turns),
            workload.user_tokens.mean * (turns + 1) / 2 + workload.system_prompt_tokens,
            workload.output_tokens.mean,
            rate_per_s=workload.rate_sessions_per_s * turns,
        )
    if isinstance(workload, StaticWorkload):
        requests = len(workload)
        isl = float(workload.input_tokens.mean()) if requests else 0.0
        osl = float(workload.output_tokens.mean()) if requests else 0.0
        rate = requests / workload.duration_s if workload.duration_s > 0 else None
        return WorkloadShape(requests, isl, osl, clients=float(requests) if rate is None else None, rate_per_s=rate)
    return WorkloadShape(0, 0.0, 0.0)  # pragma: no cover - every workload type is above


def size_of(dep: Any, workload: Any, engine: Any) -> SimulationSize:
    """`size_simulation` for a deployment, a workload object (open, closed loop or sessions) and an engine."""
    from inferonomics.perf.engines import EngineArgs
    from inferonomics.perf.memory import kv_capacity_tokens

    args = getattr(dep, "engine_args", None)

    ranks = int(getattr(dep, "attention_dp", 1) or 1)
    try:
        kv = float(kv_capacity_tokens(dep)) / ranks
    except Exception:  # noqa: BLE001 - sizing never fails a run; the run reports its own errors
        kv = None
    shape = workload_shape(workload)
    return size_simulation(
        replicas=dep.replicas * ranks,
        requests=shape.requests,
        mean_isl=shape.mean_isl,
        mean_osl=shape.mean_osl,
        max_batch=engine.batch_limit(args if isinstance(args, EngineArgs) else None),
        chunk_tokens=engine.max_tokens_per_iter,
        kv_tokens_per_replica=kv,
        clients=shape.clients,
        rate_per_s=shape.rate_per_s,
        lockstep_ranks=ranks if getattr(getattr(dep, "model", None), "is_moe", False) else 1,
    )


__all__ = ["SimulationSize", "WorkloadShape", "size_of", "size_simulation", "workload_shape"]
