"""Deployment search: the cheapest way to serve a model to given traffic within an SLO.

    from inferonomics.search import SearchRequest, search
    res = search(SearchRequest("Llama-3.1-70B", isl=2000, osl=500, rate_per_s=5, ttft_s=1.0, tpot_s=0.05))
    res.best["usd_per_mtok"], res.pareto, res.rows  # rows: every screened configuration

Stage 1 screens every deployment of the `SearchSpace` with the vectorised analytic model
(`inferonomics.perf`), batch sizes and xPyD grids in one call per deployment; stage 2 re-checks the
leaders in the discrete-event simulator (`inferonomics.serving`). Sweeps run here, in a process pool
or on Ray (`backend="ray"`), and persist as Parquet with their inputs (`read_sweep`).
"""

import sys as _sys
import types as _types
from typing import Any as _Any

from inferonomics.search.api import SearchRequest, SearchResult, search
from inferonomics.search.backends import BACKENDS, run_chunks, start_ray
from inferonomics.search.screen import RAW_COLUMNS, ScreenInputs, screen_candidates, screen_pairs
from inferonomics.search.select import OBJECTIVES, Targets, evaluate, explain_infeasible, pareto_front, rank
from inferonomics.search.space import Candidate, DisaggPair, SearchSpace, enumerate_candidates
from inferonomics.search.store import read_sweep, write_sweep

__all__ = [
    "BACKENDS",
    "OBJECTIVES",
    "RAW_COLUMNS",
    "Candidate",
    "DisaggPair",
    "ScreenInputs",
    "SearchRequest",
    "SearchResult",
    "SearchSpace",
    "Targets",
    "enumerate_candidates",
    "evaluate",
    "explain_infeasible",
    "pareto_front",
    "rank",
    "read_sweep",
    "run_chunks",
    "screen_candidates",
    "screen_pairs",
    "search",
    "start_ray",
    "write_sweep",
]


class _CallableSearchModule(_types.ModuleType):
    """`inf.search(model, ...)` is the notebook API's call (`inferonomics.notebook.search`). Importing
    this package binds the name `search` on `inferonomics` to the package, so the package answers
    that call itself."""

    def __call__(self, *args: _Any, **kwargs: _Any) -> SearchResult:
        from inferonomics.notebook import search as notebook_search

        return notebook_search(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableSearchModule
