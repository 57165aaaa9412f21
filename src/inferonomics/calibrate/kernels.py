"""Stage 1 of the calibration: kernel efficiencies fitted on the kernel tables (shared/data/microbench).

GEMM efficiencies per format, decode and prefill attention, NCCL alpha/bus bandwidth per op and group
size, each by robust least squares on log time. Efficiencies are fractions of each GPU's catalog peaks,
so the same numbers describe both GPUs and carry to others through their specs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inferonomics.calibrate.solver import least_squares
from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.perf.calibration import AttentionFit, Calibration, CollectiveFit, GemmFit
from inferonomics.perf.kernels import decode_attention_time_s, gemm_time_s, prefill_attention_time_s

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

        sol = least_squares()(
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
        value_bytes = d.kv_cache_dtype.map(KV_BYTES).to_numpy(float)
        parts.append(
            (
                chip,
                kvb.to_numpy(float),
                work,
                flops.to_numpy(float),
                rows,
                value_bytes,
                d.latency.to_numpy(float) * 1e-3,
            )
        )

    # One memory efficiency for a 16-bit cache and a multiplier for an FP8 one: pooled, the FP8 rows
    # (dequantised in the kernel, about half the per-byte efficiency) pulled the bf16 efficiency from
    # ~0.8 down to 0.65, and bf16 decode attention of GQA models was predicted ~35% too slow on the
    # tables' own large cases (batch 64-256 x 1-4k tokens).
    def r_dec(x: np.ndarray) -> np.ndarray:
        cal = Calibration(
            attention=AttentionFit(
                decode_memory_eff=x[0],
                decode_t0_s=x[1] * 1e-6,
                decode_work_half=x[2],
                decode_row_s=x[3] * 1e-9,
                decode_narrow_kv_eff_scale=x[4],
            )
        )
        return np.concatenate(
            [
                np.log(decode_attention_time_s(b, w, f, chip, cal, query_rows=r, kv_bytes_per_value=v)) - np.log(t)
                for chip, b, w, f, r, v, t in parts
            ]
        )

    dec = least_squares()(
        r_dec,
        x0=[0.7, 8.0, 8.0, 1.0, 1.0],
        bounds=([0.05, 0.0, 0.0, 0.0, 0.1], [1.0, 200.0, 1e4, 1e4, 2.0]),
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

    pre = least_squares()(
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
        decode_narrow_kv_eff_scale=float(dec.x[4]),
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
    for (op_key, n_key), g in d.groupby(["op_name", "num_gpus"]):
        op, n = str(op_key), int(str(n_key))
        f = factor.get(op, lambda n: (n - 1) / n)(n)
        b = g.message_size.to_numpy(float) * 2.0 * f
        t = g.latency.to_numpy(float) * 1e-3

        def r(x: np.ndarray, b=b, t=t) -> np.ndarray:
            return np.log(x[0] * 1e-6 + b / (x[1] * 1e9)) - np.log(t)

        sol = least_squares()(r, x0=[10.0, 300.0], bounds=([0.1, 1.0], [1000.0, 5000.0]))
        alpha.setdefault(op, {})[str(n)] = float(sol.x[0] * 1e-6)
        beta.setdefault(op, {})[str(n)] = float(sol.x[1] * 1e9)
        err = np.abs(np.expm1(r(sol.x)))
        print(
            f"nccl {op:14s} n={n}: alpha {sol.x[0]:.1f} us, bus bw {sol.x[1]:.0f} GB/s, "
            f"median |err| {np.median(err):.1%}"
        )
    return CollectiveFit(alpha_s=alpha, beta_bytes_per_s=beta)


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
