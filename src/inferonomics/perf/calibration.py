"""Fitted kernel and engine constants, loaded from the shipped `perf/data/calibration.json`.

The file is rebuilt from measurements by `scripts/calibrate.py` (kernel tables in
`shared/data/microbench`, serving runs in `shared/data/measured`). Efficiencies are fractions of a
chip's published peaks, so they carry to other chips through the chips' specs; latencies of
collectives scale with the system's catalog latency relative to the reference system's.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"


@dataclass(frozen=True)
class GemmFit:
    """t = t0 + (tc^q + tm^q)^(1/q): a smooth maximum of the compute and memory rooflines.

    tc = FLOPs / (peak x compute_eff x T / (T + tile_half)), tm = bytes / (HBM bandwidth x memory_eff x
    n / (n + n_half)). q -> infinity is the plain roofline; a finite q rounds the knee where small-M
    GEMMs sit. T = max(m / 128, 1) x max(n / 128, 1) output tiles (continuous, so time stays monotone
    in m): a GEMM with fewer tiles than the chip has SMs leaves tensor cores idle; a narrow weight matrix
    (small n) is streamed by few thread blocks and does not reach HBM bandwidth (split-K only partly
    recovers it). Both fitted on the kernel tables.
    """

    compute_eff: float = 0.75
    memory_eff: float = 0.8
    t0_s: float = 5e-6
    q: float = 3.0
    tile_half: float = 0.0
    n_half: float = 0.0


@dataclass(frozen=True)
class AttentionFit:
    """Decode attention: t = t0 + r x c_row + KV bytes / (BW x memory_eff x occupancy), occupancy =
    w / (w + w_half) with w the number of (sequence, KV head) work items and r the (sequence, query head)
    rows, each paying a fixed setup and softmax cost c_row; prefill attention: t = t0 + r x c_row +
    FLOPs / (peak x compute_eff x s / (s + s_half)) for sequences of s tokens, r = (token, query head)
    rows (softmax, masking and rescaling work that does not run on the tensor cores).

    decode_narrow_kv_eff_scale: the memory efficiency of a cache stored in 8 bits (FP8) relative to a
    16-bit one. The kernel dequantises every value to bf16 before its dot products, so the bytes it
    saves do not translate into time one for one (vLLM 0.19's FlashAttention on H100/H200 reads an FP8
    cache at about half the per-byte efficiency of a bf16 one: `calibrate.kernels.fit_attention`)."""

    decode_memory_eff: float = 0.7
    decode_narrow_kv_eff_scale: float = 1.0
    decode_t0_s: float = 8e-6
    decode_work_half: float = 8.0
    decode_row_s: float = 0.0
    prefill_compute_eff: float = 0.5
    prefill_t0_s: float = 10e-6
    prefill_s_half: float = 512.0
    prefill_row_s: float = 0.0


@dataclass(frozen=True)
class CollectiveFit:
    """t = alpha + bytes / beta, per op and group size on the reference system (NCCL tables)."""

    alpha_s: dict[str, dict[str, float]] = field(default_factory=dict)
    beta_bytes_per_s: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineFit:
    """Per-engine fixed costs, fitted on serving runs.

    iteration_s: host-side scheduling and sampling per iteration; layer_s: small kernels (norms, RoPE,
    activations) per layer per iteration beyond the GEMMs' own launch cost.
    prefill_eff_scale / decode_eff_scale: the engine's GEMM time in prefill / decode relative to the
    kernel tables (which are vLLM's kernels); moe_*_eff_scale: the same for grouped expert GEMMs with
    routing and permutation.
    """

    iteration_s: float = 1e-3
    layer_s: float = 0.0
    launch_scale: float = 1.0
    """Fixed cost per kernel relative to the kernel tables (CUDA-graph replay removes launch gaps)."""
    allreduce_latency_scale: float = 1.0
    """Engines replace NCCL's all-reduce with custom one-/two-shot kernels (TensorRT-LLM, vLLM custom
    all-reduce, SGLang) whose small-message latency is a fraction of NCCL's: fitted per engine."""
    prefill_eff_scale: float = 1.0
    decode_eff_scale: float = 1.0
    moe_prefill_eff_scale: float = 1.0
    moe_decode_eff_scale: float = 1.0
    ttft_wait_scale: float = 1.0
    request_overhead_s: float = 0.0
    """Per-request time outside the iterations before the first token (API server, tokenisation, HTTP)."""
    wave_fraction: float = 0.0
    """Share of the closed loop's cohorts that move as one wave rather than spread over the loop."""
    prefill_token_budget: float = 8192.0
    """Max tokens per iteration (TensorRT-LLM max_num_tokens, vLLM max_num_batched_tokens, SGLang
    chunked_prefill_size): the measured runs do not record it, so it is fitted per engine."""
    disagg_overhead_s: float = 0.0
    """Disaggregated serving: per-request orchestration time before the first token beyond the modelled
    queue, prefill, KV transfer and decode admission (router hops, the transfer's handshake and metadata
    exchange, the decode worker's bootstrap), fitted per engine on the disaggregated runs."""
    disagg_admission_steps: float = 1.0
    """Decode iterations a transferred request waits on the decode worker before its first token: half an
    iteration for the one in progress plus the step that admits it (1.5 if the decode worker emits the
    first token; 0.5 if the prefill worker's first token is forwarded at once). Fitted per engine."""
    disagg_iteration_s: float = 0.0
    """Extra host time per decode iteration on a disaggregated decode worker (polling the KV transfers'
    status and admitting finished ones), fitted per engine."""
    format_scales: dict[str, float] = field(default_factory=dict)
    """GEMM time of the engine's kernels for one weight-format kernel class ("bf16", "fp8", "fp8_block",
    "w4_dequant", ...) relative to its fastest class, >= 1; fitted where the runs hold that class with
    the engine (see `format_scale` for the others)."""

    def format_scale(self, kernel_class: str) -> float:
        """The fitted scale of `kernel_class`; 1 (the engine's fastest class) for a class its runs never
        held, such as native FP4 on Blackwell. Measured: leave-one-model-out TPOT error is 26.9% with this
        default and 28.3% with the geometric mean of the fitted classes instead (gpt-oss 43% vs 49%)."""
        return self.format_scales.get(kernel_class, 1.0)


