"""Stage 2 of the calibration: per-engine constants fitted on the measured serving runs.

Per-backend host overhead, custom all-reduce latency scale, prefill and MoE-prefill efficiency scales,
the TTFT wait scale (least squares on log TTFT and TPOT, with a prior pulling the efficiency scales
towards 1, the kernel tables: `PRIOR_WEIGHT`) and the token budget per iteration (a grid: it is a
discrete engine setting the runs do not record).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.calibrate.solver import least_squares
from inferonomics.perf.calibration import Calibration, EngineFit
from inferonomics.perf.kernels import gemm_kernel_class
from inferonomics.validate.serving import plan_row, predict_plans

ENGINE_PARAMS = (
    "iteration_s",
    "layer_s",
    "launch_scale",
    "allreduce_latency_scale",
    "prefill_eff_scale",
    "decode_eff_scale",
    "moe_prefill_eff_scale",
    "moe_decode_eff_scale",
    "ttft_wait_scale",
    "wave_fraction",
    "request_overhead_s",
)
ENGINE_X0 = np.array([1.0, 10.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 10.0])
ENGINE_SCALE = np.array([1e-3, 1e-6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1e-3])
ENGINE_BOUNDS = (
    [0.0, 0.0, 0.2, 0.2, 0.8, 0.8, 0.3, 0.3, 0.0, 0.0, 0.0],
    [20.0, 200.0, 2.0, 2.0, 5.0, 3.0, 5.0, 5.0, 3.0, 1.0, 500.0],
)
"""Lower bounds are physical: an engine's GEMMs cannot stream weights faster than HBM or multiply faster
than the tensor cores (prefill/decode scales >= 0.8 of the kernel tables, whose efficiencies are ~0.8),
and CUDA-graph replay or a custom all-reduce removes at most 80% of a launch or an NCCL latency."""
TTFT_WEIGHT = 0.4
"""Weight of log-TTFT residuals against log-TPOT ones: TTFT depends on how a benchmark's clients
start (warm-up waves) which the runs do not record, so it is fitted more loosely."""
PRIOR_WEIGHT = 4.0
"""Weight of the prior that pulls each engine's efficiency scales towards 1 (the kernel tables): one
residual PRIOR_WEIGHT x log(scale) per scale. Without it, a scale that only one or two models inform
(the MoE ones: grouped expert GEMMs have no kernel table) absorbs those models' quirks and misleads on
the next model (leave-one-model-out TPOT on Qwen3-235B: 69% without, 43% with weight 4)."""
SCALE_PARAMS = (
    "launch_scale",
    "allreduce_latency_scale",
    "prefill_eff_scale",
    "decode_eff_scale",
    "moe_prefill_eff_scale",
    "moe_decode_eff_scale",
)
_SCALE_INDEX = [ENGINE_PARAMS.index(n) for n in SCALE_PARAMS]
TOKEN_BUDGETS = (2048.0, 4096.0, 8192.0, 16384.0, 32768.0)
"""Candidate max-tokens-per-iteration settings (a discrete engine knob: grid, not gradient)."""


def fit_engines(
    cal: Calibration,
    measured: pd.DataFrame,
    backends: list[str],
    budgets: dict[str, tuple[float, ...]] | None = None,
    verbose: bool = True,
    prior_weight: float = PRIOR_WEIGHT,
) -> dict[str, EngineFit]:
    """Stage 2: per-backend engine constants on the serving runs in `measured` (`budgets` restricts
    the token-budget grid per backend, e.g. to reuse the full fit's choice in leave-one-out)."""
    plans_all = [plan_row(i, r) for i, r in measured.iterrows()]
    out = {}
    for backend in backends:
        plans = [
            p for p in plans_all if p.reason is None and p.deployment is not None and p.deployment.backend == backend
        ]
        if not plans:
            continue
        y = measured.loc[[p.index for p in plans]]
        classes = _format_classes(plans, backend, cal)

        def engine_of(x: np.ndarray, budget: float, classes=classes) -> EngineFit:
            return EngineFit(
                **dict(zip(ENGINE_PARAMS, (x[: len(ENGINE_PARAMS)] * ENGINE_SCALE).tolist(), strict=True)),
                prefill_token_budget=budget,
                format_scales={c: float(v) for c, v in zip(classes, x[len(ENGINE_PARAMS) :], strict=True)},
            )

        def resid(x: np.ndarray, budget: float, plans=plans, y=y, backend=backend) -> np.ndarray:
            eng = engine_of(x, budget)
            c = replace(cal, engines={**cal.engines, backend: eng})
            pred = predict_plans(plans, c)
            rt = np.log(pred["pred_tpot_ms"].astype(float).to_numpy()) - np.log(y["silicon_tpot_ms"].to_numpy())
            rf = np.log(pred["pred_ttft_ms"].astype(float).to_numpy()) - np.log(y["silicon_ttft_ms"].to_numpy())
            scales = np.concatenate([x[_SCALE_INDEX], x[len(ENGINE_PARAMS) :]])
            prior = prior_weight * np.log(scales)
            return np.nan_to_num(np.concatenate([rt, TTFT_WEIGHT * rf, prior]), nan=5.0)

        t0 = time.time()
        best = None
        for budget in (budgets or {}).get(backend, TOKEN_BUDGETS):
            sol = least_squares()(
                resid,
                x0=np.concatenate([ENGINE_X0, np.full(len(classes), 1.05)]),
                bounds=(
                    np.concatenate([ENGINE_BOUNDS[0], np.full(len(classes), 1.0)]),
                    np.concatenate([ENGINE_BOUNDS[1], np.full(len(classes), 2.0)]),
                ),
                loss="soft_l1",
                f_scale=0.3,
                diff_step=0.05,
                max_nfev=40,
                args=(budget,),
            )
            if best is None or sol.cost < best[0].cost:
                best = (sol, budget)
        assert best is not None
        sol, budget = best
        eng = engine_of(sol.x, budget)
        out[backend] = eng
        if verbose:
            print(f"engine {backend}: {eng}  rows={len(plans)}  ({time.time() - t0:.0f}s)")
    return out


FORMAT_MIN_ROWS = 20
"""A weight-format kernel class gets its own engine scale only with at least this many runs."""


KERNEL_TABLE_BACKEND = "vllm"
"""The engine whose kernels the GEMM tables time (`../shared/data/microbench`: vLLM 0.19's kernels). Its
GEMM classes that the tables hold get no per-engine format scale: the tables are that engine's GEMMs.
A scale fitted anyway absorbed what the serving runs do not record (vLLM 0.12's synchronous scheduling,
the client's streaming): bf16 1.35 from 90 Qwen3-32B runs alone, which made vLLM 0.19 on one RTX PRO 6000
decode 15-20% slower than it ran and vLLM's held-out models worse (leave-one-model-out TPOT on its 414
rows 33.0% with the scale, 22.9% without)."""


def _format_classes(plans: list[Any], backend: str, cal: Calibration) -> list[str]:
    """GEMM kernel classes (`kernels.gemm_kernel_class`) an engine's runs hold often enough to fit, less
    the classes the kernel tables measured on that very engine (`KERNEL_TABLE_BACKEND`)."""
    timed_by_tables = set(cal.gemm) if backend == KERNEL_TABLE_BACKEND else set()
    counts: dict[str, int] = {}
    for p in plans:
        d = p.deployment
        kinds = {gemm_kernel_class(prec, d.system.chip)[0] for prec in (d.weight_precision, d.routed_expert_precision)}
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
    return sorted(k for k, v in counts.items() if v >= FORMAT_MIN_ROWS and k not in timed_by_tables)
