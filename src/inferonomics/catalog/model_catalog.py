"""The model catalog: built-in architectures, a user's own TOML of models, and look-up by any name.

`get_model` takes a Hugging Face id ('meta-llama/Llama-3.1-70B'), a short alias ('llama3-70b',
'ds-v3'), any case or separators, or the path of a `config.json` / checkpoint directory.

Catalog format (`catalog/data/models.toml`, and users' files): one table per model under `models`,
keyed by a short id, holding `ModelSpec` fields plus `hf_id`, `aliases`, `source` and `date`;
checkpoints of the same architecture in another format are `variants` tables inside it that
override a few fields (`native_precision = "fp8"`). Per-layer fields take a list or a pattern
string: tokens separated by spaces, `x*N` repeats a token, `(a b)*N` a group, e.g.
`layer_kinds = "(sliding*5 full)*10"` or `moe_layer_mask = "0*3 1*75"`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inferonomics.catalog.models import ModelSpec, validate_model
from inferonomics.catalog.names import build_index, lookup
from inferonomics.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    import pandas as pd

_FIELDS = {f.name: f for f in fields(ModelSpec)}
PER_LAYER_FIELDS = (
    "layer_kinds",
    "moe_layer_mask",
    "ffn_widths",
    "sparse_layer_mask",
    "indexer_layer_mask",
    "kv_compress_ratios",
)
_BOOL_TUPLES = ("moe_layer_mask", "sparse_layer_mask", "indexer_layer_mask")
_INT_TUPLES = ("ffn_widths", "kv_compress_ratios")
_REQUIRED = (
    "hidden_size",
    "num_layers",
    "vocab_size",
    "num_heads",
    "num_kv_heads",
    "head_dim",
    "intermediate_size",
)
_META = {"variants"}

# ---------------------------------------------------------------------------------------------------
# Per-layer patterns
# ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)\*\d+|\)|[^\s()]+)")


def expand_pattern(pattern: str) -> list[str]:
    """'(sliding*5 full)*2 full' -> ['sliding', ..., 'full']; ValueError on a malformed pattern."""
    tokens = [t for t in _TOKEN.findall(pattern.replace(",", " ")) if t.strip()]
    stack: list[list[str]] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok.startswith(")"):
            if len(stack) < 2:
                raise ValueError(f"unbalanced ')' in {pattern!r}")
            group = stack.pop()
            times = int(tok[2:]) if tok.startswith(")*") else 1
            stack[-1].extend(group * times)
        else:
            value, _, times = tok.partition("*")
            if not value or (times and not times.isdigit()):
                raise ValueError(f"bad token {tok!r} in {pattern!r}")
            stack[-1].extend([value] * (int(times) if times else 1))
    if len(stack) != 1:
        raise ValueError(f"unbalanced '(' in {pattern!r}")
    return stack[0]


def compress_pattern(values: Iterable[Any]) -> str:
    """A short pattern string for a per-layer list (inverse of `expand_pattern`)."""
    items = [_token_str(v) for v in values]
    runs = _runs(items)
    best = " ".join(_run_str(v, n) for v, n in runs)
    # Try "prefix (period)*k suffix" over the run-length tokens.
    for start in range(len(runs)):
        for period in range(2, (len(runs) - start) // 2 + 1):
            block = runs[start : start + period]
            k = 1
            while runs[start + k * period : start + (k + 1) * period] == block:
                k += 1
            if k < 2:
                continue
            parts = [_run_str(v, n) for v, n in runs[:start]]
            parts.append("(" + " ".join(_run_str(v, n) for v, n in block) + f")*{k}")
            parts.extend(_run_str(v, n) for v, n in runs[start + k * period :])
            candidate = " ".join(parts)
            if len(candidate) < len(best) and expand_pattern(candidate) == items:
                best = candidate
    return best


def _token_str(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


def _runs(items: list[str]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for item in items:
        if runs and runs[-1][0] == item:
            runs[-1] = (item, runs[-1][1] + 1)
        else:
            runs.append((item, 1))
    return runs


def _run_str(value: str, n: int) -> str:
    return value if n == 1 else f"{value}*{n}"


# ---------------------------------------------------------------------------------------------------
# Parsing one model table
# ---------------------------------------------------------------------------------------------------


def _per_layer_value(key: str, raw: Any, where: str) -> tuple[Any, ...]:
    if isinstance(raw, str):
        try:
            items: list[Any] = expand_pattern(raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: field {key!r}: {exc}") from exc
    elif isinstance(raw, list):
        items = list(raw)
    else:
        raise ConfigError(f"{where}: field {key!r} must be a list or a pattern string, got {raw!r}")
    out: list[Any] = []
    for item in items:
        if key in _BOOL_TUPLES:
            if isinstance(item, bool):
                out.append(item)
            elif str(item).lower() in ("1", "true", "t", "yes"):
                out.append(True)
            elif str(item).lower() in ("0", "false", "f", "no"):
                out.append(False)
            else:
                raise ConfigError(f"{where}: field {key!r} holds {item!r}, expected 0/1 or true/false")
        elif key in _INT_TUPLES:
            try:
                out.append(int(item))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: field {key!r} holds {item!r}, expected an integer") from exc
        else:
            out.append(str(item))
    return tuple(out)


def _coerce(key: str, raw: Any, where: str) -> Any:
    """A TOML value for ModelSpec field `key`, type-checked against the field's default."""
    if key in PER_LAYER_FIELDS:
        return _per_layer_value(key, raw, where)
    if key == "aliases":
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            raise ConfigError(f"{where}: field 'aliases' must be a list of strings")
        return tuple(raw)
    if key == "extra":
        raise ConfigError(f"{where}: field 'extra' cannot be set in a catalog")
    kind = str(_FIELDS[key].type).replace(" | None", "")
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ConfigError(f"{where}: field {key!r} must be true or false, got {raw!r}")
    elif kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{where}: field {key!r} must be an integer, got {raw!r}")
    elif kind == "str" and not isinstance(raw, str):
        raise ConfigError(f"{where}: field {key!r} must be a string, got {raw!r}")
    return raw


