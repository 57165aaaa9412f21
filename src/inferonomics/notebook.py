"""The notebook API: one call per question, by name, returning a result object or a DataFrame.

Thin wrappers: each builds the deployment from names (`perf.make_deployment`) and calls the function
that does the work; nothing is computed here. Results print short and show a table (and a chart)
in Jupyter (`inferonomics.results.ResultMixin`); `.to_frame()` and `.to_dict()` give the data.

    import inferonomics as inf
    inf.cost("llama-3.1-70b", "h100_sxm", tp=4, isl=2048, osl=512)
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
    "overrides",
)
"""Keyword arguments that describe the deployment (`perf.make_deployment`); the rest go to the call."""


def _split(model: Any, hardware: Any, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from inferonomics.perf import make_deployment

    dep_kw = {k: kwargs.pop(k) for k in DEPLOYMENT_KEYS if k in kwargs}
    return make_deployment(model, hardware, **dep_kw), kwargs


def cost(model: Any, hardware: Any, *, isl: int, osl: int, concurrency: float | None = None, **kwargs: Any) -> Any:
    """USD per million input and output tokens (`economics.token_cost`); deployment keywords
    (tp, pp, ep, precision, ...) as in `predict`, the rest (utilisation, usd_per_chip_hour, ...) as in
    `token_cost`."""
    from inferonomics.economics import token_cost

    dep, rest = _split(model, hardware, dict(kwargs))
    return token_cost(dep, isl, osl, concurrency, **rest)


def price_sheet(model: Any, hardware: Any, **kwargs: Any) -> Any:
    """A derived price sheet (`economics.derive_price_sheet`) for the deployment; deployment keywords
    as in `predict`, the rest (isl, osl, utilisation, margin, ...) as in `derive_price_sheet`."""
    from inferonomics.economics import derive_price_sheet

    dep, rest = _split(model, hardware, dict(kwargs))
    return derive_price_sheet(dep, **rest)


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
    **kwargs: Any,
) -> Any:
    """Run the discrete-event simulator (`serving.simulate`). `workload`: a workload object, a trace
    file (any format `load_trace` reads), or None for Poisson arrivals at `rate_per_s` of
    `num_requests` requests of `isl` + `osl` tokens (numbers or distributions)."""
    from inferonomics.errors import InvalidInputError
    from inferonomics.serving import load_trace, parse_distribution, synthetic_workload
    from inferonomics.serving import simulate as run

    def lengths(x: Any) -> Any:  # 512, "lognormal:512,0.5" or a distribution object
        return parse_distribution(str(x)) if isinstance(x, int | float | str) else x

    if isinstance(workload, str | Path):
        workload = load_trace(workload, rate_per_s=rate_per_s, seed=seed)
    elif workload is None:
        if rate_per_s is None:
            raise InvalidInputError("simulate needs a workload, a trace file, or rate_per_s")
        workload = synthetic_workload(rate_per_s, num_requests, lengths(isl), lengths(osl), seed=seed)
    return run(model, hardware, workload, seed=seed, **kwargs)


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


__all__ = ["compare", "cost", "frontier", "price_sheet", "search", "simulate"]
