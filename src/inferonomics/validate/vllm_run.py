"""A real vLLM run, request by request, against the simulator replaying the same requests.

Two inputs:

- a run folder in the format of `shared/data/engine_runs/*/` (LLMServingSim's `bench/` recorder):
  `meta.json` (engine arguments; when recorded, the resolved `kv_cache` block count and the device's
  total memory) and `requests.jsonl` (per request `input_toks`, `output_toks`, `arrival_time` wall clock,
  and monotonic `queued_ts`, `scheduled_ts`, `first_token_ts`, `last_token_ts`). TTFT = first_token_ts -
  queued_ts; TPOT = (last_token_ts - first_token_ts) / (output_toks - 1). The replay sends each request at
  its `queued_ts` (relative to the first).
- `vllm bench serve --save-result` JSON (`vllm/benchmarks/serve.py`): `input_lens`, `output_lens`,
  `ttfts` (s), `itls` (s, per request), `request_rate` ("inf" or req/s), `burstiness` (gamma shape),
  `max_concurrency`, `num_prompts`. It keeps no arrival times, so the replay draws them as the client
  did (gamma inter-arrivals at `request_rate`, or all at once) and says so; the comparison is then of
  distributions, not of request pairs.

The comparison reports the engine's KV cache as predicted by the memory plan and, when the run
recorded it, as logged; and TTFT and TPOT p50 / p90 / p99, measured and simulated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inferonomics.errors import ConfigError, InvalidInputError
from inferonomics.perf.engines import EngineArgs, parse_version

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class MeasuredRun:
    """What a real run measured, and what the replay needs."""

    source: str
    model: str | None
    engine_args: EngineArgs
    tp: int
    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    ttft_s: np.ndarray
    tpot_s: np.ndarray
    """TPOT of requests with more than one output token."""
    kv_tokens_logged: int | None = None
    kv_tokens_peak_in_use: int | None = None
    """Most KV tokens the run's running requests held at once (prompt + tokens generated so far, from
    the scheduled/first/last-token times, output assumed even between first and last token): a lower
    bound of the engine's KV cache when the run was not preempting."""
    device_total_bytes: float | None = None
    engine_version: str = ""
    max_concurrency: int | None = None
    notes: tuple[str, ...] = ()


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None


def _number(r: dict[str, Any], key: str, where: str) -> float:
    v = r.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"{where}: {key} must be a number, got {v!r}")
    return float(v)


def _engine_args(kwargs: dict[str, Any], kv: dict[str, Any], version: str = "") -> EngineArgs:
    def whole(v: Any) -> int | None:
        return int(v) if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None

    util = kv.get("gpu_memory_utilization", kwargs.get("gpu_memory_utilization"))
    return EngineArgs(
        gpu_memory_utilization=float(util) if isinstance(util, int | float) and 0 < util <= 1 else None,
        max_num_seqs=whole(kwargs.get("max_num_seqs")),
        max_num_batched_tokens=whole(kwargs.get("max_num_batched_tokens")),
        block_size=whole(kv.get("block_size", kwargs.get("block_size"))),
        engine_version=_version(version),
    )


def _version(text: str) -> str | None:
    """The run's vLLM release when it reads as one (its memory plan depends on it), else None."""
    try:
        return text if parse_version(text) else None
    except InvalidInputError:
        return None


