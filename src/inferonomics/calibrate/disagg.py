"""Stage 3 of the calibration: the engines' disaggregated-serving constants fitted on the disaggregated
runs (after the kernels and the aggregated engine fit, which it leaves as they are).

Per engine, three constants with a physical meaning (`EngineFit`): `disagg_overhead_s` (per-request
orchestration before the first token), `disagg_admission_steps` (decode iterations before a transferred
request's first token) and `disagg_iteration_s` (host time per decode iteration on a disaggregated decode
worker), by robust least squares on log TTFT and log TPOT of the rows in
`shared/data/measured/serving_disagg_h100_h200.csv`. An engine with fewer than `MIN_ROWS` rows gets none
(`EngineFit`'s defaults: the physics alone).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from inferonomics.calibrate.solver import least_squares
from inferonomics.perf.calibration import Calibration, EngineFit
from inferonomics.validate.serving import DEFAULT_SPEC_ASSUMPTION, RowPlan, plan_row, predict_frame, predict_plans

PARAMS = ("disagg_overhead_s", "disagg_admission_steps", "disagg_iteration_s")
X0 = np.array([0.2, 10.0, 1.0])
SCALE = np.array([1.0, 1.0, 1e-3])
BOUNDS = ([0.0, 0.0, 0.0], [2.0, 100.0, 5.0])
"""Overhead 0-2 s and 0-5 ms of host work per decode iteration: physical bounds. Admission 0-100 iterations.
The recorded TensorRT-LLM runs on H200 (1 + 9 workers, TP8) take 50-58 decode iterations to the first token
from 36 to 576 clients where prefill, transfer and the first wave explain 5-10; alone, H200's runs fit 0.15 s,
55 iterations and 1.8 ms. The H100 runs (2-node instances, 6-4,916 clients) take 250-900 iterations,
TTFT falling from 6 to 30 clients, which no queue does: alone they fit every bound. The cause is not in the
data, so the fitted values say how much, not why."""
LOSS = "cauchy"
"""Robust loss of the fit (scale 0.3 in log): it discounts the runs no term explains (TensorRT-LLM on H100,
above) instead of settling between the two populations as soft-L1 did (TensorRT-LLM overhead at its 2 s
bound, in-sample TTFT 58.8% vs 48.5%; leave-one-model-out 50.5% vs 50.7%)."""
MIN_ROWS = 20
TTFT_WEIGHT = 1.0


def _with(cal: Calibration, backends: list[str], x: np.ndarray) -> Calibration:
    values = dict(zip(PARAMS, (x * SCALE).tolist(), strict=True))
    engines = dict(cal.engines)
    for b in backends:
        engines[b] = replace(cal.engines.get(b) or EngineFit(), **values)
    return replace(cal, engines=engines)


def _components(cal: Calibration, plans: list[RowPlan], backends: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per plan, TTFT without the three constants (queue, prefill, transfer, frontend) and the decode
    iteration without them, seconds: the model evaluated once with the constants at zero."""
    pred = predict_plans(plans, _with(cal, backends, np.zeros(len(PARAMS))))
    tps = np.array([p.decode.tokens_per_step if p.decode is not None else 1.0 for p in plans])
    return pred["pred_ttft_ms"].to_numpy(float) / 1e3, pred["pred_tpot_ms"].to_numpy(float) / 1e3 * tps


