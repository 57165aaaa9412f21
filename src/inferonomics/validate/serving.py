"""Predict every row of a CSV in the measured-serving schema and report the error.

Schema: `shared/data/README.md` (aiconfigurator's silicon sample). Assumptions stated once, here:
- concurrency is `silicon_concurrency=N` in `silicon_data_source`, else batch_size x attention_dp_size;
- weights run in `gemm_quant_mode` (bf16 when empty), an MoE model's routed experts in `moe_quant_mode`
  when it is given; the KV cache is fp8 when weights are 8-bit or narrower, else bf16 (the engines'
  default with quantised checkpoints);
- disaggregated rows without `*_num_workers` use one instance per pool;
- parallelism columns are read by `validate.conventions` (aiconfigurator's layout, SGLang's DP-attention
  convention where tp_size counts every GPU, attention DP inferred from the experts' span); an
  expert-parallel size that does not divide the expert count gets redundant experts
  (`Deployment.redundant_experts`). Every such assumption is listed per row (`assumptions` column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.errors import ConfigError, InferonomicsError
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.perf.memory import memory_use
from inferonomics.perf.steady_state import closed_loop, disaggregated
from inferonomics.perf.step import StepTimeModel
from inferonomics.validate.campaign import campaign_of
from inferonomics.validate.conventions import row_parallelism

REQUIRED_COLUMNS = (
    "model_path",
    "system",
    "backend",
    "mode",
    "isl",
    "osl",
    "tp_size",
    "silicon_ttft_ms",
    "silicon_tpot_ms",
)

PREDICTION_COLUMNS = (
    "pred_ttft_ms",
    "pred_ttft_low_ms",
    "pred_ttft_high_ms",
    "pred_tpot_ms",
    "memory_gb_per_gpu",
    "fits",
    "skip_reason",
)

_CONCURRENCY = re.compile(r"silicon_concurrency=(\d+)")


def load_measured(path: str | Path) -> pd.DataFrame:
    """Read a measured-serving CSV; `ConfigError` naming missing columns."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{p}: not a readable CSV ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{p}: missing column(s) {', '.join(missing)} (see the measured-data schema)")
    return df


def _num(row: Any, key: str, default: float | None = None) -> float | None:
    v = row.get(key) if hasattr(row, "get") else None
    if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
        return default
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def concurrency_of(row: Any) -> float | None:
    src = str(row.get("silicon_data_source", "") or "")
    m = _CONCURRENCY.search(src)
    if m:
        return float(m.group(1))
    bs = _num(row, "batch_size")
    if bs is None:
        return None
    return bs * (_num(row, "attention_dp_size", 1.0) or 1.0)


def _precision_of(row: Any) -> str:
    q = row.get("gemm_quant_mode")
    if isinstance(q, str) and q:
        return {"w4a16": "int4", "int4_wo": "int4", "fp4": "nvfp4", "w4a8_mxfp4_fp8": "mxfp4"}.get(q, q)
    p = row.get("precision")
    return p if isinstance(p, str) and p else "bf16"


def _expert_precision_of(row: Any, model: Any, precision: str) -> str | None:
    """The routed experts' format from `moe_quant_mode` where it differs from the GEMMs' (MoE only)."""
    from inferonomics.catalog.precision import get_precision

    q = row.get("moe_quant_mode")
    if not model.is_moe or not isinstance(q, str) or not q:
        return None
    experts = get_precision(q).name
    return None if experts == get_precision(precision).name else experts


def _deployment(row: Any, prefix: str, model: Any, system: Any, backend: str, precision: str) -> Deployment:
    par = row_parallelism(row, prefix, model, backend)
    kv = "fp8" if precision not in ("bf16", "fp16") else "bf16"
    return Deployment(
        model=model,
        system=system,
        tp=par.tp,
        pp=par.pp,
        attention_dp=par.attention_dp,
        moe_ep=par.moe_ep,
        moe_tp=par.moe_tp,
        weight_precision=precision,
        kv_precision=kv,
        expert_precision=_expert_precision_of(row, model, precision),
        backend=backend,  # type: ignore[arg-type]  # checked by Deployment
    )


@dataclass
class RowPlan:
    index: Any
    mode: str
    deployment: Deployment | None
    decode: Deployment | None
    prefill_instances: int
    decode_instances: int
    concurrency: float
    isl: float
    osl: float
    reason: str | None = None


BACKEND_ALIASES = {"tensorrt_llm": "trtllm", "tensorrt-llm": "trtllm", "trt-llm": "trtllm", "trt_llm": "trtllm"}


def resolve_model(model_path: str, configs_dir: Path | None = None) -> Any:
    """The catalog's model, else `configs_dir/<org>--<name>_config.json` (the shared data's layout)."""
    from inferonomics.catalog.hf_config import load_hf_config
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.errors import UnknownNameError

    try:
        return get_model(model_path)
    except UnknownNameError:
        if configs_dir is not None:
            candidate = configs_dir / (model_path.replace("/", "--") + "_config.json")
            if candidate.is_file():
                return load_hf_config(candidate)
        raise


