"""Derive a price sheet for a model on a deployment at a target utilisation and margin.

price = cost x (1 + margin), cost from `cost.py` (chip-time per token from the step-time model, at a
utilisation). The tiers:

- standard input/output: the cheapest batch whose TPOT still gives `min_tokens_per_s_per_user`;
- batch (latency-tolerant): the highest-throughput batch, at `batch_utilisation` (it fills troughs);
- priority/fast: the cheapest batch at least `fast_tokens_per_s_per_user` fast (small batches);
- cached input: the prefix's KV lives in a storage tier (HBM, host DRAM or SSD) for the cache TTL; a
  write pays the prefill, the transfer and the capacity for the TTL, a read pays the load back into
  HBM (chip-time at the tier's bandwidth). The tier with the lowest write + reads x read wins;
- long context: the first prompt length whose cost per output (or input) token exceeds the standard
  price (margin wiped out), and the multipliers that keep the margin at the longest length served.

Storage-tier prices and bandwidths below HBM are assumptions (no shared fact gives them): server DDR5
about 5 USD/GB and enterprise NVMe about 0.10 USD/GB (2025 street prices, order of magnitude), each
amortised like the servers (`OwnershipAssumptions`); ~50 GB/s per chip from host DRAM over PCIe 5.0 x16
and ~6 GB/s per chip from local NVMe (as `serving.config`'s tiers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from inferonomics.economics.cost import check_workload, context_costs, operating_points, usd_per_mtok
from inferonomics.economics.ownership import (
    HOURS_PER_YEAR,
    Acquisition,
    ChipHourCost,
    OwnershipAssumptions,
    capital_recovery_factor,
    check_margin,
    check_utilisation,
    chip_hour_cost,
)
from inferonomics.errors import InvalidInputError
from inferonomics.frames import row_at
from inferonomics.perf import Deployment
from inferonomics.perf.calibration import Calibration
from inferonomics.results import ResultMixin

TierName = Literal["auto", "hbm", "dram", "ssd"]

DRAM_USD_PER_GB = 5.0
"""Assumption: server DDR5 RDIMM, 2025 street price, order of magnitude."""
SSD_USD_PER_GB = 0.10
"""Assumption: enterprise TLC NVMe, 2025 street price, order of magnitude."""
DRAM_LOAD_GB_S_PER_CHIP = 50.0
"""Host DRAM to HBM over PCIe 5.0 x16 (64 GB/s nominal, ~50 achieved)."""
SSD_LOAD_GB_S_PER_CHIP = 6.0
"""One NVMe (PCIe 4.0 x4) per chip, sequential read."""


@dataclass(frozen=True)
class StorageTier:
    """Where a cached prefix's KV waits between requests: capacity cost and load bandwidth per chip."""

    name: str
    usd_per_gb_hour: float
    load_gb_s_per_chip: float
    """inf = already in HBM (no load)."""
    basis: str = ""

    def __post_init__(self) -> None:
        if not self.usd_per_gb_hour >= 0:
            raise InvalidInputError(f"storage tier {self.name}: usd_per_gb_hour must be >= 0")
        if not self.load_gb_s_per_chip > 0:
            raise InvalidInputError(f"storage tier {self.name}: load_gb_s_per_chip must be > 0")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "usd_per_gb_hour": self.usd_per_gb_hour,
            "load_gb_s_per_chip": self.load_gb_s_per_chip,
            "basis": self.basis,
        }


def storage_tiers(
    chip_hour: ChipHourCost, hbm_gb: float, ownership: OwnershipAssumptions | None = None
) -> dict[str, StorageTier]:
    """HBM (the chip's whole hourly cost spread over its HBM: KV held there displaces batch), DRAM, SSD."""
    a = ownership or OwnershipAssumptions()
    per_hour = capital_recovery_factor(a.cost_of_capital_per_year, a.life_years) / HOURS_PER_YEAR
    return {
        "hbm": StorageTier(
            "hbm",
            chip_hour.usd_per_chip_hour / hbm_gb,
            float("inf"),
            f"{chip_hour.usd_per_chip_hour:.2f} USD per chip-hour / {hbm_gb:g} GB of HBM",
        ),
        "dram": StorageTier(
            "dram",
            DRAM_USD_PER_GB * per_hour,
            DRAM_LOAD_GB_S_PER_CHIP,
            f"assumed {DRAM_USD_PER_GB:g} USD/GB amortised over {a.life_years:g} y at "
            f"{a.cost_of_capital_per_year:.0%}; {DRAM_LOAD_GB_S_PER_CHIP:g} GB/s per chip (PCIe 5.0)",
        ),
        "ssd": StorageTier(
            "ssd",
            SSD_USD_PER_GB * per_hour,
            SSD_LOAD_GB_S_PER_CHIP,
            f"assumed {SSD_USD_PER_GB:g} USD/GB amortised over {a.life_years:g} y at "
            f"{a.cost_of_capital_per_year:.0%}; {SSD_LOAD_GB_S_PER_CHIP:g} GB/s per chip (NVMe)",
        ),
    }


