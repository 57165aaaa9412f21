"""Stage 1: screen candidate deployments with the analytic steady-state model, vectorised over batch sizes.

Every figure comes from `inferonomics.perf`: one `StepTimeModel` per deployment, one call of
`steady_state.closed_loop` (aggregated) or `steady_state.disaggregated` (xPyD grid x batch sizes) per
deployment, `max_sequences` for the memory fit. Nothing here knows a performance formula.

The functions are pure (inputs in, a DataFrame out) so the same chunk gives the same rows in this
process, in a worker process or in a Ray task.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.errors import InferonomicsError, InvalidInputError
from inferonomics.perf import Deployment, StepTimeModel, max_sequences, memory_use
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.steady_state import (
    SteadyState,
    closed_loop,
    disaggregated,
    open_loop,
    open_loop_disaggregated,
)
from inferonomics.search.space import Candidate, DisaggPair, SearchSpace

RAW_COLUMNS: dict[str, str] = {
    # identity
    "config_id": "object",
    "unit_id": "object",
    "mode": "object",
    "hardware": "object",
    "chip": "object",
    "tp": "int64",
    "pp": "int64",
    "attention_dp": "int64",
    "ep": "int64",
    "precision": "object",
    "kv_precision": "object",
    "engine": "object",
    "speculative_tokens": "int64",
    "chunk_tokens": "int64",
    "prefill_instances": "int64",
    "decode_instances": "int64",
    "prefill_tp": "int64",
    "prefill_pp": "int64",
    "prefill_attention_dp": "int64",
    "prefill_ep": "int64",
    "chips_per_replica": "int64",
    # operating point
    "batch_size": "int64",
    "concurrency_per_replica": "float64",
    "max_batch_fit": "int64",
    "fits": "bool",
    # steady state, per replica (a replica of a disaggregated config is one xPyD group)
    "ttft_ms": "float64",
    "tpot_ms": "float64",
    "ttft_full_batch_ms": "float64",
    "tpot_full_batch_ms": "float64",
    "requests_per_s_per_replica": "float64",
    "output_tokens_per_s_per_replica": "float64",
    "decode_batch": "float64",
}
"""Columns of the screened rows, in order; `select.evaluate` adds the target-dependent ones."""


@dataclass(frozen=True)
class ScreenInputs:
    """Everything a chunk of screening needs (pickled once per worker / Ray task)."""

    model: ModelSpec
    systems: tuple[System, ...]
    isl: int
    osl: int
    space: SearchSpace
    calibration: Calibration | None = None
    rate_per_s: float | None = None
    """The traffic to serve: candidates are evaluated at the open-loop rate each replica (aggregated) or
    xPyD group (disaggregated) gets (`replicas_for_rate`), not at a full batch; None = at a full batch (a
    closed loop of `batch_size` per instance)."""

    def __post_init__(self) -> None:
        for name in ("isl", "osl"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise InvalidInputError(f"{name} must be a whole number of tokens >= 1, got {v!r}")
        ctx = self.model.max_context_tokens
        if ctx and self.isl + self.osl > ctx:
            raise InvalidInputError(
                f"isl + osl = {self.isl + self.osl} exceeds {self.model.name}'s context window of {ctx} tokens"
            )

    def system(self, name: str) -> System:
        for s in self.systems:
            if s.name == name:
                return s
        raise InvalidInputError(f"system {name!r} is not among the searched hardware")

    def screen_key(self) -> dict[str, Any]:
        """What determines the screened rows (a resumed sweep must match it)."""
        cal = self.calibration or default_calibration()
        key = {
            "model": self.model.name,
            "model_sha": _digest(asdict(self.model)),
            "systems": {s.name: _digest(asdict(s)) for s in self.systems},
            "isl": int(self.isl),
            "osl": int(self.osl),
            "space": self.space.to_dict(),
            "calibration_sha": _digest(asdict(cal)),
            "rate_per_s": self.rate_per_s,
        }
        return dict(json.loads(json.dumps(key, sort_keys=True, default=str)))  # as stored: lists, not tuples


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class ChunkResult:
    """Rows of one chunk and what was skipped (impossible combinations are not rows)."""

    rows: pd.DataFrame
    deployments: int = 0
    invalid: int = 0
    invalid_examples: list[str] = field(default_factory=list)


class CalibrationCache:
    """The calibration with an engine's prefill chunk size replaced (the search knob), cached."""

    def __init__(self, base: Calibration | None) -> None:
        self.base = base or default_calibration()
        self._cache: dict[tuple[str, int], Calibration] = {}

    def get(self, engine: str, chunk_tokens: int) -> Calibration:
        if chunk_tokens <= 0:
            return self.base
        key = (engine, chunk_tokens)
        if key not in self._cache:
            fit = replace(self.base.engine(engine), prefill_token_budget=float(chunk_tokens))
            self._cache[key] = replace(self.base, engines={**self.base.engines, engine: fit})
        return self._cache[key]


