"""Build a `ModelSpec` from a Hugging Face `config.json` (a dict or a path).

Each architecture family maps its own key names onto the spec; a config that lacks a field the
family needs, or describes an architecture the cost model cannot represent, is refused with a
`ConfigError` naming the field or the reason. `REFUSED` lists the model types refused on review.

The checkpoint's native precision comes from its `quantization_config` (fp8 block scales, ModelOpt
FP8/NVFP4 including mixed-precision recipes, MXFP4, compressed-tensors int4/fp4/fp8) or, for
ModelOpt exports, from the `hf_quant_config.json` beside the config.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from inferonomics.catalog.models import LayerKind, ModelSpec, validate_model
from inferonomics.errors import ConfigError, excerpt

Config = dict[str, Any]
Builder = Callable[[Config, Config, str], dict[str, Any]]

QUANT_DESCRIPTION_REASON = "quantisation description, not an architecture"

# ---------------------------------------------------------------------------------------------------
# Field readers
# ---------------------------------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _need(cfg: Config, key: str, source: str) -> int:
    """A required positive integer field."""
    if key not in cfg or cfg[key] is None:
        raise ConfigError(f"{source}: missing required field {key!r}")
    value = _as_int(cfg[key])
    if value is None or value <= 0:
        raise ConfigError(f"{source}: field {key!r} must be a positive integer, got {cfg[key]!r}")
    return value


def _opt(cfg: Config, key: str, default: int = 0, source: str = "config") -> int:
    """An optional non-negative integer field."""
    raw = cfg.get(key)
    if raw is None:
        return default
    value = _as_int(raw)
    if value is None or value < 0:
        raise ConfigError(f"{source}: field {key!r} must be a non-negative integer, got {raw!r}")
    return value


def _per_layer(cfg: Config, key: str, n_layers: int, source: str, *, allow_extra: bool = False) -> list[Any]:
    """A per-layer list; exactly one entry per layer (or at least, for lists that also cover MTP layers)."""
    values = cfg.get(key)
    if not isinstance(values, list):
        raise ConfigError(f"{source}: field {key!r} must be a list with one entry per layer ({n_layers})")
    if len(values) < n_layers or (len(values) > n_layers and not allow_extra):
        raise ConfigError(f"{source}: field {key!r} must list one entry per layer ({n_layers}), got {len(values)}")
    return values[:n_layers]


def _mask_or_empty(mask: list[bool] | tuple[bool, ...]) -> tuple[bool, ...]:
    return () if all(mask) else tuple(bool(x) for x in mask)


# ---------------------------------------------------------------------------------------------------
# Precision
# ---------------------------------------------------------------------------------------------------

_ALGO_PRECISION = {
    "fp8": "fp8",
    "fp8_pb_wo": "fp8",
    "fp8_block": "fp8",
    "fp8_blockwise": "fp8",
    "fp8_per_channel_per_token": "fp8",
    "nvfp4": "nvfp4",
    "w4a16_nvfp4": "nvfp4",
    "w4a8_nvfp4_fp8": "nvfp4",
    "nvfp4_awq": "nvfp4",
    "mxfp4": "mxfp4",
    "w4a16_mxfp4": "mxfp4",
    "w4a8_mxfp4_fp8": "mxfp4",
    "int4_awq": "int4",
    "w4a16_awq": "int4",
    "w4a8_awq": "int4",
    "w4a16": "int4",
    "int4": "int4",
    "int8_sq": "int8",
    "w8a8_sq_per_channel": "int8",
    "int8": "int8",
    "w8a16": "int8",
}
_FFN_MODULE_HINTS = ("expert", "mlp", "ffn")


def _algo_precision(algo: Any) -> str | None:
    return _ALGO_PRECISION.get(str(algo or "").lower())


def _mixed_precision(quantized_layers: Any) -> str | None:
    """The format of the FFN/expert weights of a mixed recipe (the bulk of the parameters), else the
    most common format."""
    if not isinstance(quantized_layers, dict) or not quantized_layers:
        return None
    ffn: Counter[str] = Counter()
    every: Counter[str] = Counter()
    for module, spec in quantized_layers.items():
        p = _algo_precision(spec.get("quant_algo") if isinstance(spec, dict) else None)
        if not p:
            continue
        every[p] += 1
        if any(hint in str(module).lower() for hint in _FFN_MODULE_HINTS):
            ffn[p] += 1
    best = ffn or every
    return best.most_common(1)[0][0] if best else None


def _group_precision(weights: dict[str, Any], fmt: str = "") -> str | None:
    """compressed-tensors / ModelOpt `config_groups` weight description -> precision name."""
    bits = _as_int(weights.get("num_bits"))
    kind = str(weights.get("type", "int")).lower()
    group = _as_int(weights.get("group_size")) or 0
    if bits == 4 and kind == "float":
        if "mxfp4" in fmt or group == 32 or "uint8" in str(weights.get("scale_dtype", "")):
            return "mxfp4"
        return "nvfp4"
    if bits == 4:
        return "int4"
    if bits == 8:
        return "fp8" if kind == "float" else "int8"
    return None


def _config_groups_precision(q: Config) -> str | None:
    groups = q.get("config_groups")
    if not isinstance(groups, dict) or not groups:
        return None
    fmt = str(q.get("format", "")).lower()
    best: tuple[int, int, str] | None = None
    for group in groups.values():
        if not isinstance(group, dict) or not isinstance(group.get("weights"), dict):
            continue
        p = _group_precision(group["weights"], str(group.get("format", fmt)).lower())
        if not p:
            continue
        targets = [str(t).lower() for t in group.get("targets") or []]
        ffn_targets = sum(1 for t in targets if any(h in t for h in _FFN_MODULE_HINTS) or t == "linear")
        key = (ffn_targets, len(targets), p)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _kv_precision(q: Config) -> str | None:
    scheme = q.get("kv_cache_scheme")
    if isinstance(scheme, str):
        return _algo_precision(scheme)
    if isinstance(scheme, dict):
        bits = _as_int(scheme.get("num_bits"))
        if bits == 8:
            return "fp8" if str(scheme.get("type", "float")).lower() == "float" else "int8"
    return _algo_precision(q.get("kv_cache_quant_algo"))


def detect_precision(q: Config | None) -> tuple[str | None, str | None]:
    """(weight precision, KV-cache precision) a quantisation config describes; None where it says nothing.

    Handles HF `quantization_config` (fp8 with e4m3 block scales, mxfp4, ModelOpt, compressed-tensors)
    and the `quantization` section of ModelOpt's `hf_quant_config.json`.
    """
    if not isinstance(q, dict) or not q:
        return None, None
    method = str(q.get("quant_method", "")).lower()
    algo = str(q.get("quant_algo", "")).lower()
    weights: str | None = None
    if algo == "mixed_precision":
        weights = (
            _algo_precision(q.get("moe_quant_algo"))
            or _mixed_precision(q.get("quantized_layers"))
            or _config_groups_precision(q)
        )
    elif algo:
        weights = _algo_precision(algo)
    if weights is None and method == "mxfp4":
        weights = "mxfp4"
    if weights is None and method == "compressed-tensors":
        weights = _config_groups_precision(q)
    if weights is None and (method in ("fp8", "fbgemm_fp8") or "e4m3" in str(q.get("fmt", "")).lower()):
        weights = "fp8"
    if weights is None and method in ("awq", "gptq"):
        weights = "int4" if _as_int(q.get("bits")) in (None, 4) else "int8"
    if weights is None:
        weights = _config_groups_precision(q)
    return weights, _kv_precision(q)


def is_quant_description(cfg: Config) -> bool:
    """True for ModelOpt's `hf_quant_config.json` (a `quantization` section, no architecture)."""
    return isinstance(cfg.get("quantization"), dict) and "model_type" not in cfg and "hidden_size" not in cfg