def plan_row(idx: Any, row: Any, configs_dir: Path | None = None) -> RowPlan:
    """Turn one CSV row into deployments, or a reason it cannot be predicted."""
    from inferonomics.catalog.hardware_catalog import get_hardware

    base = RowPlan(idx, str(row.get("mode", "agg")), None, None, 1, 1, 0.0, 0.0, 0.0)
    try:
        model = resolve_model(str(row["model_path"]), configs_dir)
        system = get_hardware(str(row["system"]))
        backend = str(row["backend"]).strip().lower()
        backend = BACKEND_ALIASES.get(backend, backend)
        precision = _precision_of(row)
        c = concurrency_of(row)
        if c is None or c < 1:
            base.reason = "no concurrency (silicon_concurrency and batch_size both empty)"
            return base
        base.concurrency, base.isl, base.osl = c, float(row["isl"]), float(row["osl"])
        if base.mode == "disagg":
            base.deployment = _deployment(row, "prefill_", model, system, backend, precision)
            base.decode = _deployment(row, "decode_", model, system, backend, precision)
            base.prefill_instances = int(_num(row, "prefill_num_workers", 1) or 1)
            base.decode_instances = int(_num(row, "decode_num_workers", 1) or 1)
        else:
            base.deployment = _deployment(row, "", model, system, backend, precision)
        if base.isl < 1 or base.osl < 1:
            base.reason = "isl and osl must be >= 1"
    except InferonomicsError as exc:
        base.reason = str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        base.reason = f"bad row: {exc}"
    return base


def _group_key(plan: RowPlan) -> tuple[Any, ...]:
    d = plan.deployment
    assert d is not None
    return (
        plan.mode,
        id(d.model),
        d.system.name,
        d.tp,
        d.pp,
        d.attention_dp,
        d.moe_ep,
        d.moe_tp_size,
        d.weight_precision,
        d.backend,
        plan.prefill_instances,
        plan.decode_instances,
        None if plan.decode is None else (plan.decode.tp, plan.decode.attention_dp, plan.decode.moe_ep),
    )


def predict_plans(plans: list[RowPlan], calibration: Calibration | None = None) -> pd.DataFrame:
    """Predicted TTFT/TPOT (ms) per plan, vectorised over the rows that share a deployment."""
    cal = calibration or default_calibration()
    rows: dict[Any, dict[str, Any]] = {}
    groups: dict[tuple[Any, ...], list[RowPlan]] = {}
    for p in plans:
        if p.reason is not None or p.deployment is None:
            rows[p.index] = {"skip_reason": p.reason or "no deployment"}
            continue
        groups.setdefault(_group_key(p), []).append(p)
    for members in groups.values():
        first = members[0]
        c = np.array([p.concurrency for p in members])
        i = np.array([p.isl for p in members])
        o = np.array([p.osl for p in members])
        try:
            assert first.deployment is not None
            if first.mode == "disagg" and first.decode is not None:
                ss = disaggregated(
                    StepTimeModel(first.deployment, cal),
                    StepTimeModel(first.decode, cal),
                    first.prefill_instances,
                    first.decode_instances,
                    c,
                    i,
                    o,
                )
                mem_dep = first.decode
                per_replica = c / first.decode_instances
            else:
                assert first.deployment is not None
                ss = closed_loop(StepTimeModel(first.deployment, cal), c, i, o)
                mem_dep = first.deployment
                per_replica = c
        except InferonomicsError as exc:
            for p in members:
                rows[p.index] = {"skip_reason": str(exc)}
            continue
        ttft = np.broadcast_to(ss.ttft_s, c.shape) * 1e3
        tpot = np.broadcast_to(ss.tpot_s, c.shape) * 1e3
        ttft_low, ttft_high = (np.broadcast_to(t, c.shape) * 1e3 for t in ss.ttft_range_s)
        for k, p in enumerate(members):
            if not (np.isfinite(ttft[k]) and np.isfinite(tpot[k])):
                rows[p.index] = {"skip_reason": "prediction not finite"}
                continue
            mem = memory_use(mem_dep, float(per_replica[k]), p.isl + p.osl, cal)
            if mem.weights_bytes + mem.activations_bytes + mem.reserve_bytes > mem.capacity_bytes:
                rows[p.index] = {
                    "skip_reason": f"does not fit: {mem.weights_bytes / 1e9:.0f} GB of weights per GPU "
                    f"on {mem.capacity_bytes / 1e9:.0f} GB"
                }
                continue
            rows[p.index] = {
                "pred_ttft_ms": float(ttft[k]),
                "pred_ttft_low_ms": float(ttft_low[k]),
                "pred_ttft_high_ms": float(ttft_high[k]),
                "pred_tpot_ms": float(tpot[k]),
                "memory_gb_per_gpu": mem.total_bytes / 1e9,
                "fits": mem.fits,
                "skip_reason": None,
            }
    out = pd.DataFrame.from_dict(rows, orient="index")
    for col in PREDICTION_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan if col != "skip_reason" else None
    return out.reindex([p.index for p in plans])


def predict_frame(
    df: pd.DataFrame, calibration: Calibration | None = None, configs_dir: Path | None = None
) -> pd.DataFrame:
    """`df` with pred_ttft_ms (and its range, pred_ttft_low_ms .. pred_ttft_high_ms), pred_tpot_ms, ttft_ape,
    tpot_ape, skip_reason and (with silicon_data_source) campaign (`validate.campaign`) columns added.
    Models not in the catalog are looked for as Hugging Face configs in `configs_dir`."""
    plans = [plan_row(idx, row, configs_dir) for idx, row in df.iterrows()]
    pred = predict_plans(plans, calibration)
    res = df.join(pred)
    res["assumptions"] = pd.Series([row_assumptions(p, df.loc[p.index]) for p in plans], index=res.index)
    if "silicon_data_source" in res.columns:
        res["campaign"] = res["silicon_data_source"].map(campaign_of)
    for col in ("pred_ttft_ms", "pred_ttft_low_ms", "pred_ttft_high_ms", "pred_tpot_ms"):
        res[col] = pd.to_numeric(res[col], errors="coerce")
    for k in ("ttft", "tpot"):
        res[f"{k}_ape"] = (res[f"pred_{k}_ms"] - res[f"silicon_{k}_ms"]).abs() / res[f"silicon_{k}_ms"]
    return res


def row_assumptions(plan: RowPlan, row: Any) -> str:
    """What was assumed to read the row's parallelism (conventions, redundant experts), '; '-joined."""
    notes: list[str] = []
    for prefix, dep in (
        (("prefill_", plan.deployment), ("decode_", plan.decode)) if plan.decode else (("", plan.deployment),)
    ):
        if dep is None:
            continue
        where = prefix.rstrip("_") + ": " if prefix else ""
        par_notes = row_parallelism(row, prefix, dep.model, dep.backend).notes
        notes.extend(where + n for n in (*par_notes, *dep.notes))
    return "; ".join(notes)


def _stats(s: pd.Series) -> dict[str, float | int]:
    s = s.dropna()
    if s.empty:
        return {"n": 0, "median_ape": float("nan"), "p90_ape": float("nan")}
    return {"n": int(s.size), "median_ape": float(s.median()), "p90_ape": float(s.quantile(0.9))}


def summarize(res: pd.DataFrame, id_column: str = "id") -> dict[str, Any]:
    """Median and p90 absolute percentage error overall and per system, model, backend and mode."""
    predicted = res[res["pred_tpot_ms"].notna()]
    skipped = res[res["pred_tpot_ms"].isna()]
    ids = skipped[id_column] if id_column in skipped.columns else skipped.index.to_series()
    groups: dict[str, dict[str, Any]] = {}
    for col in ("system", "model_path", "backend", "mode", "campaign"):
        if col not in predicted.columns:
            continue
        groups[col] = {
            str(key): {"ttft": _stats(g["ttft_ape"]), "tpot": _stats(g["tpot_ape"])}
            for key, g in predicted.groupby(col)
        }
    assumed = predicted["assumptions"] if "assumptions" in predicted.columns else pd.Series(dtype=str)
    return {
        "rows": int(len(res)),
        "predicted": int(len(predicted)),
        "rows_with_assumptions": int((assumed.fillna("") != "").sum()),
        "coverage": float(len(predicted) / len(res)) if len(res) else 0.0,
        "skipped": [{"id": str(i), "reason": str(r)} for i, r in zip(ids, skipped["skip_reason"], strict=False)],
        "ttft": _stats(predicted["ttft_ape"]),
        "tpot": _stats(predicted["tpot_ape"]),
        "ttft_range": _range_stats(predicted),
        "groups": groups,
    }


def _range_stats(predicted: pd.DataFrame) -> dict[str, float | int]:
    """How often the measured TTFT lies between the spread and synchronised regimes' TTFTs, and how wide
    that range is (median high / low)."""
    if predicted.empty:
        return {"n": 0, "within_share": float("nan"), "median_width_ratio": float("nan")}
    low, high = predicted["pred_ttft_low_ms"], predicted["pred_ttft_high_ms"]
    measured = predicted["silicon_ttft_ms"]
    return {
        "n": int(len(predicted)),
        "within_share": float(((measured >= low) & (measured <= high)).mean()),
        "median_width_ratio": float((high / low).median()),
    }


def default_configs_dir(csv_path: Path) -> Path | None:
    """`../model_configs` beside the CSV's folder, as in the shared data (`data/measured`, `data/model_configs`)."""
    candidate = csv_path.resolve().parent.parent / "model_configs"
    return candidate if candidate.is_dir() else None


def validate_serving(
    path: str | Path, calibration: Calibration | None = None, configs_dir: str | Path | None = None
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Predict every row of the CSV at `path`; (summary, per-row frame). Models missing from the
    catalog are read from `configs_dir` (default: a `model_configs` folder beside the CSV's folder)."""
    p = Path(path)
    df = load_measured(p)
    configs = Path(configs_dir) if configs_dir is not None else default_configs_dir(p)
    res = predict_frame(df, calibration, configs)
    return summarize(res), res
