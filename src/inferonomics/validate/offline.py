"""Offline (maximum) throughput tables: predict each cell and report the error per group.

Schema: TensorRT-LLM's published offline throughput (`shared/data/published/trtllm_offline_v0.17.csv`,
from NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md, "generated using version 0.17"):
one row per (model, gpu, parallelism, precision, isl_tokens, osl_tokens) with `value_tokens_per_s`, the
output tokens/s of the whole TP group, requests issued at an infinite rate with fixed lengths.

The prediction of a cell is the best output tokens/s the closed-loop steady state reaches when the
replica holds as many sequences as its KV cache allows (`predict_deployment(max_throughput=True)`): the
batch it chose is reported (`pred_concurrency`). Assumptions stated once, here:
- the engine is TensorRT-LLM (`trtllm`) configured as `trtllm-bench` builds and runs it for the cell's
  lengths (`validate/trtllm_bench.py`: its max_batch_size and max_num_tokens heuristic, the KV cache at 0.95
  of the memory free after the engine loads, guaranteed-no-evict admission of whole ISL + OSL); before
  (2026-12-07) the engine's serving defaults were used (0.90, a batch bounded by KV memory alone, 8,192-token
  activation profile): median error 14.7% -> 13.9%;
- FP8 means FP8 weights and activations with an FP8 KV cache, FP16 means fp16 weights and KV cache;
- published GPU names map to catalog systems by `GPU_NAMES`; a name or model not in the catalog is a
  skipped row with its reason (coverage is reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.errors import InferonomicsError
from inferonomics.perf.calibration import Calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.validate.tables import load_table
from inferonomics.validate.trtllm_bench import build_settings

REQUIRED_COLUMNS = ("model", "gpu", "parallelism", "precision", "isl_tokens", "osl_tokens", "value_tokens_per_s")

GPU_NAMES: tuple[tuple[str, str], ...] = (
    (r"^GH200.*(480GB|96GB)", "gh200_96gb"),
    (r"^GH200", "gh200"),
    (r"^H200.*NVL", "h200_nvl"),
    (r"^H200", "h200_sxm"),
    (r"^H100.*NVL", "h100_nvl"),
    (r"^H100.*PCIe", "h100_pcie"),
    (r"^H100", "h100_sxm"),
    (r"^A100", "a100_sxm"),
    (r"^L40S", "l40s"),
    (r"^B200", "b200_sxm"),
    (r"^MI300X", "mi300x"),
    (r"^MI325X", "mi325x"),
    (r"^MI355X", "mi355x"),
)
"""Published accelerator names (vendor prefix removed) -> catalog system ids. "GH200 480GB" is the GH200
with 96 GB of HBM3 (480 GB is its LPDDR5X); the 144 GB part has HBM3e."""

MODEL_NAMES: tuple[tuple[str, str], ...] = (
    (r"llama\s*v?3\.1\s*8b", "llama-3.1-8b"),
    (r"llama\s*v?3\.1\s*70b", "llama-3.1-70b"),
    (r"llama\s*v?3\.1\s*405b", "llama-3.1-405b"),
    (r"llama\s*-?v?2\s*-?70b", "llama-2-70b"),
    (r"mistral\s*7b", "mistral-7b"),
    (r"mixtral\s*-?8x7b", "mixtral-8x7b"),
    (r"mixtral\s*-?8x22b", "mixtral-8x22b"),
    (r"gpt-?j", "gpt-j-6b"),
)
"""Published model names -> catalog model ids."""


def _lookup(table: tuple[tuple[str, str], ...], name: str) -> str | None:
    clean = re.sub(r"^(NVIDIA|AMD|Instinct)\s+", "", str(name).strip(), flags=re.I)
    clean = re.sub(r"^(NVIDIA|AMD|Instinct)\s+", "", clean, flags=re.I)
    for pattern, key in table:
        if re.search(pattern, clean, flags=re.I):
            return key
    return None


def resolve_system(name: str) -> Any:
    """The catalog system for a published accelerator name (`UnknownNameError` / `InferonomicsError`)."""
    from inferonomics.catalog.hardware_catalog import get_hardware

    key = _lookup(GPU_NAMES, name)
    if key is None:
        raise InferonomicsError(f"accelerator {name!r} has no catalog entry")
    return get_hardware(key)


def resolve_model(name: str) -> Any:
    """The catalog model for a published model name."""
    from inferonomics.catalog.model_catalog import get_model

    key = _lookup(MODEL_NAMES, name)
    return get_model(key if key is not None else str(name))


@dataclass(frozen=True)
class BestThroughput:
    """Predicted maximum output tokens/s of one replica and the batch (concurrency) that reached it."""

    output_tokens_per_s: float
    concurrency: float
    tpot_s: float


def best_throughput(dep: Deployment, isl: float, osl: float, cal: Calibration | None = None) -> BestThroughput:
    """The steady state's best output tokens/s of one replica within its KV memory (see module doc)."""
    from inferonomics.perf.predict import predict_deployment

    pred = predict_deployment(dep, int(round(isl)), int(round(osl)), max_throughput=True, calibration=cal)
    return BestThroughput(pred.output_tokens_per_s / dep.replicas, pred.concurrency / dep.replicas, pred.tpot_s)


