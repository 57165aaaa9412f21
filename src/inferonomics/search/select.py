"""Targets, feasibility, ranking, the Pareto set, why the runner-up lost, and what binds when nothing fits.

Screened rows hold per-replica figures; `evaluate` sizes replicas for the target rate, prices them
and checks every constraint as column arithmetic, so a stored sweep can be re-ranked under other
SLOs without screening again.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from inferonomics.errors import InvalidInputError
from inferonomics.frames import row_at
from inferonomics.search.cost import usd_per_million_tokens
from inferonomics.search.screen import candidate_of_row, replicas_for_rate
from inferonomics.search.space import Candidate, DisaggPair, SearchSpace

Objective = Literal["usd", "throughput"]
OBJECTIVES: tuple[str, ...] = ("usd", "throughput")

SORT_COLUMNS = ["config_id", "batch_size"]
"""Every result table is in this order (identical across backends, resumes and reruns)."""


@dataclass(frozen=True)
class Targets:
    """The SLO and limits a configuration must meet, the traffic it must carry, and what to optimise.

    Latency targets apply to the analytic model's steady-state means in stage 1; with a `percentile`
    (e.g. 99) the simulator checks that percentile in stage 2.
    """

    ttft_s: float | None = None
    tpot_s: float | None = None
    percentile: float | None = None
    rate_per_s: float | None = None
    """Requests per second to serve; None = one replica at its own capacity."""
    max_usd_per_hour: float | None = None
    max_chips: int | None = None
    objective: Objective = "usd"

    def __post_init__(self) -> None:
        for name in ("ttft_s", "tpot_s", "rate_per_s", "max_usd_per_hour"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise InvalidInputError(f"{name} must be > 0, got {v!r}")
        if self.percentile is not None and not 0 < self.percentile < 100:
            raise InvalidInputError(f"percentile must be in (0, 100), got {self.percentile!r}")
        if self.max_chips is not None and self.max_chips < 1:
            raise InvalidInputError(f"max_chips must be >= 1, got {self.max_chips!r}")
        if self.objective not in OBJECTIVES:
            raise InvalidInputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(rows: pd.DataFrame, targets: Targets, prices: dict[str, float], osl: int) -> pd.DataFrame:
    """Rows plus replicas, chips, cost and the constraint checks (vectorised; rows not modified)."""
    df = rows.copy()
    rps = df["requests_per_s_per_replica"].to_numpy(dtype=np.float64)
    tps = df["output_tokens_per_s_per_replica"].to_numpy(dtype=np.float64)
    cpr = df["chips_per_replica"].to_numpy(dtype=np.int64)
    serving = df["fits"].to_numpy(dtype=bool) & (rps > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if targets.rate_per_s is not None:
            replicas = np.where(serving, replicas_for_rate(targets.rate_per_s, rps), 0)
            served_tps = np.where(serving, targets.rate_per_s * osl, 0.0)
        else:
            replicas = np.where(serving, 1, 0)
            served_tps = np.where(serving, tps, 0.0)
        replicas = np.maximum(replicas, serving.astype(np.int64)).astype(np.int64)
        price = df["hardware"].map(prices).to_numpy(dtype=np.float64)
        chips = replicas * cpr
        df["replicas"] = replicas
        df["chips"] = chips
        df["usd_per_chip_hour"] = price
        df["usd_per_hour"] = chips * price
        df["usd_per_mtok"] = usd_per_million_tokens(chips, served_tps, price)
        df["usd_per_mtok_at_capacity"] = usd_per_million_tokens(cpr, tps, price)
        df["tokens_per_s_per_gpu"] = np.where(serving, served_tps / np.maximum(chips, 1), 0.0)
        df["tokens_per_s_per_gpu_at_capacity"] = np.where(serving, tps / np.maximum(cpr, 1), 0.0)
        tpot_ms = df["tpot_ms"].to_numpy(dtype=np.float64)
        per_user = np.divide(1e3, tpot_ms, out=np.full_like(tpot_ms, np.inf), where=tpot_ms > 0)
        df["tokens_per_s_per_user"] = np.where(serving, per_user, 0.0)
    ttft = df["ttft_ms"].to_numpy(dtype=np.float64)
    tpot = df["tpot_ms"].to_numpy(dtype=np.float64)
    df["meets_ttft"] = serving & (ttft <= targets.ttft_s * 1e3 if targets.ttft_s else True)
    df["meets_tpot"] = serving & (tpot <= targets.tpot_s * 1e3 if targets.tpot_s else True)
    budget = targets.max_usd_per_hour
    df["within_budget"] = serving & ((chips * price <= budget) if budget is not None else True)
    df["within_chips"] = serving & ((chips <= targets.max_chips) if targets.max_chips is not None else True)
    df["feasible"] = df["meets_ttft"] & df["meets_tpot"] & df["within_budget"] & df["within_chips"]
    return df


def effective_objective(df: pd.DataFrame, objective: Objective) -> tuple[Objective, list[str]]:
    """USD needs prices: when no feasible row has one, rank by throughput and say so."""
    if objective == "usd":
        feasible = df[df["feasible"]]
        if len(feasible) and not np.isfinite(feasible["usd_per_mtok"].to_numpy(dtype=np.float64)).any():
            return "throughput", ["no configuration that meets the targets has a price: ranked by tokens/s per GPU"]
    return objective, []


def objective_values(df: pd.DataFrame, objective: Objective, at_capacity: bool = False) -> np.ndarray:
    """Values to minimise: USD per million tokens (no price = +inf) or minus tokens/s per GPU, of the
    deployment sized for the rate (or, `at_capacity`, of one replica running flat out)."""
    suffix = "_at_capacity" if at_capacity else ""
    if objective == "usd":
        v = df["usd_per_mtok" + suffix].to_numpy(dtype=np.float64)
        return np.where(np.isfinite(v), v, np.inf)
    return -df["tokens_per_s_per_gpu" + suffix].to_numpy(dtype=np.float64)


def rank(df: pd.DataFrame, objective: Objective) -> pd.DataFrame:
    """Rows best first: objective, then faster per user, fewer chips, then the stable key."""
    key = pd.DataFrame(
        {
            "obj": objective_values(df, objective),
            "user": -df["tokens_per_s_per_user"].to_numpy(dtype=np.float64),
            "chips": df["chips"].to_numpy(),
            "config_id": df["config_id"].to_numpy(),
            "batch_size": df["batch_size"].to_numpy(),
        },
        index=df.index,
    )
    order = key.sort_values(["obj", "user", "chips", "config_id", "batch_size"], kind="mergesort").index
    return df.loc[order]


def best_per_config(ranked: pd.DataFrame) -> pd.DataFrame:
    """The best row of each configuration (batch sizes of one deployment collapse to their best)."""
    return ranked.drop_duplicates("config_id", keep="first")


def pareto_front(df: pd.DataFrame, objective: Objective) -> pd.DataFrame:
    """Feasible rows not beaten on both cost (or tokens/s per GPU) and tokens/s per user, cheapest first."""
    feasible = df[df["feasible"]]
    x = objective_values(feasible, objective)
    ok = np.isfinite(x)
    feasible = feasible[ok]
    if feasible.empty:
        return feasible
    ranked = rank(feasible, objective)
    y = ranked["tokens_per_s_per_user"].to_numpy(dtype=np.float64)
    keep = np.zeros(len(ranked), dtype=bool)
    best_y = -np.inf
    for i in range(len(ranked)):  # cheapest first: a row stays if it is faster than every cheaper one
        if y[i] > best_y:
            keep[i] = True
            best_y = y[i]
    return ranked[keep]


def describe_row(r: pd.Series | dict[str, Any]) -> str:
    """One line for people: chips, hardware, parallelism, formats, engine, batch."""
    g = r.get
    par = _par(g("tp"), g("pp"), g("attention_dp"), g("ep"))
    if g("mode") == "disagg":
        ppar = _par(g("prefill_tp"), g("prefill_pp"), g("prefill_attention_dp"), g("prefill_ep"))
        shape = f"{g('prefill_instances')}P({ppar}) + {g('decode_instances')}D({par})"
    else:
        shape = par
    k = int(g("speculative_tokens") or 0)
    spec = f", {k} draft token{'s' if k > 1 else ''}" if k else ""
    chunk = f", chunk {g('chunk_tokens')}" if g("chunk_tokens") else ""
    reps = int(g("replicas") or 1)
    copies = f" x {reps} replicas" if reps > 1 else ""
    return (
        f"{g('chips_per_replica')}x {g('hardware')} {shape}{copies}, {g('precision')} weights, "
        f"{g('kv_precision')} KV, {g('engine')}, batch {g('batch_size')}{spec}{chunk}"
    )


def _par(tp: Any, pp: Any, adp: Any, ep: Any) -> str:
    parts = [f"TP{tp}"]
    if pp and pp > 1:
        parts.append(f"PP{pp}")
    if adp and adp > 1:
        parts.append(f"ADP{adp}")
    if ep and ep > 1:
        parts.append(f"EP{ep}")
    return "/".join(parts)


def lost_because(best: pd.Series, other: pd.Series, objective: Objective) -> str:
    """One line: why `other` ranks below `best`."""
    if objective == "usd":
        b, o = float(best["usd_per_mtok"]), float(other["usd_per_mtok"])
        if not math.isfinite(o):
            head = "has no price for its hardware"
        elif o > b * (1 + 1e-9):
            head = f"costs {o:.3g} vs {b:.3g} USD per million tokens (+{(o / b - 1) * 100:.0f}%)"
        else:
            head = ""
    else:
        b, o = float(best["tokens_per_s_per_gpu"]), float(other["tokens_per_s_per_gpu"])
        head = f"serves {o:,.0f} vs {b:,.0f} tokens/s per GPU ({(o / b - 1) * 100:+.0f}%)" if o < b * (1 - 1e-9) else ""
    why = _driver(best, other)
    if not head:
        bu, ou = float(best["tokens_per_s_per_user"]), float(other["tokens_per_s_per_user"])
        if ou < bu * (1 - 1e-9):
            return f"ties on the objective but is slower per user: {ou:,.1f} vs {bu:,.1f} tokens/s"
        return f"ties on the objective and speed; {why or 'listed second by the stable order'}"
    return f"{head}{': ' + why if why else ''}"


def _driver(best: pd.Series, other: pd.Series) -> str:
    if int(other["chips"]) != int(best["chips"]):
        return (
            f"it needs {int(other['chips'])} chips ({int(other['replicas'])} "
            f"replica{'s' if int(other['replicas']) != 1 else ''}) for the rate "
            f"vs {int(best['chips'])}"
        )
    pb, po = float(best["usd_per_chip_hour"]), float(other["usd_per_chip_hour"])
    if math.isfinite(pb) and math.isfinite(po) and abs(pb - po) > 1e-9:
        return f"its chips rent for {po:.2f} vs {pb:.2f} USD per hour"
    gb, go = float(best["tokens_per_s_per_gpu_at_capacity"]), float(other["tokens_per_s_per_gpu_at_capacity"])
    if abs(gb - go) > 1e-9 * max(gb, 1.0):
        return f"{go:,.0f} vs {gb:,.0f} tokens/s per GPU at capacity"
    return ""


def explain_infeasible(df: pd.DataFrame, targets: Targets, objective: Objective, n_closest: int = 5) -> dict[str, Any]:
    """Which constraint binds when no row is feasible, and the configurations closest to meeting all."""
    fit = df[df["fits"]]
    if df.empty:
        return {
            "binding": ["space"],
            "message": "nothing to screen: no deployment of the search space runs on "
            "the chosen hardware (see the notes)",
            "closest": [],
        }
    if fit.empty:
        over = df.sort_values(["chips_per_replica", "config_id"]).head(1)
        hint = f" (largest tried: {describe_row(over.iloc[0])})" if len(over) else ""
        return {
            "binding": ["memory"],
            "message": "no configuration fits in memory: allow more chips per instance "
            f"(--max-chips-per-instance) or narrower formats{hint}",
            "closest": [],
        }
    checks = [("tpot", "meets_tpot"), ("ttft", "meets_ttft"), ("budget", "within_budget"), ("chips", "within_chips")]
    binding = [name for name, col in checks if not fit[col].any()]
    msgs = []
    if "tpot" in binding:
        r = row_at(fit, fit["tpot_ms"].idxmin())
        msgs.append(
            f"TPOT binds: the fastest configuration reaches {r['tpot_ms']:.1f} ms per token "
            f"(target {(targets.tpot_s or 0) * 1e3:g} ms) with {describe_row(r)}"
        )
    if "ttft" in binding:
        r = row_at(fit, fit["ttft_ms"].idxmin())
        msgs.append(
            f"TTFT binds: the lowest is {r['ttft_ms']:.0f} ms (target {(targets.ttft_s or 0) * 1e3:g} ms) "
            f"with {describe_row(r)}"
        )
    latency_ok = fit[fit["meets_ttft"] & fit["meets_tpot"]]
    if not binding and latency_ok.empty:
        binding = ["ttft+tpot"]
        msgs.append("TTFT and TPOT together bind: each can be met, but no configuration meets both")
    if not latency_ok.empty:
        if targets.max_usd_per_hour is not None and not latency_ok["within_budget"].any():
            cheapest = latency_ok["usd_per_hour"].min()
            binding.append("budget")
            msgs.append(
                f"the budget binds: meeting the latency targets costs at least {cheapest:,.2f} USD per hour "
                f"(budget {targets.max_usd_per_hour:,.2f})"
            )
        if targets.max_chips is not None and not latency_ok["within_chips"].any():
            binding.append("chips")
            msgs.append(
                f"the chip limit binds: meeting the latency targets takes at least "
                f"{int(latency_ok['chips'].min())} chips (limit {targets.max_chips})"
            )
        if not msgs:
            binding = binding or ["combined"]
            msgs.append("the budget and chip limits together with the latency targets leave nothing")
    return {
        "binding": list(dict.fromkeys(binding)),
        "message": "; ".join(msgs),
        "closest": closest(fit, targets, objective, n_closest),
    }


def closest(fit: pd.DataFrame, targets: Targets, objective: Objective, n: int = 5) -> list[dict[str, Any]]:
    """Configurations with the smallest worst ratio of achieved to allowed, over all constraints."""
    ratios = [np.ones(len(fit))]
    if targets.ttft_s:
        ratios.append(fit["ttft_ms"].to_numpy(dtype=np.float64) / (targets.ttft_s * 1e3))
    if targets.tpot_s:
        ratios.append(fit["tpot_ms"].to_numpy(dtype=np.float64) / (targets.tpot_s * 1e3))
    if targets.max_usd_per_hour is not None:
        cost = fit["usd_per_hour"].to_numpy(dtype=np.float64)
        ratios.append(np.where(np.isfinite(cost), cost / targets.max_usd_per_hour, np.inf))
    if targets.max_chips is not None:
        ratios.append(fit["chips"].to_numpy(dtype=np.float64) / targets.max_chips)
    worst = np.max(np.vstack(ratios), axis=0)
    tmp = fit.assign(_worst=worst, _obj=objective_values(fit, objective))
    tmp = tmp.sort_values(["_worst", "_obj", "config_id", "batch_size"], kind="mergesort")
    tmp = tmp.drop_duplicates("config_id").head(n)
    return [{**row_summary(r), "worst_ratio_to_target": float(r["_worst"])} for _, r in tmp.iterrows()]


SUMMARY_KEYS = (
    "hardware",
    "chip",
    "mode",
    "chips",
    "replicas",
    "chips_per_replica",
    "tp",
    "pp",
    "ep",
    "attention_dp",
    "prefill_instances",
    "decode_instances",
    "prefill_tp",
    "prefill_pp",
    "prefill_ep",
    "prefill_attention_dp",
    "precision",
    "kv_precision",
    "engine",
    "speculative_tokens",
    "chunk_tokens",
    "batch_size",
    "ttft_ms",
    "tpot_ms",
    "tokens_per_s_per_user",
    "tokens_per_s_per_gpu",
    "tokens_per_s_per_gpu_at_capacity",
    "requests_per_s_per_replica",
    "usd_per_chip_hour",
    "usd_per_hour",
    "usd_per_mtok",
    "usd_per_mtok_at_capacity",
    "config_id",
)


def _py(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        f = float(v)
        return None if not math.isfinite(f) else f
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def row_summary(r: pd.Series) -> dict[str, Any]:
    """A row as plain Python values for JSON, with a `parallelism` block and a one-line description."""
    out = {k: _py(r[k]) for k in SUMMARY_KEYS if k in r.index}
    par: dict[str, Any] = {k: out.get(k) for k in ("tp", "pp", "ep", "attention_dp")}
    prefill_keys = [k for k in out if k.startswith("prefill_") or k == "decode_instances"]
    if out.get("mode") == "disagg":
        par["prefill"] = {
            "instances": out.get("prefill_instances"),
            "tp": out.get("prefill_tp"),
            "pp": out.get("prefill_pp"),
            "ep": out.get("prefill_ep"),
            "attention_dp": out.get("prefill_attention_dp"),
        }
        par["decode_instances"] = out.get("decode_instances")
    for k in prefill_keys:  # kept in the parallelism block
        out.pop(k)
    out["parallelism"] = par
    out["description"] = describe_row(r)
    return out


# --- disaggregated pools: which pairs to screen ---------------------------------------------------------

GROUP_KEYS = ["hardware", "precision", "kv_precision", "engine", "speculative_tokens"]


def plan_pairs(evaluated: pd.DataFrame, space: SearchSpace, objective: Objective) -> list[DisaggPair]:
    """Prefill/decode pairs for the leading (hardware, formats, engine) groups of the aggregated screen.

    Groups are ranked by their best aggregated row among those meeting TPOT (the decode pool's job;
    the prefill pool sizes TTFT). Decode candidates: the group's best shapes; prefill candidates: the
    smallest fitting shape (most prefill per chip) and the best decode shape.
    """
    agg = evaluated[(evaluated["mode"] == "agg") & evaluated["fits"]]
    if agg.empty:
        return []
    pool = agg[agg["meets_tpot"]]
    if pool.empty:
        pool = agg.nsmallest(min(len(agg), 50), "tpot_ms")
    score = objective_values(pool, objective, at_capacity=True)
    if objective == "usd" and not np.isfinite(score).any():
        score = objective_values(pool, "throughput", at_capacity=True)
    pool = pool.assign(_score=score).sort_values(["_score", "config_id", "batch_size"], kind="mergesort")
    groups = pool.drop_duplicates(GROUP_KEYS)[GROUP_KEYS].head(space.disagg_groups)
    pairs: list[DisaggPair] = []
    for _, g in groups.iterrows():
        in_group = (pool[GROUP_KEYS] == g.to_numpy()).all(axis=1)
        shapes = pool[in_group].drop_duplicates(["tp", "pp", "attention_dp", "ep"])
        decode = [_candidate(r) for _, r in shapes.head(space.disagg_decode_candidates).iterrows()]
        fit_group = agg[(agg[GROUP_KEYS] == g.to_numpy()).all(axis=1)]
        smallest = fit_group.sort_values(["chips_per_replica", "config_id"]).head(1)
        prefill = list(dict.fromkeys([_candidate(r) for _, r in smallest.iterrows()] + decode[:1]))
        pairs += [DisaggPair(p, d) for p in prefill for d in decode]
    return sorted(set(pairs), key=lambda p: p.config_id)


def _candidate(r: pd.Series) -> Candidate:
    return replace(candidate_of_row(r), chunk_tokens=0)  # prefill runs whole prompts; decode has no chunks
