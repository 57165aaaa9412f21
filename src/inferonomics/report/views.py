"""What the web page and the reports show, as JSON-ready dicts: each view calls the Python API and keeps
only presentation (downsampling, CDFs, time bins, the placement of operators on a roofline).

Every view returns plain Python values (no NumPy, NaN and infinities as None) so it can go to JSON,
to a Plotly figure (`charts.py`) or to matplotlib (`png.py`) alike.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.errors import InvalidInputError

MAX_SWEPT_POINTS = 1500
"""Frontier: at most this many swept (non-Pareto) points go to the chart."""
CDF_POINTS = 200
KV_TIME_BINS = 300
MAX_REPLICA_SERIES = 8


# ---------------------------------------------------------------------------------------------------
# JSON-ready values
# ---------------------------------------------------------------------------------------------------


def plain(obj: Any) -> Any:
    """`obj` as plain JSON values: NumPy scalars and arrays unwrapped, NaN/inf -> None, objects with
    `to_dict()` and dataclasses expanded, DataFrames as lists of records."""
    if obj is None or isinstance(obj, bool | str | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return plain(float(obj))
    if isinstance(obj, np.ndarray):
        return [plain(v) for v in obj.tolist()]
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [plain(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return [plain(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return plain(obj.to_dict())
    if hasattr(obj, "to_dict"):
        return plain(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return plain(dataclasses.asdict(obj))
    return str(obj)


def _thin(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """At most `n` rows, evenly spaced (keeps the cloud's shape)."""
    if len(df) <= n:
        return df
    idx = np.unique(np.linspace(0, len(df) - 1, n).round().astype(int))
    return df.iloc[idx]


# ---------------------------------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------------------------------


def catalog_view() -> dict[str, Any]:
    """Models, hardware, precisions, price sheets and market points for the pickers."""
    from inferonomics.catalog.hardware_catalog import list_hardware
    from inferonomics.catalog.model_catalog import list_models
    from inferonomics.catalog.precision import precision_names
    from inferonomics.catalog.prices import list_market_points, list_prices
    from inferonomics.perf import BACKENDS

    models = list_models()[
        ["name", "family", "total_params", "active_params", "attention", "native_precision", "max_context_tokens"]
    ]
    hardware = list_hardware()[
        ["system", "chip", "vendor", "hbm_gb", "hbm_bandwidth_tb_s", "bf16_tflops", "rental_usd_per_chip_hour"]
    ]
    prices = list_prices()[["key", "provider", "model", "input_usd_per_mtok", "output_usd_per_mtok", "date"]]
    return plain(
        {
            "models": models,
            "hardware": hardware,
            "precisions": [p for p in precision_names() if p != "fp32"],
            "backends": list(BACKENDS),
            "price_sheets": prices,
            "market_points": list_market_points(),
        }
    )


# ---------------------------------------------------------------------------------------------------
# Deployments and predictions
# ---------------------------------------------------------------------------------------------------


def prediction_view(dep: Any, isl: int, osl: int, concurrency: float | None, max_throughput: bool) -> dict[str, Any]:
    """`predict_deployment(...).to_dict()` plus the deployment in words."""
    from inferonomics.perf import predict_deployment

    pred = predict_deployment(dep, isl, osl, concurrency, max_throughput=max_throughput)
    out = pred.to_dict()
    out["deployment"] = dep.describe()
    out["chips_per_replica"] = dep.chips_per_replica
    return plain(out)


def disaggregated_view(spec: Any, isl: int, osl: int, concurrency: float) -> dict[str, Any]:
    """`predict_disaggregated(...).to_dict()` plus both pools in words."""
    from inferonomics.perf import predict_disaggregated

    out = predict_disaggregated(spec, isl, osl, concurrency).to_dict()
    out["deployment"] = (
        f"prefill: {spec.prefill_instances} x {spec.prefill.describe()}; "
        f"decode: {spec.decode_instances} x {spec.decode.describe()}"
    )
    out["chips_per_replica"] = spec.decode.chips_per_replica
    return plain(out)


def floors_view(
    model: ModelSpec,
    system: System,
    *,
    context_tokens: int,
    precision: str | None,
    kv_precision: str | None,
    usd_per_chip_hour: float | None,
) -> dict[str, Any]:
    from inferonomics.perf.bounds import floors

    if usd_per_chip_hour is None and system.rental_usd_per_hour is None:
        raise InvalidInputError(
            f"the catalog has no rental price for {system.name}; give usd_per_chip_hour for the cost floor"
        )
    f = floors(
        model,
        system,
        context_tokens=context_tokens,
        precision=precision,
        kv_precision=kv_precision,
        usd_per_chip_hour=usd_per_chip_hour,
    )
    return plain(f.to_dict())


# ---------------------------------------------------------------------------------------------------
# Roofline
# ---------------------------------------------------------------------------------------------------


def roofline_view(dep: Any, isl: int, osl: int, batch: float) -> dict[str, Any]:
    """The chip's roofline (attainable FLOP/s = min(peak, intensity x HBM bandwidth)) and where a
    serving step's operators sit on it.

    Intensities come from the model's FLOPs and bytes (`catalog.model_figures`), per operator:
    decode GEMMs at batch B: 2 B x matmul params / bytes of the weights those B tokens touch
    (~ 2B / bytes per weight); decode attention: attention FLOPs / KV bytes of one sequence at the
    mean context (independent of B: each sequence reads its own cache); prefill GEMMs of one prompt:
    2 ISL x params / weight bytes; prefill attention: its FLOPs / the KV bytes it writes. Each operator
    is drawn on the roof (its best case); the step-time model's own efficiencies are in the breakdown.
    """
    from inferonomics.catalog.model_figures import (
        attention_flops_per_token,
        kv_bytes,
        matmul_params_per_token,
    )
    from inferonomics.catalog.precision import get_precision
    from inferonomics.perf.bounds import active_weight_bytes

    if not batch >= 1 or not math.isfinite(batch):
        raise InvalidInputError(f"batch must be >= 1, got {batch!r}")
    m = dep.model
    chip = dep.system.chip
    w = dep.weight_precision
    kv = dep.kv_precision
    bw = chip.hbm_bandwidth_bytes_per_s
    peak = chip.gemm_flops_per_s(w)
    ctx = isl + osl / 2.0
    params = float(matmul_params_per_token(m))

    def op(name: str, phase: str, flops: float, nbytes: float, what: str) -> dict[str, Any] | None:
        if not (flops > 0 and nbytes > 0):
            return None
        intensity = flops / nbytes
        attainable = min(peak, intensity * bw)
        return {
            "name": name,
            "phase": phase,
            "intensity_flops_per_byte": intensity,
            "attainable_flops_per_s": attainable,
            "flops": flops,
            "bytes": nbytes,
            "time_on_roof_s": flops / attainable,
            "bound": "compute" if intensity * bw >= peak else "memory",
            "what": what,
        }

    b = float(batch)
    kv_seq = float(kv_bytes(m, ctx, kv))
    ops = [
        op(
            f"decode GEMMs, batch {b:g}",
            "decode",
            2.0 * b * params,
            active_weight_bytes(m, w, tokens=b),
            "all linear layers for one decode step of the batch",
        ),
        op(
            "decode GEMMs, batch 1",
            "decode",
            2.0 * params,
            active_weight_bytes(m, w, tokens=1.0),
            "one user alone",
        ),
        op(
            f"decode attention, {ctx:,.0f}-token context",
            "decode",
            float(attention_flops_per_token(m, ctx, decode=True)),
            kv_seq,
            "scores and values of one sequence against its KV cache",
        ),
        op(
            f"prefill GEMMs, {isl:,} tokens",
            "prefill",
            2.0 * isl * params,
            active_weight_bytes(m, w, tokens=float(isl)),
            "all linear layers for one prompt",
        ),
        op(
            f"prefill attention, {isl:,} tokens",
            "prefill",
            float(isl * attention_flops_per_token(m, (isl + 1) / 2.0, decode=False)),
            float(kv_bytes(m, isl, kv)),
            "causal attention over the prompt / the KV it writes",
        ),
    ]
    ridge = peak / bw
    lo = min([0.1, *(o["intensity_flops_per_byte"] / 3 for o in ops if o)])
    hi = max([ridge * 30, *(o["intensity_flops_per_byte"] * 3 for o in ops if o)])
    xs = np.geomspace(lo, hi, 64)
    xs = np.unique(np.append(xs, ridge))
    peaks = {t: chip.peak_flops_per_s(t) for t in ("bf16", "fp8", "int8", "fp4") if chip.peak_flops_per_s(t) > 0}
    return plain(
        {
            "chip": chip.name,
            "system": dep.system.name,
            "model": m.name,
            "precision": w,
            "kv_precision": kv,
            "bytes_per_weight": get_precision(w).bytes_per_value,
            "peak_flops_per_s": peak,
            "peaks_flops_per_s": peaks,
            "hbm_bandwidth_bytes_per_s": bw,
            "ridge_flops_per_byte": ridge,
            "roof": {
                "intensity_flops_per_byte": xs,
                "attainable_flops_per_s": np.minimum(peak, xs * bw),
            },
            "operators": [o for o in ops if o is not None],
            "notes": [
                "operators drawn on the roof (their best case); per-chip figures, whole-model FLOPs and bytes",
                f"peak at {w}: {peak / 1e12:,.0f} TFLOP/s; HBM {bw / 1e12:.2f} TB/s; ridge {ridge:,.0f} FLOP/byte",
            ],
        }
    )


# ---------------------------------------------------------------------------------------------------
# Economics
# ---------------------------------------------------------------------------------------------------


def frontier_view(model: ModelSpec, system: System, **kwargs: Any) -> dict[str, Any]:
    """`economics.frontier(...)`: the Pareto set, the marks and floors, a thinned cloud of every swept
    point, and the market's observed (speed, blended price) points to overlay."""
    from inferonomics.economics import frontier
    from inferonomics.economics.compare import market_points_for

    f = frontier(model, system, **kwargs)
    out = f.to_dict()
    cols = ["tokens_per_s_per_user", "usd_per_mtok_output", "batch_size", "chips", "ttft_s", "deployment"]
    pts = f.all_points
    pts = pts[np.isfinite(pts["usd_per_mtok_output"]) & np.isfinite(pts["tokens_per_s_per_user"])]
    disagg = pts["mode"] == "disagg"
    swept = pts[~pts["pareto"] & ~disagg][cols]
    out["swept"] = _thin(swept.sort_values("tokens_per_s_per_user"), MAX_SWEPT_POINTS)
    # disaggregated (xPyD) points, Pareto or not, as a labelled option of their own
    out["swept_disaggregated"] = _thin(pts[disagg][cols].sort_values("tokens_per_s_per_user"), MAX_SWEPT_POINTS)
    out["market_points"] = market_points_for(model)  # this model's offers only, each labelled
    out["notes"] = [
        *out.get("notes", []),
        "market points are observed offers for this model (same family and size): one request's output speed "
        "and a blended (3:1 input:output) price, not USD per M output tokens",
    ]
    return plain(out)


def price_sheet_view(dep: Any, provider_sheet: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """A derived price sheet and, with `provider_sheet`, a provider's real one beside it and the comparison."""
    from inferonomics.economics import compare_sheets, derive_price_sheet

    derived = derive_price_sheet(dep, **kwargs)
    out: dict[str, Any] = {"derived": derived.to_dict(), "provider": None, "comparison": None}
    if provider_sheet:
        from inferonomics.catalog.prices import get_price_sheet

        sheet = get_price_sheet(provider_sheet)
        out["provider"] = sheet.to_dict()
        try:
            c = compare_sheets(derived, sheet)
        except ZeroDivisionError:  # a cost line of zero (e.g. cache reads from HBM): no markup to show
            out["comparison"] = {
                "title": f"{derived.model} derived vs {sheet.key}",
                "headline": f"{sheet.key} beside our prices; no markup computed (one of our cost lines is zero)",
                "table": [],
                "notes": [],
            }
        else:
            out["comparison"] = {"title": c.title, "headline": c.headline, "table": c.table, "notes": list(c.notes)}
    return plain(out)


def read_prices_view(sheet: str, reference_model: str | None, hardware: str) -> dict[str, Any]:
    from inferonomics.economics import read_price_sheet

    return plain(read_price_sheet(sheet, reference_model=reference_model, hardware=hardware).to_dict())


# ---------------------------------------------------------------------------------------------------
# Simulation and search
# ---------------------------------------------------------------------------------------------------


def _cdf(values: np.ndarray, n: int = CDF_POINTS) -> dict[str, list[Any]]:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"ms": [], "fraction": []}
    q = np.linspace(0.0, 1.0, min(n, max(x.size, 2)))
    return {"ms": plain(np.quantile(x, q) * 1e3), "fraction": plain(q)}


def _time_binned(it: pd.DataFrame, column: str, t_end: float, bins: int) -> dict[str, list[Any]]:
    """Duration-weighted mean of `column` in equal time bins (bins without iterations: None)."""
    if len(it) == 0 or t_end <= 0:
        return {"t_s": [], "value": []}
    edges = np.linspace(0.0, t_end, bins + 1)
    t = it["start_s"].to_numpy(dtype=float)
    d = it["duration_s"].to_numpy(dtype=float)
    v = it[column].to_numpy(dtype=float)
    weight, _ = np.histogram(t, bins=edges, weights=d)
    total, _ = np.histogram(t, bins=edges, weights=d * v)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), np.nan)
    return {"t_s": plain((edges[:-1] + edges[1:]) / 2.0), "value": plain(mean)}