def build_deployment(inputs: ScreenInputs, c: Candidate, replicas: int = 1) -> Deployment:
    """The `perf.Deployment` of a candidate (raises `InvalidInputError` for impossible combinations)."""
    return Deployment(
        model=inputs.model,
        system=inputs.system(c.system),
        tp=c.tp,
        pp=c.pp,
        attention_dp=c.attention_dp,
        moe_ep=c.moe_ep,
        weight_precision=c.weight_precision,
        kv_precision=c.kv_precision,
        backend=c.engine,  # type: ignore[arg-type]
        replicas=replicas,
        speculative_tokens=c.speculative_tokens,
        acceptance_rate=inputs.space.acceptance_for(inputs.model) if c.speculative_tokens else 0.0,
        engine_args=inputs.space.engine_args,
        acceptance=tuple(inputs.space.acceptance) if c.speculative_tokens else (),
    )


def replicas_for_rate(rate_per_s: float, requests_per_s_per_replica: Any) -> np.ndarray:
    """Replicas to serve `rate_per_s` when one serves at most `requests_per_s_per_replica` (its capacity at
    the screened batch); 0 where a replica serves nothing."""
    rps = np.asarray(requests_per_s_per_replica, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rps > 0, np.ceil(rate_per_s / np.where(rps > 0, rps, 1.0) - 1e-9), 0).astype(np.int64)


def batch_grid(space: SearchSpace, most: int) -> np.ndarray:
    """Batch sizes to screen: the space's, capped by the most sequences that fit, plus that most."""
    sizes = [b for b in space.batch_sizes if b <= most]
    if most <= max(space.batch_sizes):
        sizes.append(most)
    return np.unique(np.asarray(sizes, dtype=np.int64))


class _Rows:
    """Rows gathered per unit of work: identity values once per unit (repeated at the end), metrics as arrays."""

    def __init__(self) -> None:
        self.idents: list[dict[str, Any]] = []
        self.counts: list[int] = []
        self.arrays: list[dict[str, np.ndarray]] = []

    def add(self, ident: dict[str, Any], n: int, **arrays: Any) -> None:
        self.idents.append(ident)
        self.counts.append(n)
        self.arrays.append({k: np.broadcast_to(np.asarray(v), (n,)) for k, v in arrays.items()})

    def frame(self) -> pd.DataFrame:
        if not self.idents:
            return empty_rows()
        counts = np.asarray(self.counts)
        cols: dict[str, Any] = {}
        for k in RAW_COLUMNS:
            if k in self.arrays[0]:
                cols[k] = np.concatenate([a[k] for a in self.arrays])
            else:
                cols[k] = np.repeat(np.asarray([i[k] for i in self.idents], dtype=RAW_COLUMNS[k]), counts)
        return pd.DataFrame(cols).astype(RAW_COLUMNS)


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(dtype=t) for k, t in RAW_COLUMNS.items()})


