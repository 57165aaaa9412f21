"""The notebook API: one call per question, by name, returning a result object or a DataFrame.

Thin wrappers: each resolves the deployment from names the way the CLI does (`economics.spec`:
`DeploymentSpec(tp="auto").resolve()`, tp left out = auto) and calls the function that does the work;
nothing is computed here. Results print short and show a table (and a chart)
in Jupyter (`inferonomics.results.ResultMixin`); `.to_frame()` and `.to_dict()` give the data.

    import inferonomics as inf
    inf.cost("llama-3.1-70b", "h100_sxm", isl=2048, osl=512)     # auto deployment; or tp=4
    inf.frontier("llama-3.1-70b", "h100_sxm").to_frame()
    inf.simulate("llama-3.1-8b", "h100_sxm", rate_per_s=4, num_requests=200, isl=512, osl=128)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inferonomics.economics import frontier as frontier  # re-exported as it is

DEPLOYMENT_KEYS = (
    "tp",
    "pp",
    "ep",
    "dp",
    "attention_dp",
    "precision",
    "kv_precision",
    "expert_precision",
    "backend",
    "speculative_tokens",
    "acceptance_rate",
    "acceptance",
    "overrides",
    "engine_args",
    "max_chips",
)
"""Keyword arguments that describe the deployment (`economics.spec.DeploymentSpec`); the rest go to the call."""


def _resolve(model: Any, hardware: Any, kwargs: dict[str, Any], workload: Any) -> tuple[Any, dict[str, Any]]:
    """The deployment through the one resolver the CLI and the web app use (`DeploymentSpec.resolve`):
    `tp` left out (or "auto") = the cheapest deployment that fits and meets the workload's targets."""
    from inferonomics.economics.spec import DeploymentSpec, parse_tp

    dep_kw = {k: kwargs.pop(k) for k in DEPLOYMENT_KEYS if k in kwargs}
    tp = parse_tp(dep_kw.pop("tp", "auto"))
    return DeploymentSpec(model, hardware, tp=tp, **dep_kw).resolve(workload), kwargs


def predict(
    model: Any,
    hardware: Any,
    *,
    isl: int,
    osl: int,
    concurrency: float | None = None,
    max_throughput: bool = False,
    objective: str = "cost",
    **kwargs: Any,
) -> Any:
    """Steady-state prediction (`perf.predict_deployment`) as `inferonomics predict` makes it: deployment
    keywords (tp, pp, ep, precision, ...; tp left out = auto) through the resolver, whose choice and reason
    are in `.resolution_note`."""
    from inferonomics.economics.spec import Workload
    from inferonomics.errors import InvalidInputError
    from inferonomics.perf import predict_deployment

    if (concurrency is None) == (not max_throughput):
        raise InvalidInputError("give exactly one of concurrency=C or max_throughput=True")
    r, rest = _resolve(model, hardware, dict(kwargs), Workload(isl, osl, concurrency, objective=objective))  # type: ignore[arg-type]
    pred = predict_deployment(r.deployment, isl, osl, concurrency, max_throughput=max_throughput, **rest)
    pred.resolution_note = r.note  # type: ignore[attr-defined]
    return pred


def cost(model: Any, hardware: Any, *, isl: int, osl: int, concurrency: float | None = None, **kwargs: Any) -> Any:
    """USD per million input and output tokens (`economics.token_cost`) as `inferonomics cost` gives them:
    deployment keywords (tp, pp, ep, precision, ...; tp left out = auto) through the resolver, the load
    (`concurrency` None) the resolver's point; the rest (utilisation, usd_per_chip_hour, ...) as in
    `token_cost`. The resolver's choice is the first note."""
    from dataclasses import replace

    from inferonomics.economics import token_cost
    from inferonomics.economics.spec import Workload

    r, rest = _resolve(model, hardware, dict(kwargs), Workload(isl, osl, concurrency))
    tc = token_cost(r.deployment, isl, osl, concurrency or r.concurrency, **rest)
    return replace(tc, notes=(r.note, *tc.notes))


def price_sheet(model: Any, hardware: Any, **kwargs: Any) -> Any:
    """A derived price sheet (`economics.derive_price_sheet`) as `inferonomics price-sheet` derives it:
    deployment keywords (tp left out = auto, at the sheet's standard speed) through the resolver, the rest
    (isl, osl, utilisation, margin, ...) as in `derive_price_sheet`. The resolver's choice is the first note."""
    from dataclasses import replace

    from inferonomics.economics import derive_price_sheet
    from inferonomics.economics.spec import Workload

    isl, osl = kwargs.get("isl", 1024), kwargs.get("osl", 1024)
    speed = kwargs.get("min_tokens_per_s_per_user", 20.0)
    r, rest = _resolve(model, hardware, dict(kwargs), Workload(isl, osl, min_tokens_per_s_per_user=speed))
    sheet = derive_price_sheet(r.deployment, **rest)
    return replace(sheet, notes=(r.note, *sheet.notes))


