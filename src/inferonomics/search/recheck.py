"""Stage 2: re-check the leading configurations with the discrete-event simulator (`inferonomics.serving`).

The analytic screen gives steady-state means of a closed loop; the simulator replays the user's
arrivals (Poisson at the target rate, or the trace) through continuous batching with the screened
max batch size and prefill chunk, so tail latency and bursts show. Runs go to a local process pool
(one configuration per task) behind a Rich progress bar.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from inferonomics.search.screen import CalibrationCache, ScreenInputs, build_deployment, candidate_of_row

SCHEDULER_OF_ENGINE = {"vllm": "vllm", "sglang": "sglang", "trtllm": "vllm"}
"""TensorRT-LLM's in-flight batching with chunked context is scheduled like vLLM's token budget."""

RECHECK_COLUMNS = (
    "sim_ttft_ms",
    "sim_tpot_ms",
    "sim_slo_attainment",
    "sim_completed_fraction",
    "sim_output_tokens_per_s",
    "sim_meets_slo",
    "sim_note",
)


@dataclass(frozen=True)
class RecheckSettings:
    """What every re-check shares: the screen inputs, the traffic, the SLO and the run size."""

    inputs: ScreenInputs
    rate_per_s: float | None
    trace: str | None
    ttft_s: float | None
    tpot_s: float | None
    percentile: float | None
    num_requests: int = 400
    seed: int = 0
    max_wall_s: float = 60.0
    max_replicas: int = 5000
    """Sized before it runs: a configuration needing more replicas is not simulated (building each costs ms)."""


def simulator_available() -> str | None:
    """None when the simulator can run, else why not (stage 1 works without it)."""
    try:
        from inferonomics.serving import ClosedLoop, EngineConfig, Simulation, synthetic_workload  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the serving package ships with this build
        return f"the simulator is not available ({exc})"
    return None


def _stat(values: np.ndarray, percentile: float | None) -> float:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return math.nan
    return float(np.percentile(v, percentile) if percentile is not None else v.mean()) * 1e3


def recheck_one(settings: RecheckSettings, row: dict[str, Any]) -> dict[str, Any]:
    """Simulate one screened row (a dict of its columns) and compare it with the SLO."""
    from inferonomics.serving import (
        SLO,
        ClosedLoop,
        ClusterConfig,
        Disaggregation,
        EngineConfig,
        Fixed,
        RunLimits,
        Simulation,
        load_trace,
        synthetic_workload,
    )

    inp = settings.inputs
    out: dict[str, Any] = {k: math.nan for k in RECHECK_COLUMNS}
    out.update(sim_meets_slo=False, sim_note="")
    cand = candidate_of_row(row)
    replicas = max(int(row["replicas"]), 1)
    if replicas > settings.max_replicas:
        out["sim_note"] = (
            f"not simulated: {replicas:,} replicas, over the re-check budget of {settings.max_replicas:,} "
            "(the analytic screen's figures stand)"
        )
        return out
    disagg = row["mode"] == "disagg"
    if disagg and (
        int(row["prefill_tp"]),
        int(row["prefill_pp"]),
        int(row["prefill_attention_dp"]),
        int(row["prefill_ep"]),
    ) != (cand.tp, cand.pp, cand.attention_dp, cand.moe_ep):
        out["sim_note"] = "not simulated: the simulator runs one parallelism for both pools"
        return out
    dep = build_deployment(inp, cand, replicas=1 if disagg else replicas)
    cal = CalibrationCache(inp.calibration).get(cand.engine, cand.chunk_tokens)
    from inferonomics.perf import StepTimeModel

    stm = StepTimeModel(dep, cal)
    budget = cand.chunk_tokens or int(cal.engine(cand.engine).prefill_token_budget)
    engine = EngineConfig(
        scheduler=SCHEDULER_OF_ENGINE[cand.engine],  # type: ignore[arg-type]
        max_batch_size=int(row["batch_size"]),
        max_tokens_per_iter=budget,
    )
    cluster = ClusterConfig(router="least_outstanding")
    if disagg:
        cluster = ClusterConfig(
            router="least_outstanding",
            disaggregation=Disaggregation(
                int(row["prefill_instances"]) * replicas, int(row["decode_instances"]) * replicas
            ),
        )
    n = settings.num_requests
    wl: Any
    if settings.trace:
        wl = load_trace(settings.trace).head(n)
    elif settings.rate_per_s:
        wl = synthetic_workload(settings.rate_per_s, n, Fixed(inp.isl), Fixed(inp.osl), seed=settings.seed)
    else:
        clients = max(int(round(float(row["concurrency_per_replica"]) * replicas)), 1)
        wl = ClosedLoop(clients, Fixed(inp.isl), Fixed(inp.osl), num_requests=n)
    slo = SLO(settings.ttft_s, settings.tpot_s)
    res = Simulation(stm, wl, engine, cluster, slo, RunLimits(max_wall_s=settings.max_wall_s), seed=settings.seed).run()
    req = res.requests
    done = (req["status"] == "completed").to_numpy()
    ttft = _stat(req["ttft_s"].to_numpy(dtype=np.float64)[done], settings.percentile)
    tpot = _stat(req["tpot_s"].to_numpy(dtype=np.float64)[done], settings.percentile)
    frac = float(done.mean()) if len(done) else 0.0
    meets = frac >= 0.99
    if settings.ttft_s is not None:
        meets &= ttft <= settings.ttft_s * 1e3
    if settings.tpot_s is not None:
        meets &= tpot <= settings.tpot_s * 1e3
    notes = []
    if res.partial:
        notes.append(f"partial run ({res.stop_reason})")
    if frac < 0.99:
        notes.append(f"only {frac:.0%} of requests completed")
    out.update(
        sim_ttft_ms=ttft,
        sim_tpot_ms=tpot,
        sim_slo_attainment=float(res.summary.get("slo_attainment", math.nan)),
        sim_completed_fraction=frac,
        sim_output_tokens_per_s=float(res.summary.get("throughput_output_tokens_per_s", math.nan)),
        sim_meets_slo=bool(meets),
        sim_note="; ".join(notes),
    )
    return out


def _call(args: tuple[RecheckSettings, dict[str, Any]]) -> dict[str, Any]:
    return recheck_one(*args)


def _context() -> Any:
    """fork (fast) unless Ray runs in this process: its threads make forking unsafe, so spawn."""
    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        return multiprocessing.get_context("spawn")
    return None


def run_rechecks(
    settings: RecheckSettings, rows: Sequence[dict[str, Any]], workers: int = 1, progress: bool = False
) -> list[dict[str, Any]]:
    """Simulate `rows` (in order), in a local process pool when `workers` > 1, with a progress bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    jobs = [(settings, dict(r)) for r in rows]
    results: list[dict[str, Any]] = []
    bar = Progress(
        TextColumn("re-checking in the simulator"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not progress,
    )
    with bar:
        task = bar.add_task("recheck", total=len(jobs))
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                results.append(_call(job))
                bar.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=_context()) as pool:
                for r in pool.map(_call, jobs):
                    results.append(r)
                    bar.advance(task)
    return results