def simulation_view(res: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `SimResult` as its summary, latency CDFs (TTFT, TPOT, end to end) and KV occupancy and batch
    over time per replica (the first `MAX_REPLICA_SERIES`)."""
    rq = res.requests
    done = rq[rq["status"] == "completed"]
    it = res.iterations
    t_end = float((it["start_s"] + it["duration_s"]).max()) if len(it) else 0.0
    kv: list[dict[str, Any]] = []
    for r in sorted(it["replica"].unique().tolist())[:MAX_REPLICA_SERIES] if len(it) else []:
        sub = it[it["replica"] == r]
        kv.append(
            {
                "replica": int(r),
                "kv_occupancy": _time_binned(sub, "kv_occupancy", t_end, KV_TIME_BINS),
                "running": _time_binned(sub, "running", t_end, KV_TIME_BINS),
            }
        )
    return plain(
        {
            "summary": {**res.summary, **(extra or {})},
            "cdf": {
                "ttft": _cdf(done["ttft_s"].to_numpy()),
                "tpot": _cdf(done["tpot_s"].to_numpy()),
                "e2e": _cdf(done["e2e_s"].to_numpy()),
            },
            "over_time": kv,
            "replicas": res.replicas,
        }
    )


def search_view(res: Any, pareto_limit: int = 60, cloud: int = 800) -> dict[str, Any]:
    """`SearchResult.to_dict()` plus a thinned cloud of the feasible rows behind its Pareto set."""
    out = res.to_dict(pareto_limit=pareto_limit)
    rows = res.rows
    feasible: Any = []
    cols = ["tokens_per_s_per_user", "usd_per_mtok"]
    if len(rows) and all(c in rows.columns for c in cols) and "feasible" in rows.columns:
        sub = rows[rows["feasible"].astype(bool)][cols]
        sub = sub[np.isfinite(sub[cols[0]]) & np.isfinite(sub[cols[1]])]
        feasible = _thin(sub.sort_values(cols[0]), cloud)
    out["feasible_cloud"] = feasible
    return plain(out)


__all__ = [
    "catalog_view",
    "floors_view",
    "frontier_view",
    "plain",
    "prediction_view",
    "price_sheet_view",
    "read_prices_view",
    "roofline_view",
    "search_view",
    "simulation_view",
]
