"""MLPerf Inference LLM results (the schema of `shared/data/published/mlperf_v4.1_llm.csv`): predict each
submission and report the error per group (chip, model, engine).

- Offline: maximum throughput. Measured `result_per_accelerator_tokens_per_s`; predicted the best output
  tokens/s per GPU of the steady state within KV memory (`offline.best_throughput`), over the tensor-
  parallel sizes 1, 2, 4, 8 that fit a node (the results do not record TP: the tool picks the best,
  as a planner would, and reports it).
- Server: requests arrive at `target_qps` (Poisson); measured mean TTFT and TPOT. Predicted at the same
  rate per replica: the closed loop whose request rate equals it (its concurrency found by bisection);
  a rate above the predicted capacity is reported as over capacity, not as an error figure.

Assumptions stated once, here (the results do not record them):
- lengths: OSL is the accuracy log's `mean_output_tokens_per_sample`, else tokens/s over samples/s of
  the run; ISL (prompts are real data sets of variable length, their mean is not published) is
  `PROMPT_TOKENS` per benchmark, overridable;
- formats: NVIDIA's TensorRT submissions quantise weights and KV cache to FP8 (FP4 on Blackwell) whatever
  `weight_data_types` says (it reads fp16 for them); other submissions use `weight_data_types`;
- engine: TensorRT(-LLM) -> `trtllm`, vLLM -> `vllm`; other software (CPU PyTorch) is skipped;
- duplicates: `-99` and `-99.9` rows of the same system with the same result are one run, kept once;
- chips: `offline.GPU_NAMES`; H200 "-CTS" (custom thermal solution, 1,000 W) is the catalog's H200 and is
  reported as its own group `h200_sxm-cts` (the model has no power limit term).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.errors import InferonomicsError, InvalidInputError
from inferonomics.perf.calibration import Calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.validate.offline import best_throughput, group_errors, resolve_model, resolve_system
from inferonomics.validate.tables import load_table

REQUIRED_COLUMNS = (
    "benchmark",
    "scenario",
    "accelerator",
    "accelerators_per_node",
    "total_accelerators",
    "result_value",
    "result_per_accelerator_tokens_per_s",
    "weight_data_types",
    "software",
)

PROMPT_TOKENS = {"llama2-70b": 300.0, "mixtral-8x7b": 300.0, "gptj": 800.0}
"""Assumed mean prompt tokens per benchmark (not published with the results; unverified): OpenOrca
prompts (llama2-70b, cut at 1,024 tokens) taken as long as the answers (~290 tokens); the mixtral mix
(OpenOrca, GSM8K, MBXP) likewise; GPT-J summarises CNN/DailyMail articles (~800 tokens)."""

TP_CHOICES = (1, 2, 4, 8)


def base_benchmark(name: Any) -> str:
    """'llama2-70b-99.9' -> 'llama2-70b', 'gptj-99' -> 'gptj'."""
    return re.sub(r"-99(\.9)?$", "", str(name).strip().lower())


def engine_of(software: Any) -> str | None:
    s = str(software).lower()
    if "tensorrt" in s:
        return "trtllm"
    if "vllm" in s:
        return "vllm"
    return None


def precision_of(row: Any, system: Any, engine: str) -> str:
    """Weight format of a submission (see the module's assumptions)."""
    if engine == "trtllm":
        return "nvfp4" if system.chip.peak_flops_per_s("fp4") > 0 else "fp8"
    w = str(row.get("weight_data_types", "") or "").strip().lower()
    return w if w in ("fp8", "fp16", "bf16", "int8", "int4") else "fp16"


def output_tokens_of(row: Any) -> float | None:
    """Mean output tokens per sample: the accuracy log's figure, else tokens/s over samples/s."""
    v = pd.to_numeric(row.get("mean_output_tokens_per_sample"), errors="coerce")
    if np.isfinite(v) and v > 0:
        return float(v)
    samples = pd.to_numeric(row.get("log_samples_per_s"), errors="coerce")
    tokens = pd.to_numeric(row.get("log_tokens_per_s"), errors="coerce")
    if not np.isfinite(tokens):
        tokens = pd.to_numeric(row.get("result_value"), errors="coerce")
    if np.isfinite(samples) and samples > 0 and np.isfinite(tokens) and tokens > 0:
        return float(tokens / samples)
    return None


def load_mlperf(path: str | Path) -> pd.DataFrame:
    """Offline and Server rows of an MLPerf LLM results CSV, -99/-99.9 duplicates kept once."""
    df = load_table(path, REQUIRED_COLUMNS)
    df = df[df["scenario"].isin(["Offline", "Server"])].copy()
    df["base_benchmark"] = df["benchmark"].map(base_benchmark)
    keys = [c for c in ("submitter", "system_name", "platform_id") if c in df.columns]
    df = df.drop_duplicates(subset=[*keys, "base_benchmark", "scenario", "result_value"])
    return df.reset_index(drop=True)


def _deployment(model: Any, system: Any, tp: int, precision: str, engine: str) -> Deployment:
    kv = "fp8" if precision not in ("fp16", "bf16") else precision
    return Deployment(model=model, system=system, tp=tp, weight_precision=precision, kv_precision=kv, backend=engine)  # type: ignore[arg-type]


def best_tp(
    model: Any, system: Any, precision: str, engine: str, isl: float, osl: float, per_node: int, cal: Calibration | None
) -> tuple[int, float, float]:
    """(TP, predicted output tokens/s per GPU, concurrency per replica) of the best TP that fits."""
    best: tuple[int, float, float] | None = None
    reasons = []
    for tp in TP_CHOICES:
        if tp > max(per_node, 1) or model.num_heads % tp:
            continue
        try:
            b = best_throughput(_deployment(model, system, tp, precision, engine), isl, osl, cal)
        except InferonomicsError as exc:
            reasons.append(str(exc))
            continue
        per_gpu = b.output_tokens_per_s / tp
        if best is None or per_gpu > best[1]:
            best = (tp, per_gpu, b.concurrency)
    if best is None:
        raise InferonomicsError(reasons[-1] if reasons else "no tensor-parallel size fits the node")
    return best


def server_at_rate(
    dep: Deployment, isl: float, osl: float, rate_per_s: float, cal: Calibration | None
) -> dict[str, float]:
    """Mean TTFT / TPOT of one replica whose closed loop completes `rate_per_s` requests/s (bisection on
    the concurrency); `over_capacity` = 1 when even the largest batch that fits completes fewer."""
    from inferonomics.perf.memory import max_sequences
    from inferonomics.perf.steady_state import closed_loop
    from inferonomics.perf.step import StepTimeModel

    stm = StepTimeModel(dep, cal)
    most = float(max(max_sequences(dep, isl + osl, stm.calibration), 1))
    grid = np.unique(np.geomspace(1.0, most, 64))
    ss = closed_loop(stm, grid, isl, osl)
    rps = np.asarray(ss.requests_per_s, dtype=float)
    if rate_per_s > rps.max():
        return {"over_capacity": 1.0, "capacity_per_s": float(rps.max())}
    lo, hi = 1.0, float(grid[int(np.argmax(rps >= rate_per_s))])
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if float(np.asarray(closed_loop(stm, mid, isl, osl).requests_per_s)) < rate_per_s:
            lo = mid
        else:
            hi = mid
    s = closed_loop(stm, hi, isl, osl)
    return {
        "over_capacity": 0.0,
        "capacity_per_s": float(rps.max()),
        "concurrency": hi,
        "ttft_ms": float(np.asarray(s.ttft_s)) * 1e3,
        "tpot_ms": float(np.asarray(s.tpot_s)) * 1e3,
    }


def _num(row: Any, key: str) -> float:
    v = pd.to_numeric(row.get(key), errors="coerce")
    return float(v) if np.isfinite(v) else float("nan")


def predict_mlperf_frame(
    df: pd.DataFrame, cal: Calibration | None = None, prompt_tokens: dict[str, float] | None = None
) -> pd.DataFrame:
    """`df` (from `load_mlperf`) with the prediction columns: system, group_system, model_id, engine, tp,
    isl, osl, pred_per_gpu_tokens_per_s, ape (Offline), pred_ttft_ms, pred_tpot_ms, ttft_ape, tpot_ape
    (Server), pred_concurrency, skip_reason."""
    isl_of = {**PROMPT_TOKENS, **(prompt_tokens or {})}
    recs: list[dict[str, Any]] = []
    tp_cache: dict[tuple[Any, ...], tuple[int, float, float]] = {}
    for _, row in df.iterrows():
        rec: dict[str, Any] = {"system": None, "group_system": None, "model_id": None, "engine": None}
        rec.update(tp=np.nan, isl=np.nan, osl=np.nan, pred_per_gpu_tokens_per_s=np.nan, pred_concurrency=np.nan)
        rec.update(pred_ttft_ms=np.nan, pred_tpot_ms=np.nan, skip_reason=None)
        try:
            if not isinstance(row.get("accelerator"), str):
                raise InferonomicsError("no accelerator (CPU submission)")
            engine = engine_of(row.get("software"))
            if engine is None:
                raise InferonomicsError(f"software {row.get('software')!r} is not a modelled engine")
            system = resolve_system(row["accelerator"])
            model = resolve_model(row["base_benchmark"])
            cts = "-CTS" in str(row["accelerator"]).upper()
            rec.update(system=system.name, group_system=system.name + ("-cts" if cts else ""))
            rec.update(model_id=model.name, engine=engine)
            osl = output_tokens_of(row)
            isl = isl_of.get(str(row["base_benchmark"]))
            if osl is None or isl is None:
                raise InferonomicsError("no output or prompt length for this benchmark")
            rec.update(isl=isl, osl=osl)
            precision = precision_of(row, system, engine)
            per_node = int(_num(row, "accelerators_per_node") or 1)
            key = (model.name, system.name, precision, engine, isl, round(osl, 1), per_node)
            if key not in tp_cache:  # submissions of one configuration share their prediction
                tp_cache[key] = best_tp(model, system, precision, engine, isl, osl, per_node, cal)
            tp, per_gpu, conc = tp_cache[key]
            rec.update(tp=tp, pred_concurrency=conc)
            if row["scenario"] == "Offline":
                rec["pred_per_gpu_tokens_per_s"] = per_gpu
            else:
                total = _num(row, "total_accelerators")
                rate = _num(row, "target_qps") * tp / total
                dep = _deployment(model, system, tp, precision, engine)
                s = server_at_rate(dep, isl, osl, rate, cal)
                if s["over_capacity"]:
                    rec["skip_reason"] = (
                        f"over capacity: {rate:.2f} req/s per TP{tp} replica, predicted at most "
                        f"{s['capacity_per_s']:.2f}"
                    )
                else:
                    rec.update(pred_ttft_ms=s["ttft_ms"], pred_tpot_ms=s["tpot_ms"], pred_concurrency=s["concurrency"])
        except InferonomicsError as exc:
            rec["skip_reason"] = str(exc)
        recs.append(rec)
    res = pd.concat([df.reset_index(drop=True), pd.DataFrame(recs)], axis=1)
    measured = pd.to_numeric(res["result_per_accelerator_tokens_per_s"], errors="coerce")
    res["ape"] = (res["pred_per_gpu_tokens_per_s"] - measured).abs() / measured
    for k in ("ttft", "tpot"):
        col = f"{k}_mean_ms"
        m = pd.to_numeric(res[col], errors="coerce") if col in res.columns else pd.Series(np.nan, index=res.index)
        res[f"{k}_ape"] = (res[f"pred_{k}_ms"] - m).abs() / m
    return res


def throughput_ratios(res: pd.DataFrame, reference: str = "h100_sxm") -> pd.DataFrame:
    """Offline per-GPU throughput of each chip (per engine) relative to `reference` on the same benchmark
    (medians of the submissions), measured and predicted, and the error of the predicted ratio."""
    off = res[(res["scenario"] == "Offline") & res["pred_per_gpu_tokens_per_s"].notna()]
    rows = []
    cols = ["result_per_accelerator_tokens_per_s", "pred_per_gpu_tokens_per_s"]
    for bench, g in off.groupby("base_benchmark"):
        ref_rows = g[g["group_system"] == reference]
        if ref_rows.empty:
            continue
        ref = ref_rows[cols].median()
        keys = ["group_system", "engine"] if "engine" in g.columns else ["group_system"]
        for key, v in g.groupby(keys)[cols].median().iterrows():
            chip = key[0] if isinstance(key, tuple) else key
            engine = key[1] if isinstance(key, tuple) else ""
            if chip == reference:
                continue
            meas = v.iloc[0] / ref.iloc[0]
            pred = v.iloc[1] / ref.iloc[1]
            rows.append(
                {
                    "benchmark": bench,
                    "system": chip,
                    "engine": engine,
                    "reference": reference,
                    "measured_ratio": float(meas),
                    "predicted_ratio": float(pred),
                    "ratio_ape": float(abs(pred / meas - 1.0)),
                }
            )
    return pd.DataFrame(
        rows, columns=["benchmark", "system", "engine", "reference", "measured_ratio", "predicted_ratio", "ratio_ape"]
    )


def summarize_mlperf(res: pd.DataFrame) -> dict[str, Any]:
    """Offline throughput and Server TTFT/TPOT errors overall and per (chip, model, engine), coverage,
    skipped rows and the per-GPU throughput ratios to H100 SXM and H200 SXM."""
    off = res[res["scenario"] == "Offline"]
    srv = res[res["scenario"] == "Server"]

    def stats(s: pd.Series) -> dict[str, Any]:
        s = s.dropna()
        return {
            "n": int(s.size),
            "median_ape": float(s.median()) if s.size else float("nan"),
            "p90_ape": float(s.quantile(0.9)) if s.size else float("nan"),
        }

    keys = ["group_system", "model_id", "engine"]
    ratios = pd.concat([throughput_ratios(res, "h100_sxm"), throughput_ratios(res, "h200_sxm")])
    return {
        "rows": int(len(res)),
        "predicted": int(res["ape"].notna().sum() + srv["ttft_ape"].notna().sum()),
        "offline": {**stats(off["ape"]), "groups": group_errors(off, keys)},
        "server_ttft": {**stats(srv["ttft_ape"]), "groups": group_errors(srv, keys, "ttft_ape")},
        "server_tpot": {**stats(srv["tpot_ape"]), "groups": group_errors(srv, keys, "tpot_ape")},
        "ratios": ratios.to_dict(orient="records"),
        "ratio_median_ape": float(ratios["ratio_ape"].median()) if len(ratios) else float("nan"),
        "tp_used": {
            f"{chip} / {bench}": int(g["tp"].median())
            for (chip, bench), g in off.dropna(subset=["tp"]).groupby(["group_system", "base_benchmark"])
        },
        "skipped": sorted(
            {
                f"{r.accelerator} / {r.benchmark} / {r.scenario}: {r.skip_reason}"
                for r in res.itertuples()
                if isinstance(r.skip_reason, str)
            }
        ),
    }


def validate_mlperf(
    path: str | Path, cal: Calibration | None = None, prompt_tokens: dict[str, float] | None = None
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Predict every Offline and Server row of the MLPerf CSV at `path`; (summary, per-row frame)."""
    for k, v in (prompt_tokens or {}).items():
        if not np.isfinite(v) or v < 1:
            raise InvalidInputError(f"prompt tokens for {k} must be >= 1, got {v}")
    df = load_mlperf(path)
    res = predict_mlperf_frame(df, cal, prompt_tokens)
    return summarize_mlperf(res), res
