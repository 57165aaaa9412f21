"""Who serves cheaper, and why: lab vs inference provider, hardware generations, derived vs real prices.

All comparisons take the cheapest point of each side's speed/cost frontier (`frontier.py`) that still
gives `min_tokens_per_s_per_user`, and price a request of ISL input and OSL output tokens. Costs are
linear in the chip-hour price and in 1/utilisation, so each frontier is computed once at 1 USD per
chip-hour and full utilisation (= chip-hours per million tokens) and scaled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System, parse_overrides, with_overrides
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.prices import PriceSheet
from inferonomics.economics.cost import pick_point
from inferonomics.economics.frontier import Frontier, unit_cost_frontier
from inferonomics.economics.levers import REALISTIC_TTFT_S
from inferonomics.economics.ownership import (
    Acquisition,
    OwnershipAssumptions,
    check_price,
    check_utilisation,
    chip_hour_cost,
)
from inferonomics.economics.price_sheet import DerivedPriceSheet
from inferonomics.errors import InvalidInputError
from inferonomics.perf.calibration import Calibration
from inferonomics.results import ResultMixin


@dataclass(frozen=True, repr=False)
class Comparison(ResultMixin):
    title: str
    table: pd.DataFrame
    headline: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "headline": self.headline,
            "rows": self.table.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def _resolve(model: ModelSpec | str, hardware: System | str) -> tuple[ModelSpec, System]:
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model

    return (
        get_model(model) if isinstance(model, str) else model,
        get_hardware(hardware) if isinstance(hardware, str) else hardware,
    )


def cheapest_point(
    f: Frontier,
    min_tokens_per_s_per_user: float | None,
    column: str = "usd_per_mtok_output_all_in",
    max_ttft_s: float | None = REALISTIC_TTFT_S,
) -> tuple[pd.Series, bool]:
    """Cheapest swept point at least that fast with a realistic TTFT (`cost.pick_point`), else the
    fastest (flag False)."""
    pts = f.all_points
    i = pick_point(pts, min_tokens_per_s_per_user=min_tokens_per_s_per_user, max_ttft_s=max_ttft_s, cost_column=column)
    if i is not None:
        return pts.iloc[int(np.flatnonzero(pts.index == i)[0])], True
    return pts.iloc[int(np.argmax(pts["tokens_per_s_per_user"].to_numpy()))], False


# ---------------------------------------------------------------------------------------------------
# Model lab vs pure inference provider
# ---------------------------------------------------------------------------------------------------


def lab_vs_provider(
    *,
    isl: int = 1024,
    osl: int = 1024,
    hardware: System | str = "h100_sxm",
    provider_model: ModelSpec | str = "llama-3.1-405b",
    lab_model: ModelSpec | str = "deepseek-v3",
    provider_usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    provider_utilisation: float = 0.4,
    lab_utilisation: float = 0.7,
    min_tokens_per_s_per_user: float = 20.0,
    max_chips: int = 64,
    provider_precision: str | None = None,
    lab_precision: str | None = None,
    calibration: Calibration | None = None,
) -> Comparison:
    """The same workload served by a provider (rents GPUs, open-weight model, its utilisation) and by a
    lab (owns the chips, its own co-designed model, its utilisation), as a waterfall of one change at a
    time: own the hardware, then the lab's utilisation, then the lab's model (MoE, smaller KV).

    Defaults are assumptions: DeepSeek-V3 (MoE, MLA) as the lab's model and Llama 3.1 405B (dense, GQA)
    as the provider's, 40% vs 70% utilisation, Epoch's ownership costs at hyperscale PUE 1.1. The
    order of the steps changes how the advantage splits between them, not its total.
    """
    pu = check_utilisation(provider_utilisation, "provider_utilisation")
    lu = check_utilisation(lab_utilisation, "lab_utilisation")
    _, system = _resolve(lab_model, hardware)
    own = ownership or OwnershipAssumptions(pue=1.1)
    rent = chip_hour_cost(system, "rent", usd_per_chip_hour=provider_usd_per_chip_hour)
    owned = chip_hour_cost(system, "own", ownership=own)
    fronts = {}
    for role, m, prec in (
        ("provider", provider_model, provider_precision),
        ("lab", lab_model, lab_precision),
    ):
        spec, _ = _resolve(m, system)
        fronts[role] = unit_cost_frontier(spec, system, isl, osl, max_chips, prec, calibration)
    notes: list[str] = []
    points = {}
    for role, f in fronts.items():
        row, met = cheapest_point(f, min_tokens_per_s_per_user)
        if not met:
            notes.append(
                f"{f.model} never reaches {min_tokens_per_s_per_user:g} tok/s per user with TTFT <= "
                f"{REALISTIC_TTFT_S:g} s on {system.name}; its fastest point is used"
            )
        points[role] = row
    steps = [
        ("provider: rents GPUs, open-weight model", "provider", rent, pu),
        ("+ owns the hardware", "provider", owned, pu),
        ("+ lab's utilisation", "provider", owned, lu),
        ("+ lab's co-designed model", "lab", owned, lu),
    ]
    rows = []
    for step, role, price, u in steps:
        r = points[role]
        scale = price.usd_per_chip_hour / u
        rows.append(
            {
                "step": step,
                "model": fronts[role].model,
                "acquisition": price.acquisition,
                "usd_per_chip_hour": price.usd_per_chip_hour,
                "utilisation": u,
                "input_usd_per_mtok": float(r["usd_per_mtok_input"]) * scale,
                "output_usd_per_mtok": float(r["usd_per_mtok_output"]) * scale,
                "usd_per_request": float(r["usd_per_mtok_output_all_in"]) * scale * osl / 1e6,
                "tokens_per_s_per_user": float(r["tokens_per_s_per_user"]),
                "chips": int(r["chips"]),
                "deployment": str(r["deployment"]),
            }
        )
    table = pd.DataFrame(rows)
    table["cheaper_than_previous_x"] = table["usd_per_request"].shift(1) / table["usd_per_request"]
    total = float(table["usd_per_request"].iloc[0] / table["usd_per_request"].iloc[-1])
    parts = ", ".join(
        f"{s.lstrip('+ ')} {x:.2f}x"
        for s, x in zip(table["step"][1:], table["cheaper_than_previous_x"][1:], strict=True)
    )
    headline = (
        f"The lab serves a {isl}+{osl}-token request {total:.1f}x cheaper than the provider "
        f"({table['usd_per_request'].iloc[-1] * 1e3:.3f} vs {table['usd_per_request'].iloc[0] * 1e3:.3f} "
        f"USD per thousand requests): {parts}."
    )
    notes.append(
        f"rent {rent.usd_per_chip_hour:.2f} USD/chip-h vs own {owned.usd_per_chip_hour:.2f} "
        f"(Epoch AI ownership model, PUE {own.pue:g}, {own.life_years:g} y, "
        f"{own.cost_of_capital_per_year:.0%})"
    )
    notes.append(
        f"both at >= {min_tokens_per_s_per_user:g} tok/s per user and TTFT <= {REALISTIC_TTFT_S:g} s, the cheapest "
        f"deployment of up to {max_chips} chips over the levers swept (weight formats, speculative decoding)"
    )
    return Comparison("Model lab vs inference provider", table, headline, tuple(notes))


# ---------------------------------------------------------------------------------------------------
# Hardware generations and what-ifs
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HardwareOption:
    """One hardware choice: a system, its price, and what-if changes to its figures."""

    label: str
    hardware: System | str
    usd_per_chip_hour: float | None = None
    acquisition: Acquisition = "rent"
    overrides: dict[str, Any] = field(default_factory=dict)
    ownership: OwnershipAssumptions | None = None

    @classmethod
    def parse(cls, spec: str) -> HardwareOption:
        """'SYSTEM[@USD_PER_CHIP_HOUR][:key=value,key=value]', e.g. 'tpu_8i@4.5:intra_node_latency_us=2'."""
        head, _, what_if = spec.partition(":")
        name, _, price = head.partition("@")
        if not name.strip():
            raise InvalidInputError(f"hardware option needs a system name: {spec!r}")
        usd = None
        if price:
            try:
                usd = check_price(float(price), "usd_per_chip_hour")
            except ValueError:
                raise InvalidInputError(f"price in {spec!r} must be a number of USD per chip-hour") from None
        overrides = parse_overrides([p for p in what_if.split(",") if p.strip()]) if what_if else {}
        return cls(spec, name.strip(), usd, "rent", overrides)


def hardware_per_dollar(
    model: ModelSpec | str,
    options: list[HardwareOption],
    *,
    isl: int = 1024,
    osl: int = 1024,
    min_tokens_per_s_per_user: float = 20.0,
    max_chips: int = 64,
    precision: str | None = None,
    claimed_gain: float | None = None,
    calibration: Calibration | None = None,
) -> Comparison:
    """Performance per dollar (output tokens per USD at a per-user speed) of each option, against the first.

    What-if features enter as hardware overrides the performance model reads (a collectives engine as a
    lower `intra_node_latency_us`, more bandwidth as `hbm_bandwidth_tb_s` ...). `claimed_gain` (0.8 =
    "80% better") is checked for the last option against the first.
    """
    if len(options) < 1:
        raise InvalidInputError("give at least one hardware option")
    spec, _ = _resolve(model, "h100_sxm") if isinstance(model, str) else (model, None)
    rows = []
    notes: list[str] = []
    for opt in options:
        _, system = _resolve(spec, opt.hardware)
        if opt.overrides:
            system = with_overrides(system, opt.overrides)
        price = chip_hour_cost(
            system, opt.acquisition, usd_per_chip_hour=opt.usd_per_chip_hour, ownership=opt.ownership
        )
        f = unit_cost_frontier(spec, system, isl, osl, max_chips, precision, calibration)
        row, met = cheapest_point(f, min_tokens_per_s_per_user)
        if not met:
            notes.append(f"{opt.label}: never reaches {min_tokens_per_s_per_user:g} tok/s per user; fastest point used")
        usd = float(row["usd_per_mtok_output_all_in"]) * price.usd_per_chip_hour
        rows.append(
            {
                "option": opt.label,
                "system": system.name,
                "usd_per_chip_hour": price.usd_per_chip_hour,
                "acquisition": price.acquisition,
                "usd_per_mtok_output_all_in": usd,
                "output_tokens_per_usd": 1e6 / usd,
                "output_tokens_per_s_per_chip": float(row["output_tokens_per_s_per_chip"]),
                "tokens_per_s_per_user": float(row["tokens_per_s_per_user"]),
                "latency_floor_tokens_per_s_per_user": float(f.latency_floor["tokens_per_s_per_user"]),
                "deployment": str(row["deployment"]),
                "meets_speed": met,
            }
        )
    table = pd.DataFrame(rows)
    base = table["output_tokens_per_usd"].iloc[0]
    table["perf_per_dollar_vs_first"] = table["output_tokens_per_usd"] / base
    table["speed_floor_vs_first"] = (
        table["latency_floor_tokens_per_s_per_user"] / table["latency_floor_tokens_per_s_per_user"].iloc[0]
    )
    last = table.iloc[-1]
    gain = float(last["perf_per_dollar_vs_first"]) - 1.0
    headline = (
        f"{last['option']} gives {gain:+.0%} performance per dollar against {table['option'].iloc[0]} on "
        f"{spec.name} ({isl}+{osl} tokens, >= {min_tokens_per_s_per_user:g} tok/s per user)"
    )
    if claimed_gain is not None:
        verdict = "holds" if gain >= claimed_gain - 1e-9 else "does not hold"
        headline += f"; the claim of {claimed_gain:+.0%} {verdict} under these assumptions"
    notes.append(
        "what-ifs the performance model does not read (e.g. sram_mb: it has no SRAM-resident KV) change "
        "nothing; express such features through the figures it does read"
    )
    return Comparison("Performance per dollar", table, headline, tuple(notes))


# ---------------------------------------------------------------------------------------------------
# Derived vs real prices
# ---------------------------------------------------------------------------------------------------


def compare_sheets(derived: DerivedPriceSheet, sheet: PriceSheet) -> Comparison:
    """A provider's prices against our cost: implied markup at our utilisation, and the utilisation at
    which the provider would break even (cost at full utilisation / price; above 1 = the provider sells
    below our cost even with every chip busy)."""
    u = derived.utilisation
    c = derived.cost_usd_per_mtok
    lines = [
        ("input", sheet.input_usd_per_mtok, c["input"]),
        ("output", sheet.output_usd_per_mtok, c["output"]),
        ("cached input", sheet.cached_input_usd_per_mtok, c["cached_input"]),
        (
            "batch output",
            sheet.output_usd_per_mtok * (1 - sheet.batch_discount) if sheet.batch_discount else None,
            c["batch_output"],
        ),
    ]
    rows = []
    for line, price, cost in lines:
        if price is None or price <= 0:
            continue
        cost_full = cost * (derived.batch_utilisation if line == "batch output" else u)
        rows.append(
            {
                "line": line,
                "provider_usd_per_mtok": price,
                "our_cost_usd_per_mtok": cost,
                "our_price_usd_per_mtok": cost * (1 + derived.margin),
                # a line that costs nothing (e.g. cache reads from HBM) has no finite markup
                "implied_markup": price / cost - 1.0 if cost > 0 else None,
                "break_even_utilisation": cost_full / price,
            }
        )
    table = pd.DataFrame(rows)
    out = table[table["line"] == "output"].iloc[0]
    headline = (
        f"{sheet.key} charges {out['provider_usd_per_mtok']:g} USD/M output against our cost "
        f"{out['our_cost_usd_per_mtok']:.3g} at {u:.0%} utilisation on {derived.deployment}: a markup of "
        f"{out['implied_markup']:+.0%}, or break-even at {out['break_even_utilisation']:.0%} utilisation"
    )
    notes = (
        [
            "break-even utilisation > 100%: the provider's cost per token is below ours even with every "
            "chip busy "
            "(cheaper chips, better kernels or larger batches than assumed)"
        ]
        if (table["break_even_utilisation"] > 1).any()
        else []
    )
    if sheet_expired(sheet):
        headline = f"EXPIRED sheet (valid until {sheet.valid_until}): {headline}"
        notes.append(f"{sheet.key} was valid until {sheet.valid_until}: the provider's current prices may differ")
    return Comparison(f"{derived.model} derived vs {sheet.key}", table, headline, tuple(notes))


def sheet_expired(sheet: PriceSheet, today: str | None = None) -> bool:
    """True when the sheet states an end date (`valid_until`, ISO) before `today` (default: now, UTC)."""
    import datetime as dt

    if not sheet.valid_until:
        return False
    now = today or dt.datetime.now(dt.UTC).date().isoformat()
    return sheet.valid_until < now


def market_points_for(model: ModelSpec | str) -> list[dict[str, Any]]:
    """The catalog's observed market offers for `model`'s family and size (a minor version left out:
    "Llama 3 70B" matches Llama-3.1-70B), each with `label`; other models' offers are not returned."""
    import re

    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.catalog.prices import market_points

    name = (get_model(model) if isinstance(model, str) else model).name

    def key(text: str) -> str:
        text = re.sub(r"(\d+)\.\d+", r"\1", text.lower())  # drop minor versions: 3.1 -> 3
        return re.sub(r"[^a-z0-9]", "", text)

    out = []
    for p in market_points():
        if key(p.model) == key(name):
            d = p.to_dict()
            same = p.model.lower().replace(" ", "-") == name.lower()
            d["label"] = p.model if same else f"{p.model} (market offer; same family and size as {name})"
            out.append(d)
    return out