def read_vllm_run(folder: str | Path) -> MeasuredRun:
    """A run folder (`meta.json` + `requests.jsonl`); every malformed line is an error naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(f"{folder}: not a folder (expected meta.json and requests.jsonl)")
    meta_path, req_path = folder / "meta.json", folder / "requests.jsonl"
    for p in (meta_path, req_path):
        if not p.is_file():
            raise InvalidInputError(f"{folder}: {p.name} is missing")
    meta = _load_json(meta_path)
    if not isinstance(meta, dict):
        raise ConfigError(f"{meta_path}: expected a JSON object")
    kwargs = meta.get("engine_kwargs") or {}
    kv = meta.get("kv_cache") or {}
    hw = meta.get("hardware") or {}
    rows: list[tuple[float, int, int, float, float]] = []
    spans: list[tuple[float, float, float, int, int]] = []
    with req_path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{req_path.name} line {i}"
            try:
                r = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: not JSON ({exc.msg})") from None
            if not isinstance(r, dict):
                raise ConfigError(f"{where}: expected a JSON object")
            q = _number(r, "queued_ts", where)
            first = _number(r, "first_token_ts", where)
            last = _number(r, "last_token_ts", where)
            inp, out = int(_number(r, "input_toks", where)), int(_number(r, "output_toks", where))
            if inp < 1 or out < 1 or first < q or last < first:
                raise ConfigError(f"{where}: needs input/output tokens >= 1 and queued <= first <= last token times")
            rows.append((q, inp, out, first - q, (last - first) / (out - 1) if out > 1 else math.nan))
            sched = r.get("scheduled_ts")
            if isinstance(sched, int | float) and not isinstance(sched, bool) and q <= sched <= first:
                spans.append((float(sched), first, last, inp, out))
    if not rows:
        raise ConfigError(f"{req_path}: no requests")
    a = np.array(rows, dtype=np.float64)
    order = np.argsort(a[:, 0], kind="stable")
    a = a[order]
    notes = []
    logged = kv.get("num_kv_tokens") or kv.get("kv_cache_size_tokens")
    if not logged and isinstance(kv.get("num_gpu_blocks"), int) and isinstance(kv.get("block_size"), int):
        logged = kv["num_gpu_blocks"] * kv["block_size"]
    if not logged:
        notes.append("meta.json records no KV-cache size: predicted KV tokens not checked against the log")
    total = hw.get("device_total_memory_bytes")
    tpot = a[:, 4]
    peak = _peak_kv_in_use(spans) if len(spans) == len(rows) else None
    return MeasuredRun(
        source=str(folder),
        model=meta.get("model") or kwargs.get("model"),
        engine_args=_engine_args(kwargs, kv, str(meta.get("vllm_version", ""))),
        tp=int(kwargs.get("tensor_parallel_size") or 1),
        arrival_s=a[:, 0] - a[0, 0],
        input_tokens=a[:, 1].astype(np.int64),
        output_tokens=a[:, 2].astype(np.int64),
        ttft_s=a[:, 3],
        tpot_s=tpot[np.isfinite(tpot)],
        kv_tokens_logged=int(logged) if logged else None,
        kv_tokens_peak_in_use=peak,
        device_total_bytes=float(total) if isinstance(total, int | float) else None,
        engine_version=str(meta.get("vllm_version", "")),
        notes=tuple(notes),
    )


def _peak_kv_in_use(spans: list[tuple[float, float, float, int, int]]) -> int:
    """Largest sum over running requests of prompt + generated tokens, on the grid of their start and
    end times (a request holds its prompt from `scheduled_ts`, gains tokens evenly to `last_token_ts`)."""
    s = np.asarray(spans, dtype=np.float64)
    times = np.unique(np.concatenate([s[:, 0], s[:, 1], s[:, 2] - 1e-9]))
    t = times[:, None]
    sched, first, last, inp, out = (s[:, i][None, :] for i in range(5))
    running = (t >= sched) & (t < last)
    grown = np.clip((t - first) / np.maximum(last - first, 1e-12), 0.0, 1.0) * out
    held = np.where(running, inp + np.where(t >= first, grown, 0.0), 0.0)
    return int(held.sum(axis=1).max())


def read_vllm_bench(path: str | Path, seed: int = 0) -> MeasuredRun:
    """A `vllm bench serve --save-result` JSON; arrivals are re-drawn as the client drew them."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found")
    d = _load_json(path)
    if not isinstance(d, dict):
        raise ConfigError(f"{path}: expected the JSON object `vllm bench serve --save-result` writes")
    ins, outs = d.get("input_lens"), d.get("output_lens")
    if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs) or not ins:
        raise ConfigError(f"{path}: input_lens and output_lens must be lists of the same, non-zero length")
    inp = np.asarray(ins, dtype=np.float64)
    out = np.asarray(outs, dtype=np.float64)
    if not (np.all(np.isfinite(inp)) and np.all(np.isfinite(out))) or (inp < 0).any() or (out < 0).any():
        raise ConfigError(f"{path}: input_lens and output_lens must be whole numbers >= 0")
    ttfts, itls = d.get("ttfts"), d.get("itls")
    if not isinstance(ttfts, list) or len(ttfts) != len(ins):
        raise ConfigError(
            f"{path}: needs per-request `ttfts` (save with --save-result; --save-detailed on recent vLLM)"
        )
    ttft = np.asarray([t if isinstance(t, int | float) else math.nan for t in ttfts], dtype=np.float64)
    ok = np.isfinite(ttft) & (ttft > 0)  # failed requests carry ttft 0 and no tokens
    tpot = np.full(len(ins), math.nan)
    if isinstance(itls, list) and len(itls) == len(ins):
        for i, gaps in enumerate(itls):
            if isinstance(gaps, list) and gaps and out[i] > 1:
                tpot[i] = float(np.sum(np.asarray(gaps, dtype=np.float64))) / (out[i] - 1)
    rate = d.get("request_rate", "inf")
    rate_f = math.inf if rate in ("inf", None) else float(rate)
    shape = float(d.get("burstiness") or 1.0)
    conc = d.get("max_concurrency")
    rng = np.random.default_rng(seed)
    n = len(ins)
    notes = []
    if math.isfinite(rate_f) and rate_f > 0:
        gaps = rng.gamma(shape, 1.0 / (rate_f * shape), n)
        arrival = np.cumsum(gaps) - gaps[0]
        notes.append(f"arrivals re-drawn: gamma(shape {shape:g}) inter-arrivals at {rate_f:g} req/s (seed {seed})")
    else:
        arrival = np.zeros(n)
        notes.append("request rate inf: every request sent at t=0")
    if isinstance(conc, int) and conc > 0:
        notes.append(f"max_concurrency {conc}: at most {conc} requests in flight, as the client held them")
    return MeasuredRun(
        source=str(path),
        model=d.get("model_id"),
        engine_args=EngineArgs(),
        tp=1,
        arrival_s=arrival[ok],
        input_tokens=inp[ok].astype(np.int64),
        output_tokens=out[ok].astype(np.int64),
        ttft_s=ttft[ok],
        tpot_s=tpot[ok & np.isfinite(tpot)],
        max_concurrency=conc if isinstance(conc, int) and conc > 0 else None,
        notes=tuple(notes),
    )


