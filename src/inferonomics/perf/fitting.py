"""Fitting the calibration to measurements (used by scripts/calibrate.py and benchmarks/accuracy.py).

Stage 1 (kernels, microbench/{h100_sxm,h200_sxm}): GEMM efficiencies per format, decode and prefill
attention, NCCL alpha/bus bandwidth per op and group size, each by robust least squares on log time.
Efficiencies are fractions of each GPU's catalog peaks, so the same numbers describe both GPUs and
carry to others through their specs. Stage 2 (engines, measured serving runs): per-backend host
overhead, custom all-reduce latency scale, prefill and MoE-prefill efficiency scales, the TTFT wait
scale (least squares on log TTFT and TPOT, with a prior pulling the efficiency scales towards 1, the
kernel tables: `PRIOR_WEIGHT`) and the token budget per iteration (a grid: it is a discrete engine
setting the runs do not record).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.perf.calibration import AttentionFit, Calibration, CollectiveFit, EngineFit, GemmFit
from inferonomics.perf.kernels import (
    decode_attention_time_s,
    gemm_kernel_class,
    gemm_time_s,
    prefill_attention_time_s,
)
from inferonomics.validate.serving import plan_row, predict_plans


def _least_squares():  # scipy is needed only to fit, not to predict
    from scipy.optimize import least_squares

    return least_squares


GEMM_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block"}
KV_BYTES = {"bfloat16": 2.0, "fp8": 1.0}


def fit_gemm(frames: dict[str, pd.DataFrame]) -> dict[str, GemmFit]:
    out = {}
    for raw, kind in GEMM_DTYPES.items():
        parts = []
        for sysname, df in frames.items():
            d = df[df.gemm_dtype == raw]
            parts.append(
                (
                    get_hardware(sysname).chip,
                    d.m.to_numpy(float),
                    d.n.to_numpy(float),
                    d.k.to_numpy(float),
                    d.latency.to_numpy(float) * 1e-3,
                )
            )

        def resid(x: np.ndarray, parts=parts, kind=kind) -> np.ndarray:
            fit = GemmFit(compute_eff=x[0], memory_eff=x[1], t0_s=x[2] * 1e-6, q=x[3], tile_half=x[4], n_half=x[5])
            cal = Calibration(gemm={kind: fit})
            r = [np.log(gemm_time_s(m, n, k, chip, kind, cal)) - np.log(t) for chip, m, n, k, t in parts]
            return np.concatenate(r)

        sol = _least_squares()(
            resid,
            x0=[0.7, 0.8, 5.0, 3.0, 20.0, 100.0],
            bounds=([0.05, 0.05, 0.0, 1.0, 0.0, 0.0], [1.0, 1.0, 100.0, 20.0, 1e4, 1e5]),
            loss="soft_l1",
            f_scale=0.2,
        )
        r = np.abs(np.expm1(resid(sol.x)))
        out[kind] = GemmFit(
            compute_eff=float(sol.x[0]),
            memory_eff=float(sol.x[1]),
            t0_s=float(sol.x[2] * 1e-6),
            q=float(sol.x[3]),
            tile_half=float(sol.x[4]),
            n_half=float(sol.x[5]),
        )
        print(f"gemm {kind:9s} {out[kind]}  median |err| {np.median(r):.1%}  p90 {np.quantile(r, 0.9):.1%}  n={r.size}")
    return out


def fit_attention(gen: dict[str, pd.DataFrame], ctx: dict[str, pd.DataFrame]) -> AttentionFit:
    parts = []
    for sysname, d in gen.items():
        chip = get_hardware(sysname).chip
        kv_len = np.where(d.window_size > 0, np.minimum(d.step, d.window_size), d.step).astype(float)
        kvb = d.batch_size * d.num_key_value_heads * d.head_dim * 2 * kv_len * d.kv_cache_dtype.map(KV_BYTES)
        work = (d.batch_size * d.num_key_value_heads).to_numpy(float)
        rows = (d.batch_size * d.num_heads).to_numpy(float)
        flops = 4.0 * d.batch_size * d.num_heads * d.head_dim * kv_len
        parts.append((chip, kvb.to_numpy(float), work, flops.to_numpy(float), rows, d.latency.to_numpy(float) * 1e-3))

    def r_dec(x: np.ndarray) -> np.ndarray:
        cal = Calibration(
            attention=AttentionFit(
                decode_memory_eff=x[0], decode_t0_s=x[1] * 1e-6, decode_work_half=x[2], decode_row_s=x[3] * 1e-9
            )
        )
        return np.concatenate(
            [
                np.log(decode_attention_time_s(b, w, f, chip, cal, query_rows=r)) - np.log(t)
                for chip, b, w, f, r, t in parts
            ]
        )

    dec = _least_squares()(
        r_dec,
        x0=[0.7, 8.0, 8.0, 1.0],
        bounds=([0.05, 0.0, 0.0, 0.0], [1.0, 200.0, 1e4, 1e4]),
        loss="soft_l1",
        f_scale=0.2,
    )
    rd = np.abs(np.expm1(r_dec(dec.x)))
    print(f"decode attention {dec.x}  median |err| {np.median(rd):.1%}  p90 {np.quantile(rd, 0.9):.1%}  n={rd.size}")

    cparts = []
    for sysname, d in ctx.items():
        chip = get_hardware(sysname).chip
        s = d.isl.to_numpy(float)
        span = np.where(d.window_size > 0, np.minimum(s, d.window_size), (s + 1) / 2.0)
        flops = 4.0 * d.batch_size * d.num_heads * d.head_dim * s * span
        rows = (d.batch_size * d.num_heads).to_numpy(float) * s
        cparts.append((chip, flops.to_numpy(float), s, rows, d.latency.to_numpy(float) * 1e-3))

    def r_pre(x: np.ndarray) -> np.ndarray:
        cal = Calibration(
            attention=AttentionFit(
                prefill_compute_eff=x[0], prefill_t0_s=x[1] * 1e-6, prefill_s_half=x[2], prefill_row_s=x[3] * 1e-12
            )
        )
        return np.concatenate(
            [np.log(prefill_attention_time_s(f, s, chip, cal, query_rows=r)) - np.log(t) for chip, f, s, r, t in cparts]
        )

    pre = _least_squares()(
        r_pre,
        x0=[0.5, 10.0, 256.0, 1.0],
        bounds=([0.02, 0.0, 0.0, 0.0], [1.0, 500.0, 1e5, 1e6]),
        loss="soft_l1",
        f_scale=0.2,
    )
    rp = np.abs(np.expm1(r_pre(pre.x)))
    print(f"prefill attention {pre.x}  median |err| {np.median(rp):.1%}  p90 {np.quantile(rp, 0.9):.1%}  n={rp.size}")
    return AttentionFit(
        decode_memory_eff=float(dec.x[0]),
        decode_t0_s=float(dec.x[1] * 1e-6),
        decode_work_half=float(dec.x[2]),
        decode_row_s=float(dec.x[3] * 1e-9),
        prefill_compute_eff=float(pre.x[0]),
        prefill_t0_s=float(pre.x[1] * 1e-6),
        prefill_s_half=float(pre.x[2]),
        prefill_row_s=float(pre.x[3] * 1e-12),
    )


def fit_nccl(frames: dict[str, pd.DataFrame], reference: str) -> CollectiveFit:
    """alpha and bus bandwidth per op and group size; message_size counts fp16 elements (2 bytes)."""
    d = frames[reference]
    d = d[d.nccl_dtype == "half"]
    factor = {"all_reduce": lambda n: 2 * (n - 1) / n}
    alpha: dict[str, dict[str, float]] = {}
    beta: dict[str, dict[str, float]] = {}
    for (op, n), g in d.groupby(["op_name", "num_gpus"]):
        f = factor.get(op, lambda n: (n - 1) / n)(n)
        b = g.message_size.to_numpy(float) * 2.0 * f
        t = g.latency.to_numpy(float) * 1e-3

        def r(x: np.ndarray, b=b, t=t) -> np.ndarray:
            return np.log(x[0] * 1e-6 + b / (x[1] * 1e9)) - np.log(t)

        sol = _least_squares()(r, x0=[10.0, 300.0], bounds=([0.1, 1.0], [1000.0, 5000.0]))
        alpha.setdefault(op, {})[str(int(n))] = float(sol.x[0] * 1e-6)
        beta.setdefault(op, {})[str(int(n))] = float(sol.x[1] * 1e9)
        err = np.abs(np.expm1(r(sol.x)))
        print(
            f"nccl {op:14s} n={n}: alpha {sol.x[0]:.1f} us, bus bw {sol.x[1]:.0f} GB/s, "
            f"median |err| {np.median(err):.1%}"
        )
    return CollectiveFit(alpha_s=alpha, beta_bytes_per_s=beta)


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
        classes = _format_classes(plans)

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
            sol = _least_squares()(
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


def _format_classes(plans: list[Any]) -> list[str]:
    """GEMM kernel classes (`kernels.gemm_kernel_class`) an engine's runs hold often enough to fit."""
    counts: dict[str, int] = {}
    for p in plans:
        d = p.deployment
        kinds = {gemm_kernel_class(prec, d.system.chip)[0] for prec in (d.weight_precision, d.routed_expert_precision)}
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
    return sorted(k for k, v in counts.items() if v >= FORMAT_MIN_ROWS)


def read_microbench(shared: Path, systems: list[str]) -> dict[str, dict[str, pd.DataFrame]]:
    mb = shared / "data" / "microbench"
    return {
        f: {s: pd.read_parquet(mb / s / f"{f}.parquet") for s in systems}
        for f in ("gemm_perf", "generation_attention_perf", "context_attention_perf", "nccl_perf")
    }


def fit_kernels(shared: Path, systems: list[str]) -> Calibration:
    """Stage 1 on the kernel tables of `systems` (the first is the collectives' reference system)."""
    read = read_microbench(shared, systems)
    ref = get_hardware(systems[0])
    return Calibration(
        reference_system=systems[0],
        reference_intra_latency_us=ref.intra_node_latency_us,
        reference_intra_bandwidth_gb_s=ref.intra_node_bandwidth_gb_s,
        gemm=fit_gemm(read["gemm_perf"]),
        attention=fit_attention(read["generation_attention_perf"], read["context_attention_perf"]),
        collectives=fit_nccl(read["nccl_perf"], systems[0]),
    )