def _native_precision(cfg: Config, outer: Config) -> tuple[str, str]:
    q = cfg.get("quantization_config") or outer.get("quantization_config")
    weights, kv = detect_precision(q)
    expert_dtype = str(cfg.get("expert_dtype") or "").lower()
    if expert_dtype == "fp4" and weights in (None, "fp8"):
        weights = "mxfp4"  # DeepSeek-V4: FP4 (E2M1) experts with power-of-two (ue8m0) block scales
    return weights or "bf16", kv or "bf16"


# ---------------------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------------------

_LAYER_TYPES: dict[str, LayerKind] = {
    "full_attention": "full",
    "attention": "full",
    "global_attention": "full",
    "deepseek_sparse_attention": "full",
    "sliding_attention": "sliding",
    "chunked_attention": "sliding",
    "linear_attention": "linear",
}


def _layer_kinds(cfg: Config, n_layers: int, source: str) -> tuple[LayerKind, ...]:
    if not cfg.get("layer_types"):
        return ()
    types = _per_layer(cfg, "layer_types", n_layers, source)
    kinds: list[LayerKind] = []
    for i, t in enumerate(types):
        if t not in _LAYER_TYPES:
            raise ConfigError(f"{source}: layer type {t!r} (layer {i}) is not supported by the cost model")
        kinds.append(_LAYER_TYPES[t])
    return () if all(k == "full" for k in kinds) else tuple(kinds)


