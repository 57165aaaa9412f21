"""A model on a piece of hardware at a glance: does it fit, how much KV room, a naive speed bound.

The speed here is the crudest bound there is, kept deliberately naive and labelled so: one user,
every weight byte read once per output token at peak HBM bandwidth on all chips at once,
    time per token >= weight bytes / (chips x HBM bandwidth)
(JAX scaling book, inference chapter: at batch 1 decode is bound by parameter bytes / bandwidth).
It ignores KV reads, compute, communication, kernel overheads and achievable bandwidth
(~80-90% of peak on H100). The step-time model in perf/ replaces it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import InvalidInputError


@dataclass(frozen=True)
class NaiveSummary:
    model: str
    hardware: str
    chip: str
    weight_precision: str
    kv_precision: str
    total_params: int
    active_params: int
    weight_bytes: float
    hbm_bytes_per_chip: float
    chips_to_hold_weights: int
    """ceil(weight bytes / HBM per chip): weights only, no KV cache, activations or runtime reserve."""
    chips: int
    """Chips the rest of the figures use (the count asked for, else chips_to_hold_weights)."""
    chips_per_node: int
    fits: bool
    free_bytes: float
    """chips x HBM - weight bytes (negative when the weights do not fit)."""
    kv_bytes_per_token: float
    kv_tokens_that_fit: int | None
    """floor(free bytes / KV bytes per token); None for a model with no per-token KV."""
    naive_decode_s_per_token: float
    """weight bytes / (chips x HBM bandwidth): naive lower bound, one user."""
    naive_decode_tokens_per_s: float
    naive_decode_tokens_per_s_active: float
    """Same bound reading only the active weights (a MoE at batch 1 touches only its routed experts)."""
    native_precision_supported: bool
    """The chip has a tensor tier for the weight format (else it runs up-converted, or not at all)."""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def naive_summary(
    model: ModelSpec,
    system: System,
    chips: int | None = None,
    weight_precision: str | None = None,
    kv_precision: str = "bf16",
) -> NaiveSummary:
    """Weights vs HBM, chips to hold them, KV tokens that fit and the naive bandwidth-bound decode speed."""
    if chips is not None and chips < 1:
        raise InvalidInputError(f"chips must be >= 1, got {chips}")
    wp = get_precision(weight_precision or model.native_precision).name
    kp = get_precision(kv_precision).name
    chip = system.chip
    weight_bytes = float(model.weight_bytes(wp))
    hbm = chip.hbm_bytes
    to_hold = max(1, math.ceil(weight_bytes / hbm))
    n = chips or to_hold
    free = n * hbm - weight_bytes
    kv_per_token = float(model.kv_bytes_per_token(kp))
    kv_tokens = None if kv_per_token <= 0 else max(0, math.floor(free / kv_per_token))
    bandwidth = n * chip.hbm_bandwidth_bytes_per_s
    total, active = model.total_params, model.active_params
    active_bytes = weight_bytes * (active / total) if total else weight_bytes
    notes = [
        "naive bound: weights read once per token at peak HBM bandwidth; ignores KV reads, compute, "
        "communication and overheads"
    ]
    if to_hold > system.chips_per_node:
        notes.append(f"weights need {to_hold} chips, more than one node of {system.chips_per_node}")
    if chips is not None and free < 0:
        notes.append(f"weights ({weight_bytes / 1e9:.1f} GB) do not fit in {n} chips x {chip.hbm_gb:g} GB")
    supported = chip.supports(wp)
    if not supported:
        notes.append(f"{chip.name} has no native {wp} tensor tier")
    if chip.unverified:
        notes.append(f"unverified chip figures: {', '.join(chip.unverified)}")
    return NaiveSummary(
        model=model.name,
        hardware=system.name,
        chip=chip.name,
        weight_precision=wp,
        kv_precision=kp,
        total_params=total,
        active_params=active,
        weight_bytes=weight_bytes,
        hbm_bytes_per_chip=hbm,
        chips_to_hold_weights=to_hold,
        chips=n,
        chips_per_node=system.chips_per_node,
        fits=free >= 0,
        free_bytes=free,
        kv_bytes_per_token=kv_per_token,
        kv_tokens_that_fit=kv_tokens,
        naive_decode_s_per_token=weight_bytes / bandwidth,
        naive_decode_tokens_per_s=bandwidth / weight_bytes,
        naive_decode_tokens_per_s_active=bandwidth / active_bytes,
        native_precision_supported=supported,
        notes=tuple(notes),
    )


__all__ = ["NaiveSummary", "naive_summary"]