def simulate(
    model: Any,
    hardware: Any,
    workload: Any = None,
    *,
    rate_per_s: float | None = None,
    num_requests: int = 500,
    isl: Any = 1024,
    osl: Any = 256,
    seed: int = 0,
    engine: Any = None,
    cluster: Any = None,
    slo: Any = None,
    limits: Any = None,
    **kwargs: Any,
) -> Any:
    """Run the discrete-event simulator (`serving.Simulation`) as `inferonomics simulate` does. `workload`:
    a workload object, a trace file (any format `load_trace` reads), or None for Poisson arrivals at
    `rate_per_s` of `num_requests` requests of `isl` + `osl` tokens (numbers or distributions). Deployment
    keywords (tp, pp, ep, dp = replicas, precision, ...; tp left out = auto, for this workload's mean lengths
    and load) through the resolver; its choice is `summary["resolution_note"]`."""
    from inferonomics.economics.spec import Workload
    from inferonomics.errors import InvalidInputError
    from inferonomics.serving import (
        SLO,
        ClusterConfig,
        EngineConfig,
        RunLimits,
        Simulation,
        load_trace,
        parse_distribution,
        synthetic_workload,
    )

    def lengths(x: Any) -> Any:  # 512, "lognormal:512,0.5" or a distribution object
        return parse_distribution(str(x)) if isinstance(x, int | float | str) else x

    if isinstance(workload, str | Path):
        workload = load_trace(workload, rate_per_s=rate_per_s, seed=seed)
    elif workload is None:
        if rate_per_s is None:
            raise InvalidInputError("simulate needs a workload, a trace file, or rate_per_s")
        workload = synthetic_workload(rate_per_s, num_requests, lengths(isl), lengths(osl), seed=seed)
    slo = slo or SLO()
    targets = Workload.of_run(
        workload, max_ttft_s=slo.ttft_s, min_tokens_per_s_per_user=None if slo.tpot_s is None else 1.0 / slo.tpot_s
    )
    r, rest = _resolve(model, hardware, dict(kwargs), targets)
    if rest:
        raise InvalidInputError(f"simulate got unexpected keyword(s): {', '.join(sorted(rest))}")
    sim = Simulation(
        r.deployment, workload, engine or EngineConfig(), cluster or ClusterConfig(), slo, limits or RunLimits(), seed
    )
    res = sim.run()
    res.summary["resolution_note"] = r.note
    return res


def search(
    model: Any,
    *,
    hardware: Sequence[str] = (),
    precision: Sequence[str] = (),
    recheck: int = 5,
    recheck_requests: int = 400,
    ttft_ms: float | None = None,
    tpot_ms: float | None = None,
    **kwargs: Any,
) -> Any:
    """The cheapest deployment that serves the traffic within the targets (`search.search`).
    `hardware`, `precision`: what to try (default: every system, the formats each chip runs);
    the rest (isl, osl, rate_per_s, trace, percentile, objective, max_chips, ...) as in `SearchRequest`."""
    from inferonomics.search import SearchRequest, SearchSpace
    from inferonomics.search import search as run

    space = SearchSpace(
        hardware=tuple([hardware] if isinstance(hardware, str) else hardware),
        weight_precisions=tuple([precision] if isinstance(precision, str) else precision),
    )
    req = SearchRequest(
        model=model,
        space=space,
        recheck=recheck,
        recheck_requests=recheck_requests,
        ttft_s=ttft_ms / 1e3 if ttft_ms is not None else None,
        tpot_s=tpot_ms / 1e3 if tpot_ms is not None else None,
        **kwargs,
    )
    return run(req, recheck_workers=1)


COMPARISONS = ("lab-vs-provider", "hardware", "prices")


def compare(kind: str = "lab-vs-provider", **kwargs: Any) -> Any:
    """The CLI's `compare` commands: 'lab-vs-provider' (`economics.lab_vs_provider`), 'hardware'
    (`economics.hardware_per_dollar`: model=, options=[HardwareOption ...]) or 'prices'
    (`economics.compare_sheets`: derived=a price_sheet(...), sheet='openai/gpt-4o')."""
    from inferonomics.economics import compare_sheets, hardware_per_dollar, lab_vs_provider
    from inferonomics.errors import InvalidInputError

    if kind == "lab-vs-provider":
        return lab_vs_provider(**kwargs)
    if kind == "hardware":
        return hardware_per_dollar(**kwargs)
    if kind == "prices":
        from inferonomics.catalog.prices import get_price_sheet

        sheet = kwargs.pop("sheet")
        return compare_sheets(kwargs.pop("derived"), get_price_sheet(sheet) if isinstance(sheet, str) else sheet)
    raise InvalidInputError(f"compare kind must be one of {', '.join(COMPARISONS)}, got {kind!r}")


__all__ = ["compare", "cost", "frontier", "predict", "price_sheet", "search", "simulate"]
