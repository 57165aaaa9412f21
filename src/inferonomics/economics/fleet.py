"""A lab's serving fleet, end to end: from a daily token volume to nodes, cost per day, cost per million
tokens and the margin a list price implies.

The fleet is disaggregated (prefill and decode in their own pools, as DeepSeek describes its system):

    prefill chips  = uncached input tokens/s x chip-s per input token   (`cost.prefill_seconds_per_token`,
                     prompts batched to the engine's token budget; prefix-cache hits skip prefill)
    decode chips   = output tokens/s x chip-s per output token at the cheapest decode point that still
                     gives each user `tokens_per_s_per_user` (`cost.operating_points`, the closed loop)
    units          = ceil(chips / chips per unit) in each pool; nodes = units x unit size / chips per node
    cost per day   = chips x 24 h x USD per chip-hour
    USD/M input    = prefill pool's cost / input tokens (cache hits included); USD/M output = decode pool's
    margin         = revenue at the list price (cache hits, misses, output) / cost - 1

Wide expert parallelism with redundant experts (DeepSeek's EP144 with 32 redundant experts: 256 + 32 = 288
expert slots, 2 per GPU) is modelled as a model with `num_experts + redundant` experts: the extra copies'
memory is held, and a token's k experts spread over more slots (routing load stays k per token). The load is
the day's average (tokens / 86,400 s): a fleet sized for a daily peak needs more.

Both pools run two micro-batches whose expert all-to-all hides behind the other's compute, as DeepSeek's
overview describes ("dual-batch overlap": prefill alternates two micro-batches; decode splits attention in
a 5-stage pipeline to the same end) and its profile data show (deepseek-ai/profile-data); `two_batch_overlap
=False` runs every term in series.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.prices import PriceSheet
from inferonomics.economics.cost import operating_points, pick_point, prefill_seconds_per_token
from inferonomics.economics.levers import default_speculation
from inferonomics.economics.spec import Pricing
from inferonomics.errors import InvalidInputError
from inferonomics.perf import Deployment, StepTimeModel, make_deployment
from inferonomics.perf.calibration import Calibration

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class FleetPool:
    """One pool's serving unit: attention TP x attention-DP chips with experts over `ep` of them."""

    tp: int = 1
    attention_dp: int = 8
    ep: int = 8
    redundant_experts: int = 0

    def __post_init__(self) -> None:
        for name in ("tp", "attention_dp", "ep"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidInputError(f"{name} must be a whole number >= 1, got {v!r}")
        if isinstance(self.redundant_experts, bool) or self.redundant_experts < 0:
            raise InvalidInputError(f"redundant_experts must be >= 0, got {self.redundant_experts!r}")

    @property
    def chips(self) -> int:
        return self.tp * self.attention_dp


@dataclass(frozen=True)
class FleetPlan:
    model: str
    hardware: str
    usd_per_chip_hour: float
    input_tokens_per_day: float
    output_tokens_per_day: float
    cache_hit_rate: float
    tokens_per_s_per_user: float
    prefill: dict[str, Any]
    decode: dict[str, Any]
    chips: int
    nodes: float
    usd_per_day: float
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    revenue_usd_per_day: float | None = None
    margin: float | None = None
    """Revenue / cost - 1 (DeepSeek's 'cost profit margin')."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _with_redundant_experts(model: ModelSpec, redundant: int) -> ModelSpec:
    if not redundant:
        return model
    if not model.is_moe:
        raise InvalidInputError(f"redundant experts need an MoE model; {model.name} is dense")
    return dataclasses.replace(model, num_experts=model.num_experts + redundant)


def _pool_deployment(
    model: ModelSpec,
    system: System,
    pool: FleetPool,
    precision: str | None,
    backend: str,
    spec: tuple[int, float],
    overlap: bool = False,
) -> Deployment:
    m = _with_redundant_experts(model, pool.redundant_experts)
    if m.is_moe and m.num_experts % pool.ep:
        raise InvalidInputError(
            f"ep ({pool.ep}) must divide the expert slots ({model.num_experts} experts + {pool.redundant_experts} "
            f"redundant = {m.num_experts}); add redundant experts or change ep"
        )
    return make_deployment(
        m,
        system,
        tp=pool.tp,
        attention_dp=pool.attention_dp,
        ep=pool.ep,
        precision=precision,
        backend=backend,
        speculative_tokens=spec[0],
        acceptance_rate=spec[1],
        two_batch_overlap=overlap,
    )


def fleet(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    prefill: FleetPool,
    decode: FleetPool,
    input_tokens_per_day: float,
    output_tokens_per_day: float,
    cache_hit_rate: float = 0.0,
    tokens_per_s_per_user: float = 20.0,
    isl: int = 4096,
    osl: int = 1024,
    pricing: Pricing | None = None,
    list_price: PriceSheet | str | None = None,
    precision: str | None = None,
    backend: str = "sglang",
    speculative_tokens: int | None = None,
    acceptance_rate: float = 0.0,
    two_batch_overlap: bool = True,
    calibration: Calibration | None = None,
) -> FleetPlan:
    """Nodes, cost per day, cost per M input/output tokens and the list price's margin (module docstring).

    `isl`/`osl`: the mean request (prompt including its cached prefix, and output); `speculative_tokens`
    None = the model's default speculation in the decode pool (`levers.default_speculation`), 0 = off.
    `two_batch_overlap`: both pools hide the expert all-to-all behind the other micro-batch, as DeepSeek's
    system does (`Deployment.two_batch_overlap`); it applies to MoE models under attention data parallelism.
    """
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.catalog.prices import get_price_sheet

    m = get_model(model) if isinstance(model, str) else model
    s = get_hardware(hardware) if isinstance(hardware, str) else hardware
    for name, v in (("input_tokens_per_day", input_tokens_per_day), ("output_tokens_per_day", output_tokens_per_day)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise InvalidInputError(f"{name} must be > 0, got {v!r}")
    if not 0.0 <= cache_hit_rate < 1.0:
        raise InvalidInputError(f"cache_hit_rate must be in [0, 1), got {cache_hit_rate!r}")
    if not tokens_per_s_per_user > 0:
        raise InvalidInputError(f"tokens_per_s_per_user must be > 0, got {tokens_per_s_per_user!r}")
    price = (pricing or Pricing()).chip_hour(s)
    usd_h = price.usd_per_chip_hour
    notes: list[str] = [f"chip-hour: {usd_h:.2f} USD ({price.acquisition}, {price.assumptions.get('source', '')})"]
    if speculative_tokens is None:
        sp = default_speculation(m)
        spec = (sp.tokens, sp.acceptance_rate)
        notes.append(f"decode pool speculation: {sp.describe()}")
    else:
        spec = (speculative_tokens, acceptance_rate if speculative_tokens else 0.0)

    # prefill: uncached prompt tokens through batched prefill
    overlap = bool(two_batch_overlap and m.is_moe)
    if overlap:
        notes.append("two-batch overlap: each pool's expert all-to-all runs behind the other micro-batch's compute")
    p_dep = _pool_deployment(m, s, prefill, precision, backend, (0, 0.0), overlap)
    uncached_per_s = input_tokens_per_day * (1.0 - cache_hit_rate) / SECONDS_PER_DAY
    new_tokens = max(1, round(isl * (1.0 - cache_hit_rate)))
    chip_s_in = p_dep.chips_per_replica * prefill_seconds_per_token(StepTimeModel(p_dep, calibration), new_tokens)
    p_chips = uncached_per_s * chip_s_in
    p_units = max(1, math.ceil(p_chips / prefill.chips))

    # decode: the cheapest point that keeps each user at the target speed
    d_dep = _pool_deployment(m, s, decode, precision, backend, spec, overlap)
    pts = operating_points(d_dep, isl, osl, n=48, calibration=calibration)
    i = pick_point(pts, min_tokens_per_s_per_user=tokens_per_s_per_user, cost_column="chip_s_per_output_token")
    if i is None:
        fastest = float(pts["tokens_per_s_per_user"].max())
        raise InvalidInputError(
            f"the decode pool ({d_dep.describe()}) reaches at most {fastest:.1f} tok/s per user, below the "
            f"{tokens_per_s_per_user:g} asked; use fewer attention-DP ranks or a faster chip"
        )
    row = pts.iloc[int(np.flatnonzero(pts.index == i)[0])]
    out_per_s = output_tokens_per_day / SECONDS_PER_DAY
    chip_s_out = float(row["chip_s_per_output_token"])
    d_chips = out_per_s * chip_s_out
    d_units = max(1, math.ceil(d_chips / decode.chips))

    chips = p_units * prefill.chips + d_units * decode.chips
    per_node = s.chips_per_node or 8
    p_cost = p_units * prefill.chips * usd_h * 24.0
    d_cost = d_units * decode.chips * usd_h * 24.0
    revenue = margin = None
    if list_price is not None:
        sheet = get_price_sheet(list_price) if isinstance(list_price, str) else list_price
        hit_price = sheet.cached_input_usd_per_mtok
        if hit_price is None:
            hit_price = sheet.input_usd_per_mtok
            notes.append(f"{sheet.key} lists no cache-hit price: cache hits billed as input")
        revenue = (
            input_tokens_per_day * cache_hit_rate * hit_price
            + input_tokens_per_day * (1.0 - cache_hit_rate) * sheet.input_usd_per_mtok
            + output_tokens_per_day * sheet.output_usd_per_mtok
        ) / 1e6
        margin = revenue / (p_cost + d_cost) - 1.0
        notes.append(f"revenue at {sheet.key} list prices ({sheet.date}), every token billed")
    notes.append("sized for the day's average load (a daily peak needs more nodes)")
    pool_out = {}
    for name, dep, pool, units, need, extra in (
        (
            "prefill",
            p_dep,
            prefill,
            p_units,
            p_chips,
            {"input_tokens_per_s_per_node_incl_cache_hits": per_node / chip_s_in / (1.0 - cache_hit_rate)},
        ),
        (
            "decode",
            d_dep,
            decode,
            d_units,
            d_chips,
            {
                "output_tokens_per_s_per_node": per_node / chip_s_out,
                "tokens_per_s_per_user": float(row["tokens_per_s_per_user"]),
                "batch_per_unit": float(row["batch_size"]),
            },
        ),
    ):
        pool_out[name] = {
            "deployment": dep.describe(),
            "chips_per_unit": pool.chips,
            "redundant_experts": pool.redundant_experts,
            "chips_needed": need,
            "units": units,
            "nodes": units * pool.chips / per_node,
            **extra,
        }
    return FleetPlan(
        model=m.name,
        hardware=s.name,
        usd_per_chip_hour=usd_h,
        input_tokens_per_day=float(input_tokens_per_day),
        output_tokens_per_day=float(output_tokens_per_day),
        cache_hit_rate=cache_hit_rate,
        tokens_per_s_per_user=tokens_per_s_per_user,
        prefill=pool_out["prefill"],
        decode=pool_out["decode"],
        chips=chips,
        nodes=chips / per_node,
        usd_per_day=p_cost + d_cost,
        usd_per_mtok_input=p_cost / input_tokens_per_day * 1e6,
        usd_per_mtok_output=d_cost / output_tokens_per_day * 1e6,
        revenue_usd_per_day=revenue,
        margin=margin,
        notes=tuple(notes),
    )


__all__ = ["FleetPlan", "FleetPool", "fleet"]
