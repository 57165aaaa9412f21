"""Pope et al. 2022, "Efficiently Scaling Transformer Inference": PaLM 540B and 62B on TPU v4.

Each cell is a measured latency (and the MFU it implies) for one layout, batch and weight format:
prefill of 2,048 tokens per sequence, or 64 decode steps after it. The model predicts a cell with the
same step-time model as everything else, on the catalog's TPU v4, with Pope's layouts
(`Deployment.tp_layout`) and multiquery KV sharded over the batch (`shard_kv_by_batch`).

The GPU-fitted kernel efficiencies do not describe Pope's JAX/XLA implementation on TPU v4, so
`fit_tpu_calibration` fits four numbers on some cells (matmul efficiency, HBM efficiency, sharpness of
the roofline knee, and the latency of one ICI collective hop) and the other cells are predicted with
them: fit on PaLM 540B, check on PaLM 62B (tests/test_published_pope.py). The communication itself
(volumes, ICI links per torus axis, hops per collective) is `StepTimeModel._pope_layout_comm_s`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.perf.calibration import Calibration, EngineFit, GemmFit, default_calibration
from inferonomics.perf.deployment import Deployment, TpLayout
from inferonomics.perf.step import StepTimeModel

PROMPT_TOKENS = 2048
DECODE_STEPS = 64


@dataclass(frozen=True)
class PopeCell:
    model: str
    chips: int
    phase: str  # "prefill" or "decode"
    batch: int
    weights: str
    layout: TpLayout
    mfu: float
    latency_s: float


PAPER_CELLS: tuple[PopeCell, ...] = (
    PopeCell("palm-540b", 64, "prefill", 1, "int8", "2d", 0.43, 0.29),
    PopeCell("palm-540b", 64, "decode", 64, "int8", "2d", 0.14, 1.82),
    PopeCell("palm-540b", 64, "decode", 64, "bf16", "2d", 0.108, 64 * 36.9e-3),
    PopeCell("palm-540b", 64, "prefill", 512, "bf16", "weight_gathered", 0.76, 85.2),
    PopeCell("palm-540b", 64, "decode", 512, "bf16", "2d", 0.33, 6.0),
    PopeCell("palm-62b", 16, "prefill", 1, "bf16", "2d", 0.36, 0.16),
    PopeCell("palm-62b", 16, "decode", 32, "bf16", "2d", 0.08, 0.73),
    PopeCell("palm-62b", 32, "prefill", 512, "bf16", "weight_gathered", 0.73, 20.2),
    PopeCell("palm-62b", 8, "decode", 512, "bf16", "2d", 0.37, 5.1),
)
"""Pope et al. 2022, Table 2 / Figure 1 low-latency and high-throughput cells (shared/facts/targets.md).
The third 540B row is the same batch-64 decode with bf16 weights (36.9 ms/token, sec. 4 text; MFU
2 x 540e9 x 64 / (36.9 ms x 64 x 275 TFLOP/s) = 10.6%): with the int8 row it pins the HBM efficiency on
the weight bytes apart from the fixed cost per step. The 62B low-latency rows are modelled with bf16
weights; the weight format of those rows is not recorded in shared/facts/targets.md."""


def cell_deployment(cell: PopeCell) -> Deployment:
    return Deployment(
        model=get_model(cell.model),
        system=get_hardware("tpu_v4"),
        tp=cell.chips,
        weight_precision=cell.weights,
        kv_precision="bf16",
        backend="jax",
        tp_layout=cell.layout,
        shard_kv_by_batch=True,
    )


def predict_cell(cell: PopeCell, calibration: Calibration | None = None) -> tuple[float, float]:
    """(latency_s, MFU) of a cell: MFU = 2 x params x tokens / (latency x chips x peak), as the paper."""
    dep = cell_deployment(cell)
    stm = StepTimeModel(dep, calibration)
    if cell.phase == "prefill":
        n = float(cell.batch * PROMPT_TOKENS)
        latency = stm.iteration_time_s(
            n, cell.batch * PROMPT_TOKENS * (PROMPT_TOKENS + 1) / 2, 0.0, 0.0, float(cell.batch)
        )
        tokens = n
    else:
        steps = np.arange(DECODE_STEPS, dtype=np.float64)
        b = float(cell.batch)
        latency = float(np.sum(stm.iteration_time_s(0.0, 0.0, b, b * (PROMPT_TOKENS + steps))))
        tokens = cell.batch * DECODE_STEPS
    peak = dep.system.chip.peak_flops_per_s("bf16")
    mfu = 2.0 * dep.model.total_params * tokens / (latency * cell.chips * peak)
    return float(latency), float(mfu)


def tpu_calibration(
    compute_eff: float,
    memory_eff: float,
    knee_q: float,
    hop_latency_scale: float,
    base: Calibration | None = None,
) -> Calibration:
    """`base` with every GEMM format at the given efficiencies and roofline knee, and a `jax` engine with
    no host or per-layer overhead whose ICI collective hop costs `hop_latency_scale` x the system's
    catalog ICI latency (TPU v4: 10 us, unverified): the per-hop latency of Pope's ring collectives
    (`StepTimeModel._pope_layout_comm_s`), the only fixed cost per layer."""
    base = base or default_calibration()
    fit = GemmFit(compute_eff=compute_eff, memory_eff=memory_eff, t0_s=0.0, q=knee_q)
    gemm = {k: fit for k in (*base.gemm, "bf16")}
    attention = replace(base.attention, decode_memory_eff=memory_eff)
    engines = {
        **base.engines,
        "jax": EngineFit(iteration_s=0.0, layer_s=0.0, allreduce_latency_scale=hop_latency_scale),
    }
    return replace(base, gemm=gemm, attention=attention, engines=engines)


def hop_latency_s(calibration: Calibration) -> float:
    """Seconds per ICI collective hop under `calibration` on the catalog's TPU v4."""
    system = get_hardware("tpu_v4")
    return float(system.intra_node_latency_us) * 1e-6 * calibration.engines["jax"].allreduce_latency_scale


def fit_tpu_calibration(cells: tuple[PopeCell, ...], base: Calibration | None = None) -> Calibration:
    """Least squares on log latency of `cells` for the matmul efficiency, HBM efficiency, sharpness of
    the roofline knee and the ICI hop latency, each within physical bounds (efficiencies 5-100%, hop
    latency 0.1-20 us)."""
    from scipy.optimize import least_squares

    def resid(x: np.ndarray) -> np.ndarray:
        cal = tpu_calibration(x[0], x[1], x[2], x[3], base)
        return np.array([np.log(predict_cell(c, cal)[0] / c.latency_s) for c in cells])

    sol = least_squares(resid, x0=[0.8, 0.8, 3.0, 0.5], bounds=([0.05, 0.05, 1.0, 0.01], [1.0, 1.0, 20.0, 2.0]))
    return tpu_calibration(sol.x[0], sol.x[1], sol.x[2], sol.x[3], base)
