"""Public API price sheets, observed market points and cloud commitment discounts (`data/prices.toml`).

    get_price_sheet("openai/gpt-5")     -> PriceSheet (provider/model, case-insensitive; 'gpt-5' alone works
                                           when only one provider sells it)
    list_prices("anthropic")            -> DataFrame, one row per sheet
    market_points()                     -> (speed, blended price) points for frontier charts

Prices are USD per million tokens as the providers print them; each sheet carries its source and date.
A user's TOML (`extra_file=`, or `$INFERONOMICS_PRICES_FILE`) has the built-in format and adds sheets
or changes the fields it names. This module holds figures only; reading a bill from them is economics/.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from inferonomics.catalog.names import lookup, normalise
from inferonomics.errors import ConfigError, InferonomicsError, InvalidInputError

ENV_VAR = "INFERONOMICS_PRICES_FILE"
BUILTIN_NAME = "built-in prices.toml"
BUILTIN_FILE = Path(__file__).parent / "data" / "prices.toml"


@dataclass(frozen=True)
class PriceSheet:
    """One model's list prices at one provider, USD per million tokens.

    `None` means the provider documents no such price (not that it is free). Discounts are fractions off
    (0.5 = half price); multipliers scale the standard price. Long context: a request with more than
    `long_context_threshold_tokens` input tokens bills all its input, cache reads included, at
    `long_context_input_multiplier` x and its output at `long_context_output_multiplier` x
    (Anthropic and Google pricing pages, 2025-2026).
    """

    provider: str
    model: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    date: str = ""
    source: str = ""
    cached_input_usd_per_mtok: float | None = None
    """Cache read (cache hit)."""
    cache_write_5m_usd_per_mtok: float | None = None
    cache_write_1h_usd_per_mtok: float | None = None
    cache_storage_usd_per_mtok_hour: float | None = None
    audio_input_usd_per_mtok: float | None = None
    long_context_threshold_tokens: int = 0
    """0 = no long-context tier."""
    long_context_input_multiplier: float = 1.0
    long_context_output_multiplier: float = 1.0
    batch_discount: float = 0.0
    flex_discount: float = 0.0
    priority_multiplier: float | None = None
    fast_multiplier: float | None = None
    off_peak_discount: float = 0.0
    off_peak_window_utc: str = ""
    """'HH:MM-HH:MM' in UTC; may wrap past midnight ('16:30-00:30')."""
    implicit_cache_discount: float = 0.0
    """Discount applied automatically to repeated prefixes when no cached-input price is listed."""
    valid_from: str = ""
    valid_until: str = ""
    aliases: tuple[str, ...] = ()
    notes: str = ""
    unverified: tuple[str, ...] = ()
    provider_name: str = ""
    """Provider as people write it ('OpenAI'); `provider` is the key ('openai')."""

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **asdict(self)}


@dataclass(frozen=True)
class MarketPoint:
    """An observed offer: output speed of one request and its blended price (Epoch AI, 2025)."""

    model: str
    output_tokens_per_s: float
    blended_usd_per_mtok: float
    precision: str = ""
    source: str = ""
    date: str = ""
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CommitmentDiscount:
    """Fraction off on-demand prices for 1- and 3-year commitments at a cloud."""

    provider: str
    one_year_discount: float
    three_year_discount: float
    source: str = ""
    date: str = ""
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TYPES: dict[type, dict[str, str]] = {
    cls: {f.name: str(f.type) for f in fields(cls)} for cls in (PriceSheet, MarketPoint, CommitmentDiscount)
}
_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _check_field(owner: str, name: str, value: Any, declared: str) -> None:
    """Raise InvalidInputError naming `name` when `value` is of the wrong type or out of range."""
    if value is None and declared.endswith("| None"):
        return
    if declared.startswith(("float", "int")):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise InvalidInputError(f"{owner}: {name} must be a number, got {value!r}")
        if declared == "int" and not float(value).is_integer():
            raise InvalidInputError(f"{owner}: {name} must be a whole number, got {value!r}")
        if name.endswith("_discount") and not 0 <= value < 1:
            raise InvalidInputError(f"{owner}: {name} must be a fraction in [0, 1), got {value!r}")
        if name.endswith("_multiplier") and value <= 0:
            raise InvalidInputError(f"{owner}: {name} must be > 0, got {value!r}")
        if name == "output_tokens_per_s" and value <= 0:
            raise InvalidInputError(f"{owner}: {name} must be > 0, got {value!r}")
        if value < 0:
            raise InvalidInputError(f"{owner}: {name} must be >= 0, got {value!r}")
    elif declared == "tuple[str, ...]":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise InvalidInputError(f"{owner}: {name} must be a list of strings, got {value!r}")
    elif declared == "str" and not isinstance(value, str):
        raise InvalidInputError(f"{owner}: {name} must be a string, got {value!r}")
    if name == "off_peak_window_utc" and value and not _WINDOW.match(value):
        raise InvalidInputError(f"{owner}: {name} must look like '16:30-00:30', got {value!r}")


def _validate(obj: Any, owner: str) -> Any:
    for name, declared in _TYPES[type(obj)].items():
        _check_field(owner, name, getattr(obj, name), declared)
    return obj


def validate_price_sheet(sheet: PriceSheet) -> PriceSheet:
    """Check types and ranges (no negative price, discounts in [0, 1), multipliers > 0)."""
    _validate(sheet, f"price sheet {sheet.key!r}")
    if sheet.off_peak_discount and not sheet.off_peak_window_utc:
        raise InvalidInputError(f"price sheet {sheet.key!r}: off_peak_discount needs off_peak_window_utc")
    if sheet.long_context_threshold_tokens == 0 and (
        sheet.long_context_input_multiplier != 1.0 or sheet.long_context_output_multiplier != 1.0
    ):
        raise InvalidInputError(
            f"price sheet {sheet.key!r}: long-context multipliers need long_context_threshold_tokens"
        )
    bad = [n for n in sheet.unverified if n not in _TYPES[PriceSheet]]
    if bad:
        raise InvalidInputError(f"price sheet {sheet.key!r}: unverified names unknown fields {bad}")
    return sheet


# ---------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------

_SECTIONS = ("providers", "sheets", "market_points", "commitment_discounts")
_PROVIDER_ONLY = {"display_name"}
_SHEET_KEYS = set(_TYPES[PriceSheet]) - {"provider_name"}
_PROVIDER_KEYS = (set(_TYPES[PriceSheet]) - {"provider", "model", "aliases", "provider_name"}) | _PROVIDER_ONLY


@dataclass(frozen=True)
class _Raw:
    data: dict[str, Any]
    origin: str
    date: str
    """Modification date of the file, the default `date` of its own entries."""


@dataclass(frozen=True, eq=False)
class PriceCatalog:
    sheets: Mapping[str, PriceSheet]
    market_points: tuple[MarketPoint, ...]
    commitment_discounts: Mapping[str, CommitmentDiscount]
    provider_names: Mapping[str, str]
    _index: Mapping[str, PriceSheet]

    def sheet(self, name: str) -> PriceSheet:
        display = [n for s in self.sheets.values() for n in (s.key, *s.aliases)]
        return lookup(self._index, "price sheet", name, display)


def _parse(text: str, origin: str) -> dict[str, Any]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ConfigError(
            f"{origin}: unknown section(s) {', '.join(sorted(unknown))}; expected "
            "[providers.<name>], [[sheets]], [[market_points]] or [[commitment_discounts]]"
        )
    if not isinstance(data.get("providers", {}), dict):
        raise ConfigError(f"{origin}: [providers] must hold tables such as [providers.my_cloud]")
    for section in ("sheets", "market_points", "commitment_discounts"):
        value = data.get(section, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"{origin}: {section} must be an array of tables ([[{section}]])")
    return data


def _check_table(origin: str, where: str, raw: Mapping[str, Any], allowed: set[str], cls: type) -> None:
    for name in raw:
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{origin}: {where}: unknown field {name!r}{hint}")
    for name, value in raw.items():
        if name in _PROVIDER_ONLY:
            if not isinstance(value, str):
                raise ConfigError(f"{origin}: {where}: {name} must be a string, got {value!r}")
            continue
        try:
            _check_field(where, name, value, _TYPES[cls][name])
        except InvalidInputError as exc:
            raise ConfigError(f"{origin}: {exc}") from None


def _coerce(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """TOML ints to float for float fields, lists to tuples."""
    out = dict(values)
    for name, value in values.items():
        declared = _TYPES[cls][name]
        if declared.startswith("float") and isinstance(value, int) and not isinstance(value, bool):
            out[name] = float(value)
        elif declared.startswith("tuple") and isinstance(value, list):
            out[name] = tuple(value)
    return out


def _required(origin: str, where: str, raw: Mapping[str, Any], names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in raw]
    if missing:
        raise ConfigError(f"{origin}: {where}: missing required field(s) {', '.join(missing)}")


def _build(files: tuple[_Raw, ...]) -> PriceCatalog:
    providers: dict[str, dict[str, Any]] = {}
    provider_origin: dict[tuple[str, str], _Raw] = {}
    """(provider, 'source' | 'date') -> the file that set it: a provider's source is only lent to the
    sheets of the same file (a user's new sheet is not attributed to the provider's pricing page)."""
    sheets: dict[str, tuple[dict[str, Any], _Raw, list[tuple[str, list[str]]]]] = {}
    """key -> (fields so far, file that created the sheet, later files' changes without their own source)."""
    points: list[MarketPoint] = []
    commitments: dict[str, CommitmentDiscount] = {}
    for f in files:
        own = f.origin != BUILTIN_NAME
        for name, raw in f.data.get("providers", {}).items():
            where = f"provider {name!r}"
            _check_table(f.origin, where, raw, _PROVIDER_KEYS, PriceSheet)
            providers[normalise(name)] = {**providers.get(normalise(name), {}), **raw}
            for field_name in ("source", "date"):
                if field_name in raw:
                    provider_origin[(normalise(name), field_name)] = f
        for i, raw in enumerate(f.data.get("sheets", [])):
            where = f"sheet {raw.get('provider', '?')}/{raw.get('model', '?')} (#{i + 1})"
            _check_table(f.origin, where, raw, _SHEET_KEYS, PriceSheet)
            _required(f.origin, where, raw, ("provider", "model"))
            key = normalise(f"{raw['provider']}/{raw['model']}")
            if key in sheets:
                old_raw, first, changes = sheets[key]
                merged = {**old_raw, **raw}
                if "source" in raw:
                    changes = []
                else:
                    changes = [*changes, (f.origin, sorted(set(raw) - {"provider", "model"}))]
                    if "date" not in raw:
                        merged["date"] = f.date
                sheets[key] = (merged, first, changes)
            else:
                _required(f.origin, where, raw, ("input_usd_per_mtok", "output_usd_per_mtok"))
                sheets[key] = (dict(raw), f, [])
        for i, raw in enumerate(f.data.get("market_points", [])):
            where = f"market point {raw.get('model', '?')} (#{i + 1})"
            _check_table(f.origin, where, raw, set(_TYPES[MarketPoint]), MarketPoint)
            _required(f.origin, where, raw, ("model", "output_tokens_per_s", "blended_usd_per_mtok"))
            defaults = {"source": f"user file {f.origin}", "date": f.date} if own else {}
            points.append(MarketPoint(**_coerce(MarketPoint, {**defaults, **raw})))
        for i, raw in enumerate(f.data.get("commitment_discounts", [])):
            where = f"commitment discount {raw.get('provider', '?')} (#{i + 1})"
            _check_table(f.origin, where, raw, set(_TYPES[CommitmentDiscount]), CommitmentDiscount)
            _required(f.origin, where, raw, ("provider", "one_year_discount", "three_year_discount"))
            defaults = {"source": f"user file {f.origin}", "date": f.date} if own else {}
            commitments[normalise(raw["provider"])] = CommitmentDiscount(
                **_coerce(CommitmentDiscount, {**defaults, **raw})
            )

    resolved: dict[str, PriceSheet] = {}
    for raw, f, changes in sheets.values():
        pkey = normalise(raw["provider"])
        provider_raw = providers.get(pkey, {})
        defaults = {k: v for k, v in provider_raw.items() if k not in ("display_name", "notes", "source", "date")}
        values: dict[str, Any] = {**defaults, **raw}
        if "source" not in raw:
            values["source"] = (
                provider_raw["source"]
                if provider_origin.get((pkey, "source")) is f
                else (f"user file {f.origin}" if f.origin != BUILTIN_NAME else "")
            )
        if "date" not in raw:
            values["date"] = provider_raw["date"] if provider_origin.get((pkey, "date")) is f else f.date
        for origin, changed in changes:
            values["source"] = f"{origin} (changed: {', '.join(changed) or 'nothing'}) over: {values['source']}"
        values["notes"] = " ".join(n for n in (raw.get("notes", ""), provider_raw.get("notes", "")) if n)
        values["provider_name"] = provider_raw.get("display_name", raw["provider"])
        sheet = PriceSheet(**_coerce(PriceSheet, values))
        try:
            validate_price_sheet(sheet)
        except InferonomicsError as exc:
            raise ConfigError(f"{f.origin}: {exc}") from None
        resolved[sheet.key] = sheet

    index: dict[str, PriceSheet] = {}
    for sheet in resolved.values():
        for name in (sheet.key, *sheet.aliases):
            full = name if "/" in name else f"{sheet.provider}/{name}"
            index[normalise(full)] = sheet
    names = {k: providers[k].get("display_name", k) for k in providers}
    return PriceCatalog(resolved, tuple(points), commitments, names, index)


# ---------------------------------------------------------------------------------------------------
# Cached loading
# ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _builtin() -> _Raw:
    return _Raw(_parse(BUILTIN_FILE.read_text(encoding="utf-8"), BUILTIN_NAME), BUILTIN_NAME, "")


def _file_key(path: str | os.PathLike[str]) -> tuple[str, int]:
    p = Path(path).expanduser()
    try:
        return str(p.resolve()), p.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read price file {str(path)!r}: {exc.strerror or exc}") from None


@lru_cache(maxsize=32)
def _user_file(path: str, mtime_ns: int) -> _Raw:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read price file {path!r}: {exc}") from None
    date = _dt.datetime.fromtimestamp(mtime_ns / 1e9).date().isoformat()
    return _Raw(_parse(text, path), path, date)


@lru_cache(maxsize=32)
def _catalog_for(keys: tuple[tuple[str, int], ...]) -> PriceCatalog:
    return _build((_builtin(), *(_user_file(*k) for k in keys)))


def load_price_catalog(extra_file: str | os.PathLike[str] | None = None) -> PriceCatalog:
    """Built-in sheets, then `$INFERONOMICS_PRICES_FILE`, then `extra_file` laid over them."""
    paths = [p for p in (os.environ.get(ENV_VAR) or None, extra_file) if p]
    return _catalog_for(tuple(_file_key(p) for p in paths))


def load_price_file(path: str | os.PathLike[str]) -> dict[str, PriceSheet]:
    """The sheets a user's TOML defines or changes, resolved (provider defaults applied).

    Raises ConfigError naming the file, the sheet and the field (negative price, discount >= 1 ...).
    """
    key = _file_key(path)
    own = {normalise(f"{s.get('provider')}/{s.get('model')}") for s in _user_file(*key).data.get("sheets", [])}
    catalog = _catalog_for((key,))
    return {k: s for k, s in catalog.sheets.items() if normalise(k) in own}


# ---------------------------------------------------------------------------------------------------
# Public look-ups
# ---------------------------------------------------------------------------------------------------


def get_price_sheet(name: str, extra_file: str | os.PathLike[str] | None = None) -> PriceSheet:
    """'openai/gpt-5', 'Anthropic/Claude Sonnet 4' or a bare model name sold by one provider."""
    return load_price_catalog(extra_file).sheet(name)


def list_providers(extra_file: str | os.PathLike[str] | None = None) -> list[str]:
    return sorted({s.provider for s in load_price_catalog(extra_file).sheets.values()})


def price_sheets(provider: str | None = None, extra_file: str | os.PathLike[str] | None = None) -> list[PriceSheet]:
    """All sheets, or one provider's (unknown provider -> UnknownNameError with the closest)."""
    sheets = list(load_price_catalog(extra_file).sheets.values())
    if provider is None:
        return sheets
    providers = {normalise(s.provider): s.provider for s in sheets}
    wanted = lookup(providers, "provider", provider, sorted(providers.values()))
    return [s for s in sheets if s.provider == wanted]


_LIST_COLUMNS = (
    "key",
    "provider",
    "model",
    "input_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_write_5m_usd_per_mtok",
    "cache_write_1h_usd_per_mtok",
    "long_context_threshold_tokens",
    "batch_discount",
    "off_peak_discount",
    "valid_from",
    "valid_until",
    "date",
    "source",
)


def list_prices(provider: str | None = None, extra_file: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per sheet (every field; the key columns first)."""
    rows = [s.to_dict() for s in price_sheets(provider, extra_file)]
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=list(_LIST_COLUMNS))
    df["aliases"] = df["aliases"].map(", ".join)
    df["unverified"] = df["unverified"].map(", ".join)
    return df[[*_LIST_COLUMNS, *[c for c in df.columns if c not in _LIST_COLUMNS]]]


def market_points(extra_file: str | os.PathLike[str] | None = None) -> tuple[MarketPoint, ...]:
    return load_price_catalog(extra_file).market_points


def list_market_points(extra_file: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    cols = [f.name for f in fields(MarketPoint)]
    return pd.DataFrame([p.to_dict() for p in market_points(extra_file)], columns=cols)


def commitment_discounts(extra_file: str | os.PathLike[str] | None = None) -> dict[str, CommitmentDiscount]:
    return dict(load_price_catalog(extra_file).commitment_discounts)


def get_commitment_discount(provider: str, extra_file: str | os.PathLike[str] | None = None) -> CommitmentDiscount:
    table = load_price_catalog(extra_file).commitment_discounts
    return lookup(table, "cloud", provider, [c.provider for c in table.values()])


__all__ = [
    "ENV_VAR",
    "CommitmentDiscount",
    "MarketPoint",
    "PriceCatalog",
    "PriceSheet",
    "commitment_discounts",
    "get_commitment_discount",
    "get_price_sheet",
    "list_market_points",
    "list_prices",
    "list_providers",
    "load_price_catalog",
    "load_price_file",
    "market_points",
    "price_sheets",
    "validate_price_sheet",
]
