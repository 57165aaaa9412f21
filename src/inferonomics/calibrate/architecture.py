"""Stage 3 of the calibration: the architecture model (`perf.architecture`) on the published tables.

Fitted on MLPerf v4.1 Offline runs (per-GPU throughput relative to H100 SXM on the same benchmark) and
TensorRT-LLM v0.17 offline cells (absolute output tokens/s), both in shared/data/published:

- the power model's two global constants, k (the H100 SXM's power headroom) and P_static, on a grid
  (every chip's rows at once: they are physics shared by all chips, not per-chip factors);
- then a vendor's kernel-stack scale on that vendor's rows (AMD: MI300X only, so vendor and chip are
  not separable) and the native-FP4 format scale on the FP4 rows (B200 only: FP4 and Blackwell are not
  separable), each a 1-D grid with the power model fixed.

Judged leave-one-chip-out (`leave_one_chip_out`): each chip's rows are predicted with constants fitted
without them; a vendor or format scale informed only by the held-out chip falls back to 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.perf.calibration import ArchitectureFit, Calibration
from inferonomics.validate.mlperf import load_mlperf, predict_mlperf_frame
from inferonomics.validate.offline import REQUIRED_COLUMNS as OFFLINE_COLUMNS
from inferonomics.validate.offline import predict_offline_frame
from inferonomics.validate.tables import load_table

HEADROOMS = (0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.6)
"""Candidate power headroom k of the reference chip (k < 1: H100 SXM is power-limited at 700 W)."""
STATIC_POWERS_W = (50.0, 100.0, 150.0, 250.0)
"""Static (idle, leakage, I/O) power of the reference chip, W: H100 SXM idles near 60-100 W."""
SCALES = tuple(np.round(np.arange(0.4, 1.001, 0.05), 2))
REFERENCE = "h100_sxm"


def read_published(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    pub = shared / "data" / "published"
    trt = load_table(pub / "trtllm_offline_v0.17.csv", OFFLINE_COLUMNS)
    ml = load_mlperf(pub / "mlperf_v4.1_llm.csv")
    return trt, ml[ml["scenario"] == "Offline"].reset_index(drop=True)


def predict_published(trt: pd.DataFrame, ml: pd.DataFrame, cal: Calibration) -> pd.DataFrame:
    """One frame of (source, chip, vendor-free key, log error, ratio log error) for both tables."""
    t = predict_offline_frame(trt, cal)
    t = t[t["pred_tokens_per_s"].notna()]
    out_t = pd.DataFrame(
        {
            "source": "trtllm",
            "chip": t["system"],
            "bench": t["model"] + "/" + t["parallelism"] + "/" + t["isl_tokens"].astype(str),
            "log_err": np.log(t["pred_tokens_per_s"] / t["value_tokens_per_s"].astype(float)),
        }
    )
    m = predict_mlperf_frame(ml, cal)
    m = m[m["pred_per_gpu_tokens_per_s"].notna()]
    out_m = pd.DataFrame(
        {
            "source": "mlperf",
            "chip": m["group_system"],
            "bench": m["base_benchmark"] + "/" + m["engine"],
            "log_err": np.log(m["pred_per_gpu_tokens_per_s"] / m["result_per_accelerator_tokens_per_s"].astype(float)),
        }
    )
    return pd.concat([out_t, out_m], ignore_index=True)


def ratio_errors(rows: pd.DataFrame, chips: Iterable[str] | None = None) -> pd.Series:
    """`ratio_errors_by_key` as a Series indexed by (benchmark/engine, chip)."""
    return pd.Series(ratio_errors_by_key(rows, chips), dtype=float)


def ratio_errors_by_key(rows: pd.DataFrame, chips: Iterable[str] | None = None) -> dict[tuple[str, str], float]:
    """log error of each chip's MLPerf per-GPU throughput ratio to the reference chip, per benchmark and
    engine (median over the chip's submissions); indexed by (benchmark/engine, chip)."""
    m = rows[rows["source"] == "mlperf"]
    med: dict[tuple[str, str], float] = {}
    for (b, c), g in m.groupby(["bench", "chip"]):
        med[(str(b), str(c))] = float(g["log_err"].median())
    ref = {b.split("/")[0]: v for (b, c), v in med.items() if c == REFERENCE}
    out: dict[tuple[str, str], float] = {}
    for (bench, chip), v in med.items():
        base = bench.split("/")[0]  # benchmark/engine: the reference runs TensorRT-LLM
        if chip == REFERENCE or base not in ref:
            continue
        if chips is None or chip in chips:
            out[(bench, chip)] = v - ref[base]
    return out


def objective(rows: pd.DataFrame, chips: set[str]) -> float:
    """Mean absolute log error on `chips`: MLPerf ratios to H100 SXM and TRT cells, each chip weighted
    once per source (a chip with many cells does not outvote one with a few)."""
    parts = []
    r = ratio_errors(rows, chips)
    if len(r):
        parts.append(r.abs().groupby(level=1).mean())
    t = rows[(rows["source"] == "trtllm") & rows["chip"].isin(chips)]
    if len(t):
        parts.append(t["log_err"].abs().groupby(t["chip"]).mean())
    return float(pd.concat(parts).mean()) if parts else 0.0


def power_grid(trt: pd.DataFrame, ml: pd.DataFrame, cal: Calibration) -> dict[tuple[float, float], pd.DataFrame]:
    """Predictions of every published row for each (k, P_static) of the grid, vendor/format scales off."""
    out = {}
    for k in HEADROOMS:
        for p0 in STATIC_POWERS_W:
            c = replace(cal, architecture=ArchitectureFit(power_headroom=k, static_power_w=p0))
            out[(k, p0)] = predict_published(trt, ml, c)
    return out


def _best_scale(
    trt: pd.DataFrame, ml: pd.DataFrame, cal: Calibration, fit: ArchitectureFit, chips: set[str], **field: str
) -> float:
    """The grid scale that best fits `chips`' rows, for the vendor (vendor=NAME) or format (fmt=CLASS)."""
    t, m = _subset(trt, ml, chips)

    def err(s: float) -> float:
        if "vendor" in field:
            f = replace(fit, vendor_scales={**fit.vendor_scales, field["vendor"]: s})
        else:
            f = replace(fit, format_scales={**fit.format_scales, field["fmt"]: s})
        return objective(predict_published(t, m, replace(cal, architecture=f)), chips)

    return float(min(SCALES, key=lambda s: err(float(s))))


def _vendor_rows(chip_vendor: dict[str, str], vendor: str) -> set[str]:
    return {c for c, v in chip_vendor.items() if v == vendor}


def fit_architecture(
    trt: pd.DataFrame,
    ml: pd.DataFrame,
    cal: Calibration,
    grid: dict[tuple[float, float], pd.DataFrame] | None = None,
    exclude_chip: str | None = None,
    verbose: bool = True,
    cache: dict[Any, float] | None = None,
) -> ArchitectureFit:
    """The architecture model fitted on all published rows except `exclude_chip`'s."""
    from inferonomics.catalog.hardware_catalog import get_hardware

    grid = grid or power_grid(trt, ml, cal)
    cache = {} if cache is None else cache
    any_rows = next(iter(grid.values()))
    chips = {str(c) for c in any_rows["chip"].unique()} - {exclude_chip, REFERENCE}
    chip_vendor = {c: get_hardware(c.removesuffix("-cts")).chip.vendor for c in chips}
    nvidia = _vendor_rows(chip_vendor, "NVIDIA")
    (k, p0), _ = min(grid.items(), key=lambda kv: objective(kv[1], nvidia))
    fit = ArchitectureFit(power_headroom=k, static_power_w=p0)
    # Vendor scales: on that vendor's chips only (NVIDIA is the tables' own stack: 1); then FP4.
    for vendor in sorted(set(chip_vendor.values()) - {"NVIDIA"}):
        own = _vendor_rows(chip_vendor, vendor)
        key = (k, p0, "vendor", vendor, frozenset(own))
        if key not in cache:
            cache[key] = _best_scale(trt, ml, cal, fit, own, vendor=vendor)
        fit = replace(fit, vendor_scales={**fit.vendor_scales, vendor: cache[key]})
    fp4_chips = {c for c in chips if get_hardware(c.removesuffix("-cts")).chip.peak_flops_per_s("fp4") > 0}
    if fp4_chips:
        key = (k, p0, "fp4", "", frozenset(fp4_chips))
        if key not in cache:
            cache[key] = _best_scale(trt, ml, cal, fit, fp4_chips, fmt="fp4")
        fit = replace(fit, format_scales={"fp4": cache[key]})
    if verbose:
        print(f"architecture (without {exclude_chip}): {fit}")
    return fit


def _subset(trt: pd.DataFrame, ml: pd.DataFrame, chips: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of `chips` and of the reference chip (the ratios need it)."""
    from inferonomics.validate.offline import GPU_NAMES, _lookup

    keep = {c.removesuffix("-cts") for c in chips} | {REFERENCE}  # H200 CTS is an H200 by name
    t = trt[trt["gpu"].map(lambda g: _lookup(GPU_NAMES, g) in keep)]
    m = ml[ml["accelerator"].map(lambda g: isinstance(g, str) and _lookup(GPU_NAMES, g) in keep)]
    return t, m


def leave_one_chip_out(
    trt: pd.DataFrame, ml: pd.DataFrame, cal: Calibration, verbose: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(MLPerf ratio errors, TRT cell errors) of every chip predicted with the architecture model fitted
    without it; the reference chip's and H200's cells are the kernel tables' in-sample ones."""
    grid = power_grid(trt, ml, cal)
    chips = sorted({str(c) for c in next(iter(grid.values()))["chip"].unique()})
    ratios: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    cache: dict[Any, float] = {}
    for chip in chips:
        fit = fit_architecture(trt, ml, cal, grid, exclude_chip=chip, verbose=verbose, cache=cache)
        rows = predict_published(*_subset(trt, ml, {chip}), replace(cal, architecture=fit))
        for (bench, c), v in ratio_errors_by_key(rows, {chip}).items():
            ratios.append({"benchmark": bench, "chip": c, "log_err": v, "fit": str(fit)})
        t = rows[(rows["source"] == "trtllm") & (rows["chip"] == chip)]
        cells.extend({"chip": chip, "bench": b, "log_err": v} for b, v in zip(t["bench"], t["log_err"], strict=True))
    return pd.DataFrame(ratios), pd.DataFrame(cells)
