"""Chips and systems: the figures that bound serving speed, in the units vendors print.

Catalog entries are in human units (TFLOP/s, GB, TB/s, GB/s, us) because that is what sheets print
and what users type in `--set`; the `*_per_s` / `*_bytes` properties give SI for the formulas.
Every figure carries a source; figures from secondary sources are listed in `unverified`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal

from inferonomics.catalog.precision import ComputeTier, Precision, get_precision

if TYPE_CHECKING:
    from inferonomics.catalog.rental import RentalPrice
from inferonomics.errors import InvalidInputError

GIB = 2**30
"""Bytes per GiB."""

Topology = Literal["switch", "torus", "single", "pcie"]
TOPOLOGIES: tuple[str, ...] = ("switch", "torus", "single", "pcie")


@dataclass(frozen=True)
class Chip:
    name: str
    vendor: str
    bf16_tflops: float
    """Dense peak at bf16/fp16 (sparse figures are 2x and never used)."""
    hbm_gb: float
    """Device memory as the vendor prints it, read as decimal GB (1e9 bytes); see `hbm_gib`."""
    hbm_bandwidth_tb_s: float
    fp8_tflops: float = 0.0
    int8_tops: float = 0.0
    fp4_tflops: float = 0.0
    sram_mb: float = 0.0
    """On-chip SRAM (L2 / Infinity Cache / CMEM / VMEM)."""
    scaleup_bandwidth_gb_s: float = 0.0
    """Scale-up (NVLink / ICI / Infinity Fabric) bandwidth per chip, both directions added."""
    tdp_w: float = 0.0
    sm_count: int = 0
    aliases: tuple[str, ...] = ()
    purchase_usd: float = 0.0
    rental_usd_per_hour_low: float = 0.0
    rental_usd_per_hour_high: float = 0.0
    """Market (neocloud) on-demand rental range per chip-hour; 0 in the file = no figure (read the price
    through `System.rental` / `catalog.rental.rental_price`, which give None, never 0)."""
    rental_date: str = ""
    rental_source: str = ""
    source: str = ""
    date: str = ""
    unverified: tuple[str, ...] = ()
    """Names of fields whose figure comes from a secondary source or an announcement (the (?) mark)."""
    notes: str = ""
    full_name: str = ""
    """Vendor's product name for people ('NVIDIA H100 SXM5 80GB'); `name` is the catalog key."""
    memory_type: str = ""
    """HBM3, HBM3e, GDDR6X, LPDDR5X (unified) ...; `hbm_*` fields hold the device memory whatever its kind."""
    interconnect: str = ""
    """Name of the scale-up link (NVLink4, ICI, Infinity Fabric, PCIe Gen4 x16 ...)."""
    rental_hyperscaler_usd_per_hour_low: float = 0.0
    rental_hyperscaler_usd_per_hour_high: float = 0.0
    """Hyperscaler (AWS/GCP/Azure) on-demand range per chip-hour; 0 = no figure."""
    rental_1y_usd_per_hour: float = 0.0
    """Per chip-hour with a 1-year commitment; 0 = no figure."""
    rental_3y_usd_per_hour: float = 0.0
    """Per chip-hour with a 3-year commitment; 0 = no figure."""
    rental_no_public_price: str = ""
    """Why the catalog gives no rental price (where it was looked for, and when); empty when it gives one."""
    hbm_gib: float = 0.0
    """Device memory in GiB (2**30 bytes) where the vendor's figure denotes binary capacity, 0 = not stated.
    DRAM is built in binary sizes: NVIDIA's "80 GB" H100 carries 80 GiB (5 HBM3 stacks of 16 GiB) and the
    device reports 81,559 MiB of it (MLPerf v4.1 system descriptions); Google and AWS print GiB outright.
    `hbm_gb` keeps the printed number; this field says which unit it was meant in."""

    # --- SI views --------------------------------------------------------------------------------
    @property
    def hbm_bytes(self) -> float:
        """Device memory in bytes, the one place capacities convert: binary where the catalog says the
        figure is GiB (`hbm_gib`; an "80 GB" H100 holds 80 GiB = 85.9e9 bytes), else decimal GB."""
        return self.hbm_gib * GIB if self.hbm_gib > 0 else self.hbm_gb * 1e9

    @property
    def hbm_bandwidth_bytes_per_s(self) -> float:
        return self.hbm_bandwidth_tb_s * 1e12

    @property
    def sram_bytes(self) -> float:
        return self.sram_mb * 1e6

    def peak_flops_per_s(self, tier: ComputeTier) -> float:
        """Dense peak FLOP/s of a tensor tier; 0 when the chip has no native support for it."""
        tflops = {
            "bf16": self.bf16_tflops,
            "fp8": self.fp8_tflops,
            "int8": self.int8_tops,
            "fp4": self.fp4_tflops,
        }[tier]
        return tflops * 1e12

    def supports(self, precision: str | Precision) -> bool:
        """True when GEMMs in this format run on a native tensor tier of the chip."""
        p = get_precision(precision)
        return p.weight_only or self.peak_flops_per_s(p.compute_tier) > 0

    def gemm_flops_per_s(self, precision: str | Precision) -> float:
        """Peak FLOP/s a GEMM in `precision` gets: its native tier, else the best wider tier.

        Weight-only formats multiply in bf16; FP4 on a chip without FP4 runs at FP8 (or bf16) after
        up-conversion, as engines do for MXFP4 on Hopper.
        """
        p = get_precision(precision)
        order: dict[str, tuple[ComputeTier, ...]] = {
            "fp4": ("fp4", "fp8", "bf16"),
            "fp8": ("fp8", "bf16"),
            "int8": ("int8", "fp8", "bf16"),
            "bf16": ("bf16",),
        }
        for tier in order[p.compute_tier]:
            peak = self.peak_flops_per_s(tier)
            if peak > 0:
                return peak
        return self.peak_flops_per_s("bf16")

    def native_precisions(self) -> list[str]:
        from inferonomics.catalog.precision import PRECISIONS

        return [
            p.name
            for p in PRECISIONS
            if p.name != "fp32" and self.supports(p) and (p.weight_only or self.peak_flops_per_s(p.compute_tier) > 0)
        ]


