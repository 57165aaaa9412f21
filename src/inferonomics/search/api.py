"""`search`: the cheapest deployment that meets an SLO, in two stages (analytic screen, simulator re-check)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.errors import InvalidInputError
from inferonomics.frames import row_dict
from inferonomics.results import ResultMixin
from inferonomics.search.backends import BackendName, check_reachable, run_chunks
from inferonomics.search.cost import chip_hour_prices
from inferonomics.search.recheck import RECHECK_COLUMNS, RecheckSettings, run_rechecks, simulator_available
from inferonomics.search.screen import (
    ChunkResult,
    ScreenInputs,
    empty_rows,
    memory_use_of_row,
    screen_candidates,
    screen_pairs,
)
from inferonomics.search.select import (
    SORT_COLUMNS,
    Objective,
    Targets,
    best_per_config,
    effective_objective,
    evaluate,
    explain_infeasible,
    lost_because,
    pareto_front,
    plan_pairs,
    rank,
    row_summary,
)
from inferonomics.search.space import SearchSpace, chunked, enumerate_candidates
from inferonomics.search.store import PartStore, check_overwritable, load_for_resume, write_sweep

PARETO_DETAIL = 200
CHUNK_SIZE = 32
"""Deployments per unit of work (a Ray task / pool task); small enough to balance, large enough to amortise."""


@dataclass(frozen=True)
class SearchRequest:
    """The question: serve `model` at `rate_per_s` (or the trace's arrivals) within these targets.

    With a `trace`, ISL and OSL default to its mean lengths and the rate to its mean arrival rate.
    """

    model: str | ModelSpec
    isl: int | None = None
    osl: int | None = None
    rate_per_s: float | None = None
    trace: str | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    percentile: float | None = None
    objective: Objective = "usd"
    max_usd_per_hour: float | None = None
    max_chips: int | None = None
    space: SearchSpace = field(default_factory=SearchSpace)
    acquisition: str = "rent"
    """"rent" (catalog or given prices) or "own" (`economics.ownership` with its default assumptions)."""
    usd_per_chip_hour: Mapping[str, float] = field(default_factory=dict)
    """Your prices per chip-hour by system or chip name (rental)."""
    recheck: int = 5
    """Leading configurations to re-check in the simulator (0 = analytic screen only)."""
    recheck_requests: int = 400
    recheck_max_replicas: int = 5000
    """A leader needing more replicas is not re-checked (noted): building replicas is the re-check's cost."""

    def __post_init__(self) -> None:
        if self.acquisition not in ("rent", "own"):
            raise InvalidInputError(f"acquisition must be 'rent' or 'own', got {self.acquisition!r}")
        if self.recheck < 0 or self.recheck_requests < 1:
            raise InvalidInputError("recheck must be >= 0 and recheck_requests >= 1")


@dataclass(repr=False)
class SearchResult(ResultMixin):
    """Every screened row (evaluated against the targets), the answer, and how long it took."""

    rows: pd.DataFrame
    best: dict[str, Any] | None
    runner_up: dict[str, Any] | None
    runner_up_reason: str
    pareto: pd.DataFrame
    infeasible: dict[str, Any] | None
    evaluated: int
    deployments: int
    elapsed_s: float
    timings_s: dict[str, float]
    inputs: dict[str, Any]
    objective: Objective
    rechecked: pd.DataFrame
    pareto_summary: list[dict[str, Any]] = field(default_factory=list)
    """Pareto rows as plain values with memory per GPU (the first `PARETO_DETAIL` rows)."""
    notes: list[str] = field(default_factory=list)
    out: str | None = None

    @property
    def configs_per_s(self) -> float:
        screen = self.timings_s.get("screen_s", 0.0)
        return self.evaluated / screen if screen > 0 else float("nan")

    def to_dict(self, pareto_limit: int = 50) -> dict[str, Any]:
        return {
            "best": self.best,
            "runner_up": self.runner_up,
            "runner_up_reason": self.runner_up_reason,
            "pareto": self.pareto_summary[:pareto_limit],
            "pareto_size": len(self.pareto),
            "infeasible": self.infeasible,
            "feasible": int(self.rows["feasible"].sum()) if len(self.rows) else 0,
            "evaluated": self.evaluated,
            "deployments": self.deployments,
            "elapsed_s": self.elapsed_s,
            "configs_per_s": self.configs_per_s,
            "timings_s": self.timings_s,
            "objective": self.objective,
            "rechecked": [_recheck_summary(r) for _, r in self.rechecked.iterrows()],
            "inputs": self.inputs,
            "notes": self.notes,
            "out": self.out,
        }


SCREEN_SIM_GAP = 0.3
"""Screen and simulator TTFT or TPOT further apart than this share are reported with why."""


def _recheck_summary(r: pd.Series, with_row: bool = True) -> dict[str, Any]:
    out = row_summary(r) if with_row else {}
    for k in RECHECK_COLUMNS:
        v = r.get(k)
        if k == "sim_meets_slo":
            out[k] = bool(v)
        elif isinstance(v, float | np.floating):
            out[k] = float(v) if np.isfinite(v) else None
        else:
            out[k] = v
    out["screen_vs_sim"] = screen_vs_sim(r)
    return out


def screen_vs_sim(r: pd.Series | dict[str, Any]) -> str | None:
    """Why the screen's figure and the simulator's differ, when they do by more than `SCREEN_SIM_GAP`."""
    notes = []
    for what in ("ttft", "tpot"):
        screen, sim = float(r.get(f"{what}_ms", np.nan)), float(r.get(f"sim_{what}_ms", np.nan))
        if not (np.isfinite(screen) and np.isfinite(sim) and sim > 0) or abs(screen / sim - 1.0) <= SCREEN_SIM_GAP:
            continue
        full = float(r.get(f"{what}_full_batch_ms", np.nan))
        at = "the offered load (the mean of a Poisson stream)"
        why = "bursts queue, a lone request does not wait for a batch"
        if r.get("mode") == "disagg":
            why += "; the screen adds the engine's fitted disaggregated orchestration (admission, overhead), "
            why += "which the simulator does not model"
        notes.append(
            f"{what.upper()} screen {screen:.0f} ms at {at}, simulator {sim:.0f} ms ({why}); "
            f"the screen at a full batch says {full:.0f} ms"
        )
    return "; ".join(notes) or None


def _resolve(req: SearchRequest) -> tuple[ModelSpec, tuple[System, ...], int, int, float | None, list[str]]:
    from inferonomics.catalog.hardware_catalog import get_hardware, list_hardware
    from inferonomics.catalog.model_catalog import get_model

    notes: list[str] = []
    model = get_model(req.model) if isinstance(req.model, str) else req.model
    names = list(req.space.hardware) or list(list_hardware()["system"])
    systems = tuple(dict.fromkeys(get_hardware(n) for n in names))
    isl, osl, rate = req.isl, req.osl, req.rate_per_s
    if req.trace:
        from inferonomics.serving import load_trace

        wl = load_trace(req.trace)
        if len(wl) == 0:
            raise InvalidInputError(f"trace {req.trace} has no requests")
        isl = isl or max(int(round(float(wl.input_tokens.mean()))), 1)
        osl = osl or max(int(round(float(wl.output_tokens.mean()))), 1)
        if rate is None and wl.duration_s > 0:
            rate = len(wl) / wl.duration_s
        notes.append(f"trace: {wl.describe()}; screened at its means (ISL {isl}, OSL {osl}, {rate or 0:.3g} req/s)")
    if isl is None or osl is None:
        raise InvalidInputError("give --isl and --osl (or a --trace to take them from)")
    return model, systems, int(isl), int(osl), rate, notes


def search(
    req: SearchRequest,
    *,
    backend: BackendName = "local",
    address: str | None = None,
    workers: int = 1,
    recheck_workers: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    calibration: Any = None,
    on_stage: Callable[[str], None] | None = None,
) -> SearchResult:
    """Screen every deployment of the space, size replicas for the rate, keep the SLO-feasible ones,
    rank them, re-check the leaders in the simulator and return the Pareto set and a recommendation.

    backend "local" screens in this process (`workers` > 1: a process pool); "ray" sends chunks to
    the cluster at `address` (or a local instance). Stage 2 runs in a local process pool of
    `recheck_workers` (None = one per CPU). With `out`, rows go to Parquet; `resume` skips
    deployments already in that file (or in its `.parts/` of an interrupted run).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if backend == "ray" and address:
        check_reachable(address)  # before any work: Ray retries an unreachable address for minutes
    model, systems, isl, osl, rate, notes = _resolve(req)
    targets = Targets(req.ttft_s, req.tpot_s, req.percentile, rate, req.max_usd_per_hour, req.max_chips, req.objective)
    inputs = ScreenInputs(model, systems, isl, osl, req.space, calibration, rate)
    prices, price_notes = chip_hour_prices(systems, req.acquisition, req.usd_per_chip_hour)
    notes += price_notes
    enum = enumerate_candidates(model, systems, req.space)
    notes += list(enum.notes)
    key = inputs.screen_key()
    out_path = Path(out) if out is not None else None
    done = empty_rows()
    if out_path is not None and resume:
        done = load_for_resume(out_path, key)
    parts = None
    if out_path is not None:
        check_overwritable(out_path)
        parts = PartStore(out_path)
        if not resume:
            parts.clear()
        parts.start(key)
    done_units = set(done["unit_id"])
    timings["setup_s"] = time.perf_counter() - t0

    def persist(stage: str) -> Callable[[int, ChunkResult], None]:
        return lambda i, r: parts.write(stage, i, r.rows) if parts is not None else None

    # --- stage 1a: aggregated ---------------------------------------------------------------------
    t = time.perf_counter()
    cpu = time.process_time()
    if on_stage:
        on_stage(f"screening {len(enum.candidates):,} deployments")
    todo = [c for c in enum.candidates if c.config_id not in done_units]
    results = run_chunks(
        screen_candidates,
        inputs,
        chunked(todo, CHUNK_SIZE),
        backend=backend,
        address=address,
        workers=workers,
        on_result=persist(f"agg-{len(done_units)}"),
    )
    frames = [done] + [r.rows for r in results]
    deployments = len(set(done["unit_id"])) + sum(r.deployments for r in results)
    invalid = sum(r.invalid for r in results)
    if invalid:
        examples = [e for r in results for e in r.invalid_examples][:2]
        notes.append(f"{invalid} combinations the performance model rejects were skipped (e.g. {'; '.join(examples)})")
    rows = _sorted(pd.concat(frames, ignore_index=True))
    evaluated_agg = evaluate(rows[rows["mode"] == "agg"], targets, prices, osl)
    timings["screen_agg_s"] = time.perf_counter() - t

    # --- stage 1b: disaggregated pools for the leading groups ------------------------------------
    t = time.perf_counter()
    if "disagg" in req.space.modes:
        objective, _ = effective_objective(evaluated_agg, req.objective)
        pairs = plan_pairs(evaluated_agg, req.space, objective)
        if "agg" not in req.space.modes:
            rows = rows[rows["mode"] != "agg"]
        todo_pairs = [p for p in pairs if p.config_id not in done_units]
        if on_stage and todo_pairs:
            on_stage(f"screening {len(todo_pairs)} prefill/decode pairs (xPyD grids)")
        presults = run_chunks(
            screen_pairs,
            inputs,
            chunked(todo_pairs, 4),
            backend=backend,
            address=address,
            workers=workers,
            on_result=persist(f"disagg-{len(done_units)}"),
        )
        deployments += sum(r.deployments for r in presults)
        rows = _sorted(pd.concat([rows, *[r.rows for r in presults]], ignore_index=True))
    elif "agg" in req.space.modes:
        rows = rows[rows["mode"] == "agg"]
    timings["screen_disagg_s"] = time.perf_counter() - t
    timings["screen_s"] = timings["screen_agg_s"] + timings["screen_disagg_s"]
    timings["screen_cpu_s"] = time.process_time() - cpu  # this process only (not pool or Ray workers)

    # --- select -------------------------------------------------------------------------------------
    t = time.perf_counter()
    ev = evaluate(rows, targets, prices, osl)
    objective, obj_notes = effective_objective(ev, req.objective)
    notes += obj_notes
    ranked = rank(ev[ev["feasible"]], objective)
    pareto = pareto_front(ev, objective)
    leaders = best_per_config(ranked)
    timings["select_s"] = time.perf_counter() - t

    # --- stage 2: simulator re-check of the leaders -------------------------------------------------
    t = time.perf_counter()
    rechecked = pd.DataFrame()
    verified = leaders
    if req.recheck > 0 and len(leaders):
        why_not = simulator_available()
        if why_not:
            notes.append(f"stage 2 skipped: {why_not}")
        else:
            head = leaders.head(req.recheck)
            if on_stage:
                on_stage(f"re-checking {len(head)} leading configurations in the simulator")
            settings = RecheckSettings(
                inputs,
                rate,
                req.trace,
                req.ttft_s,
                req.tpot_s,
                req.percentile,
                req.recheck_requests,
                max_replicas=req.recheck_max_replicas,
            )
            pool = recheck_workers if recheck_workers is not None else (os.cpu_count() or 1)
            sims = run_rechecks(settings, [row_dict(r) for _, r in head.iterrows()], pool, progress)
            rechecked = head.assign(**{k: [s[k] for s in sims] for k in RECHECK_COLUMNS})
            not_simulated = rechecked["sim_note"].str.startswith("not simulated").to_numpy()
            failed = ~rechecked["sim_meets_slo"].to_numpy(dtype=bool) & ~not_simulated
            verified = pd.concat([head[~failed], leaders.iloc[len(head) :]])
            if failed.all():
                notes.append(
                    f"none of the {len(head)} leading configurations meets the SLO in the simulator "
                    f"({_stat_name(req.percentile)}); the ones below them are not re-checked"
                )
            elif failed.any():
                notes.append(
                    f"{int(failed.sum())} of the {len(head)} leading configurations fail the SLO in the "
                    "simulator and are dropped"
                )
            if not_simulated.any():
                notes.append(f"{int(not_simulated.sum())} leading configurations could not be simulated (see sim_note)")
            if req.percentile is not None:
                notes.append(f"latency targets checked at p{req.percentile:g} in the simulator; stage 1 screens means")
            ev = ev.merge(
                rechecked[["config_id", "batch_size", *RECHECK_COLUMNS]], on=["config_id", "batch_size"], how="left"
            )
    elif req.percentile is not None:
        notes.append(f"p{req.percentile:g} targets were checked against steady-state means only (no re-check)")
    timings["recheck_s"] = time.perf_counter() - t

    best = runner = None
    reason = ""
    if len(verified):
        b = verified.iloc[0]
        best = _with_memory(inputs, b)
        if len(verified) > 1:
            r = verified.iloc[1]
            runner = row_summary(r)
            reason = lost_because(b, r, objective)
        if len(rechecked):
            match = rechecked[rechecked["config_id"] == b["config_id"]]
            best["simulated"] = _recheck_summary(match.iloc[0], with_row=False) if len(match) else None
    infeasible = explain_infeasible(ev, targets, objective) if ranked.empty else None

    elapsed = time.perf_counter() - t0
    meta = {
        "screen_key": key,
        "targets": targets.to_dict(),
        "objective": objective,
        "acquisition": req.acquisition,
        "usd_per_chip_hour": prices,
        "trace": req.trace,
        "created_unix_s": time.time(),
    }
    if out_path is not None:
        t = time.perf_counter()
        write_sweep(out_path, ev, meta)
        if parts is not None:
            parts.clear()
        timings["write_s"] = time.perf_counter() - t
    evaluated = int(len(ev))
    return SearchResult(
        rows=ev,
        best=best,
        runner_up=runner,
        runner_up_reason=reason,
        pareto=pareto,
        infeasible=infeasible,
        evaluated=evaluated,
        deployments=deployments,
        elapsed_s=elapsed,
        timings_s=timings,
        inputs={
            "model": model.name,
            "hardware": [s.name for s in systems],
            "isl": isl,
            "osl": osl,
            "rate_per_s": rate,
            "trace": req.trace,
            **{k: v for k, v in targets.to_dict().items() if k != "rate_per_s"},
        },
        objective=objective,
        rechecked=rechecked,
        pareto_summary=[_with_memory(inputs, r) for _, r in pareto.head(PARETO_DETAIL).iterrows()],
        notes=notes,
        out=str(out_path) if out_path else None,
    )


def _stat_name(percentile: float | None) -> str:
    return f"p{percentile:g}" if percentile is not None else "means"


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(SORT_COLUMNS, kind="mergesort").reset_index(drop=True)


def _with_memory(inputs: ScreenInputs, r: pd.Series) -> dict[str, Any]:
    out = row_summary(r)
    mem = memory_use_of_row(inputs, r)
    out["memory"] = mem
    out["memory_gb_per_gpu"] = mem["total_gb"]
    return out
