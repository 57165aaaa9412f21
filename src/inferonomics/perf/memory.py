"""Memory per chip: weights, KV cache, activations and runtime reserve; does a deployment fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inferonomics.catalog.model_figures import (
    kv_bytes_per_token_long,
    param_breakdown,
    state_bytes_per_sequence,
)
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import DoesNotFitError
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.deployment import Deployment


def kv_shards(dep: Deployment) -> int:
    """Chips one sequence's KV is split over inside an attention group.

    GQA/MHA split KV heads over tensor-parallel ranks (replicating when tp > kv heads); MLA's latent is
    shared by all heads, so every rank holds all of it (DeepSeek-V3 report, sec. 3.4).
    """
    if dep.shard_kv_by_batch:
        return dep.tp
    if dep.model.is_mla:
        return 1
    return max(1, min(dep.tp, dep.model.num_kv_heads))


def weight_bytes_per_chip(dep: Deployment) -> float:
    """Weights held by one chip: dense parts split over tp, experts (with any redundant copies) over
    moe_tp x moe_ep, layers over pp."""
    m = dep.model
    p = param_breakdown(m)
    b = get_precision(dep.weight_precision).bytes_per_value
    dense = (p["attention"] + p["dense_ffn"] + p["shared_experts"] + p["router"]) * b
    experts = p["routed_experts"] * get_precision(dep.routed_expert_precision).bytes_per_value
    experts *= dep.expert_copies_ratio  # redundant expert slots (Deployment.redundant_experts)
    embeddings = (p["embedding"] + p["lm_head"]) * 2.0 + p["norms"] * 2.0
    per_stage = (dense / dep.tp + experts / (dep.moe_tp_size * dep.moe_ep)) / dep.pp
    return per_stage + embeddings / dep.tp / max(1, min(dep.pp, 2))


def kv_bytes_per_token_per_chip(dep: Deployment) -> float:
    """KV bytes one more token of long context costs on each chip that holds its sequence (sliding
    windows already full; `kv_bytes_per_token_long`)."""
    return kv_bytes_per_token_long(dep.model, dep.kv_precision) / kv_shards(dep) / dep.pp


def state_bytes_per_sequence_per_chip(dep: Deployment) -> float:
    """Recurrent (linear-attention / Mamba) state of one sequence per chip: heads split over tp."""
    return state_bytes_per_sequence(dep.model) / dep.tp / dep.pp


def kv_bytes_per_sequence_per_chip(dep: Deployment, context_tokens: Any) -> Any:
    """KV and recurrent-state bytes of one sequence on each chip holding it (`ModelSpec.kv_bytes`:
    sliding windows stop growing, linear/Mamba layers hold a fixed state). Attention KV splits over
    `kv_shards`; recurrent state splits over the tensor-parallel heads."""
    m = dep.model
    total = np.asarray(m.kv_bytes(context_tokens, dep.kv_precision), dtype=np.float64)
    state = state_bytes_per_sequence(m)
    out = ((total - state) / kv_shards(dep) + state / dep.tp) / dep.pp
    return out if out.ndim else float(out)


@dataclass(frozen=True)
class MemoryUse:
    """Bytes per chip (the fullest chip) for a batch of sequences."""

    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    reserve_bytes: float
    capacity_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_cache_bytes + self.activations_bytes + self.reserve_bytes

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes

    def to_dict(self) -> dict[str, float | bool]:
        gb = 1e9
        return {
            "weights_gb": self.weights_bytes / gb,
            "kv_cache_gb": self.kv_cache_bytes / gb,
            "activations_gb": self.activations_bytes / gb,
            "reserve_gb": self.reserve_bytes / gb,
            "total_gb": self.total_bytes / gb,
            "capacity_gb": self.capacity_bytes / gb,
            "fits": self.fits,
        }


def memory_use(dep: Deployment, sequences: float, context_tokens: float, cal: Calibration | None = None) -> MemoryUse:
    """Memory of one chip when the replica holds `sequences` sequences of `context_tokens` each."""
    cal = cal or default_calibration()
    capacity = dep.system.chip.hbm_bytes
    seqs_per_rank = np.ceil(sequences / dep.attention_dp)
    kv = seqs_per_rank * kv_bytes_per_sequence_per_chip(dep, context_tokens)
    return MemoryUse(
        weights_bytes=weight_bytes_per_chip(dep),
        kv_cache_bytes=float(kv),
        activations_bytes=cal.activation_reserve_bytes,
        reserve_bytes=capacity * cal.runtime_reserve_fraction,
        capacity_bytes=capacity,
    )


def kv_free_bytes_per_chip(dep: Deployment, cal: Calibration | None = None) -> float:
    """HBM left for the KV cache on one chip after weights, activations and the runtime reserve."""
    m = memory_use(dep, 0, 0, cal)
    return max(m.capacity_bytes - m.weights_bytes - m.activations_bytes - m.reserve_bytes, 0.0)


def kv_capacity_tokens(dep: Deployment, cal: Calibration | None = None) -> int:
    """Tokens of KV the whole replica can hold after weights, activations and reserve (0 if none)."""
    free = kv_free_bytes_per_chip(dep, cal)
    per_token = kv_bytes_per_token_per_chip(dep)
    if free <= 0:
        return 0
    if per_token <= 0:
        return int(1e12)
    return int(free / per_token) * dep.attention_dp


def max_sequences(dep: Deployment, context_tokens: float, cal: Calibration | None = None) -> int:
    """Largest number of sequences of `context_tokens` the replica can hold at once."""
    free = kv_free_bytes_per_chip(dep, cal)
    per_seq = float(kv_bytes_per_sequence_per_chip(dep, context_tokens))
    if free <= 0:
        return 0
    return int(free // per_seq) * dep.attention_dp if per_seq > 0 else 10**9


def check_fits(dep: Deployment, sequences: float, context_tokens: float, cal: Calibration | None = None) -> MemoryUse:
    """`MemoryUse`, or `DoesNotFitError` saying by how much it is over and what would fit."""
    use = memory_use(dep, sequences, context_tokens, cal)
    if use.fits:
        return use
    over = use.total_bytes - use.capacity_bytes
    weights_alone = use.weights_bytes + use.activations_bytes + use.reserve_bytes
    if weights_alone > use.capacity_bytes:
        min_chips = int(np.ceil(weights_alone / use.capacity_bytes * dep.chips_per_replica))
        msg = (
            f"{dep.describe()} does not fit: weights alone need {use.weights_bytes / 1e9:.1f} GB per chip plus "
            f"{(use.activations_bytes + use.reserve_bytes) / 1e9:.1f} GB reserve, over the "
            f"{use.capacity_bytes / 1e9:.0f} GB of HBM by {(weights_alone - use.capacity_bytes) / 1e9:.1f} GB; "
            f"use about {min_chips}+ chips or a narrower weight format"
        )
    else:
        most = max_sequences(dep, context_tokens, cal)
        msg = (
            f"{dep.describe()} does not fit {sequences:g} sequences of {context_tokens:g} tokens: needs "
            f"{use.total_bytes / 1e9:.1f} GB per chip, {over / 1e9:.1f} GB over the "
            f"{use.capacity_bytes / 1e9:.0f} GB of HBM; at most {most} such sequences fit"
        )
    raise DoesNotFitError(msg, use.total_bytes, use.capacity_bytes)