@dataclass(frozen=True)
class System:
    """A deployable unit: chips, how many share a node and a scale-up domain, and the network."""

    name: str
    chip: Chip
    chips_per_node: int
    scaleup_domain_chips: int
    topology: Topology = "switch"
    intra_node_bandwidth_gb_s: float = 0.0
    """Per chip, one direction, inside the scale-up domain (e.g. 450 for NVLink4 H100)."""
    intra_node_latency_us: float = 0.0
    """Small-message collective latency inside the scale-up domain."""
    inter_node_bandwidth_gb_s: float = 0.0
    """Per chip, one direction, between scale-up domains (e.g. 50 for a 400 Gb/s NIC per GPU)."""
    inter_node_latency_us: float = 0.0
    aliases: tuple[str, ...] = ()
    server_usd_per_chip: float = 0.0
    """Purchase price of the server per chip (chip, host, memory, NICs); 0 = use the ownership default."""
    rental_usd_per_chip_hour: float = 0.0
    """This system's own rental price per chip-hour; 0 = use the chip's ranges (`catalog.rental`)."""
    source: str = ""
    date: str = ""
    unverified: tuple[str, ...] = ()
    notes: str = ""

    @property
    def intra_node_bandwidth_bytes_per_s(self) -> float:
        return self.intra_node_bandwidth_gb_s * 1e9

    @property
    def inter_node_bandwidth_bytes_per_s(self) -> float:
        return self.inter_node_bandwidth_gb_s * 1e9

    @property
    def intra_node_latency_s(self) -> float:
        return self.intra_node_latency_us * 1e-6

    @property
    def inter_node_latency_s(self) -> float:
        return self.inter_node_latency_us * 1e-6

    @property
    def rental(self) -> RentalPrice:
        """Rental ranges, dates, sources and the reference price per chip-hour (`catalog.rental`)."""
        from inferonomics.catalog.rental import rental_price

        return rental_price(self)

    @property
    def rental_usd_per_hour(self) -> float | None:
        """Reference rental price per chip-hour (`catalog.rental`'s rule); None = no public price."""
        return self.rental.reference_usd_per_chip_hour

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------------
# Validation and what-if overrides
# ---------------------------------------------------------------------------------------------------

