"""Time of the kernels one engine iteration runs: GEMMs, attention, collectives (vectorised).

Each function returns seconds for NumPy-broadcast shapes, from a roofline whose efficiencies were
fitted on measured kernel tables (see `calibration.py`) and expressed as fractions of the chip's
published peaks, so a new chip is predicted from its spec sheet alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from inferonomics.catalog.hardware import Chip, System
from inferonomics.catalog.precision import get_precision
from inferonomics.perf.architecture import format_scale, power_compute_scale, vendor_scale
from inferonomics.perf.calibration import Calibration, GemmFit

ArrayLike = np.ndarray | float


def gemm_kernel_class(precision: str, chip: Chip) -> tuple[str, float, float]:
    """(fitted kernel class, peak FLOP/s, weight bytes per value) of a GEMM with weights in `precision`.

    Formats the chip cannot multiply natively fall back to dequantise-and-multiply in a wider tier
    (FP4 on Hopper runs as weight-only FP4 with bf16/fp8 math), reading the narrow weights.
    """
    p = get_precision(precision)
    w_bytes = p.bytes_per_value
    if p.weight_only:
        return "bf16", chip.peak_flops_per_s("bf16"), w_bytes
    if p.compute_tier == "fp4":
        if chip.peak_flops_per_s("fp4") > 0:
            return "fp4", chip.peak_flops_per_s("fp4"), w_bytes
        return "w4_dequant", chip.peak_flops_per_s("bf16"), w_bytes
    if p.compute_tier in ("fp8", "int8"):
        if chip.peak_flops_per_s("fp8") > 0 or chip.peak_flops_per_s("int8") > 0:
            kind = "fp8_block" if p.name == "fp8_block" else "fp8"
            return kind, chip.gemm_flops_per_s(p), w_bytes
        return "w8_dequant", chip.peak_flops_per_s("bf16"), w_bytes
    return "bf16", chip.peak_flops_per_s("bf16"), w_bytes


def _fit_for(cal: Calibration, kernel_class: str) -> GemmFit:
    """The fitted GEMM family for a kernel class, else the nearest measured one. Native FP4 (Blackwell
    NVFP4/MXFP4) scales its blocks in the tensor cores, so it follows the per-tensor FP8 kernels rather
    than Hopper's software block-scaled FP8."""
    fallbacks = {
        "fp4": ("fp4", "fp8", "fp8_block"),
        "w4_dequant": ("w4_dequant", "bf16"),
        "w8_dequant": ("w8_dequant", "bf16"),
        "fp8_block": ("fp8_block", "fp8"),
    }
    for name in fallbacks.get(kernel_class, (kernel_class,)):
        if name in cal.gemm:
            return cal.gemm[name]
    return cal.gemm_fit("bf16")


# Element-wise helpers that keep Python floats as floats (a scalar call then costs microseconds, which
# the simulator's event loop needs) and broadcast NumPy arrays otherwise.


def vmax(a: Any, b: Any) -> Any:
    return max(a, b) if isinstance(a, float) and isinstance(b, float) else np.maximum(a, b)


def vmin(a: Any, b: Any) -> Any:
    return min(a, b) if isinstance(a, float) and isinstance(b, float) else np.minimum(a, b)


def safe_div(a: Any, b: Any) -> Any:
    """a / b, and 0 where b == 0."""
    if isinstance(b, float):
        return a / b if b != 0.0 else a * 0.0
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


GEMM_TILE = 128.0
"""Output tile edge of the tensor-core GEMM kernels (CUTLASS/cuBLAS 128 x 128 tiles on Hopper)."""


def smooth_roofline(tc: Any, tm: Any, q: float) -> Any:
    """(tc^q + tm^q)^(1/q), computed stably: max x (1 + (min/max)^q)^(1/q)."""
    hi = vmax(tc, tm)
    ratio = safe_div(vmin(tc, tm), hi)
    return hi * (1.0 + ratio**q) ** (1.0 / q)