@dataclass(frozen=True)
class CacheCost:
    """USD per million cached tokens in one tier, before margin."""

    tier: StorageTier
    ttl_s: float
    kv_bytes_per_token: float
    storage_usd_per_mtok: float
    transfer_usd_per_mtok: float
    write_usd_per_mtok: float
    read_usd_per_mtok: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier.to_dict(),
            "ttl_s": self.ttl_s,
            "kv_bytes_per_token": self.kv_bytes_per_token,
            "storage_usd_per_mtok": self.storage_usd_per_mtok,
            "transfer_usd_per_mtok": self.transfer_usd_per_mtok,
            "write_usd_per_mtok": self.write_usd_per_mtok,
            "read_usd_per_mtok": self.read_usd_per_mtok,
        }


def cache_costs(
    kv_bytes_per_token: float,
    ttl_s: float,
    input_usd_per_mtok: float,
    chip_hour: ChipHourCost,
    tiers: dict[str, StorageTier],
    utilisation: float = 1.0,
) -> dict[str, CacheCost]:
    """Write (prefill + transfer + capacity for the TTL) and read (load) cost of a cached token per tier."""
    if not ttl_s > 0:
        raise InvalidInputError(f"cache TTL must be > 0 s, got {ttl_s!r}")
    out = {}
    for name, t in tiers.items():
        storage = kv_bytes_per_token / 1e9 * t.usd_per_gb_hour * ttl_s / 3600.0 * 1e6
        transfer = kv_bytes_per_token / (t.load_gb_s_per_chip * 1e9) * chip_hour.usd_per_chip_s / utilisation * 1e6
        out[name] = CacheCost(
            t, ttl_s, kv_bytes_per_token, storage, transfer, input_usd_per_mtok + storage + transfer, transfer
        )
    return out


@dataclass(frozen=True, repr=False)
class DerivedPriceSheet(ResultMixin):
    model: str
    deployment: str
    isl: int
    osl: int
    utilisation: float
    margin: float
    chip_hour: ChipHourCost
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float
    cache_write_usd_per_mtok: float
    cache_tier: str
    cache_ttl_s: float
    batch_input_usd_per_mtok: float
    batch_output_usd_per_mtok: float
    priority_input_usd_per_mtok: float
    priority_output_usd_per_mtok: float
    long_context: dict[str, Any] | None
    operating_points: dict[str, dict[str, float]]
    """standard / batch / priority: concurrency, batch size, tokens/s per user, TTFT."""
    cost_usd_per_mtok: dict[str, float]
    """The same tiers at zero margin."""
    cache_tiers: dict[str, CacheCost] = field(default_factory=dict)
    batch_utilisation: float = 0.9
    notes: tuple[str, ...] = ()

    @property
    def batch_discount(self) -> float:
        return 1.0 - self.batch_output_usd_per_mtok / self.output_usd_per_mtok

    @property
    def priority_multiplier(self) -> float:
        return self.priority_output_usd_per_mtok / self.output_usd_per_mtok

    @property
    def output_to_input_ratio(self) -> float | None:
        """Output price over input price; None when input costs nothing at this precision."""
        return self.output_usd_per_mtok / self.input_usd_per_mtok if self.input_usd_per_mtok > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "deployment": self.deployment,
            "isl": self.isl,
            "osl": self.osl,
            "utilisation": self.utilisation,
            "batch_utilisation": self.batch_utilisation,
            "margin": self.margin,
            "usd_per_chip_hour": self.chip_hour.usd_per_chip_hour,
            "acquisition": self.chip_hour.acquisition,
            "input_usd_per_mtok": self.input_usd_per_mtok,
            "output_usd_per_mtok": self.output_usd_per_mtok,
            "output_to_input_ratio": self.output_to_input_ratio,
            "cached_input_usd_per_mtok": self.cached_input_usd_per_mtok,
            "cache_write_usd_per_mtok": self.cache_write_usd_per_mtok,
            "cache_tier": self.cache_tier,
            "cache_ttl_s": self.cache_ttl_s,
            "long_context": self.long_context,
            "batch_usd_per_mtok": {
                "input": self.batch_input_usd_per_mtok,
                "output": self.batch_output_usd_per_mtok,
            },
            "batch_discount": self.batch_discount,
            "priority_usd_per_mtok": {
                "input": self.priority_input_usd_per_mtok,
                "output": self.priority_output_usd_per_mtok,
            },
            "priority_multiplier": self.priority_multiplier,
            "operating_points": self.operating_points,
            "cost_usd_per_mtok": self.cost_usd_per_mtok,
            "cache_tiers": {k: v.to_dict() for k, v in self.cache_tiers.items()},
            "chip_hour": self.chip_hour.to_dict(),
            "notes": list(self.notes),
        }


