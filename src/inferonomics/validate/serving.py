"""Predict every row of a CSV in the measured-serving schema and report the error.

Schema: `shared/data/README.md` (aiconfigurator's silicon sample). Assumptions stated once, here:
- concurrency is `silicon_concurrency=N` in `silicon_data_source`, else batch_size x attention_dp_size;
- weights run in `gemm_quant_mode` (bf16 when empty), an MoE model's routed experts in `moe_quant_mode`
  when it is given; the KV cache is fp8 when weights are 8-bit or narrower, else bf16 (the engines'
  default with quantised checkpoints);
- a disaggregated row without `silicon_concurrency` or `batch_size` runs decode_batch_size x decode workers x
  decode attention DP clients (the relation every disaggregated row that records all of them satisfies);
- disaggregated rows without `*_num_workers`: the counts a rate-matching planner would choose
  (`steady_state.plan_disaggregated_workers`); a disaggregated run's mean TTFT includes 1/10 of its first
  wave's queue (`BENCHMARK_WAVES`);
- no speculative decoding (`DEFAULT_SPEC_ASSUMPTION` says why); where the serving framework's published
  recipe enables it by default (`SPEC_RECIPES`: DeepSeek with MTP on TensorRT-LLM under NVIDIA Dynamo),
  `validate_serving` reports those rows' error with it on as well;
- parallelism columns are read by `validate.conventions` (aiconfigurator's layout, SGLang's DP-attention
  convention where tp_size counts every GPU, attention DP inferred from the experts' span); an
  expert-parallel size that does not divide the expert count gets redundant experts
  (`Deployment.redundant_experts`). Every such assumption is listed per row (`assumptions` column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.errors import InferonomicsError
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.perf.memory import memory_use
from inferonomics.perf.steady_state import (
    closed_loop,
    disaggregated,
    max_sequences_held,
    plan_disaggregated_workers,
)
from inferonomics.perf.step import StepTimeModel
from inferonomics.validate.campaign import campaign_of
from inferonomics.validate.conventions import row_parallelism
from inferonomics.validate.tables import load_table

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
    "prefill_workers",
    "decode_workers",
)

_CONCURRENCY = re.compile(r"silicon_concurrency=(\d+)")


def load_measured(path: str | Path) -> pd.DataFrame:
    """Read a measured-serving CSV; `ConfigError` naming missing columns."""
    return load_table(path, REQUIRED_COLUMNS)


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


@dataclass(frozen=True)
class SpecRecipe:
    """Speculative decoding an engine's published recipe turns on for a model family by default."""

    speculative_tokens: int
    acceptance: tuple[float, ...]
    source: str


SPEC_RECIPES: dict[tuple[str, str, str], SpecRecipe] = {
    ("dynamo", "trtllm", "deepseek"): SpecRecipe(
        speculative_tokens=1,
        acceptance=(0.85,),
        source="MTP with 1 draft, as NVIDIA Dynamo's TensorRT-LLM recipe for DeepSeek-R1 runs it "
        "(engine_configs/deepseek_r1/mtp: speculative_config decoding_type MTP, num_nextn_predict_layers 1), "
        "acceptance 0.85 (DeepSeek-V3 technical report sec. 5.4.3: 85-90% for the second token)",
    ),
}
"""(serving framework, engine, model family) -> the speculative decoding the framework's published recipe
runs by default. The framework is read from `silicon_data_source` (its container image), the family is
matched in the model's name and needs MTP layers in its config. Acceptance comes from the cited public
source, never from the runs. TensorRT-LLM's own serving (trtllm-serve, as aiconfigurator's aggregated
campaign runs it) enables MTP only when configured, so rows without a framework get none."""

BENCHMARK_WAVES = 10
"""A disaggregated run is read as a closed-loop benchmark that starts its C clients together and sends
10 x C requests (genai-perf's and aiperf's default request count, which aiconfigurator's own disaggregated
TTFT model assumes for this campaign: `sdk/backends` `_TTFT_NUM_REQUEST_ITERS_DEFAULT`); its mean TTFT holds
1/10 of the first wave's queue at the prefill pool (`steady_state.disaggregated`, `benchmark_waves`)."""

