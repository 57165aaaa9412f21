"""The least-squares solver the fits use (scipy is needed only to fit, not to predict)."""

from __future__ import annotations

from typing import Any


def least_squares() -> Any:
    """scipy.optimize.least_squares, imported on first use."""
    from scipy.optimize import least_squares as solve

    return solve