def _point(row: pd.Series) -> dict[str, float]:
    return {k: float(row[k]) for k in ("concurrency", "batch_size", "tokens_per_s_per_user", "ttft_s")}


def derive_price_sheet(
    dep: Deployment,
    *,
    isl: int = 1024,
    osl: int = 1024,
    utilisation: float = 0.6,
    margin: float = 0.3,
    min_tokens_per_s_per_user: float = 20.0,
    fast_tokens_per_s_per_user: float | None = None,
    batch_utilisation: float = 0.9,
    cache_ttl_s: float = 300.0,
    cache_tier: TierName = "auto",
    cache_reads_per_write: float = 1.0,
    long_contexts: list[int] | None = None,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    chip_hour: ChipHourCost | None = None,
    calibration: Calibration | None = None,
) -> DerivedPriceSheet:
    """A price sheet for `dep` at `utilisation` and `margin` (price = cost x (1 + margin)); see the module.

    Defaults are assumptions, stated in the result: 60% utilisation, 30% markup, a 20 tok/s standard
    speed, priority at 2x the standard speed, batch at 90% utilisation, a 5-minute cache TTL read once.
    """
    check_workload(isl, osl)
    u = check_utilisation(utilisation)
    ub = check_utilisation(batch_utilisation, "batch_utilisation")
    m = check_margin(margin)
    if not min_tokens_per_s_per_user > 0:
        raise InvalidInputError(f"min_tokens_per_s_per_user must be > 0, got {min_tokens_per_s_per_user!r}")
    if not cache_reads_per_write >= 0:
        raise InvalidInputError(f"cache_reads_per_write must be >= 0, got {cache_reads_per_write!r}")
    if cache_tier not in ("auto", "hbm", "dram", "ssd"):
        raise InvalidInputError(f"cache_tier must be auto, hbm, dram or ssd, got {cache_tier!r}")
    price = chip_hour or chip_hour_cost(
        dep.system, acquisition, usd_per_chip_hour=usd_per_chip_hour, ownership=ownership
    )
    p = price.usd_per_chip_hour
    notes: list[str] = [
        f"price = cost x (1 + {m:g}); cost at {u:.0%} utilisation on {price.acquisition}ed chips "
        f"at {p:.2f} USD per chip-hour"
    ]
    pts = operating_points(dep, isl, osl, calibration=calibration)
    out_col = "chip_s_per_output_token"

    def cheapest_at(speed: float) -> tuple[pd.Series, bool]:
        ok = pts["tokens_per_s_per_user"] >= speed
        if ok.any():
            return row_at(pts, pts.loc[ok, out_col].idxmin()), True
        return row_at(pts, pts["tokens_per_s_per_user"].idxmax()), False

    std, met = cheapest_at(min_tokens_per_s_per_user)
    if not met:
        notes.append(
            f"{dep.describe()} never reaches {min_tokens_per_s_per_user:g} tok/s per user; standard tier "
            f"priced at its fastest point ({std['tokens_per_s_per_user']:.1f} tok/s)"
        )
    fast_target = fast_tokens_per_s_per_user or 2.0 * float(std["tokens_per_s_per_user"])
    fast, met = cheapest_at(fast_target)
    if not met:
        notes.append(
            f"priority tier: {fast_target:.0f} tok/s per user is out of reach; priced at the fastest "
            f"point ({fast['tokens_per_s_per_user']:.1f} tok/s)"
        )
    bulk = row_at(pts, pts[out_col].idxmin())
    c_in = float(usd_per_mtok(std["chip_s_per_input_token"], p, u))
    c_out = float(usd_per_mtok(std[out_col], p, u))
    c_in_batch = float(usd_per_mtok(bulk["chip_s_per_input_token"], p, ub))
    c_out_batch = float(usd_per_mtok(bulk[out_col], p, ub))
    c_out_fast = float(usd_per_mtok(fast[out_col], p, u))

    kv_bytes = float(dep.model.kv_bytes(1, dep.kv_precision))
    tiers = storage_tiers(price, dep.system.chip.hbm_gb, ownership)
    caches = cache_costs(kv_bytes, cache_ttl_s, c_in, price, tiers, u)
    if cache_tier == "auto":
        chosen = min(
            caches,
            key=lambda k: caches[k].write_usd_per_mtok + cache_reads_per_write * caches[k].read_usd_per_mtok,
        )
    else:
        chosen = cache_tier
    cache = caches[chosen]
    if cache.read_usd_per_mtok >= c_in:
        notes.append(f"reading the cache from {chosen} costs as much as recomputing the prefix")

    long_ctx = _long_context(dep, isl, osl, c_in, c_out, m, u, price, long_contexts, calibration)
    if long_ctx is None:
        notes.append(
            "no long-context tier: cost per token stays below the standard price up to the longest context served"
        )
    return DerivedPriceSheet(
        model=dep.model.name,
        deployment=dep.describe(),
        isl=isl,
        osl=osl,
        utilisation=u,
        margin=m,
        chip_hour=price,
        input_usd_per_mtok=c_in * (1 + m),
        output_usd_per_mtok=c_out * (1 + m),
        cached_input_usd_per_mtok=cache.read_usd_per_mtok * (1 + m),
        cache_write_usd_per_mtok=cache.write_usd_per_mtok * (1 + m),
        cache_tier=chosen,
        cache_ttl_s=float(cache_ttl_s),
        batch_input_usd_per_mtok=c_in_batch * (1 + m),
        batch_output_usd_per_mtok=c_out_batch * (1 + m),
        priority_input_usd_per_mtok=c_in * (1 + m),
        priority_output_usd_per_mtok=c_out_fast * (1 + m),
        long_context=long_ctx,
        operating_points={"standard": _point(std), "batch": _point(bulk), "priority": _point(fast)},
        cost_usd_per_mtok={
            "input": c_in,
            "output": c_out,
            "batch_input": c_in_batch,
            "batch_output": c_out_batch,
            "priority_output": c_out_fast,
            "cached_input": cache.read_usd_per_mtok,
            "cache_write": cache.write_usd_per_mtok,
        },
        cache_tiers=caches,
        batch_utilisation=ub,
        notes=tuple(notes),
    )