@dataclass(frozen=True)
class ArchitectureFit:
    """How chips other than the kernel tables' move away from their spec sheets (`perf.architecture`),
    fitted on the published tables (MLPerf, TensorRT-LLM offline) by `calibrate.architecture`.

    power_headroom: k, the kernel tables' chip's (H100 SXM, 700 W) power budget over what its rated
    tensor throughput needs (0 = no power model); static_power_w: power not spent on compute, W;
    vendor_scales: efficiency of a vendor's kernel stack relative to the tables' (e.g. {"AMD": 0.7});
    format_scales: compute efficiency of a kernel class the tables do not hold (e.g. {"fp4": 0.8})."""

    power_headroom: float = 0.0
    static_power_w: float = 0.0
    vendor_scales: dict[str, float] = field(default_factory=dict)
    format_scales: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Calibration:
    reference_system: str = "h100_sxm"
    reference_intra_latency_us: float = 8.0
    reference_intra_bandwidth_gb_s: float = 450.0
    gemm: dict[str, GemmFit] = field(default_factory=dict)
    attention: AttentionFit = field(default_factory=AttentionFit)
    collectives: CollectiveFit = field(default_factory=CollectiveFit)
    engines: dict[str, EngineFit] = field(default_factory=dict)
    architecture: ArchitectureFit = field(default_factory=ArchitectureFit)
    runtime_reserve_fraction: float = 0.1
    """Share of HBM engines keep back (vLLM's gpu_memory_utilization=0.9; TRT-LLM's free-memory fraction)."""
    activation_reserve_bytes: float = 2e9
    free_network: bool = False
    """Collectives cost nothing (the ideal roofline of the scaling book's formulas)."""
    provenance: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def ideal() -> Calibration:
        """Every kernel at its roofline: peak FLOP/s, full HBM bandwidth, no launch, network or host
        cost. StepTimeModel under this calibration is the JAX scaling book's decode formula,
        B x KV / BW + max(2 B P / FLOPs, weight bytes / BW)."""
        perfect = GemmFit(compute_eff=1.0, memory_eff=1.0, t0_s=0.0, q=64.0)
        return Calibration(
            gemm={k: perfect for k in ("bf16", "fp8", "fp8_block", "fp4", "w4_dequant", "w8_dequant")},
            attention=AttentionFit(
                decode_memory_eff=1.0,
                decode_t0_s=0.0,
                decode_work_half=0.0,
                prefill_compute_eff=1.0,
                prefill_t0_s=0.0,
                prefill_s_half=0.0,
            ),
            collectives=CollectiveFit(alpha_s={"all_reduce": {"2": 0.0}}, beta_bytes_per_s={"all_reduce": {"2": 1e30}}),
            engines={
                b: EngineFit(iteration_s=0.0, layer_s=0.0, allreduce_latency_scale=0.0)
                for b in ("trtllm", "vllm", "sglang")
            },
            runtime_reserve_fraction=0.0,
            activation_reserve_bytes=0.0,
            free_network=True,
            provenance={"ideal": True},
        )

    def gemm_fit(self, kernel_class: str) -> GemmFit:
        return self.gemm.get(kernel_class) or self.gemm.get("bf16") or GemmFit()

    def engine(self, backend: str) -> EngineFit:
        return self.engines.get(backend) or EngineFit()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Calibration:
        return Calibration(
            reference_system=d.get("reference_system", "h100_sxm"),
            reference_intra_latency_us=d.get("reference_intra_latency_us", 8.0),
            reference_intra_bandwidth_gb_s=d.get("reference_intra_bandwidth_gb_s", 450.0),
            gemm={k: GemmFit(**v) for k, v in d.get("gemm", {}).items()},
            attention=AttentionFit(**d.get("attention", {})),
            collectives=CollectiveFit(**d.get("collectives", {})),
            engines={k: EngineFit(**v) for k, v in d.get("engines", {}).items()},
            architecture=ArchitectureFit(**d.get("architecture", {})),
            runtime_reserve_fraction=d.get("runtime_reserve_fraction", 0.1),
            activation_reserve_bytes=d.get("activation_reserve_bytes", 2e9),
            free_network=d.get("free_network", False),
            provenance=d.get("provenance", {}),
        )


@cache
def default_calibration() -> Calibration:
    """The shipped calibration; defaults (documented in the dataclasses) if the file is absent."""
    if CALIBRATION_FILE.is_file():
        return Calibration.from_dict(json.loads(CALIBRATION_FILE.read_text()))
    return Calibration()


def load_calibration(path: str | Path) -> Calibration:
    return Calibration.from_dict(json.loads(Path(path).read_text()))