SPEC_ASSUMPTIONS = ("recipe", "off", "mtp")
MTP_RECIPE = SpecRecipe(
    speculative_tokens=1,
    acceptance=(0.85,),
    source="MTP with 1 draft on every model that has MTP layers, acceptance 0.85 (DeepSeek-V3 technical "
    "report sec. 5.4.3: 85-90% for the second token)",
)
"""What "mtp" assumes, on any engine: the engines' DeepSeek MTP (TensorRT-LLM `decoding_type: MTP`, SGLang
`--speculative-algorithm EAGLE` over the NextN layer, vLLM `deepseek_mtp`) with one draft."""
DEFAULT_SPEC_ASSUMPTION = "off"
"""Rows are predicted without speculative decoding unless asked ("recipe"): the disaggregated rows that
record their configuration (36 DeepSeek-V3 rows, TensorRT-LLM and SGLang under Dynamo) match MTP off
(leave-one-model-out TPOT 8% off vs 45% on), while others at the same nominal setting run up to 2x faster
(5.5 vs 10.9 ms), as MTP would; the CSV does not say which. `validate_serving` reports both."""
FRAMEWORKS = ("dynamo",)


def framework_of(row: Any) -> str | None:
    """The serving framework named in the row's `silicon_data_source` (e.g. an ai-dynamo image), if any."""
    src = str(row.get("silicon_data_source", "") or "").lower() if hasattr(row, "get") else ""
    return next((f for f in FRAMEWORKS if f in src), None)


def spec_recipe(model: Any, backend: str, framework: str | None) -> SpecRecipe | None:
    """The framework's default speculative decoding for `model` on `backend`, if its recipe has one."""
    if framework is None or not getattr(model, "mtp_layers", 0):
        return None
    name = str(getattr(model, "name", "")).lower()
    for (fw, engine, family), recipe in SPEC_RECIPES.items():
        if fw == framework and engine == backend and family in name:
            return recipe
    return None


def _deployment(
    row: Any, prefix: str, model: Any, system: Any, backend: str, precision: str, spec: SpecRecipe | None = None
) -> Deployment:
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
        speculative_tokens=spec.speculative_tokens if spec else 0,
        acceptance=spec.acceptance if spec else (),
    )


@dataclass
class RowPlan:
    index: Any
    mode: str
    deployment: Deployment | None
    decode: Deployment | None
    prefill_instances: int
    """0: not recorded (disaggregated), inferred by `predict_plans`."""
    decode_instances: int
    concurrency: float
    isl: float
    osl: float
    reason: str | None = None
    assumptions: list[str] = field(default_factory=list)
    """What the prediction assumed that the row does not say."""


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


def plan_row(
    idx: Any, row: Any, configs_dir: Path | None = None, spec_assumption: str = DEFAULT_SPEC_ASSUMPTION
) -> RowPlan:
    """Turn one CSV row into deployments, or a reason it cannot be predicted. `spec_assumption`: "recipe"
    runs speculative decoding where the serving framework's published recipe enables it (`SPEC_RECIPES`),
    "mtp" wherever the model has MTP layers (`MTP_RECIPE`), "off" never (`DEFAULT_SPEC_ASSUMPTION` says why
    off is the default)."""
    from inferonomics.catalog.hardware_catalog import get_hardware

    if spec_assumption not in SPEC_ASSUMPTIONS:
        raise ValueError(f"spec_assumption must be one of {SPEC_ASSUMPTIONS}, got {spec_assumption!r}")
    base = RowPlan(idx, str(row.get("mode", "agg")), None, None, 1, 1, 0.0, 0.0, 0.0)
    try:
        model = resolve_model(str(row["model_path"]), configs_dir)
        system = get_hardware(str(row["system"]))
        backend = str(row["backend"]).strip().lower()
        backend = BACKEND_ALIASES.get(backend, backend)
        precision = _precision_of(row)
        c = concurrency_of(row)
        if (c is None or c < 1) and base.mode == "disagg":
            c = _disagg_concurrency(row)
            if c is not None:
                base.assumptions.append("concurrency = decode_batch_size x decode workers x decode attention DP")
        if c is None or c < 1:
            base.reason = "no concurrency (silicon_concurrency and batch_size both empty)"
            return base
        base.concurrency, base.isl, base.osl = c, float(row["isl"]), float(row["osl"])
        spec = spec_recipe(model, backend, framework_of(row)) if spec_assumption == "recipe" else None
        if spec_assumption == "mtp" and int(getattr(model, "mtp_layers", 0) or 0):
            spec = MTP_RECIPE
        if spec is not None:
            base.assumptions.append(f"speculative decoding: {spec.source}")
        if base.mode == "disagg":
            base.deployment = _deployment(row, "prefill_", model, system, backend, precision)
            base.decode = _deployment(row, "decode_", model, system, backend, precision, spec)
            base.prefill_instances = int(_num(row, "prefill_num_workers", 0) or 0)
            base.decode_instances = int(_num(row, "decode_num_workers", 0) or 0)
        else:
            base.deployment = _deployment(row, "", model, system, backend, precision, spec)
        if base.isl < 1 or base.osl < 1:
            base.reason = "isl and osl must be >= 1"
    except InferonomicsError as exc:
        base.reason = str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        base.reason = f"bad row: {exc}"
    return base


