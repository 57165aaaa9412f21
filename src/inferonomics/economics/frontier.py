"""The speed/cost frontier: output tokens/s per user against USD per million output tokens.

For one model on one kind of hardware, every chip count, parallelism (TP x PP, and attention-DP x EP
for MoE) and batch size is run through the closed-loop performance model; the Pareto set of (faster,
cheaper) points is the curve behind an API's "fast" and "slow" modes (Erdil 2025, "Inference
economics of language models", Epoch AI). Marked on it: the latency floor (fastest point), the cost
floor (cheapest point) and the single-user point (the fastest way to serve one user alone, batch 1),
with how many times cheaper the cost floor is than the single-user point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.economics.cost import check_workload, operating_points, usd_per_mtok
from inferonomics.economics.levers import FORMAT_QUALITY_NOTE, REALISTIC_TTFT_S, default_speculation, native_formats
from inferonomics.economics.ownership import (
    Acquisition,
    ChipHourCost,
    OwnershipAssumptions,
    check_utilisation,
    chip_hour_cost,
)
from inferonomics.errors import DoesNotFitError, InvalidInputError
from inferonomics.frames import row_at
from inferonomics.perf import Deployment, make_deployment, max_sequences
from inferonomics.perf.bounds import Floors, floors
from inferonomics.perf.calibration import Calibration
from inferonomics.results import ResultMixin

POINT_COLUMNS = (
    "tokens_per_s_per_user",
    "usd_per_mtok_output",
    "batch_size",
    "chips",
    "concurrency",
    "tp",
    "pp",
    "attention_dp",
    "ep",
    "ttft_s",
    "usd_per_mtok_input",
    "usd_per_mtok_output_all_in",
    "output_tokens_per_s_per_chip",
    "precision",
    "kv_precision",
    "speculative_tokens",
    "acceptance_rate",
    "mode",
    "prefill_instances",
    "decode_instances",
    "deployment",
)


def _powers_of_two(limit: int) -> list[int]:
    out, n = [], 1
    while n <= limit:
        out.append(n)
        n *= 2
    return out


def candidate_deployments(
    model: ModelSpec,
    system: System,
    *,
    isl: int = 1024,
    osl: int = 1024,
    max_chips: int = 64,
    precision: str | None = None,
    kv_precision: str | None = None,
    backend: str = "vllm",
    speculative_tokens: int = 0,
    acceptance_rate: float = 0.0,
    calibration: Calibration | None = None,
) -> list[Deployment]:
    """Deployments of `model` on up to `max_chips` chips (powers of two) that hold one ISL + OSL sequence.

    Dense: TP within the scale-up domain x PP over the rest (pipeline stages only once TP fills the domain).
    MoE: also attention-DP x EP over all chips,
    across nodes too (DeepSeek-style wide expert parallelism).
    """
    if isinstance(max_chips, bool) or not isinstance(max_chips, int) or max_chips < 1:
        raise InvalidInputError(f"max_chips must be a whole number >= 1, got {max_chips!r}")
    kw: dict[str, Any] = dict(
        precision=precision,
        kv_precision=kv_precision,
        backend=backend,
        speculative_tokens=speculative_tokens,
        acceptance_rate=acceptance_rate,
    )
    out: list[Deployment] = []
    seen: set[tuple[int, int, int, int]] = set()
    domain = system.scaleup_domain_chips
    for n in _powers_of_two(max_chips):
        shapes: list[tuple[int, int, int, int]] = []  # tp, pp, attention_dp, ep
        for tp in _powers_of_two(min(n, domain)):
            pp = n // tp
            # pipeline stages only across scale-up domains, as deployments run (and `search.space` enumerates)
            if pp <= model.num_layers and (pp == 1 or tp == min(domain, max_chips)):
                shapes.append((tp, pp, 1, 1))
        if model.is_moe and n > 1 and model.num_experts % n == 0:
            shapes.append((1, 1, n, n))
        for tp, pp, adp, ep in shapes:
            if (tp, pp, adp, ep) in seen:
                continue
            seen.add((tp, pp, adp, ep))
            try:
                dep = make_deployment(model, system, tp=tp, pp=pp, attention_dp=adp, ep=ep, **kw)
            except InvalidInputError:
                continue
            if max_sequences(dep, isl + osl, calibration) >= 1:
                out.append(dep)
    return out


def pareto_mask(speed: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """True for points no other point beats on both (higher speed and lower cost)."""
    order = np.lexsort((cost, -speed))  # fastest first, cheapest among equals
    keep = np.zeros(len(speed), dtype=bool)
    best = np.inf
    for i in order:
        if cost[i] < best:
            keep[i] = True
            best = cost[i]
    return keep


@dataclass(frozen=True, repr=False)
class Frontier(ResultMixin):
    model: str
    hardware: str
    isl: int
    osl: int
    chip_hour: ChipHourCost
    utilisation: float
    all_points: pd.DataFrame
    """Every (deployment, concurrency) point, with a `pareto` column."""
    latency_floor: dict[str, Any]
    cost_floor: dict[str, Any]
    single_user: dict[str, Any]
    bounds: Floors | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    realistic_cost_floor: dict[str, Any] | None = None
    """The cheapest point with TTFT <= `levers.REALISTIC_TTFT_S` (None when no point is that quick)."""
    levers: dict[str, Any] = field(default_factory=dict)
    """What was swept: weight formats, speculative decoding (with its acceptance and source), disaggregation."""
    disaggregated: dict[str, Any] | None = None
    """The cheapest disaggregated (xPyD) point with TTFT <= `levers.REALISTIC_TTFT_S` (None: none swept or quick)."""

    @property
    def points(self) -> pd.DataFrame:
        """The Pareto set, fastest first."""
        p = self.all_points[self.all_points["pareto"]]
        return p.sort_values("tokens_per_s_per_user", ascending=False).reset_index(drop=True)

    @property
    def single_user_to_batched_cost_ratio(self) -> float:
        """Single-user cost over the realistic cost floor (TTFT <= 2 s; the raw floor when none is)."""
        floor = self.realistic_cost_floor or self.cost_floor
        return float(self.single_user["usd_per_mtok_output"] / floor["usd_per_mtok_output"])

    def speed_at_cost(self, usd_per_mtok_output: float) -> float:
        """Fastest tokens/s per user of any point at or below a cost (0 when none is that cheap)."""
        ok = self.all_points["usd_per_mtok_output"] <= usd_per_mtok_output
        return float(self.all_points.loc[ok, "tokens_per_s_per_user"].max()) if ok.any() else 0.0

    def cost_at_speed(self, tokens_per_s_per_user: float) -> float:
        """Cheapest USD/M output of any point at least that fast (inf when none is)."""
        ok = self.all_points["tokens_per_s_per_user"] >= tokens_per_s_per_user
        return float(self.all_points.loc[ok, "usd_per_mtok_output"].min()) if ok.any() else float("inf")

    def to_dict(self) -> dict[str, Any]:
        cols = [c for c in POINT_COLUMNS if c in self.all_points.columns]
        return {
            "model": self.model,
            "hardware": self.hardware,
            "isl": self.isl,
            "osl": self.osl,
            "usd_per_chip_hour": self.chip_hour.usd_per_chip_hour,
            "acquisition": self.chip_hour.acquisition,
            "utilisation": self.utilisation,
            "points": self.points[cols].to_dict(orient="records"),
            "latency_floor": self.latency_floor,
            "cost_floor": self.cost_floor,
            "single_user": self.single_user,
            "realistic_cost_floor": self.realistic_cost_floor,
            "disaggregated": self.disaggregated,
            "realistic_ttft_s": REALISTIC_TTFT_S,
            "single_user_to_batched_cost_ratio": self.single_user_to_batched_cost_ratio,
            "levers": self.levers,
            "lower_bounds": self.bounds.to_dict() if self.bounds is not None else None,
            "n_points_swept": len(self.all_points),
            "notes": list(self.notes),
        }


def _record(row: pd.Series) -> dict[str, Any]:
    return {c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in POINT_COLUMNS}


SPEED_TIE = 0.99
"""Points within 1% of the top speed count as equally fast: the cheapest of them marks the latency floor
(pipeline stages add chips but not speed, so the raw maximum can cost several times more for 0.1%)."""


def _fastest(pts: pd.DataFrame) -> pd.Series:
    speed = pts["tokens_per_s_per_user"].to_numpy()
    near = pts[speed >= SPEED_TIE * speed.max()]
    return near.iloc[int(np.argmin(near["usd_per_mtok_output"].to_numpy()))]


def sweep(
    deployments: list[Deployment],
    isl: int,
    osl: int,
    price: ChipHourCost,
    utilisation: float = 1.0,
    n: int = 32,
    calibration: Calibration | None = None,
) -> pd.DataFrame:
    """Every (deployment, concurrency) point with its speed and USD per million tokens."""
    frames = []
    p = price.usd_per_chip_hour
    for dep in deployments:
        try:
            pts = operating_points(dep, isl, osl, n=n, calibration=calibration)
        except DoesNotFitError:
            continue
        pts["usd_per_mtok_output"] = usd_per_mtok(pts["chip_s_per_output_token"], p, utilisation)
        pts["usd_per_mtok_input"] = usd_per_mtok(pts["chip_s_per_input_token"], p, utilisation)
        pts["usd_per_mtok_output_all_in"] = usd_per_mtok(pts["chip_s_per_output_token_all_in"], p, utilisation)
        pts["tp"], pts["pp"], pts["attention_dp"], pts["ep"] = dep.tp, dep.pp, dep.attention_dp, dep.moe_ep
        pts["precision"], pts["kv_precision"] = dep.weight_precision, dep.kv_precision
        pts["speculative_tokens"], pts["acceptance_rate"] = dep.speculative_tokens, dep.acceptance_rate
        pts["mode"], pts["prefill_instances"], pts["decode_instances"] = "agg", 0, 0
        pts["deployment"] = dep.describe()
        frames.append(pts)
    if not frames:
        return pd.DataFrame(columns=list(POINT_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def require_deployments(
    deps: list[Any], model: ModelSpec, system: System, tokens: int, max_chips: int, precision: str | None
) -> None:
    """`DoesNotFitError` saying how big the weights are when no candidate deployment holds a sequence."""
    if deps:
        return
    w = model.weight_bytes(precision or model.native_precision)
    raise DoesNotFitError(
        f"{model.name} ({w / 1e9:.0f} GB of weights) with a {tokens}-token sequence fits on no deployment of up to "
        f"{max_chips} {system.name} chips ({system.chip.hbm_gb:g} GB each); raise max_chips or use narrower weights",
        w,
        max_chips * system.chip.hbm_bytes,
    )


def frontier(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    isl: int = 1024,
    osl: int = 1024,
    max_chips: int = 64,
    precision: str | None = None,
    kv_precision: str | None = None,
    backend: str = "vllm",
    speculative_tokens: int | None = None,
    acceptance_rate: float = 0.0,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    utilisation: float = 1.0,
    overrides: dict[str, Any] | None = None,
    batch_points: int = 32,
    calibration: Calibration | None = None,
    disaggregation: bool = True,
) -> Frontier:
    """Sweep chip count, parallelism, batch size and the levers providers use; return the speed/cost
    Pareto frontier.

    Levers (`levers.py`): `precision` None sweeps every weight format the chip multiplies natively (bf16,
    fp8, fp4; KV in fp8 with 8-bit or narrower weights); `speculative_tokens` None sweeps decoding with
    and without the model's default speculation (its MTP heads, else an EAGLE-3 draft head, each at a
    cited acceptance), 0 turns it off, k > 0 uses k drafts at `acceptance_rate`; `disaggregation` adds
    prefill/decode pools (xPyD groups of at most `max_chips` chips, `disaggregation.py`) as points of their own.
    USD per million output tokens charges each output token its decode chip-time (see `cost.py`);
    `usd_per_mtok_output_all_in` also charges it the prefill.
    """
    from inferonomics.catalog.hardware import with_overrides
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model

    check_workload(isl, osl)
    if osl < 2:
        raise InvalidInputError(
            "osl = 1 has no decode step, so tokens/s per user (the frontier's speed axis) is undefined; "
            "give osl >= 2 (or use `cost` for the prompt-only price)"
        )
    u = check_utilisation(utilisation)
    m = get_model(model) if isinstance(model, str) else model
    s = get_hardware(hardware) if isinstance(hardware, str) else hardware
    if overrides:
        s = with_overrides(s, overrides)
    if m.max_context_tokens and isl + osl > m.max_context_tokens:
        raise InvalidInputError(f"isl + osl = {isl + osl} exceeds {m.name}'s window of {m.max_context_tokens} tokens")
    price = chip_hour_cost(s, acquisition, usd_per_chip_hour=usd_per_chip_hour, ownership=ownership)
    formats = [precision] if precision is not None else native_formats(m, s)
    notes: list[str] = []
    if speculative_tokens is None:
        spec = default_speculation(m)
        specs = [(0, 0.0), (spec.tokens, spec.acceptance_rate)]
        notes.append(f"speculative decoding swept (off / on): {spec.describe()}")
    else:
        specs = [(speculative_tokens, acceptance_rate if speculative_tokens else 0.0)]
    if len(formats) > 1:
        notes.append(f"weight formats swept: {', '.join(formats)}; {FORMAT_QUALITY_NOTE}")
    deps = [
        d
        for fmt in formats
        for k, a in specs
        for d in candidate_deployments(
            m,
            s,
            isl=isl,
            osl=osl,
            max_chips=max_chips,
            precision=fmt,
            kv_precision=kv_precision,
            backend=backend,
            speculative_tokens=k,
            acceptance_rate=a,
            calibration=calibration,
        )
    ]
    require_deployments(deps, m, s, isl + osl, max_chips, formats[-1])
    pts = sweep(deps, isl, osl, price, u, batch_points, calibration)
    if disaggregation:
        disagg, note = _disaggregated(
            m, s, deps, formats, isl, osl, price, u, max_chips, kv_precision, backend, calibration
        )
        if len(disagg):
            pts = pd.concat([pts, disagg[[c for c in pts.columns if c in disagg.columns]]], ignore_index=True)
        notes.append(note)
    pts["pareto"] = pareto_mask(pts["tokens_per_s_per_user"].to_numpy(), pts["usd_per_mtok_output"].to_numpy())
    fastest = _fastest(pts)
    cheapest = row_at(pts, pts["usd_per_mtok_output"].idxmin())
    single = _fastest(pts[pts["concurrency"] == 1])
    quick = pts[pts["ttft_s"] <= REALISTIC_TTFT_S]
    realistic = _record(quick.iloc[int(np.argmin(quick["usd_per_mtok_output"].to_numpy()))]) if len(quick) else None
    quick_disagg = quick[quick["mode"] == "disagg"]
    best_disagg = (
        _record(quick_disagg.iloc[int(np.argmin(quick_disagg["usd_per_mtok_output"].to_numpy()))])
        if len(quick_disagg)
        else None
    )
    if disaggregation:
        on_front = int((pts["pareto"] & (pts["mode"] == "disagg")).sum())
        notes.append(
            f"{on_front} of the {int(pts['pareto'].sum())} Pareto points are disaggregated"
            if on_front
            else "no disaggregated point is on the Pareto set here (its decode iterations pay the engine's fitted "
            "disaggregation costs; it wins with long prompts where prefill would stall aggregated decoding)"
        )
    bounds = None
    try:
        bounds = floors(
            m,
            s,
            context_tokens=int(isl + osl // 2),
            precision=str(cheapest["precision"]),
            kv_precision=str(cheapest["kv_precision"]),
            usd_per_chip_hour=price.usd_per_chip_hour,
            max_chips=max_chips,
            calibration=calibration,
        )
    except InvalidInputError as exc:  # pragma: no cover - deps exist, so the floors should too
        notes.append(f"no analytic floors: {exc}")
    notes.append(
        "latency floor / single-user point = the cheapest point (batch-1 point) within 1% of the top speed; "
        "cost floor = the cheapest point swept (at any TTFT); "
        f"realistic cost floor = the cheapest with TTFT <= {REALISTIC_TTFT_S:g} s, which the headline ratio uses"
    )
    return Frontier(
        model=m.name,
        hardware=s.name,
        isl=isl,
        osl=osl,
        chip_hour=price,
        utilisation=u,
        all_points=pts,
        latency_floor=_record(fastest),
        cost_floor=_record(cheapest),
        single_user=_record(single),
        bounds=bounds,
        notes=tuple(notes),
        realistic_cost_floor=realistic,
        levers={
            "precisions": formats,
            "speculation": [{"tokens": k, "acceptance_rate": a} for k, a in specs],
            "disaggregation": disaggregation,
        },
        disaggregated=best_disagg,
    )


def _disaggregated(
    m: ModelSpec,
    s: System,
    deps: list[Deployment],
    formats: list[str],
    isl: int,
    osl: int,
    price: ChipHourCost,
    u: float,
    max_chips: int,
    kv_precision: str | None,
    backend: str,
    calibration: Calibration | None,
) -> tuple[pd.DataFrame, str]:
    """The xPyD points of every weight format (`disaggregation.disaggregated_points`): its deployments as the
    decode pool, the format's cheapest per prompt token as the prefill pool; and a note saying so."""
    from inferonomics.economics.disaggregation import cheapest_prefill, disaggregated_points

    frames, pools = [], []
    for fmt in formats:
        prefills = candidate_deployments(
            m,
            s,
            isl=isl,
            osl=1,
            max_chips=max_chips,
            precision=fmt,
            kv_precision=kv_precision,
            backend=backend,
            calibration=calibration,
        )
        if not prefills:
            continue
        pre = cheapest_prefill(prefills, isl, calibration)
        decodes = [d for d in deps if d.weight_precision == pre.weight_precision]
        pools.append(f"{pre.weight_precision} {pre.parallelism_label}")
        frames.append(disaggregated_points(decodes, pre, isl, osl, price, u, max_chips, calibration))
    frames = [f for f in frames if len(f)]
    note = (
        "disaggregation swept: prefill pool the cheapest per prompt token (" + ", ".join(pools) + "), every "
        f"deployment as the decode pool, instance counts from the rate-matching planner, groups of <= {max_chips} "
        "chips (perf.steady_state.disaggregated)"
    )
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), note


def unit_cost_frontier(
    model: ModelSpec | str,
    hardware: System | str,
    isl: int,
    osl: int,
    max_chips: int,
    precision: str | None,
    calibration: Calibration | None,
) -> Frontier:
    """The frontier costed at 1 USD per chip-hour, for callers that rescale it by their own chip-hour price."""
    return frontier(
        model,
        hardware,
        isl=isl,
        osl=osl,
        max_chips=max_chips,
        precision=precision,
        usd_per_chip_hour=1.0,
        calibration=calibration,
        disaggregation=False,
    )


__all__ = [
    "Frontier",
    "POINT_COLUMNS",
    "candidate_deployments",
    "frontier",
    "pareto_mask",
    "sweep",
    "unit_cost_frontier",
]
