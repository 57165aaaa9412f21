"""Derived figures of a model: parameters, weight bytes, KV bytes and FLOPs per token.

Formulas follow the architectures' reference implementations (Hugging Face `modeling_*.py`, DeepSeek's
`inference/model.py`) and the JAX scaling book's inference chapter: KV bytes = 2 x bytes x head_dim x
kv_heads x layers x tokens; decode FLOPs = 2 x (matmul params) + attention 2 x 2 x heads x head_dim x
context per layer.

Conventions:
- `total_params` counts every stored weight except multi-token-prediction heads (as DeepSeek's 671B).
- `active_params` counts the weights one token's forward pass multiplies: every weight of the
  layers it passes (the routed experts it is sent to only) and the output head, but not the input
  embedding table, whose lookup moves one row (h values), not a matrix. This is OpenAI's convention
  (gpt-oss model card: "we count unembedding parameters as active but not embedding parameters":
  5.13B for gpt-oss-120b, 3.61B for gpt-oss-20b) and DeepSeek's 37B. With tied embeddings the table is
  the output head, so it counts once. Mistral (Mixtral's 12.9B) and Qwen (Qwen3-30B-A3B's 3.3B) also
  count the input table: `active_params + params["embedding"]` for untied models.
  `matmul_params_per_token` (what FLOPs use) is `active_params` without the norms' scales.
- `param_breakdown` keeps a fixed set of buckets: `attention` holds every token mixer (softmax
  attention with its indexer and compressor, linear attention, Mamba), `router` holds the routers and
  the latent projections of latent MoE layers.
- Layers are described one by one (`layer_plan`), so models that mix sliding, full, compressed,
  linear and Mamba layers, or vary FFN widths per layer (Nemotron-NAS), sum correctly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from inferonomics.catalog.models import KV_LAYER_KINDS, LayerKind, ModelSpec
from inferonomics.catalog.precision import get_precision

# ---------------------------------------------------------------------------------------------------
# Parameters of one layer's parts
# ---------------------------------------------------------------------------------------------------


def ffn_params(width: int, m: ModelSpec, input_dim: int | None = None) -> int:
    """Weights of one FFN (or expert) of `width` reading `input_dim` (default hidden) features."""
    return (3 if m.ffn_gated else 2) * (input_dim or m.hidden_size) * width


def _compressor_params(m: ModelSpec, ratio: int, width: int) -> int:
    """DeepSeek-V4 `Compressor`: gated pooling of `ratio` tokens into one `width` entry.

    wkv and wgate map hidden -> coff x width, plus a learned position bias (ratio x coff x width) and
    a norm; coff = 2 for ratio 4 (overlapping windows), 1 otherwise (DeepSeek-V4 `inference/model.py`).
    """
    coff = 2 if ratio == 4 else 1
    return 2 * m.hidden_size * coff * width + ratio * coff * width + width


def _indexer_params(m: ModelSpec, compressed_ratio: int = 0) -> int:
    """Lightning indexer (DeepSeek-V3.2 `Indexer`): query heads from the q latent (or the hidden state),
    one key per entry, per-head weights; under DeepSeek-V4 the keys come from its own compressor."""
    h = m.hidden_size
    q_in = m.q_lora_rank or h
    q = q_in * m.index_num_heads * m.index_head_dim
    weights = h * m.index_num_heads
    if compressed_ratio:
        keys = _compressor_params(m, compressed_ratio, m.index_head_dim)
    else:
        keys = h * m.index_head_dim + 2 * m.index_head_dim  # wk + k_norm
    return q + keys + weights


def _softmax_layer_params(m: ModelSpec, kind: LayerKind, *, indexer: bool, ratio: int) -> int:
    """Weights of one softmax-attention layer of `kind` (q, k, v, o projections or MLA's low-rank ones)."""
    h = m.hidden_size
    nh, nkv, dk, dv = m.attention_geometry(kind)
    if m.is_mla:
        kv_lora = m.kv_lora_rank or 0
        q = (h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * nh * dk) if m.q_lora_rank else h * nh * dk
        kv_a = h * (kv_lora + m.qk_rope_head_dim) + kv_lora
        kv_b = kv_lora * nh * (dk - m.qk_rope_head_dim + dv)
        o = nh * dv * h
        gate = h * nh * dv if m.attention_output_gate else 0
        params = q + kv_a + kv_b + o + gate
    else:
        q = (h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * nh * dk) if m.q_lora_rank else h * nh * dk
        gate = h * nh * dv if m.attention_output_gate else 0
        no_v = m.kv_single_tensor or (kind == "full" and m.full_k_eq_v)
        k = h * nkv * dk
        v = 0 if no_v else h * nkv * dv
        kv_norm = dk if m.kv_single_tensor else 0
        o = (nh * dv * m.o_lora_rank + m.o_groups * m.o_lora_rank * h) if m.o_lora_rank else nh * dv * h
        bias = (nh * dk + nkv * (dk + (0 if no_v else dv)) + h) if m.attention_bias else 0
        params = q + gate + k + v + kv_norm + o + bias
    if ratio > 1:
        params += _compressor_params(m, ratio, dk)
    if indexer:
        params += _indexer_params(m, ratio if ratio > 1 else 0)
    return params


def linear_attention_params(m: ModelSpec) -> int:
    """Weights of one linear-attention layer.

    Gated DeltaNet (Qwen3-Next/3.5 `Qwen3NextGatedDeltaNet`): q, k, v and output-gate z projections,
    per-head a and b, a causal conv over q/k/v, the output projection. KDA (Kimi Linear
    `KimiDeltaAttention`): q, k, v, a low-rank per-channel decay gate, a full-rank output gate,
    per-head beta, the q/k/v convs and the output projection.
    """
    if not m.linear_num_value_heads:
        return 0
    h = m.hidden_size
    key_dim = m.linear_num_key_heads * m.linear_key_head_dim
    value_dim = m.linear_num_value_heads * m.linear_value_head_dim
    conv = (2 * key_dim + value_dim) * m.linear_conv_kernel_dim
    out = value_dim * h
    if m.linear_attention_kind == "kda":
        qkv = h * (2 * key_dim + value_dim)
        decay = h * m.linear_key_head_dim + m.linear_key_head_dim * key_dim
        gate = h * value_dim
        beta = h * m.linear_num_value_heads
        return qkv + decay + gate + beta + conv + out + m.linear_num_value_heads + key_dim + m.linear_value_head_dim
    in_proj = h * (2 * key_dim + 2 * value_dim) + h * 2 * m.linear_num_value_heads
    return in_proj + conv + out + 2 * m.linear_num_value_heads + m.linear_value_head_dim


def mamba_params(m: ModelSpec) -> int:
    """Weights of one Mamba-2 mixer (HF `NemotronHMamba2Mixer`).

    in_proj: hidden -> (z, x, B, C, dt) = d_inner + (d_inner + 2 groups x state) + heads; a depthwise
    conv with bias over x, B, C; per-head dt bias, A and D; a gated norm; out_proj d_inner -> hidden.
    """
    if not m.mamba_num_heads:
        return 0
    h = m.hidden_size
    d_inner = m.mamba_num_heads * m.mamba_head_dim
    conv_dim = d_inner + 2 * m.mamba_num_groups * m.mamba_state_size
    in_proj = h * (d_inner + conv_dim + m.mamba_num_heads)
    conv = conv_dim * m.mamba_conv_kernel + conv_dim
    return in_proj + conv + 3 * m.mamba_num_heads + d_inner + d_inner * h


def _moe_layer_params(m: ModelSpec) -> tuple[int, int, int]:
    """(routed experts, shared experts, router + latent projections) of one MoE layer."""
    h = m.hidden_size
    latent = m.moe_latent_size
    routed = m.num_experts * ffn_params(m.moe_intermediate_size, m, input_dim=latent or h)
    shared = m.num_shared_experts * ffn_params(m.shared_expert_intermediate_size or m.moe_intermediate_size, m)
    router = h * m.num_experts + (2 * h * latent if latent else 0)
    return routed, shared, router


# ---------------------------------------------------------------------------------------------------
# The layer plan
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerPlan:
    """What one layer stores, caches and computes."""

    index: int
    kind: LayerKind
    mixer_params: int
    dense_ffn_width: int
    is_moe: bool
    sparse: bool
    indexer: bool
    ratio: int
    """Tokens per long-range cached entry: 1 full attention, r compressed, 0 none."""
    window_values: int
    """Values cached per token of the recent window (sliding and compressed layers)."""
    long_values: int
    """Values cached per long-range entry (full/compressed layers), index keys included."""
    flops_per_entry_decode: float
    flops_per_entry_prefill: float
    index_flops_per_entry: float
    state_values: int
    """Recurrent state elements (linear and Mamba layers), at `linear_state_precision`."""
    conv_state_values: int
    """Causal-conv window kept per sequence (linear and Mamba layers), at bf16."""


def _state_sizes(m: ModelSpec, kind: LayerKind) -> tuple[int, int]:
    """(state elements, conv-window elements) of one linear or Mamba layer per sequence.

    Gated DeltaNet / KDA keep a key_dim x value_dim matrix per value head plus the conv window of
    q, k, v; Mamba-2 keeps heads x head_dim x state plus the conv window of x, B, C.
    """
    if kind == "linear":
        state = m.linear_num_value_heads * m.linear_key_head_dim * m.linear_value_head_dim
        conv_dim = (
            2 * m.linear_num_key_heads * m.linear_key_head_dim + m.linear_num_value_heads * m.linear_value_head_dim
        )
        return state, conv_dim * max(m.linear_conv_kernel_dim - 1, 0)
    if kind == "mamba":
        d_inner = m.mamba_num_heads * m.mamba_head_dim
        state = m.mamba_num_heads * m.mamba_head_dim * m.mamba_state_size
        conv_dim = d_inner + 2 * m.mamba_num_groups * m.mamba_state_size
        return state, conv_dim * max(m.mamba_conv_kernel - 1, 0)
    return 0, 0


@functools.lru_cache(maxsize=256)
def layer_plan(m: ModelSpec) -> tuple[LayerPlan, ...]:
    """One `LayerPlan` per layer (cached; ModelSpec is frozen and hashable)."""
    kinds = m.kinds
    widths = m.dense_ffn_widths
    moe = m.moe_mask
    sparse = m.sparse_mask
    indexer = m.indexer_mask
    plans = []
    for i, kind in enumerate(kinds):
        ratio = m.compress_ratio(i)
        window_values = long_values = 0
        fl_dec = fl_pre = idx_fl = 0.0
        if kind in KV_LAYER_KINDS:
            mixer = _softmax_layer_params(m, kind, indexer=indexer[i], ratio=ratio)
            nh, nkv, dk, dv = m.attention_geometry(kind)
            if m.is_mla:
                per_entry = (m.kv_lora_rank or 0) + m.qk_rope_head_dim
                fl_dec = 2.0 * nh * per_entry + 2.0 * nh * (m.kv_lora_rank or 0)
            else:
                per_entry = nkv * dk if m.kv_single_tensor else nkv * (dk + dv)
                fl_dec = 2.0 * nh * (dk + dv)
            fl_pre = 2.0 * nh * (dk + dv)
            if kind in ("sliding", "compressed"):
                window_values = per_entry
            if kind in ("full", "compressed"):
                long_values = per_entry + (m.index_head_dim if indexer[i] else 0)
            if indexer[i]:
                idx_fl = 2.0 * m.index_num_heads * m.index_head_dim
        elif kind == "linear":
            mixer = linear_attention_params(m)
        elif kind == "mamba":
            mixer = mamba_params(m)
        else:
            mixer = 0
        state, conv_state = _state_sizes(m, kind)
        plans.append(
            LayerPlan(
                index=i,
                kind=kind,
                mixer_params=mixer,
                dense_ffn_width=widths[i],
                is_moe=moe[i],
                sparse=sparse[i],
                indexer=indexer[i],
                ratio=ratio,
                window_values=window_values,
                long_values=long_values,
                flops_per_entry_decode=fl_dec,
                flops_per_entry_prefill=fl_pre,
                index_flops_per_entry=idx_fl,
                state_values=state,
                conv_state_values=conv_state,
            )
        )
    return tuple(plans)


# ---------------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------------


def softmax_attention_params(m: ModelSpec) -> int:
    """Weights of one softmax-attention layer: the mean over the model's softmax layers (so that
    count x this = their total), indexers and compressors included."""
    layers = [p for p in layer_plan(m) if p.kind in KV_LAYER_KINDS]
    if not layers:
        return 0
    return round(sum(p.mixer_params for p in layers) / len(layers))


def param_breakdown(m: ModelSpec) -> dict[str, int]:
    """Stored parameters by component (MTP heads separate; not in the total). A fresh dict each call."""
    return dict(_param_breakdown(m))


@functools.lru_cache(maxsize=512)
def _param_breakdown(m: ModelSpec) -> tuple[tuple[str, int], ...]:
    embed = m.vocab_size * m.hidden_size
    plans = layer_plan(m)
    routed, shared, router = _moe_layer_params(m) if m.is_moe else (0, 0, 0)
    n_moe = sum(1 for p in plans if p.is_moe)
    return (
        ("embedding", embed),
        ("lm_head", 0 if m.tie_embeddings else embed),
        ("attention", sum(p.mixer_params for p in plans)),
        ("dense_ffn", sum(ffn_params(p.dense_ffn_width, m) for p in plans)),
        ("routed_experts", n_moe * routed),
        ("shared_experts", n_moe * shared),
        ("router", n_moe * router),
        ("norms", m.num_layers * 2 * m.hidden_size + m.hidden_size),
    )


def total_params(m: ModelSpec) -> int:
    return sum(param_breakdown(m).values())


def active_params(m: ModelSpec) -> int:
    """Parameters one token's forward pass multiplies: all but the routed experts it is not sent to and the
    input embedding table (a lookup of one row); a tied table counts once, as the output head."""
    p = param_breakdown(m)
    lookup = 0 if m.tie_embeddings else p["embedding"]
    routed_active = p["routed_experts"] * m.experts_per_token // m.num_experts if m.is_moe else p["routed_experts"]
    return sum(p.values()) - p["routed_experts"] + routed_active - lookup


def matmul_params_per_token(m: ModelSpec) -> int:
    """Active parameters that take part in a matrix multiply (active minus the norms' scales)."""
    return active_params(m) - param_breakdown(m)["norms"]


def mtp_params(m: ModelSpec) -> int:
    """Approximate weights of the MTP heads: one extra decoder layer each (mean softmax mixer, the FFN
    of an MoE layer or the mean dense FFN) plus the 2h x h projection that joins its two inputs."""
    if not m.mtp_layers:
        return 0
    p = param_breakdown(m)
    if m.is_moe:
        ffn = (p["routed_experts"] + p["shared_experts"] + p["router"]) // max(m.num_moe_layers, 1)
    else:
        ffn = p["dense_ffn"] // max(m.num_dense_layers, 1)
    return m.mtp_layers * (softmax_attention_params(m) + ffn + 2 * m.hidden_size * m.hidden_size)


def weight_bytes(m: ModelSpec, precision: str = "bf16") -> float:
    """Bytes of all stored weights at `precision` (embeddings and norms kept at bf16, as engines do)."""
    p = param_breakdown(m)
    high_precision = p["embedding"] + p["lm_head"] + p["norms"]
    quantised = total_params(m) - high_precision
    return quantised * get_precision(precision).bytes_per_value + high_precision * 2.0


# ---------------------------------------------------------------------------------------------------
# KV cache and recurrent state
# ---------------------------------------------------------------------------------------------------


def kv_bytes_per_token_per_layer(m: ModelSpec, kv_precision: str = "bf16") -> float:
    """KV bytes one token adds to one KV-caching layer: the mean over full, sliding and compressed
    layers (so count x this = `kv_bytes_per_token`).

    GQA/MQA/MHA: K and V for each KV head (one tensor when `kv_single_tensor`). MLA: the compressed
    latent plus the decoupled RoPE key, shared by all heads (DeepSeek-V2 paper, eq. 9-10); indexer
    keys (DeepSeek-V3.2) are added on the layers that hold them.
    """
    n = sum(1 for k in m.kinds if k in KV_LAYER_KINDS)
    return kv_bytes_per_token(m, kv_precision) / n if n else 0.0


def kv_bytes_per_token(m: ModelSpec, kv_precision: str = "bf16") -> float:
    """KV bytes per token of context summed over the layers that cache keys and values.

    Sliding-window parts count while the context is within the window; beyond it use
    `kv_bytes(context)` or `kv_bytes_per_token_long`.
    """
    b = get_precision(kv_precision).bytes_per_value
    return sum(p.window_values + (p.long_values / p.ratio if p.ratio else 0.0) for p in layer_plan(m)) * b


def kv_bytes_per_token_long(m: ModelSpec, kv_precision: str = "bf16") -> float:
    """KV bytes each further token adds once the context is past every sliding window."""
    b = get_precision(kv_precision).bytes_per_value
    return sum(p.long_values / p.ratio for p in layer_plan(m) if p.ratio) * b


def linear_state_bytes_per_layer(m: ModelSpec) -> float:
    """Recurrent state of one linear-attention layer per sequence (independent of its length).

    Gated DeltaNet keeps a key_dim x value_dim matrix per value head plus the causal-conv window.
    """
    state, conv = _state_sizes(m, "linear")
    return state * get_precision(m.linear_state_precision).bytes_per_value + conv * 2.0


def mamba_state_bytes_per_layer(m: ModelSpec) -> float:
    """SSM state (heads x head_dim x state) and conv window of one Mamba-2 layer per sequence."""
    state, conv = _state_sizes(m, "mamba")
    return state * get_precision(m.linear_state_precision).bytes_per_value + conv * 2.0


def state_bytes_per_sequence(m: ModelSpec) -> float:
    """Fixed-size state of one sequence over all linear and Mamba layers."""
    return m.count_layers("linear") * linear_state_bytes_per_layer(m) + m.count_layers(
        "mamba"
    ) * mamba_state_bytes_per_layer(m)


def kv_bytes(m: ModelSpec, context_tokens: Any, kv_precision: str = "bf16") -> np.ndarray | float:
    """KV-cache bytes of one sequence of `context_tokens` (array-friendly).

    Full layers grow with the context, sliding layers stop at the window, compressed layers keep the
    window plus one entry per `ratio` tokens (counted fractionally), linear and Mamba layers hold a
    fixed state.
    """
    ctx = np.asarray(context_tokens, dtype=np.float64)
    b = get_precision(kv_precision).bytes_per_value
    plans = layer_plan(m)
    window = float(m.sliding_window or 0)
    window_values = sum(p.window_values for p in plans)
    long_values = sum(p.long_values / p.ratio for p in plans if p.ratio)
    total = (window_values * np.minimum(ctx, window) + long_values * ctx) * b + state_bytes_per_sequence(m)
    return total if total.ndim else float(total)


# ---------------------------------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------------------------------

STATE_FLOPS_PER_ELEMENT = 8.0
"""Linear/Mamba layers: about 4 multiply-adds per state element and token (decay, rank-1 update,
read-out), independent of the context."""


def attention_flops_per_token(m: ModelSpec, attended_tokens: Any, *, decode: bool) -> np.ndarray:
    """Score and value FLOPs of one new token attending to `attended_tokens` earlier ones, all layers.

    2 FLOPs per multiply-add for QK^T and for AV. MLA in decode runs in the absorbed form (scores
    against the latent of width kv_lora_rank + rope); in prefill it expands K and V per head. Sliding
    layers see at most the window, compressed layers the window plus ctx/ratio entries, top-k sparse
    layers at most `sparse_topk_tokens` entries after their indexer scored all of them. Linear and
    Mamba layers cost O(state) per token, independent of the context.
    """
    ctx = np.asarray(attended_tokens, dtype=np.float64)
    window = float(m.sliding_window or 0)
    topk = float(m.sparse_topk_tokens or 0)
    terms = _flop_terms(m, decode)
    flops = terms.window * np.minimum(ctx, window) + terms.state
    for ratio, sparse, per_entry, index in terms.long:
        entries = ctx / ratio
        flops = flops + per_entry * (np.minimum(entries, topk) if sparse else entries) + index * entries
    return flops


@dataclass(frozen=True)
class _FlopTerms:
    window: float
    long: tuple[tuple[int, bool, float, float], ...]
    """(ratio, sparse, FLOPs per attended entry, indexer FLOPs per entry), layers of a kind summed."""
    state: float


@functools.lru_cache(maxsize=512)
def _flop_terms(m: ModelSpec, decode: bool) -> _FlopTerms:
    """`layer_plan` summed into a few coefficients so FLOPs of any context are one array expression."""
    window = 0.0
    long: dict[tuple[int, bool], list[float]] = {}
    state = 0.0
    for p in layer_plan(m):
        per_entry = p.flops_per_entry_decode if decode else p.flops_per_entry_prefill
        if p.window_values:
            window += per_entry
        if p.ratio:
            acc = long.setdefault((p.ratio, p.sparse), [0.0, 0.0])
            acc[0] += per_entry
            acc[1] += p.index_flops_per_entry
        state += STATE_FLOPS_PER_ELEMENT * p.state_values
    groups = tuple((r, sp, acc[0], acc[1]) for (r, sp), acc in long.items())
    return _FlopTerms(window=window, long=groups, state=state)


def decode_flops_per_token(m: ModelSpec, context_tokens: Any) -> np.ndarray | float:
    """FLOPs to produce one token with `context_tokens` already in the cache."""
    out = 2.0 * matmul_params_per_token(m) + attention_flops_per_token(m, context_tokens, decode=True)
    return out if np.ndim(out) else float(out)


def prefill_flops(m: ModelSpec, new_tokens: Any, cached_tokens: Any = 0) -> np.ndarray | float:
    """FLOPs to prefill `new_tokens` after `cached_tokens` (causal: token i attends to cached + i).

    The attention sum over i of (cached + i) is new x cached + new x (new - 1) / 2 (sliding and
    sparse layers are approximated by capping each token's span at the mean).
    """
    n = np.asarray(new_tokens, dtype=np.float64)
    c = np.asarray(cached_tokens, dtype=np.float64)
    mean_span = c + (n + 1.0) / 2.0
    per_token = attention_flops_per_token(m, mean_span, decode=False)
    out = n * (2.0 * matmul_params_per_token(m) + per_token)
    return out if np.ndim(out) else float(out)


# ---------------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------------

KV_PRECISIONS = ("bf16", "fp8", "nvfp4")
WEIGHT_PRECISIONS = ("bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4")
SUMMARY_CONTEXTS = (1024, 8192, 32768, 131072)


def model_summary(m: ModelSpec) -> dict[str, Any]:
    """Everything a person or a script wants to know about a model, in plain units."""
    p = param_breakdown(m)
    return {
        "name": m.name,
        "hf_id": m.hf_id,
        "aliases": list(m.aliases),
        "family": m.family,
        "total_params": total_params(m),
        "active_params": active_params(m),
        "active_params_with_input_embedding": active_params(m) + (0 if m.tie_embeddings else p["embedding"]),
        "matmul_params_per_token": matmul_params_per_token(m),
        "mtp_params": mtp_params(m),
        "layers": m.num_layers,
        "hidden_size": m.hidden_size,
        "vocab_size": m.vocab_size,
        "attention": m.attention_kind,
        "num_heads": m.num_heads,
        "num_kv_heads": m.num_kv_heads,
        "head_dim": m.head_dim,
        "layer_kinds": {
            k: m.count_layers(k)
            for k in ("full", "sliding", "compressed", "linear", "mamba", "none")
            if m.count_layers(k)
        },
        "sliding_window": m.sliding_window,
        "sparse_topk_tokens": m.sparse_topk_tokens or None,
        "moe": (
            {
                "experts": m.num_experts,
                "experts_per_token": m.experts_per_token,
                "shared_experts": m.num_shared_experts,
                "expert_width": m.moe_intermediate_size,
                "latent_size": m.moe_latent_size or None,
                "moe_layers": m.num_moe_layers,
                "dense_layers": m.num_dense_layers,
            }
            if m.is_moe
            else None
        ),
        "tie_embeddings": m.tie_embeddings,
        "max_context_tokens": m.max_context_tokens,
        "native_precision": m.native_precision,
        "native_kv_precision": m.native_kv_precision,
        "params_breakdown": p,
        "weight_bytes": {q: weight_bytes(m, q) for q in WEIGHT_PRECISIONS},
        "kv_bytes_per_token": {q: kv_bytes_per_token(m, q) for q in KV_PRECISIONS},
        "kv_bytes_per_token_long_context": {q: kv_bytes_per_token_long(m, q) for q in KV_PRECISIONS},
        "kv_bytes_per_sequence_bf16": {str(c): kv_bytes(m, c) for c in SUMMARY_CONTEXTS},
        "state_bytes_per_sequence": state_bytes_per_sequence(m),
        "linear_state_bytes_per_sequence": m.count_layers("linear") * linear_state_bytes_per_layer(m),
        "decode_flops_per_token_at_1k": decode_flops_per_token(m, 1024),
        "source": m.source,
        "date": m.date,
        "notes": m.notes,
    }