def _disagg_concurrency(row: Any) -> float | None:
    """decode_batch_size x decode workers x decode attention DP, when the row gives all three."""
    batch, workers = _num(row, "decode_batch_size"), _num(row, "decode_num_workers")
    if batch is None or workers is None:
        return None
    return batch * workers * (_num(row, "decode_attention_dp_size", 1.0) or 1.0)


GRAPH_BATCHES = tuple(2**k for k in range(9))
"""Decode batches per attention rank a deployment is sized to: the CUDA-graph batch sizes the engines
capture (1, 2, 4 ... 256: NVIDIA Dynamo's TensorRT-LLM engine configs, `cuda_graph_config.batch_sizes`;
SGLang's default `cuda_graph_bs` holds the same powers of two)."""
MAX_DECODE_WORKERS = 16
"""The most decode workers `campaign_decode_workers` reads into a concurrency (the recorded runs use 1-11)."""


def campaign_decode_workers(concurrency: float, attention_dp: int, most_per_worker: float = np.inf) -> int | None:
    """Decode workers of a run that does not record them, read from its concurrency the way the recorded
    runs of the campaign set it: concurrency = decode batch x decode workers x attention DP (every recorded
    row satisfies it) with the batch one of `GRAPH_BATCHES`. The largest such batch whose sequences a
    worker's KV cache holds (`most_per_worker`: aiconfigurator caps the decode batch at the KV capacity)
    that leaves a whole number of at most `MAX_DECODE_WORKERS` workers; None when there is none (then the
    rate-matching planner decides)."""
    adp = max(attention_dp, 1)
    per_rank = concurrency / adp
    for b in sorted(GRAPH_BATCHES, reverse=True):
        if b * adp > most_per_worker:
            continue
        workers = per_rank / b
        if abs(workers - round(workers)) < 1e-9 and 1 <= round(workers) <= MAX_DECODE_WORKERS:
            return int(round(workers))
    return None


def _infer_workers(plans: list[RowPlan], cal: Calibration) -> None:
    """Fill in the worker counts of disaggregated plans that lack them (a rate-matching planner's choice:
    `plan_disaggregated_workers`) and say so in the plan's assumptions."""
    models: dict[Any, StepTimeModel] = {}

    def stm(dep: Deployment) -> StepTimeModel:
        if dep not in models:
            models[dep] = StepTimeModel(dep, cal)
        return models[dep]

    for p in plans:
        if p.mode != "disagg" or p.reason is not None or p.deployment is None or p.decode is None:
            continue
        if p.prefill_instances and p.decode_instances:
            continue
        held = float(max_sequences_held(stm(p.decode), p.isl + p.osl))
        read = None if p.decode_instances else campaign_decode_workers(p.concurrency, p.decode.attention_dp, held)
        try:
            pw, dw = plan_disaggregated_workers(
                stm(p.deployment), stm(p.decode), p.concurrency, p.isl, p.osl, p.decode_instances or read
            )
        except InferonomicsError as exc:
            p.reason = str(exc)
            continue
        said = []
        if not p.prefill_instances:
            p.prefill_instances = pw
            said.append(f"{pw} prefill")
        if not p.decode_instances:
            p.decode_instances = dw
            said.append(f"{dw} decode")
        how = (
            "decode from the concurrency (graph batch x workers), prefill by rate matching"
            if read
            else ("rate-matching planner")
        )
        p.assumptions.append(f"workers not recorded: {' + '.join(said)} ({how})")


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
        d.speculative_tokens,
        "; ".join(plan.assumptions),
    )


