"""The web server's budgets: every heavy request is sized before it starts and refused (400, code
`OverBudgetError`, naming the limit and the field that sets the size) when it would not fit them;
what is accepted then runs in a worker (`jobs.Executor`) that enforces wall time and memory.

Budgets (per task; two tasks run at once, four more wait):
- memory: `WORKER_MEMORY_BYTES` resident in the worker (killed above it); a simulation is also told
  to stop with a partial result at `SIM_MEMORY_FRACTION` of it.
- simulate: `max_wall_s` (<= 30 s) for the event loop, plus `SIM_OVERHEAD_S` for set-up and results;
  refused when its estimated size (`serving.sizing`) needs more than `SIM_MAX_WALL_FACTOR` x its
  `max_wall_s` (a partial run would hold under a tenth of the requests), more than the memory budget,
  or more than `SIM_OVERHEAD_S / 2` to build its replicas.
- search: `SEARCH_WALL_S` in all; refused above `SEARCH_MAX_DEPLOYMENTS` screened deployments; the
  simulator re-check skips (with a note) a leader needing over `SEARCH_RECHECK_MAX_REPLICAS` replicas.
- frontier: `FRONTIER_WALL_S` in all; its sweep is sized by the schema alone (at most 256 chips, a
  few hundred deployments), so it needs no check of its own.
"""

from __future__ import annotations

from typing import Any

from inferonomics.errors import OverBudgetError
from inferonomics.web import schemas as S

WORKER_MEMORY_BYTES = 2 * 1024**3
SIM_MEMORY_FRACTION = 0.75
SIM_OVERHEAD_S = 20.0
SIM_MAX_WALL_FACTOR = 10.0
SEARCH_WALL_S = 120.0
SEARCH_MAX_DEPLOYMENTS = 3000
SEARCH_RECHECK_MAX_REPLICAS = 1000
FRONTIER_WALL_S = 60.0


def sim_wall_s(body: S.SimulateBody) -> float:
    """The whole job's wall budget: the event loop's plus set-up and results."""
    return body.max_wall_s + SIM_OVERHEAD_S


def simulation_size(body: S.SimulateBody) -> Any:
    from inferonomics.perf.memory import kv_capacity_tokens
    from inferonomics.serving.sizing import size_simulation
    from inferonomics.web.app import _simulation_setup

    dep = _simulation_setup(body)[0].deployment
    closed = body.workload == "closed_loop"
    return size_simulation(
        replicas=dep.replicas,
        requests=body.num_requests,
        mean_isl=body.isl,
        mean_osl=body.osl,
        max_batch=body.max_batch_size or 256,
        chunk_tokens=8192,
        kv_tokens_per_replica=float(kv_capacity_tokens(dep)),
        clients=float(body.concurrency) if closed else None,
        rate_per_s=None if closed else body.rate_per_s,
    )


def check_simulation(body: S.SimulateBody) -> None:
    """Refuse a simulation whose estimated size exceeds the server's budget (names the knob)."""
    size = simulation_size(body)
    memory = WORKER_MEMORY_BYTES * SIM_MEMORY_FRACTION
    from inferonomics.serving.sizing import REPLICA_S

    if size.replicas * REPLICA_S > SIM_OVERHEAD_S / 2:
        raise OverBudgetError(
            field="dp",
            message=f"dp: building {size.replicas:,} replicas takes about {size.replicas * REPLICA_S:.0f} s, over this "
            f"server's set-up budget of {SIM_OVERHEAD_S / 2:.0f} s; lower dp",
        )
    knob = "osl" if body.osl >= body.num_requests else "num_requests"  # the larger factor of the size
    if size.memory_bytes > memory:
        raise OverBudgetError(
            field=knob,
            message=f"{knob}: this simulation is sized at {size.describe()}, over this server's memory budget of "
            f"{memory / 1e9:.1f} GB per simulation; lower num_requests, osl or concurrency",
        )
    if size.wall_s > SIM_MAX_WALL_FACTOR * body.max_wall_s:
        raise OverBudgetError(
            field=knob,
            message=f"{knob}: this simulation is sized at {size.describe()}, over {SIM_MAX_WALL_FACTOR:.0f}x its "
            f"max_wall_s of {body.max_wall_s:g} s (a partial run would hold under a tenth of it); lower "
            "num_requests, osl or concurrency",
        )


def search_deployments(body: S.SearchBody) -> int:
    import inferonomics.search  # noqa: F401 - a build without the search area answers 501 here
    from inferonomics.search.space import SearchSpace, enumerate_candidates
    from inferonomics.web.app import _model, _system

    systems = tuple(dict.fromkeys(_system(h, f"hardware[{i}]") for i, h in enumerate(body.hardware)))
    space = SearchSpace(
        hardware=tuple(s.name for s in systems), max_chips_per_instance=body.max_chips_per_instance, modes=("agg",)
    )
    return len(enumerate_candidates(_model(body.model), systems, space).candidates)


def check_search(body: S.SearchBody) -> None:
    """Refuse a search that would screen more deployments than the budget (names the knob)."""
    n = search_deployments(body)
    if n > SEARCH_MAX_DEPLOYMENTS:
        raise OverBudgetError(
            field="max_chips_per_instance",
            message=f"max_chips_per_instance: the search would screen {n:,} deployments, over this server's budget of "
            f"{SEARCH_MAX_DEPLOYMENTS:,}; lower max_chips_per_instance or give fewer hardware systems",
        )


__all__ = [
    "FRONTIER_WALL_S",
    "SEARCH_RECHECK_MAX_REPLICAS",
    "SEARCH_WALL_S",
    "WORKER_MEMORY_BYTES",
    "check_search",
    "check_simulation",
    "sim_wall_s",
]
