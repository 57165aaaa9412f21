"""What a run measured: per-request and per-iteration tables, a summary, and a Chrome/Perfetto trace.

Client-side latencies include the front end (gateway + load balancer) both ways. TPOT of a request
is (finish - first token) / (output - 1), as `benchmark_serving` reports it; ITL percentiles are over
every gap between consecutive tokens of a request (one gap per decode step; a preempted request's
gap spans the preemption). Goodput counts completed requests within both SLO bounds (DistServe).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from inferonomics.frames import records
from inferonomics.results import ResultMixin
from inferonomics.serving.records import ITERATION_COLUMNS, DecodeRunRecord

if TYPE_CHECKING:
    from inferonomics.serving.simulator import _Run


@dataclass(repr=False)
class SimResult(ResultMixin):
    requests: pd.DataFrame
    iterations: pd.DataFrame
    replicas: pd.DataFrame
    summary: dict[str, Any]
    partial: bool = False
    stop_reason: str = ""
    itl_s: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    itl_weights: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def write(self, out_dir: str | Path, chrome_trace: bool = True) -> list[Path]:
        """requests.parquet + .csv, iterations.parquet, replicas.csv, summary.json, trace.json."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [
            out / "requests.parquet",
            out / "requests.csv",
            out / "iterations.parquet",
            out / "replicas.csv",
            out / "summary.json",
        ]
        self.requests.to_parquet(paths[0], index=False)
        self.requests.to_csv(paths[1], index=False)
        self.iterations.to_parquet(paths[2], index=False)
        self.replicas.to_csv(paths[3], index=False)
        paths[4].write_text(json.dumps(_json_clean(self.summary), indent=2, allow_nan=False))
        if chrome_trace:
            paths.append(out / "trace.json")
            write_chrome_trace(self, paths[-1])
        return paths