def predict_plans(plans: list[RowPlan], calibration: Calibration | None = None) -> pd.DataFrame:
    """Predicted TTFT/TPOT (ms) per plan, vectorised over the rows that share a deployment."""
    cal = calibration or default_calibration()
    _infer_workers(plans, cal)
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
                    benchmark_waves=BENCHMARK_WAVES,
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
                "prefill_workers": p.prefill_instances if p.mode == "disagg" else None,
                "decode_workers": p.decode_instances if p.mode == "disagg" else None,
            }
    out = pd.DataFrame.from_dict(rows, orient="index")
    for col in PREDICTION_COLUMNS:
        if col not in out.columns:
            out[col] = None if col == "skip_reason" else np.nan
    return out.reindex([p.index for p in plans])


def predict_frame(
    df: pd.DataFrame,
    calibration: Calibration | None = None,
    configs_dir: Path | None = None,
    spec_assumption: str = DEFAULT_SPEC_ASSUMPTION,
) -> pd.DataFrame:
    """`df` with pred_ttft_ms (and its range, pred_ttft_low_ms .. pred_ttft_high_ms), pred_tpot_ms, ttft_ape,
    tpot_ape, skip_reason, assumption (what the row did not say), prefill/decode_workers (disaggregated) and
    (with silicon_data_source) campaign (`validate.campaign`) columns added. Models not in the catalog are
    looked for as Hugging Face configs in `configs_dir`; `spec_assumption` as `plan_row`."""
    plans = [plan_row(idx, row, configs_dir, spec_assumption) for idx, row in df.iterrows()]
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
    """What was assumed to read the row's parallelism (conventions, redundant experts), its clients,
    worker counts and speculative decoding (`RowPlan.assumptions`), '; '-joined."""
    notes: list[str] = list(plan.assumptions)
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
    summary = summarize(res)
    summary["assumptions"] = assumption_counts(res)
    summary["speculative_both_ways"] = speculative_both_ways(df, res, calibration, configs)
    summary["speculative_inferred"] = speculative_inferred(df, res, calibration, configs)
    summary["same_setting_spread"] = same_setting_spread(df)
    return summary, res


def assumption_counts(res: pd.DataFrame) -> dict[str, int]:
    """How many predicted rows rest on each kind of assumption (the text before its first colon)."""
    counts: dict[str, int] = {}
    for text in res.loc[res["pred_tpot_ms"].notna(), "assumptions"].dropna():
        for part in filter(None, str(text).split("; ")):
            pieces = part.split(": ")
            kind = pieces[1] if pieces[0] in ("prefill", "decode") and len(pieces) > 1 else pieces[0]
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def speculative_both_ways(
    df: pd.DataFrame, res: pd.DataFrame, calibration: Calibration | None, configs_dir: Path | None
) -> dict[str, Any]:
    """The error on the rows where a framework's recipe runs speculative decoding (`SPEC_RECIPES`), with
    it on and with it off (`res` holds the predictions without it)."""
    on = predict_frame(df, calibration, configs_dir, spec_assumption="recipe")
    rows = on["assumptions"].fillna("").str.contains("speculative decoding") & on["pred_tpot_ms"].notna()
    if not rows.any():
        return {}
    on, off = on[rows], res[rows]
    return {
        "rows": int(rows.sum()),
        "assumption": str(on["assumptions"].iloc[0]).split("speculative decoding: ")[-1].split("; ")[0],
        "on": {"ttft": _stats(on["ttft_ape"]), "tpot": _stats(on["tpot_ape"])},
        "off": {"ttft": _stats(off["ttft_ape"]), "tpot": _stats(off["tpot_ape"])},
    }


