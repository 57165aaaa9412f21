"""Write `src/inferonomics/catalog/data/models.toml`, the built-in model catalog.

What goes in it is data, in `src/inferonomics/catalog/data/model_sources.toml` (validated here by pydantic):
each model's Hugging Face config in `../shared/data/model_configs` (read at build time through
`inferonomics.catalog.hf_config`; the package never reads them), or another entry's network (`like`), or
a hand-written architecture for models whose config is not in that collection (PaLM, Mistral Large 2,
Gemma 3, Llama 2, GPT-J ...), with names, aliases, dates, notes and format variants. The TOML it writes is
committed; rerun this script after changing a source:

    /work/venv/bin/python scripts/build_model_catalog.py [--configs DIR] [--sources FILE] [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from inferonomics.catalog.hf_config import load_hf_config
from inferonomics.catalog.model_catalog import PER_LAYER_FIELDS, coerce_field, compress_pattern, parse_model_catalog
from inferonomics.catalog.models import ModelSpec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIGS = ROOT.parent / "shared" / "data" / "model_configs"
DEFAULT_SOURCES = ROOT / "src" / "inferonomics" / "catalog" / "data" / "model_sources.toml"
DEFAULT_OUT = ROOT / "src" / "inferonomics" / "catalog" / "data" / "models.toml"


class Variant(BaseModel):
    """A checkpoint of the same network in another format."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    name: str
    hf_id: str
    config: str | None = None
    """Hugging Face id whose config sets the variant's formats (its architecture must equal the base)."""
    aliases: tuple[str, ...] = ()
    overrides: dict[str, Any] = {}
    date: str = ""
    notes: str = ""