def _json_clean(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _json_clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_json_clean(v) for v in o]
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, float | np.floating):
        f = float(o)
        return None if math.isnan(f) or math.isinf(f) else f
    return o


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Percentiles (0-100) of values each counted `weight` times (inverted CDF)."""
    if values.size == 0 or weights.sum() <= 0:
        return [math.nan] * len(qs)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cw = np.cumsum(w)
    total = cw[-1]
    return [float(v[min(int(np.searchsorted(cw, q / 100.0 * total)), v.size - 1)]) for q in qs]


def _stats_ms(x: np.ndarray) -> dict[str, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": math.nan, "p50": math.nan, "p90": math.nan, "p99": math.nan}
    p50, p90, p99 = np.percentile(x, [50, 90, 99]) * 1e3
    return {"mean": float(x.mean() * 1e3), "p50": float(p50), "p90": float(p90), "p99": float(p99)}


def _reason_kind(reason: str) -> str:
    for key, kind in (
        ("context window", "context_window"),
        ("KV cache", "kv_capacity"),
        ("0 output", "zero_output"),
        ("empty prompt", "empty_prompt"),
    ):
        if key in reason:
            return kind
    return re.sub(r"[\d,.]+", "N", reason)[:60]


def _iterations_frame(run: _Run) -> pd.DataFrame:
    """One row per iteration: single iterations as logged, decode runs expanded step by step."""
    logs = [row for rep in run.replicas for row in rep.log]
    parts = []
    if logs:
        parts.append(pd.DataFrame.from_records(logs, columns=ITERATION_COLUMNS))  # IterationRecord fields
    runs = [r for rep in run.replicas for r in rep.runs]
    if runs:
        parts.append(_runs_frame(runs, run.replicas[0].block_tokens))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ITERATION_COLUMNS})
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return df.sort_values(["replica", "start_s"], kind="stable", ignore_index=True)


def _runs_frame(runs: list[DecodeRunRecord], block_tokens: int) -> pd.DataFrame:
    """Expand decode-run records into one row per iteration, vectorised over all runs."""
    R = len(runs)
    lengths = np.fromiter((r.durations_s.size for r in runs), np.int64, R)
    durs = np.concatenate([r.durations_s for r in runs])
    first = np.cumsum(lengths) - lengths
    k = np.arange(durs.size) - np.repeat(first, lengths)  # step index within its run
    csum = np.cumsum(durs)
    before_run = np.repeat(csum[first] - durs[first], lengths)

    def col(name: str, dtype: Any) -> np.ndarray:
        return np.repeat(np.fromiter((getattr(r, name) for r in runs), dtype, R), lengths)

    starts = col("start_s", float) + (csum - durs - before_run)
    n = col("decode_seqs", np.int64)
    ctx = n * (col("mean_context_tokens", float) + col("mean_context_step_tokens", float) * k)
    # KV blocks in use: at run start, plus the blocks each later step opened (by join phase)
    bs = block_tokens
    phases = np.array([r.joins_by_phase if r.joins_by_phase is not None else (0,) * bs for r in runs], dtype=np.int64)
    row = np.repeat(np.arange(R), lengths)
    need = phases[row, (-(col("decode_step", np.int64) + k)) % bs]
    need[first] = 0
    cneed = np.cumsum(need)
    used = col("kv_used_blocks", np.int64) + cneed - np.repeat(cneed[first], lengths)
    total = durs.size
    return pd.DataFrame(
        {
            "replica": col("replica", np.int64),
            "start_s": starts,
            "duration_s": durs,
            "prefill_tokens": np.zeros(total, np.int64),
            "prefill_attended_tokens": np.zeros(total),
            "decode_seqs": n,
            "decode_context_tokens": ctx,
            "running": col("running", np.int64),
            "kv_used_blocks": used,
            "waiting": col("waiting", np.int64),
            "extra_s": np.zeros(total),
        }
    )


def build_result(run: _Run, wall_s: float) -> SimResult:
    reqs = run.requests
    n = len(reqs)
    lat = run.lat

    def col(name: str, dtype: Any = float) -> np.ndarray:
        return np.fromiter((getattr(r, name) for r in reqs), dtype=dtype, count=n)

    arrival = col("arrival_s")
    first_tok = col("first_token_s")
    finish = col("finish_s")
    first_sched = col("first_sched_s")
    out_tok = col("output", np.int64)
    in_tok = col("prompt", np.int64)
    status = np.array([r.status for r in reqs], dtype=object)
    completed = status == "completed"
    ttft = first_tok + lat - arrival
    e2e = np.where(completed, finish + lat - arrival, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(completed & (out_tok > 1), (finish - first_tok) / (out_tok - 1), np.nan)
    queue = first_sched - (arrival + lat)
    slo = run.sim.slo
    meets = completed.copy()
    if slo.ttft_s is not None:
        meets &= ttft <= slo.ttft_s
    if slo.tpot_s is not None:
        meets &= (tpot <= slo.tpot_s) | (out_tok <= 1)
    requests = pd.DataFrame(
        {
            "request_id": col("rid", np.int64),
            "arrival_s": arrival,
            "replica": col("replica", np.int64),
            "decode_replica": col("decode_replica", np.int64),
            "session": col("session", np.int64),
            "turn": col("turn", np.int64),
            "client": col("client", np.int64),
            "input_tokens": in_tok,
            "output_tokens": out_tok,
            "status": status.astype(str),
            "reason": [r.reason for r in reqs],
            "cached_tokens": col("cached_tokens", np.int64),
            "recomputed_tokens": col("recomputed_tokens", np.int64),
            "preemptions": col("preemptions", np.int64),
            "queue_s": queue,
            "ttft_s": ttft,
            "tpot_s": tpot,
            "e2e_s": e2e,
            "first_token_s": first_tok + lat,
            "finish_s": finish + lat,
            "meets_slo": meets,
        }
    )
    iterations = _iterations_frame(run)
    total_blocks = {rep.idx: rep.pool.total_pages for rep in run.replicas}
    iterations["kv_occupancy"] = iterations["kv_used_blocks"] / iterations["replica"].map(total_blocks)
    # makespan: first arrival to the last thing that happened
    ended = np.isfinite(finish)
    sent = np.isfinite(arrival)
    t_start = float(arrival[sent].min()) if sent.any() else 0.0
    t_end = float(np.nanmax(finish[ended]) + lat) if ended.any() else run.now
    if len(iterations):
        t_end = max(t_end, float((iterations.start_s + iterations.duration_s).max()))
    makespan = max(t_end - t_start, 1e-12)
    # ITL: weighted gaps (requests that decoded in consecutive decode iterations) + individual gaps
    gaps = [g for rep in run.replicas for g in rep.itl_weighted]
    singles = [x for rep in run.replicas for x in rep.itl_samples]
    runs = [r for rep in run.replicas for r in rep.itl_runs]
    itl_v = np.concatenate([np.asarray([g for g, _ in gaps], float), np.asarray(singles, float), *[d for d, _ in runs]])
    itl_w = np.concatenate(
        [np.asarray([w for _, w in gaps], float), np.ones(len(singles)), *[np.full(d.size, float(w)) for d, w in runs]]
    )
    if itl_v.size:
        p50, p90, p99 = weighted_percentiles(itl_v, itl_w, [50, 90, 99])
        itl_stats = {
            "mean": float(np.average(itl_v, weights=itl_w) * 1e3),
            "p50": p50 * 1e3,
            "p90": p90 * 1e3,
            "p99": p99 * 1e3,
        }
    else:
        itl_stats = {"mean": math.nan, "p50": math.nan, "p90": math.nan, "p99": math.nan}
    # replicas
    rep_rows = []
    for rep in run.replicas:
        it = iterations[iterations.replica == rep.idx]
        dur = it.duration_s.to_numpy()
        busy = float(dur.sum())
        rep_rows.append(
            {
                "replica": rep.idx,
                "role": rep.role,
                "iterations": len(it),
                "busy_s": busy,
                "utilisation": busy / makespan,
                "mean_batch": float(np.average(it.running, weights=dur)) if busy > 0 else 0.0,
                "mean_decode_seqs": float(np.average(it.decode_seqs, weights=dur)) if busy > 0 else 0.0,
                "mean_kv_occupancy": float(np.average(it.kv_occupancy, weights=dur)) if busy > 0 else 0.0,
                "max_kv_occupancy": float(it.kv_occupancy.max()) if len(it) else 0.0,
                "preemptions": rep.preemptions,
                "kv_capacity_tokens": rep.pool.total_pages * rep.block_tokens,
                "prefix_hit_tokens": rep.hit_tokens,
                "prefix_evictions": rep.pool.evictions,
                "lower_tier_hits": list(rep.pool.tier_hits),
            }
        )
    replicas = pd.DataFrame(rep_rows)
    # money
    dep = run.dep
    chips = int(run.chips)
    usd_per_chip_h = float(getattr(getattr(dep, "system", None), "rental_usd_per_hour", 0.0) or 0.0)
    cost_usd = chips * usd_per_chip_h * makespan / 3600.0 if usd_per_chip_h > 0 else math.nan
    n_done = int(completed.sum())
    out_done = int(out_tok[completed].sum())
    prompt_seen = sum(rep.prompt_tokens for rep in run.replicas)
    hits = sum(rep.hit_tokens for rep in run.replicas)
    rejected = status == "rejected"
    summary: dict[str, Any] = {
        "requests": n,
        "completed": n_done,
        "rejected": int(rejected.sum()),
        "incomplete": int((status == "incomplete").sum()),
        "not_issued": int((status == "not_issued").sum()),
        "issued": int(n - (status == "not_issued").sum()),
        "partial": run.partial,
        "stop_reason": run.stop_reason,
        "rejected_by_reason": dict(Counter(_reason_kind(r.reason) for r in reqs if r.status == "rejected")),
        "ttft_ms": _stats_ms(ttft[completed]),
        "tpot_ms": _stats_ms(tpot[completed]),
        "itl_ms": itl_stats,
        "e2e_ms": _stats_ms(e2e[completed]),
        "queue_ms": _stats_ms(queue[completed]),
        "throughput_rps": n_done / makespan,
        "goodput_rps": int(meets.sum()) / makespan,
        "slo_attainment": float(meets.sum() / n_done) if n_done else math.nan,
        "slo": {
            "ttft_ms": None if slo.ttft_s is None else slo.ttft_s * 1e3,
            "tpot_ms": None if slo.tpot_s is None else slo.tpot_s * 1e3,
        },
        "throughput_output_tokens_per_s": out_done / makespan,
        "throughput_input_tokens_per_s": float(in_tok[completed].sum()) / makespan,
        "prefix_cache_hit_rate": hits / prompt_seen if prompt_seen else 0.0,
        "preemptions": int(sum(rep.preemptions for rep in run.replicas)),
        "tokens": {
            "input_completed": int(in_tok[completed].sum()),
            "output_completed": out_done,
            "prefill_computed": int(iterations.prefill_tokens.sum()) if len(iterations) else 0,
            "decode_steps": int(iterations.decode_seqs.sum()) if len(iterations) else 0,
            "prefix_cache_hits": int(hits),
            "prefix_cache_hits_all": int(sum(rep.hit_tokens_all for rep in run.replicas)),
            "recomputed": int(requests.recomputed_tokens.sum()),
        },
        "replicas": run.engine_replicas,
        "engines": len(run.replicas),
        "dp_lockstep": run.dp_lockstep,
        "chips": chips,
        "mean_utilisation": float(replicas.utilisation.mean()) if len(replicas) else 0.0,
        "mean_kv_occupancy": float(replicas.mean_kv_occupancy.mean()) if len(replicas) else 0.0,
        "duration_s": makespan,
        "iterations": len(iterations),
        "cost_usd": cost_usd,
        "cost_per_request_usd": cost_usd / n_done if n_done else math.nan,
        "usd_per_million_output_tokens": cost_usd / out_done * 1e6 if out_done else math.nan,
        "sim_wall_s": wall_s,
        "requests_per_wall_s": n / wall_s if wall_s > 0 else math.nan,
        "decode_time_table": {
            "max_rel_error": run.times.max_table_error,
            "batch_sizes": len(run.times._tables),
            "direct_batch_sizes": list(run.times.direct_ns),
        },
        "notes": list(run.notes),
    }
    return SimResult(requests, iterations, replicas, summary, run.partial, run.stop_reason, itl_v, itl_w)


def write_chrome_trace(result: SimResult, path: str | Path, max_requests: int = 200_000) -> None:
    """Chrome trace event format (chrome://tracing, ui.perfetto.dev): one process per replica, a complete
    event per iteration (consecutive decode-only iterations of the same batch merged into one event,
    `args.iterations` says how many), counters for batch and KV occupancy, async spans per request."""
    it = result.iterations
    events: list[dict[str, Any]] = []
    for row in records(result.replicas):
        events.append(
            {
                "name": "process_name",
                "ph": "M",
                "pid": int(row["replica"]),
                "args": {"name": f"replica {row['replica']} ({row['role']})"},
            }
        )
    if len(it):
        rep = it.replica.to_numpy()
        start = it.start_s.to_numpy()
        dur = it.duration_s.to_numpy()
        pf = it.prefill_tokens.to_numpy()
        dec = it.decode_seqs.to_numpy()
        new = np.ones(len(it), bool)
        new[1:] = (
            (rep[1:] != rep[:-1])
            | (pf[1:] > 0)
            | (pf[:-1] > 0)
            | (dec[1:] != dec[:-1])
            | (np.abs(start[1:] - (start[:-1] + dur[:-1])) > 1e-9)
        )
        first = np.flatnonzero(new)
        count = np.diff(np.append(first, len(it)))
        gdur = np.add.reduceat(dur, first)
        run_ = it.running.to_numpy()[first]
        occ = it.kv_occupancy.to_numpy()[first]
        for g, i in enumerate(first):
            name = "mixed" if pf[i] and dec[i] else ("prefill" if pf[i] else "decode")
            pid = int(rep[i])
            ts = float(start[i] * 1e6)
            events.append(
                {
                    "name": name,
                    "cat": "iteration",
                    "ph": "X",
                    "ts": ts,
                    "dur": float(gdur[g] * 1e6),
                    "pid": pid,
                    "tid": 0,
                    "args": {"iterations": int(count[g]), "prefill_tokens": int(pf[i]), "decode_seqs": int(dec[i])},
                }
            )
            events.append(
                {
                    "name": "batch",
                    "ph": "C",
                    "ts": ts,
                    "pid": pid,
                    "args": {"running": int(run_[g]), "kv_occupancy": round(float(occ[g]), 4)},
                }
            )
    rq = result.requests
    done = rq[rq.status == "completed"].head(max_requests)
    for r in records(done):
        pid = int(r["replica"])
        events.append(
            {
                "name": "request",
                "cat": "request",
                "ph": "b",
                "id": int(r["request_id"]),
                "pid": pid,
                "tid": 1,
                "ts": float(r["arrival_s"] * 1e6),
                "args": {"input_tokens": int(r["input_tokens"]), "output_tokens": int(r["output_tokens"])},
            }
        )
        events.append(
            {
                "name": "request",
                "cat": "request",
                "ph": "e",
                "id": int(r["request_id"]),
                "pid": pid,
                "tid": 1,
                "ts": float(r["finish_s"] * 1e6),
            }
        )
    Path(path).write_text(json.dumps({"traceEvents": events, "displayTimeUnit": "ms"}))