@dataclass(frozen=True)
class GemmKernel:
    """A GEMM family prepared for one chip and weight format (constants looked up once)."""

    peak_flops_per_s: float
    weight_bytes: float
    activation_bytes: float
    hbm_bytes_per_s: float
    fit: GemmFit

    @staticmethod
    def prepare(chip: Chip, precision: str, cal: Calibration, launch_scale: float = 1.0) -> GemmKernel:
        """`launch_scale` scales the fixed cost per kernel (an engine replaying CUDA graphs pays less
        than the kernel tables' individually launched kernels)."""
        kind, peak, w_bytes = gemm_kernel_class(precision, chip)
        a_bytes = 1.0 if kind in ("fp8", "fp8_block", "fp4") else 2.0
        fit = _fit_for(cal, kind)
        if launch_scale != 1.0:
            fit = replace(fit, t0_s=fit.t0_s * launch_scale)
        # Architecture (perf.architecture): power cap on the tensor cores, the vendor's kernel stack, and
        # the efficiency of a format the tables do not hold; all 1 on the tables' own chips.
        vendor = vendor_scale(chip, cal)
        peak = peak * power_compute_scale(chip, kind, cal) * vendor * format_scale(kind, cal)
        hbm = chip.hbm_bandwidth_bytes_per_s * vendor
        return GemmKernel(peak, w_bytes, a_bytes, hbm, fit)

    def time_s(
        self,
        m: ArrayLike,
        n: ArrayLike,
        k: ArrayLike,
        count: ArrayLike = 1.0,
        launches: ArrayLike = 1.0,
        grouped: ArrayLike = 1.0,
    ) -> np.ndarray:
        """Time of `count` GEMMs (m x k) @ (k x n) issued as `launches` kernels; 0 where m == 0.
        `grouped` of them run side by side in one kernel (MoE experts), which multiplies the tiles and
        the weight columns in flight (the occupancy terms of `GemmFit`).

        Bytes: weights k x n in the format, activations in and out. Smooth roofline plus launch cost.
        """
        fit = self.fit
        flops = 2.0 * m * n * k * count
        bytes_ = (k * n * self.weight_bytes + m * k * self.activation_bytes + m * n * 2.0) * count
        tc = flops / (self.peak_flops_per_s * fit.compute_eff)
        tm = bytes_ / (self.hbm_bytes_per_s * fit.memory_eff)
        if fit.tile_half > 0.0:  # tile parallelism (see GemmFit)
            tiles = vmax(m / GEMM_TILE, 1.0) * vmax(n / GEMM_TILE, 1.0) * grouped
            tc = tc * (1.0 + safe_div(fit.tile_half, tiles))
        if fit.n_half > 0.0:
            tm = tm * (1.0 + safe_div(fit.n_half, n * grouped))
        t = fit.t0_s * launches + smooth_roofline(tc, tm, fit.q)
        return t * (m > 0)


def gemm_time_s(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    chip: Chip,
    precision: str,
    cal: Calibration,
    count: ArrayLike = 1.0,
    launches: ArrayLike = 1.0,
) -> np.ndarray:
    """Time of `count` GEMMs of shape (m x k) @ (k x n) with weights in `precision` (see `GemmKernel`)."""
    return GemmKernel.prepare(chip, precision, cal).time_s(np.asarray(m, dtype=np.float64), n, k, count, launches)


SRAM_TO_HBM_BANDWIDTH = 10.0
"""Assumed on-chip SRAM bandwidth as a multiple of HBM bandwidth for the SRAM-resident KV what-if
(H100: ~33 TB/s L2 vs 3.35 TB/s HBM, NVIDIA Hopper tuning guide / microbenchmarks)."""


def decode_attention_time_s(
    kv_bytes: Any,
    work_items: Any,
    flops: Any,
    chip: Chip,
    cal: Calibration,
    layers: float = 1.0,
    launch_scale: float = 1.0,
    sram_bytes: float = 0.0,
    query_rows: Any = 0.0,
    kv_bytes_per_value: Any = 2.0,
) -> Any:
    """Decode attention of `layers` layers on one chip: read `kv_bytes` of cache (all those layers) over
    `work_items` (sequence, KV-head) pairs, which must be enough to fill the chip (occupancy
    w / (w + w_half)), plus a fixed cost per (sequence, query head) row of each layer (`query_rows`,
    summed over the layers); `sram_bytes` of the cache may be served from on-chip SRAM (what-if).
    A cache of `kv_bytes_per_value` < 2 (FP8) streams at `decode_narrow_kv_eff_scale` of the 16-bit
    efficiency (in-kernel dequantisation, `AttentionFit`)."""
    a = cal.attention
    vendor = vendor_scale(chip, cal)
    occupancy = vmax(safe_div(work_items, work_items + a.decode_work_half), 1e-9)
    narrow: Any = 1.0
    if isinstance(kv_bytes_per_value, float | int):  # scalar fast path (the simulator's event loop)
        narrow = a.decode_narrow_kv_eff_scale if kv_bytes_per_value < 2.0 else 1.0
    else:
        narrow = np.where(np.asarray(kv_bytes_per_value) < 2.0, a.decode_narrow_kv_eff_scale, 1.0)
    bw = chip.hbm_bandwidth_bytes_per_s * a.decode_memory_eff * narrow * occupancy * vendor
    tm = kv_bytes / bw
    if sram_bytes > 0:
        resident = vmin(kv_bytes, sram_bytes)
        tm = (kv_bytes - resident) / bw + resident / (bw * SRAM_TO_HBM_BANDWIDTH)
    tc = flops / (chip.peak_flops_per_s("bf16") * 0.5 * vendor * power_compute_scale(chip, "bf16", cal))
    rows = query_rows * a.decode_row_s
    return (a.decode_t0_s * launch_scale * layers + rows + vmax(tm, tc)) * (work_items > 0)


