"""What one chip-hour costs: rented (a market price) or owned (capital, power and hosting).

Ownership follows Epoch AI's cost model (shared/facts/hardware.md, "Cost inputs"): a server costs
1.64 x its chips' price, the cluster interconnect is 19% of the cluster's cost, the hardware lives
5 years, a server draws 1.82 x its chips' TDP, GPUs draw 75% of TDP on average, PUE 1.1 (hyperscale)
to 1.25 (others), US industrial electricity about 0.08 USD/kWh. The capital is recovered as an
annuity at a cost of capital (10%/yr here: an assumption, not an Epoch figure):

    capital USD/h = cluster USD per chip x r / (1 - (1 + r)^-life) / 8766
    power USD/h   = TDP x 1.82 x 0.75 x PUE / 1000 x electricity USD/kWh
    hosting USD/h = TDP x 1.82 / 1000 x hosting USD per kW-month / 730.5
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from inferonomics.catalog.hardware import System
from inferonomics.errors import InvalidInputError

HOURS_PER_YEAR = 8766.0
"""365.25 days."""
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0

Acquisition = Literal["rent", "own"]


def check_utilisation(utilisation: float, name: str = "utilisation") -> float:
    """A fraction of paid hours that do useful work: in (0, 1]."""
    if not isinstance(utilisation, int | float) or utilisation != utilisation or not 0.0 < utilisation <= 1.0:
        raise InvalidInputError(f"{name} must be in (0, 1] (a fraction of paid hours in use), got {utilisation!r}")
    return float(utilisation)


def check_margin(margin: float) -> float:
    """A markup on cost: price = cost x (1 + margin); -1 (free) and below make no sense."""
    if not isinstance(margin, int | float) or margin != margin or margin <= -1.0:
        raise InvalidInputError(f"margin must be > -1 (price = cost x (1 + margin)), got {margin!r}")
    return float(margin)


def check_price(value: float, name: str) -> float:
    if not isinstance(value, int | float) or value != value or value < 0:
        raise InvalidInputError(f"{name} must be a price >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class OwnershipAssumptions:
    """Every input of the ownership cost; defaults are Epoch AI's (see the module docstring).

    `chip_usd` / `server_usd_per_chip` = None take the catalog's figures: the system's server price
    per chip when it has one, else `server_to_chip_price_ratio` x the chip's purchase price.
    """

    chip_usd: float | None = None
    server_usd_per_chip: float | None = None
    server_to_chip_price_ratio: float = 1.64
    interconnect_share_of_cluster: float = 0.19
    life_years: float = 5.0
    cost_of_capital_per_year: float = 0.10
    """Assumption (not an Epoch figure): a weighted cost of capital for a data-centre buyer."""
    pue: float = 1.25
    """Epoch: 1.1 hyperscale, 1.25 others (enterprise colocation 1.5-1.6)."""
    server_power_to_tdp: float = 1.82
    average_draw: float = 0.75
    electricity_usd_per_kwh: float = 0.08
    hosting_usd_per_kw_month: float = 0.0
    """Space/colocation rent per kW of server power; 0 = not in Epoch's defaults (PUE covers the facility)."""
    tdp_w: float | None = None
    """None = the chip's TDP from the catalog."""

    def __post_init__(self) -> None:
        for name in ("chip_usd", "server_usd_per_chip", "tdp_w"):
            v = getattr(self, name)
            if v is not None:
                check_price(v, name)
        for name in ("server_to_chip_price_ratio", "life_years", "pue", "server_power_to_tdp"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not v > 0:
                raise InvalidInputError(f"ownership {name} must be > 0, got {v!r}")
        if self.pue < 1.0:
            raise InvalidInputError(f"ownership pue must be >= 1 (facility power / IT power), got {self.pue}")
        if not 0.0 <= self.interconnect_share_of_cluster < 1.0:
            raise InvalidInputError(
                f"ownership interconnect_share_of_cluster must be in [0, 1), got {self.interconnect_share_of_cluster}"
            )
        if not 0.0 < self.average_draw <= 1.5:
            raise InvalidInputError(f"ownership average_draw must be in (0, 1.5], got {self.average_draw}")
        if not -0.5 < self.cost_of_capital_per_year < 1.0:
            raise InvalidInputError(
                f"ownership cost_of_capital_per_year must be in (-0.5, 1), got {self.cost_of_capital_per_year}"
            )
        check_price(self.electricity_usd_per_kwh, "electricity_usd_per_kwh")
        check_price(self.hosting_usd_per_kw_month, "hosting_usd_per_kw_month")

    def with_(self, **changes: Any) -> OwnershipAssumptions:
        return replace(self, **changes)

    @classmethod
    def from_pairs(cls, pairs: list[str] | None, base: OwnershipAssumptions | None = None) -> OwnershipAssumptions:
        """`['life_years=4', 'pue=1.1']` (the CLI's --own-set) over `base` (default: Epoch's)."""
        base = base or cls()
        known = set(asdict(base))
        changes: dict[str, float] = {}
        for pair in pairs or []:
            key, sep, raw = pair.partition("=")
            key = key.strip()
            if not sep or key not in known:
                raise InvalidInputError(
                    f"ownership assumption must be key=value with key one of {', '.join(sorted(known))}; got {pair!r}"
                )
            try:
                changes[key] = float(raw)
            except ValueError:
                raise InvalidInputError(f"ownership assumption {key!r} must be a number, got {raw!r}") from None
        return replace(base, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChipHourCost:
    """USD per chip-hour of one way of getting chips, with the terms it adds up from."""

    usd_per_chip_hour: float
    acquisition: Acquisition
    system: str
    terms_usd_per_chip_hour: dict[str, float] = field(default_factory=dict)
    assumptions: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def usd_per_chip_s(self) -> float:
        return self.usd_per_chip_hour / 3600.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "usd_per_chip_hour": self.usd_per_chip_hour,
            "acquisition": self.acquisition,
            "system": self.system,
            "terms_usd_per_chip_hour": dict(self.terms_usd_per_chip_hour),
            "assumptions": dict(self.assumptions),
            "notes": list(self.notes),
        }


def capital_recovery_factor(rate_per_year: float, life_years: float) -> float:
    """Annual payment per USD of capital repaid over `life_years` at `rate_per_year` (an annuity):
    r / (1 - (1 + r)^-n), written with expm1/log1p so that small rates do not cancel."""
    if abs(rate_per_year) < 1e-12:
        return 1.0 / life_years
    return rate_per_year / -math.expm1(-life_years * math.log1p(rate_per_year))


def rent_cost(system: System, usd_per_chip_hour: float | None = None) -> ChipHourCost:
    """A rental price per chip-hour: the user's, else the catalog's (system figure or chip range midpoint)."""
    if usd_per_chip_hour is not None:
        price = check_price(usd_per_chip_hour, "usd_per_chip_hour")
        if not price > 0:  # a free chip-hour makes every cost 0 and every cost ratio undefined
            raise InvalidInputError(f"usd_per_chip_hour must be a rental price > 0, got {usd_per_chip_hour!r}")
        source = "given"
    else:
        rental = system.rental
        source = f"{rental.source or 'catalog'} ({rental.date}; {rental.rule})"
        if rental.reference_usd_per_chip_hour is None:
            raise InvalidInputError(
                f"the catalog has no public rental price for {system.name} ({rental.no_public_price}); give one "
                "(usd_per_chip_hour / --usd-per-chip-hour) or price ownership (--own)"
            )
        price = rental.reference_usd_per_chip_hour
    return ChipHourCost(
        usd_per_chip_hour=price,
        acquisition="rent",
        system=system.name,
        terms_usd_per_chip_hour={"rental": price},
        assumptions={"usd_per_chip_hour": price, "source": source},
    )


def own_cost(system: System, assumptions: OwnershipAssumptions | None = None) -> ChipHourCost:
    """USD per chip-hour of owning `system` (capital annuity + power + hosting), Epoch AI's model."""
    a = assumptions or OwnershipAssumptions()
    chip = system.chip
    notes: list[str] = []
    chip_usd = a.chip_usd if a.chip_usd is not None else chip.purchase_usd
    if a.server_usd_per_chip is not None:
        server = a.server_usd_per_chip
        server_source = "given"
    elif a.chip_usd is None and system.server_usd_per_chip > 0:
        server = system.server_usd_per_chip
        server_source = f"catalog ({system.name} server price per chip)"
    elif chip_usd > 0:
        server = chip_usd * a.server_to_chip_price_ratio
        server_source = f"{a.server_to_chip_price_ratio:g} x chip price {chip_usd:,.0f} USD (Epoch AI)"
    else:
        raise InvalidInputError(
            f"the catalog has no purchase price for {system.name} (chip {chip.name}); give chip_usd or "
            "server_usd_per_chip (--own-set chip_usd=... or --own-set server_usd_per_chip=...)"
        )
    tdp = a.tdp_w if a.tdp_w is not None else chip.tdp_w
    if tdp <= 0:
        raise InvalidInputError(f"the catalog has no TDP for {chip.name}; give one (--own-set tdp_w=...)")
    if chip.tdp_w and "tdp_w" in chip.unverified and a.tdp_w is None:
        notes.append(f"TDP of {chip.name} is from a secondary source (?)")
    cluster = server / (1.0 - a.interconnect_share_of_cluster)
    crf = capital_recovery_factor(a.cost_of_capital_per_year, a.life_years)
    capital = cluster * crf / HOURS_PER_YEAR
    server_kw = tdp * a.server_power_to_tdp / 1000.0
    power = server_kw * a.average_draw * a.pue * a.electricity_usd_per_kwh
    hosting = server_kw * a.hosting_usd_per_kw_month / HOURS_PER_MONTH
    terms = {
        "capital_server": server * crf / HOURS_PER_YEAR,
        "capital_interconnect": (cluster - server) * crf / HOURS_PER_YEAR,
        "power": power,
        "hosting": hosting,
    }
    return ChipHourCost(
        usd_per_chip_hour=capital + power + hosting,
        acquisition="own",
        system=system.name,
        terms_usd_per_chip_hour=terms,
        assumptions={
            **a.to_dict(),
            "server_usd_per_chip": server,
            "server_source": server_source,
            "cluster_usd_per_chip": cluster,
            "tdp_w": tdp,
            "capital_recovery_per_year": crf,
            "server_kw_per_chip": server_kw,
        },
        notes=tuple(notes),
    )


def chip_hour_cost(
    system: System,
    acquisition: Acquisition = "rent",
    *,
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
) -> ChipHourCost:
    """Rent (the given or catalog price) or own (`OwnershipAssumptions`) one chip-hour of `system`."""
    if acquisition == "rent":
        return rent_cost(system, usd_per_chip_hour)
    if acquisition == "own":
        if usd_per_chip_hour is not None:
            raise InvalidInputError("usd_per_chip_hour is a rental price; for ownership give OwnershipAssumptions")
        return own_cost(system, ownership)
    raise InvalidInputError(f"acquisition must be 'rent' or 'own', got {acquisition!r}")


__all__ = [
    "Acquisition",
    "ChipHourCost",
    "HOURS_PER_YEAR",
    "OwnershipAssumptions",
    "capital_recovery_factor",
    "check_margin",
    "check_price",
    "check_utilisation",
    "chip_hour_cost",
    "own_cost",
    "rent_cost",
]
