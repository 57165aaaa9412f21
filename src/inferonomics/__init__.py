"""inferonomics: what it costs, in money and in time, to serve a large language model.

The notebook API in a few names::

    from inferonomics import get_model, get_hardware, predict, floors
    predict("llama-3.1-70b", "h100_sxm", tp=4, precision="fp8", isl=1024, osl=1024, concurrency=32)
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
    "predict": "inferonomics.perf",
    "predict_deployment": "inferonomics.perf",
    "floors": "inferonomics.perf.bounds",
}


def __getattr__(name: str) -> Any:
    """Import on first use so `import inferonomics` stays fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inferonomics' has no attribute {name!r}")


__all__ = sorted(_LAZY)
