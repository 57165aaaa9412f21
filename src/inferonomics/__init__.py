"""inferonomics: what it costs, in money and in time, to serve a large language model.

The notebook API, one name per question (results print short, show a table and a chart in Jupyter,
and give `.to_frame()` / `.to_dict()`)::

    import inferonomics as inf
    inf.get_model("llama-3.1-70b"), inf.get_hardware("h100_sxm"), inf.list_models()
    inf.predict("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8", isl=1024, osl=1024, concurrency=32)
    inf.frontier("llama-3.1-70b", "h100_sxm")             # speed/cost Pareto set
    inf.cost("llama-3.1-70b", "h100_sxm", tp=4, isl=2048, osl=512)
    inf.price_sheet("llama-3.1-70b", "h100_sxm", tp=4)
    inf.simulate("llama-3.1-8b", "h100_sxm", rate_per_s=4, num_requests=200, isl=512, osl=128)
    inf.search("llama-3.1-8b", hardware=["h100_sxm"], isl=512, osl=128, rate_per_s=4, ttft_ms=1000)
    inf.compare("lab-vs-provider")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "get_model": "inferonomics.catalog.model_catalog",
    "list_models": "inferonomics.catalog.model_catalog",
    "get_hardware": "inferonomics.catalog.hardware_catalog",
    "list_hardware": "inferonomics.catalog.hardware_catalog",
    "get_price_sheet": "inferonomics.catalog.prices",
    "list_prices": "inferonomics.catalog.prices",
    "Deployment": "inferonomics.perf",
    "StepTimeModel": "inferonomics.perf",
    "make_deployment": "inferonomics.perf",
    "predict": "inferonomics.notebook",
    "predict_deployment": "inferonomics.perf",
    "floors": "inferonomics.perf.bounds",
    "frontier": "inferonomics.notebook",
    "cost": "inferonomics.notebook",
    "price_sheet": "inferonomics.notebook",
    "simulate": "inferonomics.notebook",
    "search": "inferonomics.notebook",
    "compare": "inferonomics.notebook",
}


def __getattr__(name: str) -> Any:
    """Import on first use so `import inferonomics` stays fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inferonomics' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Tab completion and `dir()` list the lazy names too."""
    return sorted({*globals(), *_LAZY})


__all__ = sorted(_LAZY)