def _tp_of(parallelism: Any) -> int:
    m = re.fullmatch(r"\s*TP\s*(\d+)\s*", str(parallelism), flags=re.I)
    if not m:
        raise InferonomicsError(f"parallelism {parallelism!r} is not TPn")
    return int(m.group(1))


def _precisions(precision: Any) -> tuple[str, str]:
    p = str(precision).strip().lower()
    return (p, "fp8") if p in ("fp8", "fp4", "nvfp4") else (p, p)


def predict_offline_frame(df: pd.DataFrame, cal: Calibration | None = None) -> pd.DataFrame:
    """`df` with system, model_id, pred_tokens_per_s, pred_concurrency, ape and skip_reason columns."""
    out: list[dict[str, Any]] = []
    for _, row in df.iterrows():
        rec: dict[str, Any] = {"system": None, "model_id": None, "pred_tokens_per_s": np.nan}
        rec.update(
            pred_concurrency=np.nan, engine_max_batch_size=np.nan, engine_max_num_tokens=np.nan, skip_reason=None
        )
        try:
            system = resolve_system(row["gpu"])
            model = resolve_model(row["model"])
            rec["system"], rec["model_id"] = system.name, model.name
            w, kv = _precisions(row["precision"])
            tp = _tp_of(row["parallelism"])
            isl, osl = float(row["isl_tokens"]), float(row["osl_tokens"])
            bench = build_settings(model, system.chip, tp, isl, osl, w, kv)
            dep = Deployment(
                model=model,
                system=system,
                tp=tp,
                weight_precision=w,
                kv_precision=kv,
                backend="trtllm",
                engine_args=bench.engine_args(),
            )
            best = best_throughput(dep, isl, osl, cal)
            rec["pred_tokens_per_s"] = best.output_tokens_per_s
            rec["pred_concurrency"] = best.concurrency
            rec["engine_max_batch_size"], rec["engine_max_num_tokens"] = bench.max_batch_size, bench.max_num_tokens
        except InferonomicsError as exc:
            rec["skip_reason"] = str(exc)
        out.append(rec)
    res = pd.concat([df.reset_index(drop=True), pd.DataFrame(out)], axis=1)
    measured = pd.to_numeric(res["value_tokens_per_s"], errors="coerce")
    res["ape"] = (res["pred_tokens_per_s"] - measured).abs() / measured
    return res


def group_errors(res: pd.DataFrame, keys: list[str], error: str = "ape") -> list[dict[str, Any]]:
    """Median and p90 of `error` per group of `keys` (rows with a prediction), sorted by the keys."""
    rows = []
    done = res[res[error].notna()]
    for key, g in done.groupby(keys, dropna=False):
        vals = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **{k: str(v) for k, v in zip(keys, vals, strict=True)},
                "n": int(len(g)),
                "median_ape": float(g[error].median()),
                "p90_ape": float(g[error].quantile(0.9)),
            }
        )
    return rows


def summarize_offline(res: pd.DataFrame) -> dict[str, Any]:
    """Overall and per-(system, model, engine) median / p90 absolute error, coverage and skipped rows."""
    done = res[res["ape"].notna()]
    skipped = res[res["ape"].isna()]
    res = res.assign(engine="trtllm")
    return {
        "rows": int(len(res)),
        "predicted": int(len(done)),
        "coverage": float(len(done) / len(res)) if len(res) else 0.0,
        "median_ape": float(done["ape"].median()) if len(done) else float("nan"),
        "p90_ape": float(done["ape"].quantile(0.9)) if len(done) else float("nan"),
        "groups": group_errors(res, ["system", "model_id", "engine"]),
        "skipped": sorted(
            {f"{r.gpu} / {r.model}: {r.skip_reason}" for r in skipped.itertuples() if isinstance(r.skip_reason, str)}
        ),
    }


def validate_offline(path: str | Path, cal: Calibration | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Predict every cell of the offline-throughput CSV at `path`; (summary, per-row frame)."""
    df = load_table(path, REQUIRED_COLUMNS)
    res = predict_offline_frame(df, cal)
    return summarize_offline(res), res