@dataclass
class RunComparison:
    """Measured vs simulated percentiles (seconds) and the KV cache, logged vs predicted."""

    run: MeasuredRun
    deployment: str
    kv_tokens_predicted: int
    memory_plan: str
    measured: dict[str, list[float]]
    simulated: dict[str, list[float]]
    completed: int
    notes: list[str] = field(default_factory=list)

    def error_pct(self, metric: str) -> list[float]:
        return [100.0 * (s / m - 1.0) for m, s in zip(self.measured[metric], self.simulated[metric], strict=True)]

    @property
    def kv_error_pct(self) -> float | None:
        logged = self.run.kv_tokens_logged
        return None if not logged else 100.0 * (self.kv_tokens_predicted / logged - 1.0)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.run.source,
            "deployment": self.deployment,
            "requests": int(self.run.input_tokens.size),
            "completed_in_simulation": self.completed,
            "kv_tokens_predicted": self.kv_tokens_predicted,
            "kv_tokens_logged": self.run.kv_tokens_logged,
            "kv_tokens_peak_in_use_measured": self.run.kv_tokens_peak_in_use,
            "kv_error_pct": self.kv_error_pct,
            "memory_plan": self.memory_plan,
            "notes": [*self.run.notes, *self.notes],
        }
        for metric in ("ttft", "tpot"):
            for j, q in enumerate(PERCENTILES):
                out[f"{metric}_p{q}_ms_measured"] = self.measured[metric][j] * 1e3
                out[f"{metric}_p{q}_ms_simulated"] = self.simulated[metric][j] * 1e3
                out[f"{metric}_p{q}_error_pct"] = self.error_pct(metric)[j]
        return out


def compare_run(
    run: MeasuredRun,
    hardware: str,
    model: str | None = None,
    *,
    engine_args: EngineArgs | None = None,
    seed: int = 0,
    **deployment: Any,
) -> RunComparison:
    """Replay `run`'s requests through the simulator on `hardware` with the run's engine arguments
    (vLLM v1 scheduler) and compare TTFT/TPOT percentiles and the KV cache."""
    from inferonomics.perf import make_deployment
    from inferonomics.perf.memory import memory_plan
    from inferonomics.serving import ClosedLoop, EngineConfig, Simulation, StaticWorkload
    from inferonomics.serving.distributions import parse_distribution

    name = model or run.model
    if not name:
        raise InvalidInputError("the run does not name its model; give --model")
    args = engine_args or run.engine_args
    dep = make_deployment(name, hardware, tp=deployment.pop("tp", run.tp), engine_args=args, **deployment)
    plan = memory_plan(dep)
    wl: Any
    if run.max_concurrency is not None:
        ins = ",".join(str(int(v)) for v in run.input_tokens)
        outs = ",".join(str(int(v)) for v in run.output_tokens)
        wl = ClosedLoop(
            run.max_concurrency,
            parse_distribution(f"empirical:{ins}"),
            parse_distribution(f"empirical:{outs}"),
            int(run.input_tokens.size),
        )
    else:
        wl = StaticWorkload(run.arrival_s, run.input_tokens, run.output_tokens, source=run.source)
    res = Simulation(dep, wl, EngineConfig(scheduler="vllm"), seed=seed).run()
    rq = res.requests
    done = rq[rq.status == "completed"]
    sim_ttft = done.ttft_s.to_numpy(dtype=np.float64)
    sim_tpot = done.tpot_s.to_numpy(dtype=np.float64)
    sim_tpot = sim_tpot[np.isfinite(sim_tpot)]
    if not sim_ttft.size or not sim_tpot.size or not run.ttft_s.size or not run.tpot_s.size:
        raise InvalidInputError("no completed request to compare (measured or simulated)")
    qs = list(PERCENTILES)
    notes = []
    if run.device_total_bytes:
        notes.append(
            f"device memory: {plan.device_bytes / 2**30:.2f} GiB assumed, {run.device_total_bytes / 2**30:.2f} GiB "
            "recorded by the run"
        )
    return RunComparison(
        run=run,
        deployment=dep.describe(),
        kv_tokens_predicted=plan.kv_tokens,
        memory_plan=plan.log_line(),
        measured={
            "ttft": [float(v) for v in np.percentile(run.ttft_s, qs)],
            "tpot": [float(v) for v in np.percentile(run.tpot_s, qs)],
        },
        simulated={
            "ttft": [float(v) for v in np.percentile(sim_ttft, qs)],
            "tpot": [float(v) for v in np.percentile(sim_tpot, qs)],
        },
        completed=int(len(done)),
        notes=notes,
    )
