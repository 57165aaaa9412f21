"""Lower bounds that hold for any engine: the latency floor and the cost floor of decoding.

Latency floor (one user, batch 1): every step streams the active weights and the sequence's KV
cache through HBM, spread over n chips, and pays the per-layer collectives' latency (two all-reduces
per layer under tensor parallelism), after Erdil 2025 ("Inference economics of language models"):

    t(n) = (active weight bytes + KV bytes(context)) / (n x HBM bandwidth) + layers x 2 x alpha(n)

minimised over n in the powers of two whose HBM holds the weights. The cost floor is the other end:
a batch so large that weight reads are free, leaving each token's FLOPs at full peak and its own KV
reads at full bandwidth (chip-seconds per token = max(FLOPs / peak, KV bytes / bandwidth)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inferonomics.catalog.hardware import System
from inferonomics.catalog.model_figures import decode_flops_per_token, param_breakdown
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import InvalidInputError
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.kernels import CollectiveKernel, gemm_kernel_class


def active_weight_bytes(model: ModelSpec, precision: str, tokens: float = 1.0) -> float:
    """Weight bytes a decode step of `tokens` tokens must read: all but untouched routed experts.

    Distinct experts touched by b tokens choosing k of E: E x (1 - (1 - k/E)^b) (Erdil 2025).
    """
    p = param_breakdown(model)
    b = get_precision(precision).bytes_per_value
    dense = p["attention"] + p["dense_ffn"] + p["shared_experts"] + p["router"]
    head = (p["lm_head"] or p["embedding"]) * 2.0
    experts = 0.0
    if model.is_moe:
        e, k = model.num_experts, model.experts_per_token
        touched = e * (1.0 - (1.0 - k / e) ** tokens)
        experts = p["routed_experts"] * touched / e
    return (dense + experts) * b + head


@dataclass(frozen=True)
class Floors:
    model: str
    hardware: str
    context_tokens: int
    precision: str
    kv_precision: str
    latency_floor_s_per_token: float
    latency_floor_chips: int
    latency_floor_terms_s: dict[str, float]
    latency_by_chips: dict[int, float]
    cost_floor_chip_s_per_token: float
    cost_floor_bound: str
    usd_per_chip_hour: float

    @property
    def latency_floor_tokens_per_s(self) -> float:
        return 1.0 / self.latency_floor_s_per_token

    @property
    def cost_floor_usd_per_mtok(self) -> float:
        return self.cost_floor_chip_s_per_token * self.usd_per_chip_hour / 3600.0 * 1e6

    @property
    def single_user_usd_per_mtok(self) -> float:
        chip_s = self.latency_floor_s_per_token * self.latency_floor_chips
        return chip_s * self.usd_per_chip_hour / 3600.0 * 1e6

    @property
    def single_user_to_batched_cost_ratio(self) -> float:
        """Chip-seconds per token at the latency floor over those at the cost floor (the price cancels)."""
        return self.latency_floor_s_per_token * self.latency_floor_chips / self.cost_floor_chip_s_per_token

    def to_dict(self) -> dict[str, Any]:
        """Plain figures; USD figures are null (with a note) when the chip has no price to apply."""
        priced = self.usd_per_chip_hour > 0
        return {
            "model": self.model,
            "hardware": self.hardware,
            "context_tokens": self.context_tokens,
            "precision": self.precision,
            "kv_precision": self.kv_precision,
            "latency_floor": {
                "ms_per_token": self.latency_floor_s_per_token * 1e3,
                "tokens_per_s": self.latency_floor_tokens_per_s,
                "chips": self.latency_floor_chips,
                "terms_ms": {k: v * 1e3 for k, v in self.latency_floor_terms_s.items()},
                "ms_per_token_by_chips": {str(n): t * 1e3 for n, t in self.latency_by_chips.items()},
                "usd_per_mtok": self.single_user_usd_per_mtok if priced else None,
            },
            "cost_floor": {
                "usd_per_mtok": self.cost_floor_usd_per_mtok if priced else None,
                "chip_s_per_token": self.cost_floor_chip_s_per_token,
                "bound": self.cost_floor_bound,
                "usd_per_chip_hour": self.usd_per_chip_hour if priced else None,
            },
            "single_user_to_batched_cost_ratio": self.single_user_to_batched_cost_ratio,
            "notes": []
            if priced
            else [
                f"no rental price for {self.hardware} in the catalog: give usd_per_chip_hour "
                "for USD figures (chip-seconds per token are shown)"
            ],
        }


def floors(
    model: ModelSpec,
    system: System,
    *,
    context_tokens: int = 4096,
    precision: str | None = None,
    kv_precision: str | None = None,
    usd_per_chip_hour: float | None = None,
    max_chips: int | None = None,
    calibration: Calibration | None = None,
) -> Floors:
    """Latency floor (best chip count) and cost floor of decoding `model` on `system`."""
    if context_tokens < 0:
        raise InvalidInputError(f"context_tokens must be >= 0, got {context_tokens}")
    cal = calibration or default_calibration()
    w = precision or model.native_precision
    kv = kv_precision or ("fp8" if get_precision(w).bytes_per_value <= 1 else "bf16")
    chip = system.chip
    catalog_price = system.rental_usd_per_hour  # None: no public price (costs are then not given)
    price = usd_per_chip_hour if usd_per_chip_hour is not None else (catalog_price or 0.0)
    if price < 0:
        raise InvalidInputError(f"usd_per_chip_hour must be >= 0, got {price}")
    total_weights = model.weight_bytes(w)
    kv_bytes = float(model.kv_bytes(context_tokens, kv))
    step_bytes = active_weight_bytes(model, w) + kv_bytes
    limit = max_chips or max(system.scaleup_domain_chips * 8, 8)
    by_chips: dict[int, float] = {}
    terms_by: dict[int, dict[str, float]] = {}
    n = 1
    while n <= limit:
        if total_weights + kv_bytes <= n * chip.hbm_bytes * (1.0 - cal.runtime_reserve_fraction):
            memory = step_bytes / (n * chip.hbm_bandwidth_bytes_per_s)
            network = (
                model.num_layers * 2.0 * CollectiveKernel.prepare("all_reduce", n, system, cal).alpha_s
                if n > 1
                else 0.0
            )
            by_chips[n] = memory + network
            terms_by[n] = {"memory_s": memory, "network_s": network}
        n *= 2
    if not by_chips:
        raise InvalidInputError(
            f"{model.name} at {w} ({total_weights / 1e9:.0f} GB) does not fit on up to {limit} {system.name} chips"
        )
    best = min(by_chips, key=lambda k: by_chips[k])
    _, peak, _ = gemm_kernel_class(w, chip)
    flops = float(decode_flops_per_token(model, context_tokens))
    compute_s = flops / peak
    kv_s = kv_bytes / chip.hbm_bandwidth_bytes_per_s
    return Floors(
        model=model.name,
        hardware=system.name,
        context_tokens=int(context_tokens),
        precision=w,
        kv_precision=kv,
        latency_floor_s_per_token=by_chips[best],
        latency_floor_chips=best,
        latency_floor_terms_s=terms_by[best],
        latency_by_chips=by_chips,
        cost_floor_chip_s_per_token=max(compute_s, kv_s),
        cost_floor_bound="compute" if compute_s >= kv_s else "kv-cache bandwidth",
        usd_per_chip_hour=price,
    )


def kv_read_cost_usd_per_mtok(
    model: ModelSpec,
    system: System,
    context_tokens: Any,
    kv_precision: str = "bf16",
    usd_per_chip_hour: float | None = None,
) -> Any:
    """USD per million output tokens spent only on reading each token's KV cache (Erdil's long-context floor)."""
    price = usd_per_chip_hour if usd_per_chip_hour is not None else system.rental_usd_per_hour
    if price is None:
        raise InvalidInputError(f"no public rental price for {system.name}; give usd_per_chip_hour")
    kv = np.asarray(model.kv_bytes(context_tokens, kv_precision))
    return kv / system.chip.hbm_bandwidth_bytes_per_s * price / 3600.0 * 1e6
