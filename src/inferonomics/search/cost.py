"""Chip-hour prices of the searched systems and USD per million tokens, from `inferonomics.economics`.

The search holds no cost formula of its own: the price per chip-hour is `economics.ownership`'s
(rental from the catalog or the user, or ownership), and USD per million tokens is
`economics.cost.usd_per_mtok` of the chip-seconds each served output token takes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from inferonomics.catalog.hardware import System
from inferonomics.economics.cost import usd_per_mtok
from inferonomics.economics.ownership import chip_hour_cost
from inferonomics.errors import InvalidInputError


def chip_hour_prices(
    systems: Iterable[System], acquisition: str = "rent", usd_per_chip_hour: Mapping[str, float] | None = None
) -> tuple[dict[str, float], list[str]]:
    """USD per chip-hour of each system (NaN when the catalog has none) and notes on the missing ones.

    `usd_per_chip_hour` maps system (or chip) names to the user's own rental prices.
    """
    given = {k.lower(): v for k, v in (usd_per_chip_hour or {}).items()}
    prices: dict[str, float] = {}
    missing: list[str] = []
    for s in systems:
        price = given.get(s.name.lower(), given.get(s.chip.name.lower()))
        try:
            if price is not None:
                prices[s.name] = chip_hour_cost(s, "rent", usd_per_chip_hour=price).usd_per_chip_hour
            else:
                prices[s.name] = chip_hour_cost(s, acquisition).usd_per_chip_hour  # type: ignore[arg-type]
        except InvalidInputError:
            prices[s.name] = math.nan
            missing.append(s.name)
    notes = []
    if missing:
        how, alt = ("rental", " (or --own)") if acquisition == "rent" else ("purchase/TDP", "")
        notes.append(
            f"no {how} price in the catalog for {', '.join(sorted(missing))}: their USD figures are "
            f"blank; give --usd-per-chip-hour NAME=PRICE{alt}"
        )
    return prices, notes


def usd_per_million_tokens(chips: Any, output_tokens_per_s: Any, usd_per_chip_hour: Any) -> Any:
    """USD per million output tokens of `chips` serving `output_tokens_per_s` (NaN when nothing is served)."""
    tps = np.asarray(output_tokens_per_s, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        chip_s_per_token = np.where(tps > 0, np.asarray(chips, dtype=np.float64) / tps, np.nan)
    return usd_per_mtok(chip_s_per_token, usd_per_chip_hour)