def speculative_inferred(
    df: pd.DataFrame, res: pd.DataFrame, calibration: Calibration | None, configs_dir: Path | None
) -> dict[str, Any]:
    """The error with MTP read from each row's own TPOT, a diagnosis of the data rather than a prediction
    (the CSV does not say which runs drafted): a row of a model with MTP layers runs MTP (`MTP_RECIPE`) when
    its measured TPOT is below the model's step without drafts at one sequence per attention rank (decode
    worker's layout, no fitted disaggregation constants), which no larger batch can undercut; the others run
    without. `res` holds the predictions without MTP."""
    cal = calibration or default_calibration()
    floors: dict[Any, float] = {}
    models: dict[Deployment, StepTimeModel] = {}
    for idx, row in df.iterrows():
        plan = plan_row(idx, row, configs_dir)
        dep = plan.decode if plan.decode is not None else plan.deployment
        if plan.reason is not None or dep is None or not getattr(dep.model, "mtp_layers", 0):
            continue
        stm = models.setdefault(dep, StepTimeModel(dep, cal))
        floors[idx] = float(stm.decode_step_time_s(dep.attention_dp, plan.isl + plan.osl / 2.0)) * 1e3
    if not floors:
        return {}
    floor_ms = pd.Series(floors, dtype=float).reindex(df.index)
    pick = (df["silicon_tpot_ms"] < floor_ms) & res["pred_tpot_ms"].notna()
    mixed = res.copy()
    if pick.any():
        on = predict_frame(df[pick], calibration, configs_dir, spec_assumption="mtp")
        for col in ("pred_ttft_ms", "pred_tpot_ms", "ttft_ape", "tpot_ape"):
            mixed.loc[pick, col] = on[col]
    judged = mixed[floor_ms.notna() & mixed["pred_tpot_ms"].notna()]
    return {
        "rows": int(len(judged)),
        "rows_mtp": int(pick.sum()),
        "assumption": MTP_RECIPE.source,
        "ttft": _stats(judged["ttft_ape"]),
        "tpot": _stats(judged["tpot_ape"]),
        "off": {"ttft": _stats(res.loc[judged.index, "ttft_ape"]), "tpot": _stats(res.loc[judged.index, "tpot_ape"])},
        "all": {"ttft": _stats(mixed["ttft_ape"]), "tpot": _stats(mixed["tpot_ape"])},
    }


SETTING_COLUMNS = ("backend", "system", "model_path", "isl", "osl")


def same_setting_spread(df: pd.DataFrame) -> dict[str, Any]:
    """How far apart distinct runs of one nominal setting (engine, system, model, ISL/OSL, concurrency) are:
    each run's TTFT and TPOT against the geometric mean of the other distinct runs of its setting (median
    |error|). Runs that repeat another's measurements exactly are counted once. A model that sees only what
    the row says cannot beat this where the runs differ in what the rows do not record (worker counts,
    speculative decoding, attention DP)."""
    conc = pd.Series([concurrency_of(r) for _, r in df.iterrows()], index=df.index, dtype=float)
    d = df.assign(_c=conc).dropna(subset=["_c"])
    keys = [*SETTING_COLUMNS, "_c"]
    d = d.drop_duplicates([*keys, "silicon_ttft_ms", "silicon_tpot_ms"])
    size = d.groupby(keys)["silicon_tpot_ms"].transform("size")
    d = d[size > 1]
    out: dict[str, Any] = {"rows": int(len(d)), "settings": int(d.groupby(keys).ngroups)}
    for m in ("ttft", "tpot"):
        logs = pd.Series(np.log(d[f"silicon_{m}_ms"].to_numpy(float)), index=d.index)
        grouped = logs.groupby([d[k] for k in keys])
        others = np.exp((grouped.transform("sum") - logs) / (grouped.transform("size") - 1))
        out[m] = float(np.median(np.abs(others / np.exp(logs) - 1.0))) if len(d) else float("nan")
    return out
