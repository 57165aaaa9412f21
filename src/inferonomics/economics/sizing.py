"""How much work an economics request starts, before it starts: deployments swept by frontiers, rows of a
coding session, requests of a report's simulation. Callers refuse (CLI: exit 2 naming the option, unless
`--force`; the same bounds as `simulate`: an hour or 16 GB) what would run past the bound.

The estimates are deliberately simple and err high. Measured on this project's 2-core machine
(2026-12-08, load average ~2): a frontier takes ~2.5 ms per deployment of its bound
(`frontier_deployments`; Llama-3.1-70B on h100_sxm: a bound of 168, 36 swept, 0.42 s per option of
`compare hardware`, 40 options in 16.8 s); a coding session costs ~13 us and ~750 bytes per (turn, price sheet) row
(3,000,000 turns x 1 sheet: 39 s and 2.2 GB peak resident).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inferonomics.errors import OverBudgetError

FORCE_WALL_S = 3600.0
FORCE_MEMORY_BYTES = 16e9
FRONTIER_S_PER_DEPLOYMENT = 0.0025
SESSION_S_PER_ROW = 13e-6
SESSION_BYTES_PER_ROW = 750.0


@dataclass(frozen=True)
class WorkSize:
    """What one request is sized at: a description of its units of work, wall time and memory."""

    what: str
    wall_s: float
    memory_bytes: float = 0.0

    def describe(self) -> str:
        mem = f" and {self.memory_bytes / 1e9:.1f} GB" if self.memory_bytes >= 1e8 else ""
        return f"{self.what}: about {self.wall_s:,.0f} s{mem}"

    def over(self) -> bool:
        return self.wall_s > FORCE_WALL_S or self.memory_bytes > FORCE_MEMORY_BYTES


def frontier_deployments(max_chips: int, scaleup_domain_chips: int, is_moe: bool, levers: int) -> int:
    """At most how many deployments a frontier sweeps (`frontier.candidate_deployments` x `levers` weight
    formats and speculation settings): per power-of-two chip count up to `max_chips`, a TP per power of two
    within the scale-up domain (PP over the rest), plus attention-DP x EP for MoE."""
    sizes = int(math.floor(math.log2(max(max_chips, 1)))) + 1
    shapes = int(math.floor(math.log2(max(scaleup_domain_chips, 1)))) + 1 + (1 if is_moe else 0)
    return sizes * shapes * max(levers, 1)


def frontier_size(n_frontiers: int, deployments_each: int) -> WorkSize:
    n = n_frontiers * deployments_each
    what = f"{n_frontiers:,} frontier(s) of up to {deployments_each:,} deployments each"
    return WorkSize(what, n * FRONTIER_S_PER_DEPLOYMENT)


def session_size(turns: int, sheets: int) -> WorkSize:
    rows = turns * max(sheets, 1)
    return WorkSize(
        f"{turns:,} turns x {max(sheets, 1)} price sheet(s) = {rows:,} rows",
        rows * SESSION_S_PER_ROW,
        rows * SESSION_BYTES_PER_ROW,
    )


def refuse_if_over(size: WorkSize, option: str, force: bool, advice: str = "") -> None:
    """`OverBudgetError` naming `option` when `size` is over an hour or 16 GB (unless `force`)."""
    if force or not size.over():
        return
    raise OverBudgetError(
        f"{option}: this request is sized at {size.describe()}, above {FORCE_WALL_S / 3600:.0f} h or "
        f"{FORCE_MEMORY_BYTES / 1e9:.0f} GB; lower {option}{f' ({advice})' if advice else ''}, or pass --force"
    )


__all__ = [
    "FORCE_MEMORY_BYTES",
    "FORCE_WALL_S",
    "WorkSize",
    "frontier_deployments",
    "frontier_size",
    "refuse_if_over",
    "session_size",
]