def market_gap(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    blended_usd_per_mtok: float,
    tokens_per_s_per_user: float,
    input_share: float = 0.75,
    isl: int = 1024,
    osl: int = 1024,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    max_chips: int = 64,
    precision: str | None = None,
    calibration: Calibration | None = None,
) -> dict[str, Any]:
    """What an observed (speed, blended price) offer implies: our cost at full utilisation at that speed,
    and the utilisation x (1 + markup) the price allows (Erdil 2025: market prices ~0.9 USD/M for Llama 3
    70B imply low utilisation or margin). Blended = input_share x input + (1 - input_share) x output per token
    (3:1 by default, as Artificial Analysis blends)."""
    check_price(blended_usd_per_mtok, "blended_usd_per_mtok")
    if not 0.0 <= input_share <= 1.0:
        raise InvalidInputError(f"input_share must be in [0, 1], got {input_share!r}")
    spec, system = _resolve(model, hardware)
    price = chip_hour_cost(system, acquisition, usd_per_chip_hour=usd_per_chip_hour, ownership=ownership)
    f = unit_cost_frontier(spec, system, isl, osl, max_chips, precision, calibration)
    pts = f.all_points
    p = price.usd_per_chip_hour
    blended_all = (input_share * pts["usd_per_mtok_input"] + (1 - input_share) * pts["usd_per_mtok_output"]) * p
    ok = pts["tokens_per_s_per_user"] >= tokens_per_s_per_user
    met = bool(ok.any())
    i_speed = blended_all[ok].idxmin() if met else pts["tokens_per_s_per_user"].idxmax()
    quick = pts["ttft_s"] <= REALISTIC_TTFT_S  # the cost floor a service could sell: TTFT <= 2 s
    i_floor = blended_all[quick].idxmin() if quick.any() else blended_all.idxmin()

    def side(i: Any) -> dict[str, Any]:
        cost = float(blended_all[i])
        ratio = blended_usd_per_mtok / cost
        return {
            "blended_cost_full_utilisation_usd_per_mtok": cost,
            "tokens_per_s_per_user": float(pts.loc[i, "tokens_per_s_per_user"]),
            "price_over_cost": ratio,
            "break_even_utilisation": 1.0 / ratio,
            "deployment": str(pts.loc[i, "deployment"]),
            "batch_size": float(pts.loc[i, "batch_size"]),
        }

    at_speed, at_floor = side(i_speed), side(i_floor)
    reading = (
        f"{spec.name} on {system.name} at {p:.2f} USD/chip-h, full utilisation: "
        f"{at_floor['blended_cost_full_utilisation_usd_per_mtok']:.3f} USD/M blended at the cost floor "
        f"({at_floor['tokens_per_s_per_user']:.0f} tok/s per user), so {blended_usd_per_mtok:g} USD/M is "
        f"{at_floor['price_over_cost']:.1f}x cost (break-even at {at_floor['break_even_utilisation']:.0%} "
        f"utilisation); at {at_speed['tokens_per_s_per_user']:.0f} tok/s per user the cost is "
        f"{at_speed['blended_cost_full_utilisation_usd_per_mtok']:.3f} ({at_speed['price_over_cost']:.2f}x)"
    )
    if not met:
        reading += f"; {tokens_per_s_per_user:g} tok/s per user is out of reach here, so the fastest point is used"
    return {
        "model": spec.name,
        "hardware": system.name,
        "usd_per_chip_hour": p,
        "input_share": input_share,
        "market_blended_usd_per_mtok": blended_usd_per_mtok,
        "market_tokens_per_s_per_user": tokens_per_s_per_user,
        "speed_reached": met,
        "at_market_speed": at_speed,
        "at_cost_floor": at_floor,
        "reading": reading,
    }


__all__ = [
    "Comparison",
    "HardwareOption",
    "cheapest_point",
    "compare_sheets",
    "hardware_per_dollar",
    "lab_vs_provider",
    "market_gap",
    "market_points_for",
    "sheet_expired",
]
