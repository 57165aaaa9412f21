"""Capacity plans: chips and dollars for N concurrent agents, a live voice conversation, a coding session.

Agents and voice: each agent (or conversation) is one closed-loop client of the performance model
(`perf.steady_state.closed_loop`), sending turns of its context and receiving `output_tokens_per_turn`;
its average token rate is the replica's output tokens/s / clients. The plan keeps, for each swept
deployment, the most clients per replica that still give each its rate (and, for voice, the
per-user speed and TTFT); replicas = ceil(N / clients per replica). `usd_per_<unit>_hour` is for these N
(whole replicas), `..._at_scale` the marginal cost once replicas are full. Every turn re-sends the whole
context as prompt (no prefix cache): an upper bound on the prefill work.

Coding session: the context grows each turn by the new input and the output; with a prompt cache,
a fraction of the previous context is read from cache and the rest written to it. Priced at API rates
(a `PriceSheet`) and at self-hosted rates (a `DerivedPriceSheet`), long-context tiers included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.prices import PriceSheet
from inferonomics.economics.frontier import Frontier, unit_cost_frontier
from inferonomics.economics.ownership import Acquisition, ChipHourCost, OwnershipAssumptions, chip_hour_cost
from inferonomics.economics.price_sheet import DerivedPriceSheet
from inferonomics.errors import InvalidInputError
from inferonomics.frames import row_dict
from inferonomics.perf.calibration import Calibration
from inferonomics.results import ResultMixin


@dataclass(frozen=True, repr=False)
class CapacityPlan(ResultMixin):
    title: str
    requirement: dict[str, Any]
    options: pd.DataFrame
    """One row per deployment that meets the requirement, cheapest first."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def best(self) -> dict[str, Any]:
        return row_dict(self.options.iloc[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "requirement": self.requirement,
            "best": self.best,
            "options": self.options.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def _positive(name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0 or not math.isfinite(v):
        raise InvalidInputError(f"{name} must be > 0, got {v!r}")
    return float(v)


def _plan(
    f: Frontier,
    usd_per_chip_hour: float,
    n: float,
    ok: np.ndarray,
    title: str,
    requirement: dict[str, Any],
    per: str,
    notes: list[str],
) -> CapacityPlan:
    pts = f.all_points.copy()
    pts = pts[ok]
    if pts.empty:
        wanted = ", ".join(
            f"{k.replace('_', ' ')} {v:,g}" if isinstance(v, int | float) else f"{k.replace('_', ' ')} {v}"
            for k, v in requirement.items()
            if k not in ("usd_per_chip_hour", "acquisition")
        )
        best = f.all_points["client_output_tokens_per_s"].max()
        raise InvalidInputError(
            f"no deployment of {f.model} on {f.hardware} (up to the swept chips) meets the requirement ({wanted}); "
            f"the fastest swept point gives {f.latency_floor['tokens_per_s_per_user']:.1f} tok/s per user with a "
            f"TTFT of {f.latency_floor['ttft_s']:.2f} s, and the best point {best:.3g} output tok/s per client "
            "(TTFT included)"
        )
    # most clients per replica that still meet the requirement, per deployment
    best = pts.loc[pts.groupby("deployment")["concurrency"].idxmax()].copy()
    best["replicas"] = np.ceil(n / best["concurrency"])
    best["total_chips"] = best["replicas"] * best["chips"]
    best["usd_per_hour"] = best["total_chips"] * usd_per_chip_hour
    best[f"usd_per_{per}_hour"] = best["usd_per_hour"] / n
    best[f"usd_per_{per}_hour_at_scale"] = best["chips"] * usd_per_chip_hour / best["concurrency"]
    cols = [
        "deployment",
        "chips",
        "concurrency",
        "replicas",
        "total_chips",
        "usd_per_hour",
        f"usd_per_{per}_hour",
        f"usd_per_{per}_hour_at_scale",
        "client_output_tokens_per_s",
        "tokens_per_s_per_user",
        "ttft_s",
        "batch_size",
    ]
    out = (
        best.sort_values(["usd_per_hour", "ttft_s"])[cols]
        .rename(
            columns={
                "chips": "chips_per_replica",
                "concurrency": f"{per}s_per_replica",
                "client_output_tokens_per_s": f"tokens_per_s_per_{per}",
            }
        )
        .reset_index(drop=True)
    )
    return CapacityPlan(title, requirement, out, tuple(notes))


def _frontier_and_price(
    model: ModelSpec | str,
    hardware: System | str,
    isl: int,
    osl: int,
    max_chips: int,
    precision: str | None,
    calibration: Calibration | None,
    acquisition: Acquisition,
    usd_per_chip_hour: float | None,
    ownership: OwnershipAssumptions | None,
) -> tuple[Frontier, ChipHourCost]:
    """The speed/cost frontier of `model` on `hardware` (costed at 1 USD per chip-hour, rescaled by the
    plan) and the chip-hour price of the acquisition."""
    f = unit_cost_frontier(model, hardware, isl, osl, max_chips, precision, calibration)
    price = chip_hour_cost(_system(hardware), acquisition, usd_per_chip_hour=usd_per_chip_hour, ownership=ownership)
    return f, price


def agents_capacity(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    agents: float,
    output_tokens_per_s_per_agent: float,
    context_tokens: int,
    output_tokens_per_turn: int = 500,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    max_chips: int = 64,
    precision: str | None = None,
    calibration: Calibration | None = None,
) -> CapacityPlan:
    """Chips, USD per hour and USD per agent-hour for `agents` concurrent agents, each averaging
    `output_tokens_per_s_per_agent` with a `context_tokens` prompt per turn (see the module docstring)."""
    n = _positive("agents", agents)
    rate = _positive("output_tokens_per_s_per_agent", output_tokens_per_s_per_agent)
    f, price = _frontier_and_price(
        model,
        hardware,
        context_tokens,
        output_tokens_per_turn,
        max_chips,
        precision,
        calibration,
        acquisition,
        usd_per_chip_hour,
        ownership,
    )
    ok = f.all_points["client_output_tokens_per_s"].to_numpy() >= rate
    req = {
        "agents": n,
        "output_tokens_per_s_per_agent": rate,
        "context_tokens": context_tokens,
        "output_tokens_per_turn": output_tokens_per_turn,
        "usd_per_chip_hour": price.usd_per_chip_hour,
        "acquisition": price.acquisition,
    }
    notes = ["every turn re-sends the whole context (no prefix cache): prefill is an upper bound"]
    return _plan(
        f,
        price.usd_per_chip_hour,
        n,
        ok,
        f"{n:,.0f} agents of {f.model} on {f.hardware}",
        req,
        "agent",
        notes,
    )


def voice_capacity(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    conversations: float = 1.0,
    tokens_per_s: float = 15.0,
    ttft_s: float = 0.5,
    context_tokens: int = 4000,
    output_tokens_per_turn: int = 150,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    max_chips: int = 64,
    precision: str | None = None,
    calibration: Calibration | None = None,
) -> CapacityPlan:
    """USD per hour of live voice conversation: the model must speak at least `tokens_per_s` (real time)
    and answer within `ttft_s`. Each conversation holds a client slot for the whole hour (conservative:
    the model idles while the person speaks). Defaults are assumptions: ~15 text tok/s covers speech
    (~3 words/s), 0.5 s to first token, 4K tokens of context, 150-token replies."""
    n = _positive("conversations", conversations)
    rate = _positive("tokens_per_s", tokens_per_s)
    ttft = _positive("ttft_s", ttft_s)
    f, price = _frontier_and_price(
        model,
        hardware,
        context_tokens,
        output_tokens_per_turn,
        max_chips,
        precision,
        calibration,
        acquisition,
        usd_per_chip_hour,
        ownership,
    )
    pts = f.all_points
    ok = (pts["tokens_per_s_per_user"].to_numpy() >= rate) & (pts["ttft_s"].to_numpy() <= ttft)
    req = {
        "conversations": n,
        "tokens_per_s": rate,
        "ttft_s": ttft,
        "context_tokens": context_tokens,
        "output_tokens_per_turn": output_tokens_per_turn,
        "usd_per_chip_hour": price.usd_per_chip_hour,
        "acquisition": price.acquisition,
    }
    return _plan(
        f,
        price.usd_per_chip_hour,
        n,
        ok,
        f"Voice on {f.model} / {f.hardware}",
        req,
        "conversation",
        ["each conversation holds a slot for the whole hour"],
    )


def _system(hardware: System | str) -> System:
    from inferonomics.catalog.hardware_catalog import get_hardware

    return get_hardware(hardware) if isinstance(hardware, str) else hardware


# ---------------------------------------------------------------------------------------------------
# Coding-agent session
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRates:
    """USD per million tokens a session is billed at (API sheet or self-hosted derived sheet)."""

    label: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float
    cache_write_usd_per_mtok: float
    context_tiers: tuple[tuple[int, float, float], ...] = ()
    """(above this many prompt tokens, input multiplier, output multiplier), ascending; the last tier whose
    threshold a prompt exceeds applies to all its input and output (API long-context rules)."""

    def multipliers(self, prompt_tokens: int) -> tuple[float, float]:
        mi = mo = 1.0
        for threshold, i, o in self.context_tiers:
            if prompt_tokens > threshold:
                mi, mo = i, o
        return mi, mo

    @classmethod
    def from_sheet(cls, sheet: PriceSheet) -> TokenRates:
        """API rates; no cached price = no cache discount; cache write = the 5-minute write, else input."""
        cached = sheet.cached_input_usd_per_mtok
        if cached is None:
            cached = sheet.input_usd_per_mtok * (1 - sheet.implicit_cache_discount)
        write = sheet.cache_write_5m_usd_per_mtok or sheet.input_usd_per_mtok
        tiers: tuple[tuple[int, float, float], ...] = ()
        if sheet.long_context_threshold_tokens:
            tiers = (
                (
                    sheet.long_context_threshold_tokens,
                    sheet.long_context_input_multiplier,
                    sheet.long_context_output_multiplier,
                ),
            )
        return cls(sheet.key, sheet.input_usd_per_mtok, sheet.output_usd_per_mtok, cached, write, tiers)

    @classmethod
    def from_derived(cls, d: DerivedPriceSheet, label: str | None = None) -> TokenRates:
        """Self-hosted rates; a prompt between two costed lengths pays the cost of the longer one (relative
        to the standard cost, never below it), so the surcharge follows the context step by step."""
        lc = d.long_context or {}
        rows = sorted(lc.get("rows", []), key=lambda r: r["context_tokens"])
        c_in, c_out = d.cost_usd_per_mtok["input"], d.cost_usd_per_mtok["output"]
        tiers = tuple(
            (
                int(prev["context_tokens"]),
                max(row["input_usd_per_mtok"] / c_in, 1.0),
                max(row["output_usd_per_mtok"] / c_out, 1.0),
            )
            for prev, row in zip(rows, rows[1:], strict=False)
        )
        return cls(
            label or f"self-hosted {d.deployment}",
            d.input_usd_per_mtok,
            d.output_usd_per_mtok,
            d.cached_input_usd_per_mtok,
            d.cache_write_usd_per_mtok,
            tiers,
        )


@dataclass(frozen=True)
class SessionCost:
    turns: pd.DataFrame
    """One row per turn: context, cached / uncached input, output, and the cost at each rate."""
    totals: dict[str, float]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "totals_usd": self.totals,
            "turns": self.turns.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def coding_session(
    rates: list[TokenRates],
    *,
    turns: int = 40,
    initial_context_tokens: int = 20_000,
    new_input_tokens_per_turn: int = 2_000,
    output_tokens_per_turn: int = 800,
    cache_hit_rate: float = 0.9,
    max_context_tokens: int | None = None,
) -> SessionCost:
    """Cost of a coding-agent session whose context grows every turn, at each set of rates.

    Turn t sends context C_t plus the new input; `cache_hit_rate` of C_t is read from the prompt cache
    (none on the first turn), the rest is written to it (billed at the cache-write rate). A prompt over a
    long-context threshold bills all its input and output at the tier's multipliers.
    """
    if not rates:
        raise InvalidInputError("coding_session needs at least one set of rates")
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        raise InvalidInputError(f"turns must be a whole number >= 1, got {turns!r}")
    if not 0.0 <= cache_hit_rate <= 1.0:
        raise InvalidInputError(f"cache_hit_rate must be in [0, 1], got {cache_hit_rate!r}")
    for name, v in (
        ("initial_context_tokens", initial_context_tokens),
        ("new_input_tokens_per_turn", new_input_tokens_per_turn),
        ("output_tokens_per_turn", output_tokens_per_turn),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidInputError(f"{name} must be a whole number >= 0, got {v!r}")
    rows = []
    notes: list[str] = []
    ctx = initial_context_tokens
    for t in range(turns):
        prompt = ctx + new_input_tokens_per_turn
        if max_context_tokens and prompt + output_tokens_per_turn > max_context_tokens:
            notes.append(f"context window of {max_context_tokens} tokens reached after {t} turns")
            break
        cached = 0 if t == 0 else int(round(cache_hit_rate * ctx))
        uncached = prompt - cached
        row: dict[str, Any] = {
            "turn": t + 1,
            "context_tokens": ctx,
            "prompt_tokens": prompt,
            "cached_tokens": cached,
            "uncached_tokens": uncached,
            "output_tokens": output_tokens_per_turn,
        }
        for r in rates:
            mi, mo = r.multipliers(prompt)
            usd = (
                cached * r.cached_input_usd_per_mtok * mi
                + uncached * r.cache_write_usd_per_mtok * mi
                + output_tokens_per_turn * r.output_usd_per_mtok * mo
            ) / 1e6
            row[f"usd {r.label}"] = usd
        rows.append(row)
        ctx = prompt + output_tokens_per_turn
    table = pd.DataFrame(rows)
    totals = {r.label: float(table[f"usd {r.label}"].sum()) if not table.empty else 0.0 for r in rates}
    return SessionCost(table, totals, tuple(notes))


__all__ = [
    "CapacityPlan",
    "SessionCost",
    "TokenRates",
    "agents_capacity",
    "coding_session",
    "voice_capacity",
]
