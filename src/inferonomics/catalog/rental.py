"""Rental prices of a system, per chip-hour: the dated ranges the catalog holds and the one figure used by default.

    rental_price(get_hardware("h100_sxm"))  -> RentalPrice(reference_usd_per_chip_hour=2.5, ...)

Reference rule (the figure `cost`, `frontier`, `price-sheet` use when the user gives no price):
1. the system's own `rental_usd_per_chip_hour`, when the catalog gives one;
2. else the midpoint of the chip's market (neocloud / specialist cloud) on-demand range;
3. else the midpoint of the hyperscaler on-demand range (the only seller for TPUs and Trainium);
4. else no public price: `reference_usd_per_chip_hour` is None and `no_public_price` says where it was
   looked for. A missing price is never 0.
Ranges are what the sources list on demand (no commitment), USD per chip-hour; commitments are kept apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inferonomics.catalog.hardware import System

NO_PUBLIC_PRICE = "no public price"


def _positive(value: float) -> float | None:
    return value if value > 0 else None


@dataclass(frozen=True)
class RentalPrice:
    """A system's rental figures, USD per chip-hour; None = no published figure."""

    system: str
    reference_usd_per_chip_hour: float | None
    rule: str
    """Which step of the reference rule gave the figure (module docstring)."""
    market_low_usd: float | None
    market_high_usd: float | None
    hyperscaler_low_usd: float | None
    hyperscaler_high_usd: float | None
    commit_1y_usd: float | None
    commit_3y_usd: float | None
    date: str
    source: str
    no_public_price: str = ""
    """Why there is no figure (where it was looked for, when); empty when there is one."""

    @property
    def has_price(self) -> bool:
        return self.reference_usd_per_chip_hour is not None

    def range_text(self) -> str:
        """'2.0-3.0 (hyperscaler 3.5-5.0)' or 'no public price'."""
        parts = []
        for label, lo, hi in (
            ("", self.market_low_usd, self.market_high_usd),
            ("hyperscaler ", self.hyperscaler_low_usd, self.hyperscaler_high_usd),
        ):
            if lo is None and hi is None:
                continue
            lo_, hi_ = lo or hi, hi or lo
            parts.append(f"{label}{lo_:.2f}" + (f"-{hi_:.2f}" if hi_ != lo_ else ""))
        if not parts:
            return NO_PUBLIC_PRICE
        return parts[0] + (f" ({parts[1]})" if len(parts) > 1 else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _midpoint(lo: float | None, hi: float | None) -> float | None:
    if lo is None and hi is None:
        return None
    lo_, hi_ = lo or hi, hi or lo
    assert lo_ is not None and hi_ is not None
    return (lo_ + hi_) / 2.0


def rental_price(system: System) -> RentalPrice:
    """The system's rental figures and its reference price per chip-hour (module docstring's rule)."""
    c = system.chip
    market = (_positive(c.rental_usd_per_hour_low), _positive(c.rental_usd_per_hour_high))
    hyper = (_positive(c.rental_hyperscaler_usd_per_hour_low), _positive(c.rental_hyperscaler_usd_per_hour_high))
    own = _positive(system.rental_usd_per_chip_hour)
    reference: float | None
    if own is not None:
        reference, rule = own, f"the system's own figure ({system.name})"
    elif _midpoint(*market) is not None:
        reference, rule = _midpoint(*market), "midpoint of the market (neocloud) on-demand range"
    elif _midpoint(*hyper) is not None:
        reference, rule = _midpoint(*hyper), "midpoint of the hyperscaler on-demand range (no market range)"
    else:
        reference, rule = None, NO_PUBLIC_PRICE
    return RentalPrice(
        system=system.name,
        reference_usd_per_chip_hour=reference,
        rule=rule,
        market_low_usd=market[0],
        market_high_usd=market[1],
        hyperscaler_low_usd=hyper[0],
        hyperscaler_high_usd=hyper[1],
        commit_1y_usd=_positive(c.rental_1y_usd_per_hour),
        commit_3y_usd=_positive(c.rental_3y_usd_per_hour),
        date=c.rental_date,
        source=c.rental_source,
        no_public_price="" if reference is not None else (c.rental_no_public_price or NO_PUBLIC_PRICE),
    )


__all__ = ["NO_PUBLIC_PRICE", "RentalPrice", "rental_price"]