def coerce_field(key: str, raw: Any, where: str) -> Any:
    """A TOML value for ModelSpec field `key`, checked and converted (per-layer patterns expanded);
    `ConfigError` naming `where` and the field."""
    if key not in _FIELDS or key in ("name", "extra"):
        raise ConfigError(f"{where}: {key!r} is not a ModelSpec field that a catalog sets")
    return _coerce(key, raw, where)


def _check_keys(table: Mapping[str, Any], where: str) -> None:
    import difflib

    for key in table:
        if key not in _FIELDS and key not in _META:
            close = difflib.get_close_matches(key, sorted(_FIELDS), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: unknown field {key!r}{hint}")


def _spec_from_table(key: str, table: Mapping[str, Any], where: str) -> ModelSpec:
    _check_keys(table, where)
    values: dict[str, Any] = {"name": key}
    for k, raw in table.items():
        if k in _META:
            continue
        values[k] = _coerce(k, raw, where)
    missing = [k for k in _REQUIRED if k not in values]
    if missing:
        raise ConfigError(f"{where}: missing required field {missing[0]!r}")
    aliases = tuple(dict.fromkeys((*values.get("aliases", ()), key)))
    values["aliases"] = tuple(a for a in aliases if a != values["name"])
    try:
        spec = ModelSpec(**values)
    except TypeError as exc:  # pragma: no cover - keys are checked above
        raise ConfigError(f"{where}: {exc}") from exc
    return validate_model(spec)


def _variant(base: ModelSpec, vkey: str, table: Mapping[str, Any], where: str) -> ModelSpec:
    _check_keys(table, where)
    if "variants" in table:
        raise ConfigError(f"{where}: variants cannot have variants")
    changes = {k: _coerce(k, raw, where) for k, raw in table.items()}
    changes.setdefault("name", vkey)
    aliases = tuple(dict.fromkeys((*changes.get("aliases", ()), vkey)))
    changes["aliases"] = tuple(a for a in aliases if a != changes["name"])
    changes.setdefault("hf_id", None)
    spec = replace(base, **changes, extra={"variant_of": base.name})
    return validate_model(spec)


def parse_model_catalog(data: Mapping[str, Any], source: str = "catalog") -> tuple[ModelSpec, ...]:
    """The models (variants after their base) of a parsed catalog document."""
    unknown = set(data) - {"models", "meta"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level table(s) {sorted(unknown)} (expected 'models')")
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise ConfigError(f"{source}: no [models.<id>] tables")
    out: list[ModelSpec] = []
    for key, table in models.items():
        where = f"{source}: models.{key}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        base = _spec_from_table(key, table, where)
        out.append(base)
        variants = table.get("variants", {})
        if not isinstance(variants, dict):
            raise ConfigError(f"{where}: 'variants' must hold [models.{key}.variants.<id>] tables")
        for vkey, vtable in variants.items():
            if not isinstance(vtable, dict):
                raise ConfigError(f"{where}.variants.{vkey}: must be a table")
            out.append(_variant(base, vkey, vtable, f"{where}.variants.{vkey}"))
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# Catalog object
# ---------------------------------------------------------------------------------------------------


def _names(m: ModelSpec) -> tuple[str, ...]:
    return tuple(n for n in (m.name, m.hf_id, *m.aliases) if n)


@dataclass(frozen=True)
class ModelCatalog:
    """A set of models with case-insensitive look-up by name, Hugging Face id or alias."""

    models: tuple[ModelSpec, ...]
    source: str = ""
    _index: dict[str, ModelSpec] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            index = build_index((m, _names(m)) for m in self.models)
        except ValueError as exc:
            raise ConfigError(f"{self.source or 'model catalog'}: {exc}") from exc
        self._index.update(index)

    def get(self, name: str) -> ModelSpec:
        """The model called `name` (any case or separators), or `UnknownNameError` with close names."""
        return lookup(self._index, "model", name, self.display_names())

    def __contains__(self, name: object) -> bool:
        from inferonomics.catalog.names import normalise

        return isinstance(name, str) and normalise(name) in self._index

    def __len__(self) -> int:
        return len(self.models)

    def display_names(self) -> list[str]:
        return [n for m in self.models for n in (m.name, m.hf_id) if n]

    def merged(self, other: ModelCatalog) -> ModelCatalog:
        """This catalog plus `other`; models of `other` replace those they share a name with."""
        taken = {n for m in other.models for n in map(_norm, _names(m))}
        kept = tuple(m for m in self.models if not taken & set(map(_norm, _names(m))))
        return ModelCatalog(kept + other.models, source=f"{self.source}+{other.source}")

    def to_frame(self) -> pd.DataFrame:
        """One row per model: the figures a person scans to choose one."""
        import pandas as pd

        from inferonomics.catalog.model_figures import kv_bytes_per_token, kv_bytes_per_token_long

        rows = []
        for m in self.models:
            mix = ", ".join(
                f"{m.count_layers(k)} {k}"
                for k in ("full", "sliding", "compressed", "linear", "mamba", "none")
                if m.count_layers(k)
            )
            rows.append(
                {
                    "name": m.name,
                    "hf_id": m.hf_id,
                    "aliases": ", ".join(a for a in sorted(m.aliases, key=len) if "/" not in a),
                    "family": m.family,
                    "variant_of": m.extra.get("variant_of"),
                    "total_params": m.total_params,
                    "active_params": m.active_params,
                    "layers": m.num_layers,
                    "attention": m.attention_kind,
                    "layer_mix": mix,
                    "moe": m.is_moe,
                    "experts": f"{m.experts_per_token}/{m.num_experts}" if m.is_moe else "",
                    "kv_bytes_per_token_bf16": kv_bytes_per_token(m, "bf16"),
                    "kv_bytes_per_token_long_bf16": kv_bytes_per_token_long(m, "bf16"),
                    "native_precision": m.native_precision,
                    "max_context_tokens": m.max_context_tokens,
                    "date": m.date,
                }
            )
        return pd.DataFrame(rows)


def _norm(name: str) -> str:
    from inferonomics.catalog.names import normalise

    return normalise(name)


def load_model_catalog(path: str | Path) -> ModelCatalog:
    """A user's own TOML of models (same format as the built-in catalog); `ConfigError` naming the
    first bad table and field."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such model catalog file")
    try:
        data = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    return ModelCatalog(parse_model_catalog(data, str(p)), source=str(p))


@functools.cache
def builtin_catalog() -> ModelCatalog:
    """The catalog shipped with the package (`catalog/data/models.toml`), parsed once."""
    text = resources.files("inferonomics.catalog").joinpath("data/models.toml").read_text()
    return ModelCatalog(parse_model_catalog(tomllib.loads(text), "models.toml"), source="built-in")


def _looks_like_path(name: str) -> bool:
    if name.endswith((".json", ".toml")) or name.startswith((".", "~", "/")):
        return True
    try:
        return Path(name).exists()
    except (OSError, ValueError):  # a name too long for a path, or with a NUL: not a file
        return False


def get_model(name_or_path: str | ModelSpec, catalog: ModelCatalog | None = None) -> ModelSpec:
    """A model by name, alias or Hugging Face id (case-insensitive), or from a `config.json` path or
    checkpoint directory; a quantised checkpoint or renamed organisation the catalog does not list resolves
    to its base network (`catalog.checkpoints`). Unknown names raise `UnknownNameError` listing the closest."""
    if isinstance(name_or_path, ModelSpec):
        return name_or_path
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ConfigError(f"a model name or config path is needed, got {name_or_path!r}")
    name = name_or_path.strip()
    cat = catalog or builtin_catalog()
    if name not in cat and _looks_like_path(name):
        p = Path(name).expanduser()
        if p.suffix == ".toml":
            models = load_model_catalog(p).models
            if len(models) != 1:
                raise ConfigError(f"{p}: holds {len(models)} models; load it with load_model_catalog and pick one")
            return models[0]
        from inferonomics.catalog.hf_config import load_hf_config

        return load_hf_config(p)
    try:
        return cat.get(name)
    except UnknownNameError:
        from inferonomics.catalog.checkpoints import resolve_checkpoint

        resolved = resolve_checkpoint(name, cat)
        if resolved is None:
            raise
        return resolved


def list_models(catalog: ModelCatalog | None = None, include_variants: bool = True) -> pd.DataFrame:
    """The catalog as a DataFrame: name, hf_id, family, total/active params, layers, attention kind,
    layer mix, MoE, KV bytes per token at bf16 (short and long context), native precision."""
    df = (catalog or builtin_catalog()).to_frame()
    if not include_variants:
        df = df[df["variant_of"].isna()].reset_index(drop=True)
    return df


__all__ = [
    "ModelCatalog",
    "builtin_catalog",
    "coerce_field",
    "compress_pattern",
    "expand_pattern",
    "get_model",
    "list_models",
    "load_model_catalog",
    "parse_model_catalog",
]