class Entry(BaseModel):
    """One catalog model: where its architecture comes from, and how it is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    hf_id: str | None = None
    date: str
    config: str | None = None
    """Hugging Face id; the file read is `<configs>/<org>--<repo>_config.json`."""
    like: str | None = None
    """Key of an earlier entry with the same network (other weights)."""
    spec: dict[str, Any] | None = None
    """Hand-written architecture (ModelSpec fields; per-layer fields as pattern strings)."""
    source: str | None = None
    aliases: tuple[str, ...] = ()
    notes: str = ""
    overrides: dict[str, Any] = {}
    unset: tuple[str, ...] = ()
    """ModelSpec fields set back to None (TOML has no null)."""
    variants: tuple[Variant, ...] = ()

    @model_validator(mode="after")
    def _one_architecture(self) -> Entry:
        given = [k for k in ("config", "like", "spec") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of config, like or spec (got {', '.join(given) or 'none'})")
        return self


class Sources(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entries: dict[str, Entry]


def load_sources(path: Path) -> Sources:
    """The validated sources file; SystemExit with one line per problem (where, what) otherwise."""
    try:
        return Sources.model_validate(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path}: {exc}") from None
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise SystemExit("\n".join(lines)) from None


def hf_url(repo: str) -> str:
    return f"https://huggingface.co/{repo}/blob/main/config.json"


def cfg(repo: str) -> str:
    return repo.replace("/", "--", 1) + "_config.json"


def _fields(values: dict[str, Any], where: str) -> dict[str, Any]:
    """ModelSpec field values from the sources file, type-checked and per-layer patterns expanded."""
    return {k: coerce_field(k, v, where) for k, v in values.items()}


# ---------------------------------------------------------------------------------------------------

_SKIP = {"name", "hf_id", "aliases", "source", "date", "notes", "extra"}
_ORDER = [f.name for f in fields(ModelSpec)]
_DEFAULTS = {f.name: f.default for f in fields(ModelSpec)}
_ALWAYS = {
    "family",
    "hidden_size",
    "num_layers",
    "vocab_size",
    "num_heads",
    "num_kv_heads",
    "head_dim",
    "intermediate_size",
    "native_precision",
}
_VARIANT_FIELDS = ("native_precision", "native_kv_precision")


def _toml_value(key: str, value: Any) -> str:
    if key in PER_LAYER_FIELDS:
        return json.dumps(compress_pattern(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)


def _lines(spec: ModelSpec, meta: dict[str, Any], keys: list[str]) -> list[str]:
    out = [f"{k} = {_toml_value(k, v)}" for k, v in meta.items() if v]
    for k in keys:
        v = getattr(spec, k)
        out.append(f"{k} = {_toml_value(k, v)}")
    return out


def _spec_keys(spec: ModelSpec) -> list[str]:
    return [k for k in _ORDER if k not in _SKIP and (k in _ALWAYS or getattr(spec, k) != _DEFAULTS.get(k))]


def build(configs: Path, sources: Path = DEFAULT_SOURCES) -> tuple[str, list[ModelSpec]]:
    entries = load_sources(sources).entries
    specs: dict[str, ModelSpec] = {}
    chunks = [
        "# inferonomics built-in model catalog, generated by scripts/build_model_catalog.py from",
        "# model_sources.toml (edit that, then rerun the script).",
        "# One table per model: ModelSpec fields in Hugging Face units, with hf_id, aliases, source, date.",
        "# Per-layer fields are pattern strings: 'x*N' repeats a token, '(a b)*N' a group.",
        "# [models.<id>.variants.<id>] tables are checkpoints of the same network in another format.",
        "",
    ]
    built: list[ModelSpec] = []
    for key, e in entries.items():
        where = f"{sources.name}: entries.{key}"
        source = e.source
        if e.config:
            spec = load_hf_config(configs / cfg(e.config))
            source = source or hf_url(e.config)
        elif e.like:
            if e.like not in specs:
                raise SystemExit(f"{where}: like = {e.like!r} names no earlier entry")
            spec = specs[e.like]
        else:
            assert e.spec is not None  # Entry checks that one of config, like, spec is given
            spec = ModelSpec(name=e.name, **_fields(e.spec, where + ".spec"))
        notes = "; ".join(n for n in (spec.notes if e.config else "", e.notes) if n)
        spec = replace(
            spec,
            name=e.name,
            hf_id=e.hf_id,
            aliases=e.aliases,
            source=source or "",
            date=e.date,
            notes=notes,
            **_fields(e.overrides, where + ".overrides"),
            **dict.fromkeys(e.unset),
        )
        specs[key] = spec
        meta = {
            "name": e.name,
            "hf_id": e.hf_id,
            "aliases": list(e.aliases),
            "source": spec.source,
            "date": e.date,
            "notes": notes,
        }
        chunks.append(f"[models.{json.dumps(key)}]")
        chunks.extend(_lines(spec, meta, _spec_keys(spec)))
        chunks.append("")
        for v in e.variants:
            vspec = replace(spec, **_fields(v.overrides, f"{where}.variants.{v.key}"))
            vsource = hf_url(v.hf_id)
            if v.config:
                loaded = load_hf_config(configs / cfg(v.config))
                if loaded.total_params != spec.total_params:
                    raise SystemExit(f"variant {v.key}: architecture differs from {key}")
                vspec = replace(
                    vspec,
                    native_precision=loaded.native_precision,
                    native_kv_precision=loaded.native_kv_precision,
                )
                vsource = hf_url(v.config)
            changed = [k for k in _VARIANT_FIELDS if getattr(vspec, k) != getattr(spec, k)]
            vmeta = {
                "name": v.name,
                "hf_id": v.hf_id,
                "aliases": list(v.aliases),
                "source": vsource,
                "date": v.date,
                "notes": v.notes,
            }
            chunks.append(f"[models.{json.dumps(key)}.variants.{json.dumps(v.key)}]")
            chunks.extend(_lines(vspec, vmeta, changed))
            chunks.append("")
        built.append(spec)
    return "\n".join(chunks), built


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=Path, default=DEFAULT_CONFIGS)
    ap.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if the committed TOML is out of date")
    args = ap.parse_args(argv)
    text, _ = build(args.configs, args.sources)

    parse_model_catalog(tomllib.loads(text), "generated")  # round-trip: the output must load
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; rerun scripts/build_model_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} ({text.count('[models.')} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