def _identity(c: Candidate, system: System) -> dict[str, Any]:
    return {
        "config_id": c.config_id,
        "unit_id": c.config_id,
        "mode": "agg",
        "hardware": c.system,
        "chip": system.chip.name,
        "tp": c.tp,
        "pp": c.pp,
        "attention_dp": c.attention_dp,
        "ep": c.moe_ep,
        "precision": c.weight_precision,
        "kv_precision": c.kv_precision,
        "engine": c.engine,
        "speculative_tokens": c.speculative_tokens,
        "chunk_tokens": c.chunk_tokens,
        "prefill_instances": 0,
        "decode_instances": 0,
        "prefill_tp": 0,
        "prefill_pp": 0,
        "prefill_attention_dp": 0,
        "prefill_ep": 0,
        "chips_per_replica": c.chips,
    }


def screen_candidates(inputs: ScreenInputs, candidates: list[Candidate]) -> ChunkResult:
    """Aggregated serving: each candidate's batch sizes in one `closed_loop` call.

    A deployment whose weights leave no room for one sequence gives a single row with `fits` False
    (so "memory binds" can be explained); impossible combinations are counted, not rows.
    """
    cals = CalibrationCache(inputs.calibration)
    isl, osl = inputs.isl, inputs.osl
    rows = _Rows()
    result = ChunkResult(rows=empty_rows())
    for c in candidates:
        try:
            dep = build_deployment(inputs, c)
        except InferonomicsError as exc:
            result.invalid += 1
            if len(result.invalid_examples) < 3:
                result.invalid_examples.append(f"{c.config_id}: {exc}")
            continue
        result.deployments += 1
        cal = cals.get(c.engine, c.chunk_tokens)
        most = max_sequences(dep, isl + osl, cal)
        ident = _identity(c, dep.system)
        if most < 1:
            rows.add(
                ident,
                1,
                batch_size=0,
                concurrency_per_replica=0.0,
                max_batch_fit=0,
                fits=False,
                ttft_ms=np.nan,
                tpot_ms=np.nan,
                ttft_full_batch_ms=np.nan,
                tpot_full_batch_ms=np.nan,
                requests_per_s_per_replica=0.0,
                output_tokens_per_s_per_replica=0.0,
                decode_batch=0.0,
            )
            continue
        batches = batch_grid(inputs.space, most)
        stm = StepTimeModel(dep, cal)
        ss = closed_loop(stm, batches.astype(np.float64), isl, osl)
        cols = _steady_columns(ss)
        cols["ttft_full_batch_ms"], cols["tpot_full_batch_ms"] = cols["ttft_ms"], cols["tpot_ms"]
        if inputs.rate_per_s:
            # the replicas the rate needs at this batch, each fed its share of the traffic (open loop)
            replicas = np.maximum(replicas_for_rate(inputs.rate_per_s, ss.requests_per_s), 1)
            offered = open_loop(stm, inputs.rate_per_s / replicas, isl, osl, batches.astype(np.float64))
            cols["ttft_ms"] = np.asarray(offered.ttft_s, dtype=np.float64) * 1e3
            cols["tpot_ms"] = np.asarray(offered.tpot_s, dtype=np.float64) * 1e3
        rows.add(
            ident,
            batches.size,
            batch_size=batches,
            concurrency_per_replica=batches.astype(np.float64),
            max_batch_fit=most,
            fits=True,
            **cols,
        )
    result.rows = rows.frame()
    return result


def _steady_columns(ss: SteadyState) -> dict[str, np.ndarray]:
    """The screen's columns of a steady state (times in ms, rates per replica)."""
    return {
        "ttft_ms": np.asarray(ss.ttft_s, dtype=np.float64) * 1e3,
        "tpot_ms": np.asarray(ss.tpot_s, dtype=np.float64) * 1e3,
        "requests_per_s_per_replica": np.asarray(ss.requests_per_s, dtype=np.float64),
        "output_tokens_per_s_per_replica": np.asarray(ss.output_tokens_per_s, dtype=np.float64),
        "decode_batch": np.asarray(ss.decode_batch, dtype=np.float64),
    }


