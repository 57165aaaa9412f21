"""Iteration durations from the performance model, with a validated table for decode-only iterations.

A decode-only iteration of n sequences depends on one more number, their total context, and the
simulator asks for hundreds of thousands of them. For each n met, the step-time model is evaluated
once, vectorised, on a geometric grid of mean context per sequence (1 token to the context window,
ratio 1.005) and the simulator interpolates linearly. The grid is checked against the model at
every midpoint; if the interpolation misses by more than `rel_tol` anywhere the grid is refined,
and if it still misses the simulator calls the model directly for that n. So decode step times are
the model's to within `rel_tol` (default 1e-4); mixed and prefill iterations always call the model.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

_ARANGE = np.arange(8192, dtype=np.float64)


class StepTimes:
    def __init__(self, stm: Any, max_context_tokens: int, use_table: bool = True, rel_tol: float = 1e-4) -> None:
        self.stm = stm
        self.fn = stm.iteration_time_s
        try:
            params = inspect.signature(self.fn).parameters
            self.takes_prefill_seqs = "prefill_seqs" in params
        except (TypeError, ValueError):
            self.takes_prefill_seqs = False
        self.max_u = float(max(max_context_tokens, 16))
        self.use_table = use_table
        self.rel_tol = rel_tol
        self._tables: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
        self.max_table_error = 0.0
        self.direct_ns: list[int] = []

    def iteration(
        self, prefill_tokens: int, prefill_attended: float, decode_seqs: int, decode_ctx: float, prefill_seqs: int
    ) -> float:
        if self.takes_prefill_seqs and prefill_seqs > 1:
            return float(self.fn(prefill_tokens, prefill_attended, decode_seqs, decode_ctx, prefill_seqs))
        return float(self.fn(prefill_tokens, prefill_attended, decode_seqs, decode_ctx))

    def decode(self, n: int, ctx: np.ndarray) -> np.ndarray:
        """Durations of decode-only iterations of `n` sequences with total contexts `ctx`."""
        table = self._table(n)
        if table is None:
            return self._direct(n, ctx)
        grid, y = table
        return np.interp(ctx / n, grid, y)

    def _table(self, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.use_table:
            return None
        if n in self._tables:
            return self._tables[n]
        return self._build(n)

    def decode_run(self, n: int, u0: float, du: float, k: int) -> np.ndarray:
        """Durations of k decode-only iterations of n sequences whose mean context is u0 + du*i."""
        u = _ARANGE[:k] * du if k <= _ARANGE.size else np.arange(k, dtype=np.float64) * du
        u += u0
        table = self._table(n)
        if table is None:
            return self._direct(n, u * n)
        return np.interp(u, table[0], table[1])

    def _direct(self, n: int, ctx: np.ndarray) -> np.ndarray:
        try:
            out = np.asarray(self.fn(0.0, 0.0, float(n), ctx), dtype=np.float64)
            if out.shape == ctx.shape:
                return out
        except (TypeError, ValueError):
            pass
        return np.fromiter((float(self.fn(0.0, 0.0, float(n), float(c))) for c in ctx), np.float64, ctx.size)

    def _build(self, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        table: tuple[np.ndarray, np.ndarray] | None = None
        for ratio in (1.005, 1.00125):
            m = int(np.ceil(np.log(self.max_u) / np.log(ratio))) + 2
            grid = np.geomspace(1.0, self.max_u * ratio, m)
            try:
                y = self._direct(n, grid * n)
                mid = np.sqrt(grid[1:] * grid[:-1])
                y_mid = self._direct(n, mid * n)
            except Exception:  # a model that cannot take arrays: call it directly every time
                break
            if not (np.all(np.isfinite(y)) and np.all(y > 0)):
                break
            err = float(np.max(np.abs(np.interp(mid, grid, y) - y_mid) / y_mid))
            if err <= self.rel_tol:
                self.max_table_error = max(self.max_table_error, err)
                table = (grid, y)
                break
        if table is None:
            self.direct_ns.append(n)
        self._tables[n] = table
        return table