def _fit(cal: Calibration, plans: list[RowPlan], y: pd.DataFrame, backends: list[str]) -> np.ndarray:
    """Robust least squares (`LOSS`) on log TTFT and log TPOT with the closed loop's rate feedback frozen at the
    constants' zero (TTFT = base + overhead + admission x iteration, TPOT = iteration / tokens per step,
    iteration = the model's + `disagg_iteration_s`): the constants move the decode batch and the prefill
    load only through the loop's rate, a second-order effect, so one model evaluation serves the fit."""
    base, step = _components(cal, plans, backends)
    tps = np.array([p.decode.tokens_per_step if p.decode is not None else 1.0 for p in plans])
    ttft_m = y["silicon_ttft_ms"].to_numpy(float) / 1e3
    tpot_m = y["silicon_tpot_ms"].to_numpy(float) / 1e3

    def resid(x: np.ndarray) -> np.ndarray:
        overhead, admission, iteration = x * SCALE
        tau = step + iteration
        rt = np.log(tau / tps) - np.log(tpot_m)
        rf = np.log(base + overhead + admission * tau) - np.log(ttft_m)
        return np.nan_to_num(np.concatenate([rt, TTFT_WEIGHT * rf]), nan=5.0)

    sol = least_squares()(resid, x0=X0, bounds=BOUNDS, loss=LOSS, f_scale=0.3)
    return np.asarray(sol.x)


def fit_disagg(
    cal: Calibration, measured: pd.DataFrame, verbose: bool = True, spec_assumption: str = DEFAULT_SPEC_ASSUMPTION
) -> dict[str, EngineFit]:
    """The engines of `cal` with their disaggregated constants fitted on the rows of `measured` (the
    disaggregated CSV's schema; `spec_assumption` as `validate.serving.plan_row`); engines with fewer than
    `MIN_ROWS` of them (or none) get `EngineFit`'s defaults, so a held-out model's rows never inform them."""
    plans_all = [plan_row(i, r, None, spec_assumption) for i, r in measured.iterrows()]
    plans_all = [p for p in plans_all if p.reason is None and p.mode == "disagg" and p.decode is not None]
    predict_plans(plans_all, cal)  # infers the worker counts once (they do not depend on these constants)
    by_backend: dict[str, list[RowPlan]] = {}
    for p in plans_all:
        assert p.deployment is not None
        by_backend.setdefault(p.deployment.backend, []).append(p)
    # An engine with fewer than MIN_ROWS runs (or none) keeps the physics alone (`EngineFit`'s defaults: no
    # overhead, the one admitting iteration, no extra host time) rather than another engine's constants:
    # they describe one engine's orchestration, and borrowing TensorRT-LLM's for SGLang (the pooled fit
    # this replaced) doubled SGLang's leave-one-model-out TTFT and TPOT errors.
    bare = {k: getattr(EngineFit(), k) for k in PARAMS}
    out = {b: replace(e, **bare) for b, e in cal.engines.items()}
    for b, ps in sorted(by_backend.items()):
        if len(ps) < MIN_ROWS:
            out[b] = replace(cal.engines.get(b) or EngineFit(), **bare)
            if verbose:
                print(f"disagg {b}: {len(ps)} rows (< {MIN_ROWS}), no disaggregation constants")
            continue
        x = _fit(cal, ps, measured.loc[[p.index for p in ps]], [b])
        out[b] = replace(cal.engines.get(b) or EngineFit(), **dict(zip(PARAMS, (x * SCALE).tolist(), strict=True)))
        if verbose:
            print(f"disagg {b}: {len(ps)} rows, {dict(zip(PARAMS, x * SCALE, strict=True))}")
    return out


def leave_one_model_out(
    cal: Calibration, measured: pd.DataFrame, spec_assumption: str = DEFAULT_SPEC_ASSUMPTION
) -> pd.DataFrame:
    """Per model: the disaggregated constants refitted without its rows, then its rows predicted (the
    per-row frame of all models). The DeepSeek-V3 rows repeat some DeepSeek-R1 runs (same measurements,
    with their worker counts), so leaving R1 out still trains on those runs."""
    parts = []
    for model in sorted(measured["model_path"].unique()):
        train = measured[measured["model_path"] != model]
        engines = fit_disagg(cal, train, verbose=False, spec_assumption=spec_assumption)
        held = measured[measured["model_path"] == model]
        parts.append(predict_frame(held, replace(cal, engines=engines), spec_assumption=spec_assumption))
    return pd.concat(parts)
