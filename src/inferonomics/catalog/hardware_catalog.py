"""The hardware catalog: chips and systems from `data/hardware.toml`, plus a user's own TOML file.

    get_hardware("H100")                       -> System h100_sxm (a chip name gives its default system)
    get_hardware("gb200", {"hbm_gb": 200})     -> a what-if copy (see `hardware.with_overrides`)
    get_chip("tpu-v5e"), list_hardware(), load_hardware_file("mine.toml")

A user file has the built-in format (`[chips.<key>]`, `[systems.<key>]`, optional `base = "<key>"`).
An entry whose key is a built-in key changes only the fields it gives; systems built on a changed chip
see the change. The file named by `INFERONOMICS_HARDWARE_FILE`, if set, is read on every look-up,
before any `extra_file`. Parsing is cached per file and modification time.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import itertools
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from inferonomics.catalog.hardware import (
    FIELD_TYPES,
    TOPOLOGIES,
    Chip,
    System,
    validate_chip,
    validate_system,
    with_overrides,
)
from inferonomics.catalog.names import lookup, normalise
from inferonomics.errors import ConfigError, InferonomicsError, UnknownNameError

ENV_VAR = "INFERONOMICS_HARDWARE_FILE"
BUILTIN_NAME = "built-in hardware.toml"
BUILTIN_FILE = Path(__file__).parent / "data" / "hardware.toml"

_KINDS = ("chips", "systems")
_CLS: dict[str, type] = {"chips": Chip, "systems": System}
_POSITIVE = {"bf16_tflops", "hbm_gb", "hbm_bandwidth_tb_s", "chips_per_node", "scaleup_domain_chips"}
_NOT_IN_FILE = {"name"}
"""Fields the file may not set: the table key is the name."""

Raw = dict[str, Any]


@dataclass(frozen=True)
class _Entry:
    raw: Raw
    origin: str
    """File the entry (or its last change) came from."""


@dataclass(frozen=True, eq=False)
class HardwareCatalog:
    """Resolved chips and systems with their look-up indexes (names and aliases, normalised)."""

    chips: Mapping[str, Chip]
    systems: Mapping[str, System]
    default_system: Mapping[str, System]
    """Chip key -> the system used when a chip name is asked for."""
    files: tuple[str, ...]
    _chip_index: Mapping[str, Chip]
    _hardware_index: Mapping[str, System]

    def chip(self, name: str) -> Chip:
        return lookup(self._chip_index, "chip", name, self._chip_display_names())

    def system(self, name: str) -> System:
        return lookup(self._hardware_index, "hardware", name, self._hardware_display_names())

    def _chip_display_names(self) -> Iterator[str]:
        """Lazy: `lookup` reads it only on a miss (look-ups sit in loops over measured rows)."""
        return (n for c in self.chips.values() for n in (c.name, *c.aliases))

    def _hardware_display_names(self) -> Iterator[str]:
        systems = (n for s in self.systems.values() for n in (s.name, *s.aliases))
        return itertools.chain(systems, self._chip_display_names())


# ---------------------------------------------------------------------------------------------------
# Reading and checking files
# ---------------------------------------------------------------------------------------------------


def _read_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    unknown = set(data) - set(_KINDS)
    if unknown:
        raise ConfigError(
            f"{origin}: unknown section(s) {', '.join(sorted(unknown))}; expected [chips.<name>] or [systems.<name>]"
        )
    for kind in _KINDS:
        section = data.get(kind, {})
        if not isinstance(section, dict) or any(not isinstance(v, dict) for v in section.values()):
            raise ConfigError(f"{origin}: [{kind}] must hold tables such as [{kind}.my_entry]")
    return data


def _where(origin: str, kind: str, key: str) -> str:
    return f"{origin}: [{kind}.{key}]"


def _check_value(origin: str, kind: str, key: str, name: str, value: Any) -> Any:
    """Type-check one field from a file; return it converted (int -> float, list -> tuple)."""
    where = _where(origin, kind, key)
    declared = FIELD_TYPES[_CLS[kind]][name]
    if declared in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ConfigError(f"{where} {name}: must be a number, got {value!r}")
        if declared == "int" and not float(value).is_integer():
            raise ConfigError(f"{where} {name}: must be a whole number, got {value!r}")
        if (name in _POSITIVE or "bandwidth" in name) and value <= 0:
            raise ConfigError(f"{where} {name}: must be > 0, got {value!r}")
        if value < 0:
            raise ConfigError(f"{where} {name}: must be >= 0, got {value!r}")
        return int(value) if declared == "int" else float(value)
    if declared == "tuple[str, ...]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} {name}: must be a list of strings, got {value!r}")
        return tuple(value)
    if declared == "Topology":
        if value not in TOPOLOGIES:
            raise ConfigError(f"{where} {name}: must be one of {', '.join(TOPOLOGIES)}, got {value!r}")
        return value
    if declared in ("str", "Chip"):
        if not isinstance(value, str):
            raise ConfigError(f"{where} {name}: must be a string, got {value!r}")
        return value
    raise AssertionError(f"unhandled field type {declared}")  # pragma: no cover


def _check_keys(origin: str, kind: str, key: str, raw: Raw) -> None:
    allowed = (set(FIELD_TYPES[_CLS[kind]]) - _NOT_IN_FILE) | {"base"}
    for name in raw:
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{_where(origin, kind, key)} unknown field {name!r}{hint}")
    for name, value in raw.items():
        if name != "base":
            _check_value(origin, kind, key, name, value)
    unverified = raw.get("unverified", [])
    known = set(FIELD_TYPES[_CLS[kind]])
    for name in unverified:
        if name not in known:
            raise ConfigError(f"{_where(origin, kind, key)} unverified: {name!r} is not a field of {kind}")


def _find_key(entries: Mapping[str, _Entry], name: str) -> str | None:
    """Key of the entry called `name` (key or alias, normalised), or None."""
    wanted = normalise(name)
    for key, entry in entries.items():
        if normalise(key) == wanted or wanted in {normalise(a) for a in entry.raw.get("aliases", [])}:
            return key
    return None


def _merge(
    base: dict[str, dict[str, _Entry]], data: dict[str, Any], origin: str, mtime_date: str
) -> dict[str, dict[str, _Entry]]:
    """Entries of `base` with those of one parsed file laid over them (in file order)."""
    out = {kind: dict(base.get(kind, {})) for kind in _KINDS}
    for kind in _KINDS:
        for key, raw in data.get(kind, {}).items():
            _check_keys(origin, kind, key, raw)
            raw = dict(raw)
            existing = _find_key(out[kind], key)
            if "base" in raw:
                base_name = raw.pop("base")
                base_key = _find_key(out[kind], base_name) if isinstance(base_name, str) else None
                if base_key is None:
                    names = sorted(out[kind])
                    close = difflib.get_close_matches(str(base_name), names, n=3)
                    hint = f"; closest: {', '.join(close)}" if close else ""
                    raise ConfigError(f"{_where(origin, kind, key)} base: unknown {kind[:-1]} {base_name!r}{hint}")
                start = {k: v for k, v in out[kind][base_key].raw.items() if k != "aliases"}
                merged = {**start, **raw}
                if "source" not in raw and origin != BUILTIN_NAME:
                    merged["source"] = f"{origin}, based on {base_key} ({start.get('source', '')})"
                out[kind][key] = _Entry(merged, origin)
            elif existing is not None:
                old = out[kind][existing].raw
                merged = {**old, **raw}
                if "source" not in raw:
                    changed = ", ".join(sorted(raw)) or "nothing"
                    merged["source"] = f"{origin} (changed: {changed}) over: {old.get('source', '')}"
                    merged.setdefault("date", mtime_date)
                out[kind][existing] = _Entry(merged, origin)
            else:
                if origin != BUILTIN_NAME:
                    raw.setdefault("source", f"user file {origin}")
                    raw.setdefault("date", mtime_date)
                out[kind][key] = _Entry(raw, origin)
    return out


def _build_chip(key: str, entry: _Entry) -> Chip:
    raw = entry.raw
    where = _where(entry.origin, "chips", key)
    missing = [n for n in ("vendor", "bf16_tflops", "hbm_gb", "hbm_bandwidth_tb_s") if n not in raw]
    if missing:
        raise ConfigError(f"{where} missing required field(s) {', '.join(missing)}")
    values = {n: _check_value(entry.origin, "chips", key, n, v) for n, v in raw.items()}
    try:
        return validate_chip(Chip(name=key, **values))
    except InferonomicsError as exc:
        raise ConfigError(f"{where} {exc}") from None


def _build_system(key: str, entry: _Entry, chip_index: Mapping[str, Chip], chip_names: list[str]) -> System:
    raw = dict(entry.raw)
    where = _where(entry.origin, "systems", key)
    missing = [n for n in ("chip", "chips_per_node", "scaleup_domain_chips") if n not in raw]
    if missing:
        raise ConfigError(f"{where} missing required field(s) {', '.join(missing)}")
    chip_name = raw.pop("chip")
    try:
        chip = lookup(chip_index, "chip", chip_name, chip_names)
    except UnknownNameError as exc:
        raise ConfigError(f"{where} chip: {exc}") from None
    values = {n: _check_value(entry.origin, "systems", key, n, v) for n, v in raw.items()}
    try:
        return validate_system(System(name=key, chip=chip, **values))
    except InferonomicsError as exc:
        raise ConfigError(f"{where} {exc}") from None


def _index(entries: Iterable[tuple[Any, Iterable[str]]]) -> dict[str, Any]:
    """Name -> entry; later entries (user files) take a name over earlier ones (built-in)."""
    index: dict[str, Any] = {}
    for entry, names in entries:
        for name in names:
            index[normalise(name)] = entry
    return index


def _resolve(entries: dict[str, dict[str, _Entry]], files: tuple[str, ...]) -> HardwareCatalog:
    chips = {key: _build_chip(key, e) for key, e in entries["chips"].items()}
    chip_index = _index((c, (c.name, *c.aliases, c.full_name)) for c in chips.values())
    chip_index.pop("", None)
    chip_names = [n for c in chips.values() for n in (c.name, *c.aliases)]
    systems = {key: _build_system(key, e, chip_index, chip_names) for key, e in entries["systems"].items()}

    default: dict[str, System] = {}
    for key, chip in chips.items():
        same = systems.get(key)
        if same is not None and same.chip.name == key:
            default[key] = same
            continue
        using = [s for s in systems.values() if s.chip.name == key]
        default[key] = (
            using[0]
            if using
            else System(
                name=key,
                chip=chip,
                chips_per_node=1,
                scaleup_domain_chips=1,
                topology="single",
                source="single-chip system made for a chip that has none in the catalog",
                date=chip.date,
            )
        )
    hardware_index = _index(
        [(default[c.name], (c.name, *c.aliases, c.full_name)) for c in chips.values()]
        + [(s, (s.name, *s.aliases)) for s in systems.values()]
    )
    hardware_index.pop("", None)
    return HardwareCatalog(chips, systems, default, files, chip_index, hardware_index)


# ---------------------------------------------------------------------------------------------------
# Cached loading
# ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _builtin_entries() -> dict[str, dict[str, _Entry]]:
    text = BUILTIN_FILE.read_text(encoding="utf-8")
    return _merge({}, _read_toml(text, BUILTIN_NAME), BUILTIN_NAME, "")


def _file_key(path: str | os.PathLike[str]) -> tuple[str, int]:
    p = Path(path).expanduser()
    try:
        return str(p.resolve()), p.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read hardware file {str(path)!r}: {exc.strerror or exc}") from None


@lru_cache(maxsize=32)
def _parsed_file(path: str, mtime_ns: int) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read hardware file {path!r}: {exc}") from None
    return _read_toml(text, path)


@lru_cache(maxsize=32)
def _catalog_for(file_keys: tuple[tuple[str, int], ...]) -> HardwareCatalog:
    entries = _builtin_entries()
    for path, mtime_ns in file_keys:
        date = _dt.datetime.fromtimestamp(mtime_ns / 1e9).date().isoformat()
        entries = _merge(entries, _parsed_file(path, mtime_ns), path, date)
    return _resolve(entries, tuple(p for p, _ in file_keys))


def load_catalog(extra_file: str | os.PathLike[str] | None = None) -> HardwareCatalog:
    """Built-in catalog, then `$INFERONOMICS_HARDWARE_FILE`, then `extra_file` laid over it."""
    paths = [p for p in (os.environ.get(ENV_VAR) or None, extra_file) if p]
    return _catalog_for(tuple(_file_key(p) for p in paths))


def load_hardware_file(path: str | os.PathLike[str]) -> tuple[dict[str, Chip], dict[str, System]]:
    """The chips and systems a user's TOML defines or changes, resolved against the built-in catalog.

    Raises ConfigError naming the file, the entry and the field for bad types, unknown fields,
    zero or negative bandwidth or memory, and names that resolve to nothing.
    """
    key = _file_key(path)
    data = _parsed_file(*key)
    catalog = _catalog_for((key,))
    builtin = _builtin_entries()

    def own(kind: str) -> set[str]:
        found = set()
        for name in data.get(kind, {}):
            found.add(_find_key(builtin[kind], name) or name)
        return found

    chip_keys, system_keys = own("chips"), own("systems")
    return (
        {k: v for k, v in catalog.chips.items() if k in chip_keys},
        {k: v for k, v in catalog.systems.items() if k in system_keys},
    )


# ---------------------------------------------------------------------------------------------------
# Public look-ups
# ---------------------------------------------------------------------------------------------------


def get_hardware(
    name: str | System | Chip,
    overrides: Mapping[str, Any] | None = None,
    extra_file: str | os.PathLike[str] | None = None,
) -> System:
    """A system by system name or alias, else a chip's default system; case and separators ignored.

    `overrides` ({"hbm_bandwidth_tb_s": 10}) gives a what-if copy; an unknown key is an error.
    Unknown names raise UnknownNameError with the closest names.
    """
    if isinstance(name, System):
        system = name
    else:
        catalog = load_catalog(extra_file)
        system = catalog.default_system[name.name] if isinstance(name, Chip) else catalog.system(name)
    return with_overrides(system, dict(overrides)) if overrides else system


def get_chip(name: str, extra_file: str | os.PathLike[str] | None = None) -> Chip:
    """A chip by key, alias or full name ('H100', 'tpu-v5e', 'Ironwood')."""
    return load_catalog(extra_file).chip(name)


def hardware_names(extra_file: str | os.PathLike[str] | None = None) -> list[str]:
    """System keys, in catalog order."""
    return list(load_catalog(extra_file).systems)


def unverified_fields(system: System) -> list[str]:
    """Figures of a system (and its chip, as 'chip.<field>') that rest on secondary sources."""
    return [f"chip.{n}" for n in system.chip.unverified] + list(system.unverified)


def list_hardware(extra_file: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per system with its key figures (vendor units), rental, sources and unverified marks."""
    rows = []
    for s in load_catalog(extra_file).systems.values():
        c = s.chip
        rows.append(
            {
                "system": s.name,
                "chip": c.name,
                "vendor": c.vendor,
                "chips_per_node": s.chips_per_node,
                "scaleup_domain_chips": s.scaleup_domain_chips,
                "topology": s.topology,
                "bf16_tflops": c.bf16_tflops,
                "fp8_tflops": c.fp8_tflops,
                "int8_tops": c.int8_tops,
                "fp4_tflops": c.fp4_tflops,
                "hbm_gb": c.hbm_gb,
                "hbm_bandwidth_tb_s": c.hbm_bandwidth_tb_s,
                "sram_mb": c.sram_mb,
                "intra_node_bandwidth_gb_s": s.intra_node_bandwidth_gb_s,
                "intra_node_latency_us": s.intra_node_latency_us,
                "inter_node_bandwidth_gb_s": s.inter_node_bandwidth_gb_s,
                "tdp_w": c.tdp_w,
                "rental_usd_per_chip_hour": s.rental_usd_per_hour,
                "rental_range_usd": s.rental.range_text(),
                "rental_rule": s.rental.rule,
                "rental_date": s.rental.date,
                "rental_source": s.rental.source or s.rental.no_public_price,
                "server_usd_per_chip": s.server_usd_per_chip,
                "aliases": ", ".join((*s.aliases, *c.aliases)),
                "unverified": ", ".join(unverified_fields(s)),
                "source": c.source,
                "date": c.date,
                "system_source": s.source,
                "system_date": s.date,
            }
        )
    return pd.DataFrame(rows)


def list_chips(extra_file: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per chip, every field."""
    catalog = load_catalog(extra_file)
    names = [f.name for f in fields(Chip)]
    rows = []
    for c in catalog.chips.values():
        row = {n: getattr(c, n) for n in names}
        row["aliases"] = ", ".join(c.aliases)
        row["unverified"] = ", ".join(c.unverified)
        row["default_system"] = catalog.default_system[c.name].name
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "ENV_VAR",
    "HardwareCatalog",
    "get_chip",
    "get_hardware",
    "hardware_names",
    "list_chips",
    "list_hardware",
    "load_catalog",
    "load_hardware_file",
    "unverified_fields",
]