def _long_context(
    dep: Deployment,
    isl: int,
    osl: int,
    c_in: float,
    c_out: float,
    margin: float,
    u: float,
    price: ChipHourCost,
    contexts: list[int] | None,
    calibration: Calibration | None,
) -> dict[str, Any] | None:
    """First context whose cost exceeds the standard price, and multipliers keeping the margin beyond it."""
    window = dep.model.max_context_tokens or 131072
    if contexts is None:
        top = window - osl
        contexts = sorted({int(x) for x in np.geomspace(max(isl, 1024), max(top, isl), 10)})
    cc = context_costs(dep, contexts, osl, chip_hour=price, utilisation=u, calibration=calibration)
    t = cc.table
    if t.empty:
        return None
    over = (t["output_usd_per_mtok"] > c_out * (1 + margin)) | (t["input_usd_per_mtok"] > c_in * (1 + margin))
    if not over.any():
        return None
    first = t[over].iloc[0]
    last = t.iloc[-1]
    lc_in = float(last["input_usd_per_mtok"]) * (1 + margin)
    lc_out = float(last["output_usd_per_mtok"]) * (1 + margin)
    return {
        "threshold_tokens": int(first["context_tokens"]),
        "evaluated_at_tokens": int(last["context_tokens"]),
        "input_usd_per_mtok": max(lc_in, c_in * (1 + margin)),
        "output_usd_per_mtok": max(lc_out, c_out * (1 + margin)),
        "input_multiplier": max(lc_in / (c_in * (1 + margin)), 1.0),
        "output_multiplier": max(lc_out / (c_out * (1 + margin)), 1.0),
        "rule": "first prompt length whose cost per token exceeds the standard price; multipliers keep the "
        "margin at the longest length served",
        "rows": t[
            [
                "context_tokens",
                "batch_size",
                "input_usd_per_mtok",
                "output_usd_per_mtok",
                "kv_read_floor_usd_per_mtok",
            ]
        ].to_dict(orient="records"),
    }


__all__ = [
    "CacheCost",
    "DerivedPriceSheet",
    "StorageTier",
    "cache_costs",
    "derive_price_sheet",
    "storage_tiers",
]
