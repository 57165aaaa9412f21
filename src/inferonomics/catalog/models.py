"""Model architectures: the figures of a transformer that set its serving cost.

A `ModelSpec` holds what a Hugging Face config says (sizes, attention kind per layer, experts). The
derived figures (parameter counts, weight and KV bytes, FLOPs per token) live in `model_figures.py`
and are exposed here as methods so a notebook can write `model.kv_bytes_per_token("fp8")`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

LayerKind = Literal["full", "sliding", "compressed", "linear", "mamba", "none"]
"""Token mixer of a layer. full: softmax attention over the whole context; sliding: over the last
`sliding_window` tokens (also chunked-local attention, window = chunk); compressed: a sliding window
plus the context compressed `kv_compress_ratios[i]`-fold (DeepSeek-V4); linear: gated-DeltaNet/KDA
recurrent state; mamba: Mamba-2 SSM state; none: no token mixer (FFN-only layer)."""

KV_LAYER_KINDS: tuple[LayerKind, ...] = ("full", "sliding", "compressed")
"""Layer kinds that cache per-token keys and values."""
STATE_LAYER_KINDS: tuple[LayerKind, ...] = ("linear", "mamba")
"""Layer kinds that hold a fixed-size recurrent state per sequence."""


@dataclass(frozen=True)
class ModelSpec:
    """Architecture of a decoder-only language model, in the units of its Hugging Face config.

    Per-layer tuples (`layer_kinds`, `moe_layer_mask`, `ffn_widths`, ...) are empty when every layer is
    alike. Attention fields describe the sliding-window layers when the two kinds differ and the
    `full_*` overrides say how full-attention layers differ (Gemma's local/global split).
    """

    name: str
    hidden_size: int
    num_layers: int
    vocab_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    """FFN width of dense layers (0 when every layer is MoE and no dense width is given; the mean width
    when `ffn_widths` varies per layer)."""
    hf_id: str | None = None
    aliases: tuple[str, ...] = ()
    family: str = ""
    # --- attention -------------------------------------------------------------------------------
    v_head_dim: int | None = None
    """Value head width when it differs from the query/key width (MLA: 128 vs 192)."""
    attention_output_gate: bool = False
    """Qwen3.5/Qwen3-Next (and Kimi's MLA) gate the attention output with a projection of the input."""
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    """Set for Multi-head Latent Attention (DeepSeek-V2/V3): the KV cache holds this latent per token."""
    qk_rope_head_dim: int = 0
    index_head_dim: int = 0
    """Sparse-attention indexer (DeepSeek V3.2 DSA, MiniMax-M3, DeepSeek-V4 CSA): its key width per
    cached entry of each indexer layer."""
    index_num_heads: int = 0
    sparse_topk_tokens: int = 0
    """Top-k sparse attention: each query attends at most this many selected entries (0 = dense)."""
    sparse_layer_mask: tuple[bool, ...] = ()
    """True where attention is top-k sparse; empty = every softmax layer when `sparse_topk_tokens`."""
    indexer_layer_mask: tuple[bool, ...] = ()
    """True where the layer has its own indexer (weights and key cache); empty = the sparse layers.
    GLM-5.2 shares one indexer's choice over several layers."""
    layer_kinds: tuple[LayerKind, ...] = ()
    """Token mixer of each layer; empty means every layer is full attention."""
    sliding_window: int | None = None
    full_num_kv_heads: int | None = None
    """KV heads of full-attention layers when they differ from the sliding layers (Gemma 4, MiMo-V2)."""
    full_head_dim: int | None = None
    full_v_head_dim: int | None = None
    full_k_eq_v: bool = False
    """Full-attention layers derive V from the K projection (Gemma 4 global layers): no V weights, but
    the cache still holds K and V (they are normalised differently)."""
    kv_single_tensor: bool = False
    """One KV projection whose output serves as both K and V, cached once (DeepSeek-V4)."""
    o_lora_rank: int = 0
    o_groups: int = 0
    """Grouped low-rank output projection (DeepSeek-V4): heads in `o_groups` groups -> o_lora_rank each."""
    kv_compress_ratios: tuple[int, ...] = ()
    """Per layer, how many tokens one compressed KV entry stands for (DeepSeek-V4 CSA 4 / HCA 128);
    used by 'compressed' layers."""
    # --- linear attention (gated DeltaNet / KDA) ----------------------------------------------------
    linear_attention_kind: str = "gated_deltanet"
    """'gated_deltanet' (Qwen3-Next/3.5) or 'kda' (Kimi Delta Attention, Kimi Linear)."""
    linear_num_key_heads: int = 0
    linear_num_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel_dim: int = 0
    linear_state_precision: str = "fp32"
    """Format of the recurrent state of linear and Mamba layers."""
    # --- Mamba-2 ---------------------------------------------------------------------------------
    mamba_num_heads: int = 0
    mamba_head_dim: int = 0
    mamba_state_size: int = 0
    mamba_num_groups: int = 0
    mamba_conv_kernel: int = 0
    # --- feed-forward and experts ----------------------------------------------------------------
    ffn_gated: bool = True
    """SwiGLU/GeGLU FFNs have three matrices (gate, up, down); plain MLPs (ReLU^2, GELU) two."""
    ffn_widths: tuple[int, ...] = ()
    """Per-layer dense FFN width (0 = no dense FFN in that layer); empty = `intermediate_size` on
    every non-MoE layer."""
    num_experts: int = 0
    experts_per_token: int = 0
    moe_intermediate_size: int = 0
    num_shared_experts: int = 0
    shared_expert_intermediate_size: int = 0
    """Width of each shared expert (Qwen gives it whole; DeepSeek's equals moe_intermediate_size)."""
    moe_latent_size: int = 0
    """Latent MoE (Nemotron 3, Kimi K3): routed experts work in this width, behind two projections."""
    moe_layer_mask: tuple[bool, ...] = ()
    """True where the layer is MoE; empty means all layers are MoE when num_experts > 0."""
    # --- other -----------------------------------------------------------------------------------
    tie_embeddings: bool = False
    parallel_layers: bool = False
    """Attention and FFN read the same input and are summed (GPT-J, PaLM): one all-reduce per layer."""
    mtp_layers: int = 0
    """Multi-token-prediction heads shipped with the checkpoint (not counted in total params)."""
    max_context_tokens: int = 0
    native_precision: str = "bf16"
    """Format of the released checkpoint's linear weights (of its experts when formats are mixed)."""
    native_kv_precision: str = "bf16"
    """KV-cache format the checkpoint is calibrated for (fp8 when it ships KV scales)."""
    attention_bias: bool = False
    source: str = ""
    date: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    # --- structure ---------------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return bool(self.kv_lora_rank)

    @property
    def kinds(self) -> tuple[LayerKind, ...]:
        full: tuple[LayerKind, ...] = ("full",)
        return self.layer_kinds or full * self.num_layers

    @property
    def moe_mask(self) -> tuple[bool, ...]:
        if not self.is_moe:
            return (False,) * self.num_layers
        return self.moe_layer_mask or (True,) * self.num_layers

    @property
    def num_moe_layers(self) -> int:
        return sum(self.moe_mask)

    @property
    def dense_ffn_widths(self) -> tuple[int, ...]:
        """Dense FFN width of each layer (0 on MoE layers and on layers without an FFN)."""
        widths = self.ffn_widths or (self.intermediate_size,) * self.num_layers
        return tuple(0 if moe else w for w, moe in zip(widths, self.moe_mask, strict=True))

    @property
    def num_dense_layers(self) -> int:
        """Layers with a dense FFN."""
        return sum(1 for w in self.dense_ffn_widths if w > 0)

    def count_layers(self, kind: LayerKind) -> int:
        return sum(1 for k in self.kinds if k == kind)

    @property
    def sparse_mask(self) -> tuple[bool, ...]:
        """True where attention is top-k sparse."""
        if not self.sparse_topk_tokens:
            return (False,) * self.num_layers
        if self.sparse_layer_mask:
            return self.sparse_layer_mask
        return tuple(k in KV_LAYER_KINDS for k in self.kinds)

    @property
    def indexer_mask(self) -> tuple[bool, ...]:
        """True where the layer has its own sparse-attention indexer."""
        if not self.index_head_dim:
            return (False,) * self.num_layers
        if self.indexer_layer_mask:
            return self.indexer_layer_mask
        if self.sparse_topk_tokens:
            return self.sparse_mask
        return tuple(k in KV_LAYER_KINDS for k in self.kinds)

    def compress_ratio(self, layer: int) -> int:
        """Tokens per cached long-range entry of `layer`: 1 for full attention, r for compressed."""
        kind = self.kinds[layer]
        if kind == "full":
            return 1
        if kind == "compressed":
            return self.kv_compress_ratios[layer]
        return 0

    def attention_geometry(self, kind: LayerKind) -> tuple[int, int, int, int]:
        """(query heads, KV heads, query/key head width, value head width) of a softmax layer kind."""
        if kind == "full":
            return (
                self.num_heads,
                self.full_num_kv_heads or self.num_kv_heads,
                self.full_head_dim or self.head_dim,
                self.full_v_head_dim or self.full_head_dim or self.value_head_dim,
            )
        return self.num_heads, self.num_kv_heads, self.head_dim, self.value_head_dim

    @property
    def attention_kind(self) -> str:
        """MLA, MHA, MQA or GQA (of the softmax-attention layers)."""
        if self.is_mla:
            return "MLA"
        if self.num_kv_heads == self.num_heads:
            return "MHA"
        if self.num_kv_heads == 1:
            return "MQA"
        return "GQA"

    @property
    def value_head_dim(self) -> int:
        return self.v_head_dim or self.head_dim

    # --- derived figures (see model_figures.py) ------------------------------------------------------
    @property
    def params(self) -> dict[str, int]:
        from inferonomics.catalog.model_figures import param_breakdown

        return param_breakdown(self)

    @property
    def total_params(self) -> int:
        from inferonomics.catalog.model_figures import total_params

        return total_params(self)

    @property
    def active_params(self) -> int:
        from inferonomics.catalog.model_figures import active_params

        return active_params(self)

    def weight_bytes(self, precision: str = "bf16") -> float:
        from inferonomics.catalog.model_figures import weight_bytes

        return weight_bytes(self, precision)

    def kv_bytes_per_token(self, kv_precision: str = "bf16") -> float:
        from inferonomics.catalog.model_figures import kv_bytes_per_token

        return kv_bytes_per_token(self, kv_precision)

    def kv_bytes(self, context_tokens: Any, kv_precision: str = "bf16") -> np.ndarray | float:
        from inferonomics.catalog.model_figures import kv_bytes

        return kv_bytes(self, context_tokens, kv_precision)

    def decode_flops_per_token(self, context_tokens: Any) -> np.ndarray | float:
        from inferonomics.catalog.model_figures import decode_flops_per_token

        return decode_flops_per_token(self, context_tokens)

    def prefill_flops(self, new_tokens: Any, cached_tokens: Any = 0) -> np.ndarray | float:
        from inferonomics.catalog.model_figures import prefill_flops

        return prefill_flops(self, new_tokens, cached_tokens)

    def summary(self) -> dict[str, Any]:
        from inferonomics.catalog.model_figures import model_summary

        return model_summary(self)

    def to_dict(self) -> dict[str, Any]:
        """Every field (tuples as tuples) except `extra`."""
        d = asdict(self)
        d.pop("extra", None)
        return d


# ---------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------

_POSITIVE = ("hidden_size", "num_layers", "vocab_size", "num_heads", "num_kv_heads", "head_dim")
_NON_NEGATIVE = (
    "intermediate_size",
    "qk_rope_head_dim",
    "index_head_dim",
    "index_num_heads",
    "sparse_topk_tokens",
    "o_lora_rank",
    "o_groups",
    "linear_num_key_heads",
    "linear_num_value_heads",
    "linear_key_head_dim",
    "linear_value_head_dim",
    "linear_conv_kernel_dim",
    "mamba_num_heads",
    "mamba_head_dim",
    "mamba_state_size",
    "mamba_num_groups",
    "mamba_conv_kernel",
    "num_experts",
    "experts_per_token",
    "moe_intermediate_size",
    "num_shared_experts",
    "shared_expert_intermediate_size",
    "moe_latent_size",
    "mtp_layers",
    "max_context_tokens",
)
_OPTIONAL_POSITIVE = (
    "v_head_dim",
    "q_lora_rank",
    "kv_lora_rank",
    "sliding_window",
    "full_num_kv_heads",
    "full_head_dim",
    "full_v_head_dim",
)
_PER_LAYER = (
    "layer_kinds",
    "moe_layer_mask",
    "ffn_widths",
    "sparse_layer_mask",
    "indexer_layer_mask",
    "kv_compress_ratios",
)
LINEAR_ATTENTION_KINDS = ("gated_deltanet", "kda")


def validate_model(m: ModelSpec) -> ModelSpec:
    """Check that `m` is a consistent architecture; `ConfigError` naming the first bad field."""
    from inferonomics.catalog.precision import get_precision
    from inferonomics.errors import ConfigError, UnknownNameError

    who = f"model {m.name!r}"

    def bad(field_name: str, why: str) -> ConfigError:
        return ConfigError(f"{who}: field {field_name!r} {why}")

    def is_int(v: Any) -> bool:
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    for key in _POSITIVE:
        v = getattr(m, key)
        if not is_int(v) or v <= 0:
            raise bad(key, f"must be a positive integer, got {v!r}")
    for key in _NON_NEGATIVE:
        v = getattr(m, key)
        if not is_int(v) or v < 0:
            raise bad(key, f"must be a non-negative integer, got {v!r}")
    for key in _OPTIONAL_POSITIVE:
        v = getattr(m, key)
        if v is not None and (not is_int(v) or v <= 0):
            raise bad(key, f"must be a positive integer or empty, got {v!r}")
    if m.num_kv_heads > m.num_heads:
        raise bad("num_kv_heads", f"({m.num_kv_heads}) exceeds num_heads ({m.num_heads})")
    for key in _PER_LAYER:
        v = getattr(m, key)
        if v and len(v) != m.num_layers:
            raise bad(key, f"must list one value per layer ({m.num_layers}), got {len(v)}")
    allowed = ("full", "sliding", "compressed", "linear", "mamba", "none")
    for i, k in enumerate(m.kinds):
        if k not in allowed:
            raise bad("layer_kinds", f"has unknown kind {k!r} at layer {i} (allowed: {', '.join(allowed)})")
    if any(w < 0 for w in m.ffn_widths):
        raise bad("ffn_widths", "must be non-negative")
    kinds = set(m.kinds)
    if kinds & {"sliding", "compressed"} and not m.sliding_window:
        raise bad("sliding_window", "is needed by sliding/compressed layers")
    for i, k in enumerate(m.kinds):
        if k == "compressed" and (not m.kv_compress_ratios or m.kv_compress_ratios[i] <= 0):
            raise bad("kv_compress_ratios", f"must be > 0 for compressed layer {i}")
    if "linear" in kinds:
        if m.linear_attention_kind not in LINEAR_ATTENTION_KINDS:
            raise bad("linear_attention_kind", f"must be one of {', '.join(LINEAR_ATTENTION_KINDS)}")
        for key in (
            "linear_num_key_heads",
            "linear_num_value_heads",
            "linear_key_head_dim",
            "linear_value_head_dim",
        ):
            if getattr(m, key) <= 0:
                raise bad(key, "must be > 0 when there are linear-attention layers")
    if "mamba" in kinds:
        for key in ("mamba_num_heads", "mamba_head_dim", "mamba_state_size", "mamba_num_groups"):
            if getattr(m, key) <= 0:
                raise bad(key, "must be > 0 when there are Mamba layers")
    if m.num_experts:
        if not 0 < m.experts_per_token <= m.num_experts:
            raise bad("experts_per_token", f"must be in 1..num_experts ({m.num_experts}), got {m.experts_per_token}")
        if m.moe_intermediate_size <= 0:
            raise bad("moe_intermediate_size", "must be > 0 for an MoE model")
    elif m.moe_layer_mask and any(m.moe_layer_mask):
        raise bad("moe_layer_mask", "marks MoE layers but num_experts is 0")
    if m.is_mla and m.kv_single_tensor:
        raise bad("kv_single_tensor", "cannot be combined with MLA (kv_lora_rank)")
    if bool(m.o_lora_rank) != bool(m.o_groups):
        raise bad("o_groups", "and o_lora_rank must be set together")
    for key in ("native_precision", "native_kv_precision", "linear_state_precision"):
        try:
            get_precision(getattr(m, key))
        except UnknownNameError as exc:
            raise bad(key, f"is not a known precision ({exc})") from exc
    return m