def screen_pairs(inputs: ScreenInputs, pairs: list[DisaggPair]) -> ChunkResult:
    """Disaggregated serving: per (prefill, decode) pair, the grid of x prefill and y decode instances
    and decode batch sizes in one `disaggregated` call (its instance counts broadcast as arrays)."""
    cals = CalibrationCache(inputs.calibration)
    isl, osl, space = inputs.isl, inputs.osl, inputs.space
    rows = _Rows()
    result = ChunkResult(rows=empty_rows())
    for pair in pairs:
        p, d = pair.prefill, pair.decode
        try:
            dep_p = build_deployment(inputs, p)
            dep_d = build_deployment(inputs, d)
        except InferonomicsError as exc:
            result.invalid += 1
            if len(result.invalid_examples) < 3:
                result.invalid_examples.append(f"{pair.config_id}: {exc}")
            continue
        cal = cals.get(d.engine, 0)
        most = max_sequences(dep_d, isl + osl, cal)
        if most < 1 or max_sequences(dep_p, isl, cal) < 1:
            continue  # planned from fitting deployments; a pair that does not fit is not a row
        result.deployments += 1
        batches = batch_grid(space, most)
        xs = np.arange(1, space.max_prefill_instances + 1)
        ys = np.arange(1, space.max_decode_instances + 1)
        x, y, b = (a.ravel() for a in np.meshgrid(xs, ys, batches, indexing="ij"))
        conc = (y * b).astype(np.float64)
        stm_p, stm_d = StepTimeModel(dep_p, cal), StepTimeModel(dep_d, cal)
        ss = disaggregated(stm_p, stm_d, x.astype(np.float64), y.astype(np.float64), conc, isl, osl)
        cols = _steady_columns(ss)
        cols["ttft_full_batch_ms"], cols["tpot_full_batch_ms"] = cols["ttft_ms"], cols["tpot_ms"]
        if inputs.rate_per_s:
            # each xPyD group fed its share of the traffic (open loop), as for aggregated replicas
            groups = np.maximum(replicas_for_rate(inputs.rate_per_s, ss.requests_per_s), 1)
            offered = open_loop_disaggregated(stm_p, stm_d, x, y, inputs.rate_per_s / groups, isl, osl, conc)
            cols["ttft_ms"] = np.asarray(offered.ttft_s, dtype=np.float64) * 1e3
            cols["tpot_ms"] = np.asarray(offered.tpot_s, dtype=np.float64) * 1e3
        ident = _identity(d, dep_d.system)
        ident.update(
            unit_id=pair.config_id,
            mode="disagg",
            chunk_tokens=0,
            prefill_tp=p.tp,
            prefill_pp=p.pp,
            prefill_attention_dp=p.attention_dp,
            prefill_ep=p.moe_ep,
        )
        ids = np.asarray(
            [f"{pair.config_id}|{i}P{j}D" for i, j in zip(x.tolist(), y.tolist(), strict=True)], dtype=object
        )
        rows.add(
            ident,
            x.size,
            config_id=ids,
            prefill_instances=x,
            decode_instances=y,
            chips_per_replica=x * p.chips + y * d.chips,
            batch_size=b,
            concurrency_per_replica=conc,
            max_batch_fit=most,
            fits=True,
            **cols,
        )
    result.rows = rows.frame()
    return result


def candidate_of_row(r: Any) -> Candidate:
    """The (decode) deployment of a screened row."""
    return Candidate(
        str(r["hardware"]),
        int(r["tp"]),
        int(r["pp"]),
        int(r["attention_dp"]),
        int(r["ep"]),
        str(r["precision"]),
        str(r["kv_precision"]),
        str(r["engine"]),
        int(r["speculative_tokens"]),
        int(r["chunk_tokens"]),
    )


def memory_use_of_row(inputs: ScreenInputs, r: Any) -> dict[str, Any]:
    """Memory per chip (`perf.memory_use`) of a row's (decode) instance holding its batch at full length."""
    c = candidate_of_row(r)
    dep = build_deployment(inputs, c)
    cal = CalibrationCache(inputs.calibration).get(c.engine, c.chunk_tokens)
    return memory_use(dep, float(r["batch_size"]), inputs.isl + inputs.osl, cal).to_dict()
