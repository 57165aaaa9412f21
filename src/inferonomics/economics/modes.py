"""Modes and routing (inference-time scaling): what a router policy costs, how slow and how good it is.

A portfolio holds request classes (a share of traffic each), each with modes along its quality curve:
a fast mode and one or more thinking modes (more output tokens, more latency, higher quality). A
policy picks, per class, a mix of modes. With serving rates (USD per million input/output tokens, a
per-user speed and a TTFT: from an API sheet or a derived self-hosted sheet):

    cost per request    = sum over classes and modes of share x p(mode) x (input x r_in + output x r_out)
    latency per request = sum of share x p(mode) x (TTFT + output tokens / tokens per s per user)
    quality             = sum of share x p(mode) x quality(mode)

Every deterministic policy is enumerated; the (cost, quality) Pareto set is the frontier of policies
(mixed policies lie on segments between its points). `route_by_value` picks, per class, the mode
that maximises quality - cost / (USD per quality point), the router a budget implies.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.prices import PriceSheet
from inferonomics.economics.price_sheet import DerivedPriceSheet
from inferonomics.errors import InvalidInputError
from inferonomics.frames import row_at, row_dict

MAX_POLICIES = 100_000


@dataclass(frozen=True)
class Mode:
    name: str
    output_tokens: int
    quality: float

    def __post_init__(self) -> None:
        if not isinstance(self.output_tokens, int) or self.output_tokens < 1:
            raise InvalidInputError(f"mode {self.name!r}: output_tokens must be a whole number >= 1")
        if not np.isfinite(self.quality):
            raise InvalidInputError(f"mode {self.name!r}: quality must be a number")


@dataclass(frozen=True)
class RequestClass:
    name: str
    share: float
    input_tokens: int
    modes: tuple[Mode, ...]

    def __post_init__(self) -> None:
        if not self.share >= 0:
            raise InvalidInputError(f"class {self.name!r}: share must be >= 0")
        if not isinstance(self.input_tokens, int) or self.input_tokens < 0:
            raise InvalidInputError(f"class {self.name!r}: input_tokens must be a whole number >= 0")
        if not self.modes:
            raise InvalidInputError(f"class {self.name!r} needs at least one mode")
        names = [m.name for m in self.modes]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"class {self.name!r}: mode names must be distinct, got {names}")

    def mode(self, name: str) -> Mode:
        for m in self.modes:
            if m.name == name:
                return m
        raise InvalidInputError(f"class {self.name!r} has no mode {name!r}; modes: {[m.name for m in self.modes]}")


@dataclass(frozen=True)
class ServingRates:
    label: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    tokens_per_s_per_user: float
    ttft_s: float

    def __post_init__(self) -> None:
        for n in ("input_usd_per_mtok", "output_usd_per_mtok", "ttft_s"):
            if not getattr(self, n) >= 0:
                raise InvalidInputError(f"{n} must be >= 0, got {getattr(self, n)!r}")
        if not self.tokens_per_s_per_user > 0:
            raise InvalidInputError(f"tokens_per_s_per_user must be > 0, got {self.tokens_per_s_per_user!r}")

    @classmethod
    def from_sheet(cls, sheet: PriceSheet, tokens_per_s_per_user: float, ttft_s: float) -> ServingRates:
        """An API's list prices; its speed and TTFT are the user's (sheets do not state them)."""
        return cls(sheet.key, sheet.input_usd_per_mtok, sheet.output_usd_per_mtok, tokens_per_s_per_user, ttft_s)

    @classmethod
    def from_derived(cls, d: DerivedPriceSheet) -> ServingRates:
        """A derived sheet's standard tier, at its standard operating point's speed and TTFT."""
        p = d.operating_points["standard"]
        return cls(
            f"self-hosted {d.deployment}",
            d.input_usd_per_mtok,
            d.output_usd_per_mtok,
            p["tokens_per_s_per_user"],
            p["ttft_s"],
        )


def _check_portfolio(classes: Sequence[RequestClass]) -> None:
    if not classes:
        raise InvalidInputError("a portfolio needs at least one request class")
    total = sum(c.share for c in classes)
    if not total > 0:
        raise InvalidInputError("class shares must add up to more than 0")
    if len({c.name for c in classes}) != len(classes):
        raise InvalidInputError("class names must be distinct")


Policy = Mapping[str, str | Mapping[str, float]]
"""class name -> a mode name, or {mode name: probability}."""


def evaluate_policy(classes: Sequence[RequestClass], policy: Policy, rates: ServingRates) -> dict[str, float]:
    """Cost (USD per request), mean latency (s) and quality of one policy (shares normalised to 1)."""
    _check_portfolio(classes)
    total = sum(c.share for c in classes)
    cost = latency = quality = 0.0
    for c in classes:
        choice = policy.get(c.name)
        if choice is None:
            raise InvalidInputError(f"the policy says nothing about class {c.name!r}")
        mix = {choice: 1.0} if isinstance(choice, str) else dict(choice)
        if any(p < 0 for p in mix.values()) or abs(sum(mix.values()) - 1.0) > 1e-6:
            raise InvalidInputError(f"class {c.name!r}: mode probabilities must be >= 0 and add up to 1, got {mix}")
        w = c.share / total
        for name, p in mix.items():
            m = c.mode(name)
            cost += (
                w * p * (c.input_tokens * rates.input_usd_per_mtok + m.output_tokens * rates.output_usd_per_mtok) / 1e6
            )
            latency += w * p * (rates.ttft_s + m.output_tokens / rates.tokens_per_s_per_user)
            quality += w * p * m.quality
    return {"usd_per_request": cost, "latency_s": latency, "quality": quality}


@dataclass(frozen=True)
class PolicyFrontier:
    rates: ServingRates
    policies: pd.DataFrame
    """One row per deterministic policy: one column per class (its mode), cost, latency, quality, pareto."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def frontier(self) -> pd.DataFrame:
        return self.policies[self.policies["pareto"]].sort_values("usd_per_request").reset_index(drop=True)

    def best_within(self, usd_per_request: float) -> dict[str, Any] | None:
        """Highest-quality policy costing at most `usd_per_request` (None if none does)."""
        ok = self.policies[self.policies["usd_per_request"] <= usd_per_request + 1e-15]
        return None if ok.empty else row_dict(row_at(ok, ok["quality"].idxmax()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rates": self.rates.__dict__,
            "frontier": self.frontier.to_dict(orient="records"),
            "n_policies": len(self.policies),
            "notes": list(self.notes),
        }


def policy_frontier(classes: Sequence[RequestClass], rates: ServingRates) -> PolicyFrontier:
    """Every deterministic policy and the (cheaper, better) Pareto set among them."""
    _check_portfolio(classes)
    n = int(np.prod([len(c.modes) for c in classes]))
    if n > MAX_POLICIES:
        raise InvalidInputError(f"{n} policies is too many to enumerate (max {MAX_POLICIES}); use route_by_value")
    rows = []
    for combo in itertools.product(*[[m.name for m in c.modes] for c in classes]):
        policy = {c.name: mode for c, mode in zip(classes, combo, strict=True)}
        rows.append({**policy, **evaluate_policy(classes, policy, rates)})
    df = pd.DataFrame(rows)
    cost, q = df["usd_per_request"].to_numpy(), df["quality"].to_numpy()
    order = np.lexsort((-q, cost))
    keep = np.zeros(len(df), dtype=bool)
    best = -np.inf
    for i in order:
        if q[i] > best + 1e-12:
            keep[i] = True
            best = q[i]
    df["pareto"] = keep
    return PolicyFrontier(rates, df, ("mixed policies lie on segments between frontier points",))


def route_by_value(
    classes: Sequence[RequestClass], rates: ServingRates, usd_per_quality_point: float
) -> dict[str, str]:
    """Per class, the mode maximising quality - cost / `usd_per_quality_point` (a router's exchange rate)."""
    _check_portfolio(classes)
    if not usd_per_quality_point > 0:
        raise InvalidInputError(f"usd_per_quality_point must be > 0, got {usd_per_quality_point!r}")
    out = {}
    for c in classes:

        def value(m: Mode, c: RequestClass = c) -> float:
            usd = (c.input_tokens * rates.input_usd_per_mtok + m.output_tokens * rates.output_usd_per_mtok) / 1e6
            return m.quality - usd / usd_per_quality_point

        out[c.name] = max(c.modes, key=value).name
    return out


EXAMPLE_PORTFOLIO: tuple[RequestClass, ...] = (
    RequestClass("chat", 0.60, 1500, (Mode("fast", 400, 0.80), Mode("thinking", 3000, 0.85))),
    RequestClass("coding", 0.25, 8000, (Mode("fast", 800, 0.55), Mode("thinking", 6000, 0.75))),
    RequestClass("math", 0.15, 500, (Mode("fast", 300, 0.40), Mode("thinking", 8000, 0.85))),
)
"""Illustrative numbers (not data): replace them with your own quality curves."""


def portfolio_from_dict(data: Mapping[str, Any]) -> tuple[RequestClass, ...]:
    """{'classes': [{'name', 'share', 'input_tokens', 'modes': [{'name', 'output_tokens', 'quality'}]}]}."""
    try:
        classes = tuple(
            RequestClass(
                str(c["name"]),
                float(c["share"]),
                int(c["input_tokens"]),
                tuple(Mode(str(m["name"]), int(m["output_tokens"]), float(m["quality"])) for m in c["modes"]),
            )
            for c in data["classes"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"portfolio must look like {portfolio_from_dict.__doc__}: {exc!r}") from None
    _check_portfolio(classes)
    return classes


__all__ = [
    "EXAMPLE_PORTFOLIO",
    "Mode",
    "Policy",
    "PolicyFrontier",
    "RequestClass",
    "ServingRates",
    "evaluate_policy",
    "policy_frontier",
    "portfolio_from_dict",
    "route_by_value",
]