def prefill_attention_time_s(
    flops: Any,
    seq_tokens: Any,
    chip: Chip,
    cal: Calibration,
    layers: float = 1.0,
    launch_scale: float = 1.0,
    query_rows: Any = 0.0,
) -> Any:
    """Prefill (context) attention of `layers` layers on one chip: causal FLOPs at an efficiency that grows
    with the sequence length s as s / (s + s_half) (short sequences do not fill the tensor cores), plus
    a fixed cost per (token, query head) row of each layer (`query_rows`, summed over the layers)."""
    a = cal.attention
    eff = a.prefill_compute_eff * safe_div(seq_tokens, seq_tokens + a.prefill_s_half)
    peak = chip.peak_flops_per_s("bf16") * vendor_scale(chip, cal) * power_compute_scale(chip, "bf16", cal)
    t = a.prefill_t0_s * launch_scale * layers + flops / (peak * vmax(eff, 1e-9))
    t = t + query_rows * a.prefill_row_s
    return t * (flops > 0)


_BYTES_FACTOR = {
    "all_reduce": lambda n: 2.0 * (n - 1.0) / n,
    "all_gather": lambda n: (n - 1.0) / n,
    "reduce_scatter": lambda n: (n - 1.0) / n,
    "alltoall": lambda n: (n - 1.0) / n,
}


def _group_fit(cal: Calibration, op: str, n: int) -> tuple[float, float]:
    """(alpha_s, bus bandwidth) for a group of n chips on the reference system (log-interpolated)."""
    alphas = cal.collectives.alpha_s.get(op) or cal.collectives.alpha_s.get("all_reduce") or {}
    betas = cal.collectives.beta_bytes_per_s.get(op) or cal.collectives.beta_bytes_per_s.get("all_reduce") or {}
    if not alphas:
        return cal.reference_intra_latency_us * 1e-6, cal.reference_intra_bandwidth_gb_s * 1e9 * 0.8
    sizes = np.array(sorted(int(s) for s in alphas), dtype=np.float64)
    a = np.array([alphas[str(int(s))] for s in sizes])
    b = np.array([betas[str(int(s))] for s in sizes])
    x = np.log2(sizes)
    xn = np.log2(max(n, 2))
    if xn <= x[-1]:
        return float(np.interp(xn, x, a)), float(np.interp(xn, x, b))
    slope = (a[-1] - a[0]) / max(x[-1] - x[0], 1.0)
    return float(a[-1] + slope * (xn - x[-1])), float(b[-1])


@dataclass(frozen=True)
class CollectiveKernel:
    """One collective over `n` chips of a system, prepared: t = alpha + bytes x factor / bus bandwidth,
    plus an inter-domain stage when n exceeds the scale-up domain."""

    alpha_s: float
    bytes_factor_per_bw: float
    inter_alpha_s: float = 0.0
    inter_bytes_per_bw: float = 0.0

    @staticmethod
    def prepare(op: str, n: int, system: System, cal: Calibration, latency_scale: float = 1.0) -> CollectiveKernel:
        if n <= 1 or cal.free_network:
            return CollectiveKernel(0.0, 0.0)
        factor = _BYTES_FACTOR.get(op, _BYTES_FACTOR["all_reduce"])
        domain = max(system.scaleup_domain_chips, 1)
        n_intra = min(n, domain)
        if system.topology == "torus":
            # The NCCL tables describe NVLink switches, not a torus (TPU ICI): use the system's own
            # catalog latency and per-chip link bandwidth.
            alpha = (system.intra_node_latency_us or cal.reference_intra_latency_us) * 1e-6 * latency_scale
            busbw = system.intra_node_bandwidth_bytes_per_s or cal.reference_intra_bandwidth_gb_s * 1e9
            return CollectiveKernel(alpha, factor(n_intra) / busbw)
        alpha_ref, busbw_ref = _group_fit(cal, op, n_intra)
        lat_scale = (system.intra_node_latency_us or cal.reference_intra_latency_us) / cal.reference_intra_latency_us
        bw_scale = (
            system.intra_node_bandwidth_gb_s or cal.reference_intra_bandwidth_gb_s
        ) / cal.reference_intra_bandwidth_gb_s
        inter_alpha = inter_bytes = 0.0
        if n > domain:
            groups = int(np.ceil(n / domain))
            inter_alpha = (system.inter_node_latency_s or 10e-6) * np.log2(groups)
            inter_bytes = factor(groups) / max(system.inter_node_bandwidth_bytes_per_s, 1e9)
        return CollectiveKernel(
            alpha_ref * lat_scale * latency_scale,
            factor(n_intra) / (busbw_ref * bw_scale),
            inter_alpha,
            inter_bytes,
        )

    def time_s(self, message_bytes: Any) -> Any:
        msg = message_bytes
        t = self.alpha_s + self.inter_alpha_s + msg * (self.bytes_factor_per_bw + self.inter_bytes_per_bw)
        return t * (msg > 0)