def _standard(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Fields shared by Llama-like decoders (Llama, Mistral, Qwen, gpt-oss, Mixtral ...)."""
    hidden = _need(cfg, "hidden_size", source)
    heads = _need(cfg, "num_attention_heads", source)
    n_layers = _need(cfg, "num_hidden_layers", source)
    vocab = _need(cfg, "vocab_size", source)
    head_dim = _opt(cfg, "head_dim", source=source) or hidden // heads
    if head_dim <= 0:
        raise ConfigError(f"{source}: field 'head_dim' cannot be derived (hidden_size < num_attention_heads)")
    kv_heads = _opt(cfg, "num_key_value_heads", source=source) or heads
    if kv_heads > heads:
        raise ConfigError(f"{source}: field 'num_key_value_heads' ({kv_heads}) exceeds num_attention_heads ({heads})")
    window = _opt(cfg, "sliding_window", source=source)
    kinds = _layer_kinds(cfg, n_layers, source)
    # Qwen gates the window with use_sliding_window; Mistral and Mixtral apply any window given.
    sliding_always = cfg.get("model_type") in ("mistral", "mixtral")
    if not kinds and window and (cfg.get("use_sliding_window", False) or sliding_always):
        kinds = cast(tuple[LayerKind, ...], ("sliding",) * n_layers)
    weights, kv = _native_precision(cfg, outer)
    return {
        "hidden_size": hidden,
        "num_layers": n_layers,
        "vocab_size": vocab,
        "num_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": _opt(cfg, "intermediate_size", source=source),
        "layer_kinds": kinds,
        "sliding_window": window if window and any(k == "sliding" for k in kinds) else None,
        "tie_embeddings": bool(cfg.get("tie_word_embeddings", outer.get("tie_word_embeddings", False))),
        "max_context_tokens": _opt(cfg, "max_position_embeddings", source=source),
        "attention_bias": bool(cfg.get("attention_bias", False) or cfg.get("qkv_bias", False)),
        "mtp_layers": _opt(cfg, "num_nextn_predict_layers", source=source),
        "native_precision": weights,
        "native_kv_precision": kv,
    }


def _dense(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    fields = _standard(cfg, outer, source)
    if not fields["intermediate_size"]:
        raise ConfigError(f"{source}: missing required field 'intermediate_size'")
    return fields


def _gemma3(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Gemma 2/3: GeGLU, tied embeddings, local (sliding) layers with a global one every N."""
    fields = _dense(cfg, outer, source)
    n = fields["num_layers"]
    if not fields["layer_kinds"]:
        pattern = _opt(cfg, "sliding_window_pattern", 2 if cfg.get("model_type") == "gemma2" else 6, source)
        kinds = tuple("full" if (i + 1) % pattern == 0 else "sliding" for i in range(n))
        fields["layer_kinds"] = kinds
    fields["sliding_window"] = _need(cfg, "sliding_window", source)
    fields["tie_embeddings"] = bool(cfg.get("tie_word_embeddings", True))
    return fields


def _moe_fields(
    cfg: Config, source: str, n_layers: int, *, experts_key: tuple[str, ...], topk_key: tuple[str, ...]
) -> tuple[int, int]:
    n_experts = next((_opt(cfg, k, source=source) for k in experts_key if cfg.get(k)), 0)
    if not n_experts:
        raise ConfigError(f"{source}: missing required field {' / '.join(repr(k) for k in experts_key)}")
    top_k = next((_opt(cfg, k, source=source) for k in topk_key if cfg.get(k)), 0)
    if not top_k:
        raise ConfigError(f"{source}: missing required field {' / '.join(repr(k) for k in topk_key)}")
    if top_k > n_experts:
        raise ConfigError(f"{source}: field {topk_key[0]!r} ({top_k}) exceeds the number of experts ({n_experts})")
    return n_experts, top_k


def _mixtral_like(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Mixtral, gpt-oss, Qwen3-MoE, MiniMax-M2: every layer MoE unless listed otherwise."""
    fields = _standard(cfg, outer, source)
    n_layers = fields["num_layers"]
    n_experts, top_k = _moe_fields(
        cfg,
        source,
        n_layers,
        experts_key=("num_local_experts", "num_experts"),
        topk_key=("num_experts_per_tok", "experts_per_token"),
    )
    moe_width = _opt(cfg, "moe_intermediate_size", source=source) or fields["intermediate_size"]
    if not moe_width:
        raise ConfigError(f"{source}: missing required field 'moe_intermediate_size' / 'intermediate_size'")
    dense_only = set(cfg.get("mlp_only_layers") or [])
    step = _opt(cfg, "decoder_sparse_step", 1, source) or 1
    mask = tuple((i not in dense_only) and ((i + 1) % step == 0) for i in range(n_layers))
    shared_width = _opt(cfg, "shared_expert_intermediate_size", source=source) or _opt(
        cfg, "shared_intermediate_size", source=source
    )
    fields.update(
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=moe_width,
        num_shared_experts=(_opt(cfg, "n_shared_experts", 1, source) or 1) if shared_width else 0,
        shared_expert_intermediate_size=shared_width,
        moe_layer_mask=_mask_or_empty(mask),
    )
    if cfg.get("model_type") == "minimax_m2" or cfg.get("num_mtp_modules"):
        fields["mtp_layers"] = (
            (_opt(cfg, "num_mtp_modules", source=source) * (_opt(cfg, "mtp_transformer_layers", 1, source) or 1))
            if cfg.get("use_mtp", True)
            else 0
        )
    return fields


def _qwen3_5(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Qwen3.5 / Qwen3-Next: gated DeltaNet linear attention in 3 of 4 layers, gated full attention."""
    fields = _mixtral_like(cfg, outer, source) if cfg.get("num_experts") else _dense(cfg, outer, source)
    for key in (
        "linear_num_key_heads",
        "linear_num_value_heads",
        "linear_key_head_dim",
        "linear_value_head_dim",
    ):
        _need(cfg, key, source)
    if not fields["layer_kinds"]:
        interval = _opt(cfg, "full_attention_interval", 4, source) or 4
        fields["layer_kinds"] = tuple(
            "full" if (i + 1) % interval == 0 else "linear" for i in range(fields["num_layers"])
        )
    fields.update(
        attention_output_gate=bool(cfg.get("attn_output_gate", True)),
        linear_attention_kind="gated_deltanet",
        linear_num_key_heads=cfg["linear_num_key_heads"],
        linear_num_value_heads=cfg["linear_num_value_heads"],
        linear_key_head_dim=cfg["linear_key_head_dim"],
        linear_value_head_dim=cfg["linear_value_head_dim"],
        linear_conv_kernel_dim=_opt(cfg, "linear_conv_kernel_dim", 4, source),
        mtp_layers=_opt(cfg, "mtp_num_hidden_layers", source=source),
    )
    return fields


def _mla_fields(cfg: Config, fields: dict[str, Any], source: str) -> None:
    for key in ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
        _need(cfg, key, source)
    fields.update(
        head_dim=cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"],
        v_head_dim=cfg["v_head_dim"],
        num_kv_heads=fields["num_heads"],
        q_lora_rank=_opt(cfg, "q_lora_rank", source=source) or None,
        kv_lora_rank=cfg["kv_lora_rank"],
        qk_rope_head_dim=cfg["qk_rope_head_dim"],
    )


def _deepseek(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """DeepSeek-V3/R1/V3.2, Kimi K2 and GLM-5 (MLA attention, shared experts, leading dense layers,
    DSA lightning indexer with top-k sparse attention in V3.2 and GLM-5)."""
    fields = _standard(cfg, outer, source)
    _mla_fields(cfg, fields, source)
    n_layers = fields["num_layers"]
    n_experts = _opt(cfg, "n_routed_experts", source=source)
    if not n_experts:
        raise ConfigError(f"{source}: missing required field 'n_routed_experts'")
    if cfg.get("mlp_layer_types"):
        types = _per_layer(cfg, "mlp_layer_types", n_layers, source)
        unknown = set(types) - {"dense", "sparse"}
        if unknown:
            raise ConfigError(f"{source}: field 'mlp_layer_types' has unknown entries {sorted(unknown)}")
        mask = tuple(t == "sparse" for t in types)
    else:
        first_dense = _opt(cfg, "first_k_dense_replace", source=source)
        freq = _opt(cfg, "moe_layer_freq", 1, source) or 1
        mask = tuple(i >= first_dense and i % freq == 0 for i in range(n_layers))
    index_dim = _opt(cfg, "index_head_dim", source=source)
    indexer_mask: tuple[bool, ...] = ()
    if index_dim and cfg.get("indexer_types"):
        types = _per_layer(cfg, "indexer_types", n_layers, source)
        unknown = set(types) - {"full", "shared"}
        if unknown:
            raise ConfigError(f"{source}: field 'indexer_types' has unknown entries {sorted(unknown)}")
        indexer_mask = _mask_or_empty([t == "full" for t in types])
    top_k = _need(cfg, "num_experts_per_tok", source)
    if top_k > n_experts:
        raise ConfigError(f"{source}: field 'num_experts_per_tok' ({top_k}) exceeds n_routed_experts ({n_experts})")
    fields.update(
        index_head_dim=index_dim,
        index_num_heads=_opt(cfg, "index_n_heads", source=source),
        sparse_topk_tokens=_opt(cfg, "index_topk", source=source) if index_dim else 0,
        indexer_layer_mask=indexer_mask,
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=_need(cfg, "moe_intermediate_size", source),
        num_shared_experts=_opt(cfg, "n_shared_experts", source=source),
        moe_layer_mask=_mask_or_empty(mask),
        layer_kinds=(),
        sliding_window=None,
    )
    return fields


def _llama4(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Llama 4 Scout/Maverick: MoE every `interleave_moe_layer_step` layers with one shared expert,
    chunked local attention on RoPE layers (modelled as a sliding window of the chunk size, an upper
    bound: a token sees only its own chunk) and global NoPE attention every fourth layer."""
    fields = _standard(cfg, outer, source)
    n = fields["num_layers"]
    chunk = _opt(cfg, "attention_chunk_size", source=source)
    if cfg.get("no_rope_layers"):
        rope = _per_layer(cfg, "no_rope_layers", n, source)
    else:
        interval = _opt(cfg, "no_rope_layer_interval", 4, source) or 4
        rope = [int((i + 1) % interval != 0) for i in range(n)]
    kinds: tuple[LayerKind, ...] = tuple("sliding" if (chunk and r) else "full" for r in rope)
    step = _opt(cfg, "interleave_moe_layer_step", 1, source)
    moe_layers = cfg.get("moe_layers")
    if moe_layers is None:
        moe_layers = list(range(step - 1, n, step)) if step else []
    if not isinstance(moe_layers, list) or any(_as_int(i) is None or not 0 <= int(i) < n for i in moe_layers):
        raise ConfigError(f"{source}: field 'moe_layers' must list layer indices below {n}")
    n_experts, top_k = _moe_fields(
        cfg, source, n, experts_key=("num_local_experts",), topk_key=("num_experts_per_tok",)
    )
    expert_width = _need(cfg, "intermediate_size", source)
    mask = tuple(i in set(moe_layers) for i in range(n))
    fields.update(
        intermediate_size=_opt(cfg, "intermediate_size_mlp", source=source) or expert_width,
        layer_kinds=() if all(k == "full" for k in kinds) else kinds,
        sliding_window=chunk if any(k == "sliding" for k in kinds) else None,
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=expert_width,
        num_shared_experts=1,
        shared_expert_intermediate_size=expert_width,
        moe_layer_mask=_mask_or_empty(mask),
        notes="chunked local attention (chunk 8192) modelled as a sliding window of the chunk size",
    )
    if not any(mask):
        fields.update(
            num_experts=0,
            experts_per_token=0,
            moe_intermediate_size=0,
            num_shared_experts=0,
            shared_expert_intermediate_size=0,
            moe_layer_mask=(),
        )
    return fields


def _gemma4(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Gemma 4: sliding (head 256) and global layers (head `global_head_dim`, K=V projection with
    `num_global_key_value_heads`), GeGLU, tied embeddings; the 26B-A4B runs a dense MLP beside a
    128-expert MoE in every layer (counted as one shared expert)."""
    fields = _dense(cfg, outer, source)
    if _opt(cfg, "hidden_size_per_layer_input", source=source):
        raise ConfigError(
            f"{source}: refused: per-layer embeddings (Gemma E-series, "
            "'hidden_size_per_layer_input') are not represented by the cost model"
        )
    if _opt(cfg, "num_kv_shared_layers", source=source):
        raise ConfigError(
            f"{source}: refused: cross-layer KV sharing ('num_kv_shared_layers') is not represented by the cost model"
        )
    if not fields["layer_kinds"]:
        raise ConfigError(f"{source}: missing required field 'layer_types'")
    fields["sliding_window"] = _need(cfg, "sliding_window", source)
    k_eq_v = bool(cfg.get("attention_k_eq_v", False))
    full_head = _opt(cfg, "global_head_dim", source=source)
    full_kv = _opt(cfg, "num_global_key_value_heads", source=source) if k_eq_v else 0
    fields.update(
        full_head_dim=full_head if full_head and full_head != fields["head_dim"] else None,
        full_num_kv_heads=full_kv if full_kv and full_kv != fields["num_kv_heads"] else None,
        full_k_eq_v=k_eq_v,
        tie_embeddings=bool(cfg.get("tie_word_embeddings", outer.get("tie_word_embeddings", True))),
    )
    if cfg.get("enable_moe_block"):
        n_experts, top_k = _moe_fields(
            cfg, source, fields["num_layers"], experts_key=("num_experts",), topk_key=("top_k_experts",)
        )
        fields.update(
            num_experts=n_experts,
            experts_per_token=top_k,
            moe_intermediate_size=_need(cfg, "moe_intermediate_size", source),
            num_shared_experts=1,
            shared_expert_intermediate_size=fields["intermediate_size"],
            notes="dense MLP run beside the routed experts in every layer, counted as one shared expert",
        )
    return fields


def _mimo_v2(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """MiMo-V2-Flash: sliding-window layers (window 128, 8 KV heads) and full layers (4 KV heads),
    192-wide query/key and 128-wide value heads, 256 experts after a dense first layer."""
    fields = _standard(cfg, outer, source)
    n = fields["num_layers"]
    pattern = _per_layer(cfg, "hybrid_layer_pattern", n, source)
    if set(pattern) - {0, 1}:
        raise ConfigError(f"{source}: field 'hybrid_layer_pattern' must hold 0 (full) or 1 (sliding)")
    swa_heads = _opt(cfg, "swa_num_attention_heads", source=source) or fields["num_heads"]
    if swa_heads != fields["num_heads"]:
        raise ConfigError(f"{source}: refused: sliding and full layers with different query head counts")
    full_kv, full_dk = fields["num_kv_heads"], fields["head_dim"]
    full_dv = _opt(cfg, "v_head_dim", source=source) or full_dk
    swa_kv = _opt(cfg, "swa_num_key_value_heads", source=source) or full_kv
    swa_dk = _opt(cfg, "swa_head_dim", source=source) or full_dk
    swa_dv = _opt(cfg, "swa_v_head_dim", source=source) or full_dv
    moe = _per_layer(cfg, "moe_layer_freq", n, source)
    n_experts, top_k = _moe_fields(cfg, source, n, experts_key=("n_routed_experts",), topk_key=("num_experts_per_tok",))
    kinds: tuple[LayerKind, ...] = tuple("sliding" if p == 1 else "full" for p in pattern)
    fields.update(
        num_kv_heads=swa_kv,
        head_dim=swa_dk,
        v_head_dim=swa_dv if swa_dv != swa_dk else None,
        full_num_kv_heads=full_kv if full_kv != swa_kv else None,
        full_head_dim=full_dk if full_dk != swa_dk else None,
        full_v_head_dim=full_dv if full_dv != swa_dv else None,
        layer_kinds=kinds,
        sliding_window=_need(cfg, "sliding_window", source),
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=_need(cfg, "moe_intermediate_size", source),
        num_shared_experts=_opt(cfg, "n_shared_experts", source=source),
        moe_layer_mask=_mask_or_empty([bool(x) for x in moe]),
    )
    return fields


def _step3p7(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Step-3.x Flash: one full-attention layer per three sliding ones (window 512), 288 experts and
    one shared after `first_k_dense_replace` dense layers, MTP heads."""
    fields = _dense(cfg, outer, source)
    n = fields["num_layers"]
    n_experts, top_k = _moe_fields(
        cfg,
        source,
        n,
        experts_key=("num_experts", "moe_num_experts"),
        topk_key=("num_experts_per_tok", "moe_top_k"),
    )
    first_dense = _opt(cfg, "first_k_dense_replace", source=source)
    moe_width = _need(cfg, "moe_intermediate_size", source)
    fields.update(
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=moe_width,
        num_shared_experts=_opt(cfg, "n_shared_experts", source=source),
        shared_expert_intermediate_size=_opt(cfg, "share_expert_dim", source=source) or moe_width,
        moe_layer_mask=_mask_or_empty([i >= first_dense for i in range(n)]),
    )
    return fields


def _minimax_m3(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """MiniMax-M3: GQA with block-sparse attention (an indexer with `sparse_num_index_heads` query heads
    and one key per token picks `sparse_topk_blocks` blocks of `sparse_block_size`) after dense-attention
    leading layers, 128 experts + one shared after dense leading FFN layers."""
    fields = _standard(cfg, outer, source)
    n = fields["num_layers"]
    moe = _per_layer(cfg, "moe_layer_freq", n, source)
    n_experts, top_k = _moe_fields(
        cfg, source, n, experts_key=("num_local_experts",), topk_key=("num_experts_per_tok",)
    )
    dense_width = _opt(cfg, "dense_intermediate_size", source=source) or fields["intermediate_size"]
    fields.update(
        intermediate_size=dense_width,
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=_opt(cfg, "moe_intermediate_size", source=source)
        or _need(cfg, "intermediate_size", source),
        num_shared_experts=_opt(cfg, "n_shared_experts", source=source),
        shared_expert_intermediate_size=_opt(cfg, "shared_intermediate_size", source=source),
        moe_layer_mask=_mask_or_empty([bool(x) for x in moe]),
        attention_output_gate=bool(cfg.get("attention_output_gate", False)),
        mtp_layers=_opt(cfg, "num_mtp_modules", source=source) or fields["mtp_layers"],
    )
    sparse = cfg.get("sparse_attention_config")
    if isinstance(sparse, dict) and sparse.get("use_sparse_attention"):
        where = f"{source}: sparse_attention_config"
        mask = (
            _per_layer(sparse, "sparse_attention_freq", n, where) if sparse.get("sparse_attention_freq") else [True] * n
        )
        fields.update(
            index_head_dim=_need(sparse, "sparse_index_dim", where),
            index_num_heads=_need(sparse, "sparse_num_index_heads", where),
            sparse_topk_tokens=_need(sparse, "sparse_topk_blocks", where) * _need(sparse, "sparse_block_size", where),
            sparse_layer_mask=_mask_or_empty([bool(x) for x in mask]),
        )
    return fields


def _deepseek_v4(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """DeepSeek-V4: one 512-wide KV head serving as K and V (MQA), a 128-token sliding window in every
    layer plus, per `compress_ratios`, the context compressed 4x (CSA, with a lightning indexer picking
    `index_topk` entries) or 128x (HCA, attended densely); low-rank q and grouped low-rank output
    projections; MoE in every layer (DeepSeek-V4 `inference/model.py`).

    Not counted: the hyper-connection mixing weights (hc_mult x hidden per layer, < 0.1% of weights).
    """
    fields = _standard(cfg, outer, source)
    n = fields["num_layers"]
    ratios = [_as_int(r) for r in _per_layer(cfg, "compress_ratios", n, source, allow_extra=True)]
    if any(r is None or r < 0 for r in ratios):
        raise ConfigError(f"{source}: field 'compress_ratios' must hold non-negative integers")
    kinds: tuple[LayerKind, ...] = tuple("compressed" if r else "sliding" for r in ratios)
    with_indexer = tuple(r == 4 for r in ratios)
    n_experts, top_k = _moe_fields(cfg, source, n, experts_key=("n_routed_experts",), topk_key=("num_experts_per_tok",))
    head_dim = _need(cfg, "head_dim", source)
    fields.update(
        head_dim=head_dim,
        v_head_dim=None,
        q_lora_rank=_need(cfg, "q_lora_rank", source),
        qk_rope_head_dim=_opt(cfg, "qk_rope_head_dim", source=source),
        o_lora_rank=_need(cfg, "o_lora_rank", source),
        o_groups=_need(cfg, "o_groups", source),
        kv_single_tensor=True,
        layer_kinds=kinds,
        sliding_window=_need(cfg, "sliding_window", source),
        kv_compress_ratios=tuple(r or 0 for r in ratios),
        index_head_dim=_opt(cfg, "index_head_dim", source=source),
        index_num_heads=_opt(cfg, "index_n_heads", source=source),
        sparse_topk_tokens=_opt(cfg, "index_topk", source=source),
        sparse_layer_mask=with_indexer,
        indexer_layer_mask=with_indexer,
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=_need(cfg, "moe_intermediate_size", source),
        num_shared_experts=_opt(cfg, "n_shared_experts", source=source),
        notes="hyper-connection weights not counted; the first num_hash_layers route by token hash",
    )
    if not any(with_indexer):
        fields.update(
            sparse_layer_mask=(),
            indexer_layer_mask=(),
            sparse_topk_tokens=0,
            index_head_dim=0,
            index_num_heads=0,
        )
    return fields


def _ffn_mult_to_width(mult: float, hidden: int) -> int:
    """DeciLM `_ffn_mult_to_intermediate_size`: int(2 x mult x hidden / 3) rounded up to 256."""
    width = int(2 * mult * hidden / 3)
    return -(-width // 256) * 256


def _nemotron_nas(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Llama-Nemotron (DeciLM, NAS-pruned Llama): per-layer `block_configs` remove attention (no_op) and
    set each FFN's width through `ffn_mult`."""
    fields = _standard({**cfg, "num_key_value_heads": None}, outer, source)
    n, h, heads = fields["num_layers"], fields["hidden_size"], fields["num_heads"]
    blocks = _per_layer(cfg, "block_configs", n, source)
    kinds: list[LayerKind] = []
    widths: list[int] = []
    groups: set[int] = set()
    windows: set[int] = set()
    for i, block in enumerate(blocks):
        where = f"{source}: block_configs[{i}]"
        attn, ffn = (block or {}).get("attention") or {}, (block or {}).get("ffn") or {}
        for part, name in ((attn, "attention"), (ffn, "ffn")):
            if part.get("replace_with_linear"):
                raise ConfigError(f"{where}: refused: {name} replaced by a linear layer is not represented")
            if part.get("sparsify"):
                raise ConfigError(f"{where}: refused: sparsified {name} is not represented")
        if attn.get("no_op"):
            kinds.append("none")
        else:
            group = _need(attn, "n_heads_in_group", where)
            if heads % group:
                raise ConfigError(f"{where}: field 'n_heads_in_group' ({group}) does not divide {heads} heads")
            groups.add(group)
            window = _opt(attn, "window_length", source=where)
            windows.add(window)
            kinds.append("sliding" if window else "full")
        if ffn.get("no_op"):
            widths.append(0)
        else:
            mult = ffn.get("ffn_mult")
            if not isinstance(mult, int | float) or isinstance(mult, bool) or mult <= 0:
                raise ConfigError(f"{where}: field 'ffn_mult' must be a positive number, got {mult!r}")
            widths.append(_ffn_mult_to_width(float(mult), h))
    if len(groups) > 1:
        raise ConfigError(f"{source}: refused: KV head counts vary per layer (n_heads_in_group {sorted(groups)})")
    if len({w for w in windows if w}) > 1:
        raise ConfigError(f"{source}: refused: sliding windows vary per layer")
    nonzero = [w for w in widths if w]
    window = max(windows) if windows else 0
    fields.update(
        num_kv_heads=heads // groups.pop() if groups else heads,
        layer_kinds=() if all(k == "full" for k in kinds) else tuple(kinds),
        sliding_window=window or None,
        intermediate_size=round(sum(nonzero) / len(nonzero)) if nonzero else 0,
        ffn_widths=tuple(widths),
        notes="NAS-pruned: per-layer FFN widths in ffn_widths; intermediate_size is their mean",
    )
    return fields


_NEMOTRON_H_CODES = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}


def _nemotron_h(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Nemotron-H / Nemotron 3: single-mixer layers (Mamba-2, attention, ReLU^2 MLP or MoE, each with
    its own residual), latent MoE in Nemotron 3 Super/Ultra."""
    if cfg.get("layers_block_type"):
        blocks = cfg["layers_block_type"]
        if not isinstance(blocks, list):
            raise ConfigError(f"{source}: field 'layers_block_type' must be a list")
    elif isinstance(cfg.get("hybrid_override_pattern"), str):
        unknown = set(cfg["hybrid_override_pattern"]) - set(_NEMOTRON_H_CODES)
        if unknown:
            raise ConfigError(f"{source}: field 'hybrid_override_pattern' has unknown codes {sorted(unknown)}")
        blocks = [_NEMOTRON_H_CODES[c] for c in cfg["hybrid_override_pattern"]]
    else:
        raise ConfigError(f"{source}: missing required field 'hybrid_override_pattern' / 'layers_block_type'")
    unknown = set(blocks) - set(_NEMOTRON_H_CODES.values())
    if unknown:
        raise ConfigError(f"{source}: refused: layer block types {sorted(unknown)} are not represented")
    n_cfg = _opt(cfg, "num_hidden_layers", source=source)
    if n_cfg and n_cfg != len(blocks):
        raise ConfigError(
            f"{source}: field 'hybrid_override_pattern' lists {len(blocks)} layers, num_hidden_layers is {n_cfg}"
        )
    head_dim = _opt(cfg, "head_dim", source=source) or _opt(cfg, "attention_head_dim", source=source)
    fields = _standard(
        {**cfg, "num_hidden_layers": len(blocks), "head_dim": head_dim or None, "layer_types": None},
        outer,
        source,
    )
    n = fields["num_layers"]
    block_kind: dict[str, LayerKind] = {"mamba": "mamba", "attention": "full"}
    kinds: tuple[LayerKind, ...] = tuple(block_kind.get(b, "none") for b in blocks)
    mlp_width = _opt(cfg, "intermediate_size", source=source)
    widths = tuple(mlp_width if b == "mlp" else 0 for b in blocks)
    if any(b == "mlp" for b in blocks) and not mlp_width:
        raise ConfigError(f"{source}: missing required field 'intermediate_size'")
    for key in ("mamba_num_heads", "mamba_head_dim", "ssm_state_size", "n_groups"):
        _need(cfg, key, source)
    state_dtype = str(cfg.get("mamba_ssm_cache_dtype") or "bfloat16").lower()
    fields.update(
        layer_kinds=kinds,
        intermediate_size=mlp_width if any(widths) else 0,
        ffn_widths=widths if any(widths) else (),
        ffn_gated=False,
        mamba_num_heads=cfg["mamba_num_heads"],
        mamba_head_dim=cfg["mamba_head_dim"],
        mamba_state_size=cfg["ssm_state_size"],
        mamba_num_groups=cfg["n_groups"],
        mamba_conv_kernel=_opt(cfg, "conv_kernel", 4, source),
        linear_state_precision="fp32" if "32" in state_dtype else "bf16",
    )
    if any(b == "moe" for b in blocks):
        n_experts, top_k = _moe_fields(
            cfg, source, n, experts_key=("n_routed_experts",), topk_key=("num_experts_per_tok",)
        )
        fields.update(
            num_experts=n_experts,
            experts_per_token=top_k,
            moe_intermediate_size=_need(cfg, "moe_intermediate_size", source),
            num_shared_experts=_opt(cfg, "n_shared_experts", source=source),
            shared_expert_intermediate_size=_opt(cfg, "moe_shared_expert_intermediate_size", source=source),
            moe_latent_size=_opt(cfg, "moe_latent_size", source=source),
            moe_layer_mask=_mask_or_empty([b == "moe" for b in blocks]),
        )
    return fields


def _kimi_linear(cfg: Config, outer: Config, source: str) -> dict[str, Any]:
    """Kimi Linear / Kimi K3: KDA linear attention (per-channel-decay DeltaNet) in most layers, MLA in
    the `full_attn_layers` (1-indexed), latent MoE after `first_k_dense_replace` dense layers.

    Not counted: attention-residual mixing weights (`attn_res_block_size`)."""
    fields = _standard(cfg, outer, source)
    _mla_fields(cfg, fields, source)
    n = fields["num_layers"]
    lin = cfg.get("linear_attn_config")
    if not isinstance(lin, dict):
        raise ConfigError(f"{source}: missing required field 'linear_attn_config'")
    where = f"{source}: linear_attn_config"
    full = lin.get("full_attn_layers") or []
    kda = lin.get("kda_layers") or []
    indices = [_as_int(i) for i in [*full, *kda]]
    if any(i is None for i in indices):
        raise ConfigError(f"{where}: layer lists must hold integers")
    one_based = 0 not in indices
    full_set = {int(i) - one_based for i in full}
    kda_set = {int(i) - one_based for i in kda}
    if full_set & kda_set or full_set | kda_set != set(range(n)):
        raise ConfigError(f"{where}: 'full_attn_layers' and 'kda_layers' must split the {n} layers between them")
    heads = _need(lin, "num_heads", where)
    head_dim = _need(lin, "head_dim", where)
    n_experts, top_k = _moe_fields(
        cfg,
        source,
        n,
        experts_key=("num_experts", "n_routed_experts"),
        topk_key=("num_experts_per_token", "num_experts_per_tok"),
    )
    first_dense = _opt(cfg, "first_k_dense_replace", source=source)
    freq = _opt(cfg, "moe_layer_freq", 1, source) or 1
    latent = _opt(cfg, "routed_expert_hidden_size", source=source)
    fields.update(
        layer_kinds=tuple("full" if i in full_set else "linear" for i in range(n)),
        attention_output_gate=bool(cfg.get("mla_use_output_gate", False)),
        linear_attention_kind="kda",
        linear_num_key_heads=heads,
        linear_num_value_heads=heads,
        linear_key_head_dim=head_dim,
        linear_value_head_dim=head_dim,
        linear_conv_kernel_dim=_opt(lin, "short_conv_kernel_size", 4, where),
        num_experts=n_experts,
        experts_per_token=top_k,
        moe_intermediate_size=_need(cfg, "moe_intermediate_size", source),
        num_shared_experts=_opt(cfg, "num_shared_experts", source=source),
        moe_latent_size=latent if latent and latent != fields["hidden_size"] else 0,
        moe_layer_mask=_mask_or_empty([i >= first_dense and (i - first_dense) % freq == 0 for i in range(n)]),
        notes="KDA output gate taken as full rank; attention-residual weights not counted",
    )
    return fields


FAMILIES: dict[str, tuple[str, Builder]] = {
    "llama": ("Llama", _dense),
    "mistral": ("Mistral", _dense),
    "qwen2": ("Qwen", _dense),
    "qwen3": ("Qwen3", _dense),
    "qwen3_vl_text": ("Qwen3-VL", _dense),
    "mimo": ("MiMo", _dense),
    "gemma2": ("Gemma", _gemma3),
    "gemma3_text": ("Gemma", _gemma3),
    "gemma4_text": ("Gemma", _gemma4),
    "mixtral": ("Mixtral", _mixtral_like),
    "qwen2_moe": ("Qwen", _mixtral_like),
    "qwen3_moe": ("Qwen3", _mixtral_like),
    "qwen3_vl_moe_text": ("Qwen3-VL", _mixtral_like),
    "gpt_oss": ("gpt-oss", _mixtral_like),
    "minimax_m2": ("MiniMax", _mixtral_like),
    "minimax_m3": ("MiniMax", _minimax_m3),
    "qwen3_5_text": ("Qwen3.5", _qwen3_5),
    "qwen3_5_moe_text": ("Qwen3.5", _qwen3_5),
    "qwen3_next": ("Qwen3-Next", _qwen3_5),
    "deepseek_v3": ("DeepSeek", _deepseek),
    "deepseek_v32": ("DeepSeek", _deepseek),
    "kimi_k2": ("Kimi", _deepseek),
    "glm_moe_dsa": ("GLM", _deepseek),
    "deepseek_v4": ("DeepSeek", _deepseek_v4),
    "deepseek_ref": ("DeepSeek", _deepseek_v4),
    "llama4_text": ("Llama", _llama4),
    "mimo_v2_flash": ("MiMo", _mimo_v2),
    "step3p7": ("Step", _step3p7),
    "nemotron-nas": ("Nemotron", _nemotron_nas),
    "nemotron_h": ("Nemotron", _nemotron_h),
    "kimi_linear": ("Kimi", _kimi_linear),
}

REFUSED: dict[str, str] = {
    "t5": "encoder-decoder architecture: the cost model covers decoder-only language models",
    "bart": "encoder-decoder architecture: the cost model covers decoder-only language models",
    "whisper": "encoder-decoder speech model: the cost model covers decoder-only language models",
    "bert": "encoder-only model: no autoregressive decoding to cost",
    "roberta": "encoder-only model: no autoregressive decoding to cost",
    "rwkv": "RWKV time-mixing state is not modelled (only gated DeltaNet, KDA and Mamba-2 states are)",
    "minimax_text_01": "MiniMax-01 lightning attention with per-layer softmax mix is not modelled",
}
"""model_type -> why the cost model cannot represent it."""


def _text_config(cfg: Config) -> Config:
    text = cfg.get("text_config")
    return text if isinstance(text, dict) else cfg


def model_from_hf_config(
    cfg: Config,
    name: str | None = None,
    hf_id: str | None = None,
    source: str = "config.json",
    quant_description: Config | None = None,
) -> ModelSpec:
    """A `ModelSpec` from a parsed Hugging Face config; `ConfigError` if it cannot be represented.

    `quant_description` is a parsed `hf_quant_config.json`; it sets the native precision when the
    config itself does not say.
    """
    if not isinstance(cfg, dict):
        raise ConfigError(f"{source}: a config must be a JSON object")
    if is_quant_description(cfg):
        raise ConfigError(
            f"{source}: refused: {QUANT_DESCRIPTION_REASON} (it sets the precision of the config.json beside it)"
        )
    text = _text_config(cfg)
    model_type = str(text.get("model_type") or cfg.get("model_type") or "")
    if not model_type:
        raise ConfigError(f"{source}: missing required field 'model_type'")
    if model_type in REFUSED:
        raise ConfigError(f"{source}: refused: model_type {model_type!r}: {REFUSED[model_type]}")
    if model_type not in FAMILIES:
        raise ConfigError(
            f"{source}: model_type {model_type!r} is not supported (supported: {', '.join(sorted(FAMILIES))})"
        )
    family, build = FAMILIES[model_type]
    fields = build(text, cfg, source)
    if quant_description is not None:
        weights, kv = detect_precision(quant_description.get("quantization"))
        if weights and fields.get("native_precision", "bf16") == "bf16":
            fields["native_precision"] = weights
        if kv and fields.get("native_kv_precision", "bf16") == "bf16":
            fields["native_kv_precision"] = kv
    label = name or hf_id or cfg.get("_name_or_path") or Path(source).stem.replace("_config", "")
    return validate_model(ModelSpec(name=str(label), hf_id=hf_id, family=family, source=source, **fields))


MAX_CONFIG_BYTES = 4_000_000
"""A Hugging Face config.json is a few KB; anything past this is not one."""


def _read_json(p: Path) -> Config:
    try:
        if p.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{p}: {p.stat().st_size:,} bytes; a model config is at most {MAX_CONFIG_BYTES:,}")
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid JSON ({excerpt(exc, 120)})") from None
    except RecursionError:
        raise ConfigError(f"{p}: JSON nested too deeply to be a model config") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a config must be a JSON object")
    return data


def quant_description_path(config_path: str | Path) -> Path:
    """Where ModelOpt puts the quantisation description of a config: `hf_quant_config.json` in the same
    directory, or `<stem>_hf_quant_config.json` beside a `<stem>_config.json`."""
    p = Path(config_path)
    if p.name.endswith("_config.json") and not p.name.endswith("_hf_quant_config.json"):
        return p.with_name(p.name.removesuffix("_config.json") + "_hf_quant_config.json")
    return p.with_name("hf_quant_config.json")


def load_hf_config(path: str | Path, name: str | None = None) -> ModelSpec:
    """Read a `config.json` file or a checkpoint directory holding one (files named
    `org--name_config.json` get the id `org/name`); a sibling `hf_quant_config.json` sets the native
    precision when the config does not."""
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise ConfigError(f"{p}: no such config file")
    cfg = _read_json(p)
    quant = None
    if not is_quant_description(cfg):
        qp = quant_description_path(p)
        if qp.is_file() and qp != p:
            quant = _read_json(qp)
    hf_id = None
    stem = p.name.removesuffix(".json").removesuffix("_config")
    if "--" in stem:
        hf_id = stem.replace("--", "/", 1)
    return model_from_hf_config(cfg, name=name or hf_id or stem, hf_id=hf_id, source=str(p), quant_description=quant)