_POSITIVE_CHIP = ("bf16_tflops", "hbm_gb", "hbm_bandwidth_tb_s")
_NON_NEGATIVE_CHIP = (
    "fp8_tflops",
    "int8_tops",
    "fp4_tflops",
    "sram_mb",
    "scaleup_bandwidth_gb_s",
    "tdp_w",
    "purchase_usd",
    "rental_usd_per_hour_low",
    "rental_usd_per_hour_high",
    "sm_count",
    "rental_hyperscaler_usd_per_hour_low",
    "rental_hyperscaler_usd_per_hour_high",
    "rental_1y_usd_per_hour",
    "rental_3y_usd_per_hour",
)
_POSITIVE_SYSTEM = ("chips_per_node", "scaleup_domain_chips")
_NON_NEGATIVE_SYSTEM = (
    "intra_node_bandwidth_gb_s",
    "intra_node_latency_us",
    "inter_node_bandwidth_gb_s",
    "inter_node_latency_us",
    "server_usd_per_chip",
    "rental_usd_per_chip_hour",
)


def _check_number(owner: str, key: str, value: Any, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidInputError(f"{owner}: {key} must be a number, got {value!r}")
    if positive and value <= 0:
        raise InvalidInputError(f"{owner}: {key} must be > 0, got {value!r}")
    if not positive and value < 0:
        raise InvalidInputError(f"{owner}: {key} must be >= 0, got {value!r}")


def validate_chip(chip: Chip) -> Chip:
    for key in _POSITIVE_CHIP:
        _check_number(f"chip {chip.name!r}", key, getattr(chip, key), positive=True)
    for key in _NON_NEGATIVE_CHIP:
        _check_number(f"chip {chip.name!r}", key, getattr(chip, key), positive=False)
    for lo, hi in (
        ("rental_usd_per_hour_low", "rental_usd_per_hour_high"),
        ("rental_hyperscaler_usd_per_hour_low", "rental_hyperscaler_usd_per_hour_high"),
    ):
        if getattr(chip, hi) and getattr(chip, hi) < getattr(chip, lo):
            raise InvalidInputError(f"chip {chip.name!r}: {hi} is below {lo}")
    _check_unverified(f"chip {chip.name!r}", chip.unverified, CHIP_FIELDS)
    return chip


def validate_system(system: System) -> System:
    validate_chip(system.chip)
    for key in _POSITIVE_SYSTEM:
        _check_number(f"system {system.name!r}", key, getattr(system, key), positive=True)
    for key in _NON_NEGATIVE_SYSTEM:
        _check_number(f"system {system.name!r}", key, getattr(system, key), positive=False)
    if system.scaleup_domain_chips < system.chips_per_node and system.topology != "pcie":
        raise InvalidInputError(
            f"system {system.name!r}: scaleup_domain_chips ({system.scaleup_domain_chips}) is smaller than "
            f"chips_per_node ({system.chips_per_node})"
        )
    if system.topology not in TOPOLOGIES:
        raise InvalidInputError(
            f"system {system.name!r}: topology must be one of {', '.join(TOPOLOGIES)}, got {system.topology!r}"
        )
    if max(system.chips_per_node, system.scaleup_domain_chips) > 1 and system.intra_node_bandwidth_gb_s <= 0:
        raise InvalidInputError(
            f"system {system.name!r}: intra_node_bandwidth_gb_s must be > 0 for a system of more than one chip"
        )
    _check_unverified(f"system {system.name!r}", system.unverified, SYSTEM_FIELDS)
    return system


def _check_unverified(owner: str, names: tuple[str, ...], allowed: set[str]) -> None:
    bad = [n for n in names if n not in allowed]
    if bad:
        raise InvalidInputError(f"{owner}: unverified names unknown figures {', '.join(map(repr, bad))}")


CHIP_FIELDS = {f.name for f in fields(Chip)} - {"name", "aliases", "unverified"}
SYSTEM_FIELDS = {f.name for f in fields(System)} - {"name", "chip", "aliases", "unverified"}
FIELD_TYPES: dict[type, dict[str, str]] = {cls: {f.name: str(f.type) for f in fields(cls)} for cls in (Chip, System)}
"""Declared type of each field as written in the class ('float', 'int', 'str', 'tuple[str, ...]' ...)."""


MAX_OVERRIDE = 1e9
"""Largest what-if figure (in the field's own unit: GB, TB/s, TFLOPS, us, USD); beyond it products overflow."""


def parse_overrides(pairs: list[str] | None) -> dict[str, float | str]:
    """Parse `key=value` strings from `--set` into a dict (numbers where they parse)."""
    out: dict[str, float | str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise InvalidInputError(f"--set expects key=value, got {pair!r}")
        key, raw = (s.strip() for s in pair.split("=", 1))
        if not key:
            raise InvalidInputError(f"--set expects key=value, got {pair!r}")
        try:
            out[key] = float(raw)
        except ValueError:
            out[key] = raw
    return out


def with_overrides(system: System, overrides: dict[str, Any]) -> System:
    """A copy of `system` with chip or system figures replaced, for what-if questions.

    `hbm_bandwidth_tb_s=10` changes the chip; `inter_node_latency_us=2` the system. An unknown key or
    an impossible value (negative, zero bandwidth) is an error that names it.
    """
    if not overrides:
        return system
    chip_changes: dict[str, Any] = {}
    system_changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in CHIP_FIELDS:
            chip_changes[key] = value
        elif key in SYSTEM_FIELDS:
            system_changes[key] = value
        else:
            import difflib

            close = difflib.get_close_matches(key, sorted(CHIP_FIELDS | SYSTEM_FIELDS), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InvalidInputError(f"unknown hardware figure {key!r}{hint}")
    for changes, cls in ((chip_changes, Chip), (system_changes, System)):
        for key, value in list(changes.items()):
            kind = FIELD_TYPES[cls][key]
            if kind in ("int", "float"):
                if isinstance(value, str | bool) or not isinstance(value, int | float):
                    raise InvalidInputError(f"hardware figure {key!r} must be a number, got {value!r}")
                if not math.isfinite(float(value)) or abs(float(value)) > MAX_OVERRIDE:
                    raise InvalidInputError(
                        f"hardware figure {key!r} must be a finite number of at most {MAX_OVERRIDE:.0e}, got {value!r}"
                    )
                if kind == "int" and not float(value).is_integer():
                    raise InvalidInputError(f"hardware figure {key!r} must be a whole number, got {value!r}")
                changes[key] = int(value) if kind == "int" else float(value)
                if "bandwidth" in key and changes[key] <= 0:
                    raise InvalidInputError(f"hardware figure {key!r} must be > 0, got {value!r}")
            elif not isinstance(value, str):
                changes[key] = f"{value:g}" if isinstance(value, float) else str(value)
    if "hbm_gb" in chip_changes and "hbm_gib" not in chip_changes and system.chip.hbm_gib > 0:
        chip_changes["hbm_gib"] = chip_changes["hbm_gb"]  # the same label, in the unit the chip's figure is meant in
    chip = replace(system.chip, **chip_changes) if chip_changes else system.chip
    name_suffix = "+" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())
    out = replace(system, chip=chip, name=system.name + name_suffix, **system_changes)
    return validate_system(out)


__all__ = [
    "Chip",
    "System",
    "Topology",
    "TOPOLOGIES",
    "CHIP_FIELDS",
    "SYSTEM_FIELDS",
    "FIELD_TYPES",
    "validate_chip",
    "validate_system",
    "with_overrides",
    "parse_overrides",
    "field",
]
