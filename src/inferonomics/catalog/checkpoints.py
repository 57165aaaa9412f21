"""Names the catalog does not list but can read: quantised checkpoints and renamed organisations.

    resolve_checkpoint("nvidia/Llama-3.3-70B-Instruct-FP4", catalog)
        -> Llama-3.3-70B-Instruct's network with NVFP4 weights and an FP8 KV cache
    resolve_checkpoint("zhipuai/GLM-5.1", catalog) -> zai-org/GLM-5.1

Rules, each stated in the resolved model's `notes`:
- An organisation that was renamed is looked up under its current name (`ORG_RENAMES`: Zhipu AI's
  `zhipuai` and `THUDM` are now `zai-org` on Hugging Face).
- `<org>/<base>-<FORMAT>[-v<N>]` with FORMAT one of NVFP4 / FP4 / FP8 / MXFP4 / W4A16 ... is `<base>`'s
  network (found by its id under any organisation) with the format's weights. NVIDIA's "FP4" checkpoints
  are NVFP4 (ModelOpt, 16-value blocks with FP8 scales) and ship an FP8 KV cache, like the ModelOpt
  exports in `shared/data/model_configs` (`kv_cache_quant_algo: FP8`); other formats keep the base's KV.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from inferonomics.catalog.names import normalise

if TYPE_CHECKING:
    from inferonomics.catalog.model_catalog import ModelCatalog
    from inferonomics.catalog.models import ModelSpec

ORG_RENAMES = {"zhipuai": "zai-org", "thudm": "zai-org"}
"""Former Hugging Face organisation -> current one (lower case)."""

_FORMATS = {
    "nvfp4": "nvfp4",
    "fp4": "nvfp4",
    "mxfp4": "mxfp4",
    "fp8": "fp8",
    "fp8-dynamic": "fp8",
    "fp8-block": "fp8_block",
    "w4a16": "int4",
    "int4": "int4",
    "awq": "int4",
    "gptq-int4": "int4",
}
_SUFFIX = re.compile(
    r"^(?P<base>.+?)[-_](?P<fmt>" + "|".join(sorted(map(re.escape, _FORMATS), key=len, reverse=True)) + r")"
    r"(?:[-_]v\d+)?$",
    re.IGNORECASE,
)


def _by_repo_name(catalog: ModelCatalog, repo_name: str) -> ModelSpec | None:
    """The base model whose name, id or alias ends in `repo_name` (organisation ignored)."""
    wanted = normalise(repo_name)
    for m in catalog.models:
        if m.extra.get("variant_of"):
            continue
        for n in (m.name, m.hf_id, *m.aliases):
            if n and normalise(n.rsplit("/", 1)[-1]) == wanted:
                return m
    return None


def resolve_checkpoint(name: str, catalog: ModelCatalog) -> ModelSpec | None:
    """The model `name` stands for under the rules above, or None when no rule applies."""
    org, _, repo = name.strip().rpartition("/")
    if org.lower() in ORG_RENAMES:
        renamed = f"{ORG_RENAMES[org.lower()]}/{repo}"
        if renamed in catalog:
            m = catalog.get(renamed)
            note = f"{name} read as {renamed} (the organisation was renamed)"
            return replace(
                m, notes="; ".join(n for n in (note, m.notes) if n), extra={**m.extra, "resolved_from": name}
            )
    match = _SUFFIX.match(repo)
    if not match:
        return None
    base_repo = match.group("base")
    base = _by_repo_name(catalog, base_repo)
    if base is None:
        return None
    precision = _FORMATS[match.group("fmt").lower()]
    kv = "fp8" if precision == "nvfp4" else base.native_kv_precision
    note = (
        f"{name}: {base.name}'s network with {precision} weights and a {kv} KV cache (read from the checkpoint's "
        "name; NVIDIA's FP4 exports are NVFP4 with an FP8 KV cache)"
    )
    return replace(
        base,
        name=repo,
        hf_id=name if org else None,
        aliases=(),
        native_precision=precision,
        native_kv_precision=kv,
        notes=note,
        extra={"variant_of": base.name, "resolved_from": name},
    )


__all__ = ["ORG_RENAMES", "resolve_checkpoint"]
