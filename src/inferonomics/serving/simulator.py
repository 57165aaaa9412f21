"""The discrete-event loop: arrivals, routing, engine iterations, KV transfers, clients.

Events live in one heap ordered by (time, sequence number); open-loop arrivals are pre-generated
arrays merged with it, so an arrival costs no heap operation. Every iteration's duration comes from
the performance model (`StepTimeModel.iteration_time_s`); the simulator re-derives no step time.
"""

from __future__ import annotations

import heapq
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from inferonomics.errors import InvalidInputError
from inferonomics.perf.steady_state import Handoff, disagg_handoff, kv_transfer_s
from inferonomics.perf.step import StepTimeModel
from inferonomics.serving.config import SLO, ClusterConfig, EngineConfig, RunLimits
from inferonomics.serving.dp_group import DPGroup
from inferonomics.serving.metrics import SimResult, build_result
from inferonomics.serving.replica import Replica, draw_verify_steps
from inferonomics.serving.request import INCOMPLETE, NOT_ISSUED, REJECTED, Request
from inferonomics.serving.router import ROUTERS, LeastOutstanding
from inferonomics.serving.timing import StepTimes
from inferonomics.serving.workload import ClosedLoop, SessionPlan, Sessions, StaticWorkload

Workload = StaticWorkload | ClosedLoop | Sessions

_STEP_END, _KICK, _ARRIVAL, _TRANSFER, _ADMIT = 0, 1, 2, 3, 4


class StepTimeModelLike(Protocol):
    """What the simulator needs from `inferonomics.perf.StepTimeModel` (one replica)."""

    def iteration_time_s(
        self, prefill_tokens: Any, prefill_attended_tokens: Any, decode_seqs: Any, decode_context_tokens: Any
    ) -> Any: ...

    @property
    def kv_capacity_tokens(self) -> int: ...

    @property
    def kv_bytes_per_token(self) -> float: ...

    @property
    def deployment(self) -> Any: ...


def as_step_time_model(obj: Any) -> StepTimeModelLike:
    """A step-time model as given, or the calibrated one of a `Deployment`."""
    if hasattr(obj, "iteration_time_s"):
        return obj  # type: ignore[no-any-return]
    from inferonomics.perf import Deployment, StepTimeModel

    if isinstance(obj, Deployment):
        return StepTimeModel(obj)  # type: ignore[no-any-return]
    raise InvalidInputError(f"expected a Deployment or a step-time model, got {type(obj).__name__}")


@dataclass
class Simulation:
    """A serving simulation: a deployment (as for `predict`), a workload, and how it is served.

    `deployment` is an `inferonomics.perf.Deployment` (its calibrated `StepTimeModel` is built) or a
    step-time model. Replicas = `deployment.replicas`, or the two pools of `cluster.disaggregation`.
    """

    deployment: Any
    workload: Workload
    engine: EngineConfig = field(default_factory=EngineConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    slo: SLO = field(default_factory=SLO)
    limits: RunLimits = field(default_factory=RunLimits)
    seed: int = 0
    decode_time_table: bool = True
    """Interpolate decode-only step times from a validated table (see `timing.py`); False calls the
    model for every iteration."""

    @classmethod
    def from_names(
        cls,
        model: Any,
        hardware: Any,
        workload: Workload,
        *,
        engine: EngineConfig | None = None,
        cluster: ClusterConfig | None = None,
        slo: SLO | None = None,
        limits: RunLimits | None = None,
        seed: int = 0,
        **deployment: Any,
    ) -> Simulation:
        """Build as `predict` does: a model and hardware (names or catalog objects) and the keywords of
        `inferonomics.perf.make_deployment` (tp, pp, ep, dp = replicas, precision, kv_precision, backend,
        speculative_tokens, acceptance_rate, overrides)."""
        from inferonomics.perf import make_deployment

        dep = make_deployment(model, hardware, **deployment)
        return cls(
            dep,
            workload,
            engine or EngineConfig(),
            cluster or ClusterConfig(),
            slo or SLO(),
            limits or RunLimits(),
            seed,
        )

    def run(self, progress: Callable[[float], None] | None = None) -> SimResult:
        stm = as_step_time_model(self.deployment)
        return _Run(self, stm, progress).execute()


class _Run:
    """State of one run (kept apart from `Simulation`, which stays a plain spec)."""

    def __init__(self, sim: Simulation, stm: StepTimeModelLike, progress: Callable[[float], None] | None) -> None:
        self.sim = sim
        self.stm = stm
        self.progress = progress
        self.rng = np.random.default_rng(sim.seed)
        dep = stm.deployment
        self.dep = dep
        self.max_context = int(getattr(dep.model, "max_context_tokens", 0) or 0)
        wl = sim.workload
        self.P = wl.prefix_block_tokens if isinstance(wl, StaticWorkload | Sessions) else 512
        cl = sim.cluster
        self.lat = cl.frontend_latency_s
        dis = cl.disaggregation
        self.notes: list[str] = []
        adp = int(getattr(dep, "attention_dp", 1) or 1)
        lockstep = adp > 1 and hasattr(stm, "dp_group_time_s") and bool(getattr(dep.model, "is_moe", False))
        ranks_per_replica = 1
        chips_per_replica = int(getattr(dep, "chips_per_replica", 1) or 1)
        if adp > 1 and not lockstep and isinstance(stm, StepTimeModel):
            # dense DP: no collective ties the ranks; each runs as its own engine on tp x pp chips
            stm = StepTimeModel(dep.with_(attention_dp=1, replicas=1), stm.calibration)
            self.stm = stm
            self.dep = dep = stm.deployment
            ranks_per_replica = adp
            self.notes.append(
                f"{dep.model.name} is dense: its {adp} data-parallel ranks step independently (no MoE collective "
                "between them), simulated as independent engines of one rank each"
            )
        elif lockstep:
            ranks_per_replica = adp
        self.dp_lockstep = lockstep
        ctx_max = self.max_context or int(sim.engine.kv_capacity_tokens or stm.kv_capacity_tokens)
        self.times = StepTimes(stm, ctx_max, use_table=sim.decode_time_table)
        args = (self, self.P, self.max_context, self.times)

        def engines(role: str, count: int, engine: EngineConfig, first: int) -> list[Any]:
            """`count` replicas of `role`: lock-step DP groups (MoE with attention DP) or single engines."""
            if lockstep:
                return [DPGroup(first + g * adp, role, stm, engine, *args) for g in range(count)]
            return [Replica(first + i, role, stm, engine, *args) for i in range(count * ranks_per_replica)]

        if dis is None:
            n_rep = int(getattr(dep, "replicas", 1) or 1)
            self.pool_a = engines("both", n_rep, sim.engine, 0)
            self.pool_d: list[Any] = []
        else:
            n_rep = dis.prefill_replicas + dis.decode_replicas
            self.pool_a = engines("prefill", dis.prefill_replicas, sim.engine, 0)
            d_engine = dis.decode_engine or sim.engine
            self.pool_d = engines("decode", dis.decode_replicas, d_engine, dis.prefill_replicas * ranks_per_replica)
        self.chips = chips_per_replica * n_rep
        self.engine_replicas = n_rep
        self.handoff = Handoff(0.0, 0.0, 0.0)
        self.xfer_model: StepTimeModel | None = None
        if dis is not None:
            self.xfer_chips = chips_per_replica * n_rep
            bw = dis.kv_transfer_bandwidth_bytes_per_s
            lat = dis.kv_transfer_latency_s
            if isinstance(stm, StepTimeModel):
                # the closed form's terms, from the same place (perf/steady_state.py): the KV over NVLink in one
                # scale-up domain else the NIC (`kv_transfer_s`), the engine's fitted hand-off (`disagg_handoff`)
                self.handoff = disagg_handoff(stm)
                if bw is None and lat is None:
                    self.xfer_model = stm
            if self.xfer_model is None:  # given figures (or a step-time model without a system): latency + bytes / bw
                system = dep.system
                if bw is None:
                    bw = float(getattr(system, "inter_node_bandwidth_bytes_per_s", 0.0)) * dep.chips_per_replica
                    if bw <= 0:
                        raise InvalidInputError(
                            f"system {system.name!r} has no inter-node bandwidth; give "
                            "kv_transfer_bandwidth_bytes_per_s for disaggregation"
                        )
                if lat is None:
                    lat = float(getattr(system, "inter_node_latency_s", 0.0))
            self.xfer_bw = bw or 0.0
            self.xfer_lat = lat or 0.0
            for unit in self.pool_d:
                for r in getattr(unit, "ranks", (unit,)):
                    r.iteration_extra_s = self.handoff.iteration_s
            if getattr(dep, "replicas", 1) not in (1, dis.prefill_replicas + dis.decode_replicas):
                self.notes.append(
                    f"deployment.replicas ({dep.replicas}) ignored: disaggregated pools of "
                    f"{dis.prefill_replicas} prefill + {dis.decode_replicas} decode replicas"
                )
        self.units = self.pool_a + self.pool_d
        """What the event loop drives: replicas, or lock-step DP groups."""
        self.replicas: list[Replica] = [r for u in self.units for r in getattr(u, "ranks", (u,))]
        """Every engine (a DP group's ranks one by one): what the metrics read."""
        self.unit_of = {r.idx: u for u in self.units for r in getattr(u, "ranks", (u,))}
        self.router = ROUTERS[cl.router](cl.balance_threshold)
        self.decode_router = LeastOutstanding()
        pools = [self.pool_a] + ([self.pool_d] if self.pool_d else [])
        self.min_pages = min(p[0].pool.total_pages for p in pools)
        self.bs = self.pool_a[0].block_tokens
        self.spec_k = int(getattr(dep, "speculative_tokens", 0) or 0)
        self.heap: list[tuple[float, int, int, Any]] = []
        self.seq = 0
        self.requests: list[Request] = []
        self.ended = 0
        self.now = 0.0
        self.partial = False
        self.stop_reason = ""
        # workload drivers
        self.closed: ClosedLoop | None = wl if isinstance(wl, ClosedLoop) else None
        self.sessions: Sessions | None = wl if isinstance(wl, Sessions) else None
        self.plans: list[SessionPlan] = []
        self.issued = 0
        self.next_arrival_s = math.inf

    # --- events -----------------------------------------------------------------------------------------
    def push(self, t: float, kind: int, obj: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, obj))

    def kick(self, rep: Replica, t: float) -> None:
        """New work for a replica: start it if idle, or end its decode run at the next boundary."""
        if rep.busy:
            end = rep.interrupt(t)
            if end is not None:
                self.push(end, _STEP_END, rep)
        elif not rep.kicked:
            rep.kicked = True
            self.push(t, _KICK, rep)

    def draw_verify_steps(self, remaining: int, k: int, a: float | tuple[float, ...]) -> int:
        return draw_verify_steps(self.rng, remaining, k, a)

    # --- requests -----------------------------------------------------------------------------------------
    def _new_request(
        self, t_client: float, prompt: int, output: int, keys: Any, client: int = -1, session: int = -1, turn: int = 0
    ) -> Request:
        req = Request(len(self.requests), t_client, prompt, output, keys, client, session, turn)
        self.requests.append(req)
        return req

    def _reject_reason(self, req: Request) -> str:
        p, o = req.prompt, req.output
        if p < 1:
            return "empty prompt (0 input tokens)"
        if o < 1:
            return "asks for 0 output tokens (a failed request in the trace)"
        if self.max_context and p + o > self.max_context:
            return f"prompt {p:,} + output {o:,} = {p + o:,} tokens exceed the context window of {self.max_context:,}"
        kv = p + o - 1 + self.spec_k
        if -(-kv // self.bs) > self.min_pages:
            return f"needs {kv:,} tokens of KV cache; a replica holds {self.min_pages * self.bs:,}"
        return ""

    def arrive(self, req: Request, t: float) -> None:
        """The request reaches the router at replica time t (client send time + front-end latency)."""
        reason = self._reject_reason(req)
        if reason:
            req.status = REJECTED
            req.reason = reason
            req.finish_s = t
            self._ended(req, t)
            return
        rep = self.router.pick(self.pool_a, req)
        rep.enqueue(req, t)
        self.kick(rep, t)

    def on_complete(self, req: Request, now: float) -> None:
        self._ended(req, now)

    def _ended(self, req: Request, now: float) -> None:
        self.ended += 1
        t_client = now + self.lat
        if self.closed is not None:
            if self.issued < self.closed.num_requests:
                self._issue_closed(req.client, t_client + self.closed.think_time_s)
        elif self.sessions is not None and req.session >= 0:
            plan = self.plans[req.session]
            nxt = req.turn + 1
            if req.status != REJECTED and nxt < len(plan.user):
                prompt, out, keys = self.sessions.turn_request(plan, nxt)
                t_send = t_client + plan.think_s[req.turn]
                r2 = self._new_request(t_send, prompt, out, keys, session=plan.session, turn=nxt)
                self.push(t_send + self.lat, _ARRIVAL, r2)

    def _issue_closed(self, client: int, t_send: float) -> None:
        cl = self.closed
        assert cl is not None
        p = int(cl.isl.sample(self.rng, 1)[0])
        o = int(cl.osl.sample(self.rng, 1)[0])
        self.issued += 1
        req = self._new_request(t_send, p, o, None, client=client)
        self.push(t_send + self.lat, _ARRIVAL, req)

    def start_transfer(self, req: Request, src: Replica, now: float) -> None:
        """The prompt's KV leaves for the decode pool; it gets there after the transfer and the engine's
        per-request orchestration (`Handoff.orchestration_s`)."""
        if self.xfer_model is not None:
            m = self.xfer_model
            xfer = float(kv_transfer_s(m, m, self.xfer_chips, float(req.computed)))
        else:
            xfer = self.xfer_lat + req.computed * src.kv_bytes_per_token / self.xfer_bw
        self.push(now + xfer + self.handoff.orchestration_s, _TRANSFER, (req, src))

    def transferred(self, req: Request, src: Replica, t: float) -> None:
        """The KV reached the decode pool: free it on the prefill side; the decode worker takes the request in
        after `Handoff.admission_steps` of its iterations, and its first token reaches the client then (the
        closed form's TTFT = prefill + transfer + orchestration + admission x decode iteration)."""
        src.release_transferred(req)
        unit = self.unit_of[src.idx]
        if unit.has_work() and not unit.busy:
            self.kick(unit, t)
        dst = self.decode_router.pick(self.pool_d, req)
        steps = self.handoff.admission_steps
        if steps > 0:
            self.push(t + steps * dst.decode_step_estimate_s(req.computed), _ADMIT, (req, dst))
        else:
            self.admit(req, dst, t)

    def admit(self, req: Request, dst: Any, t: float) -> None:
        req.first_token_s = t
        req.last_token_s = t
        dst.receive_kv(req, t)
        self.kick(dst, t)

    # --- the loop -----------------------------------------------------------------------------------------
    def expected_requests(self) -> int:
        wl = self.sim.workload
        if isinstance(wl, StaticWorkload):
            return len(wl)
        if isinstance(wl, ClosedLoop):
            return wl.num_requests
        return max(1, len(self.requests))

    def execute(self) -> SimResult:
        wall0 = time.perf_counter()
        wl = self.sim.workload
        lat = self.lat
        # static arrivals (pre-generated) merged with the heap
        if isinstance(wl, StaticWorkload):
            arr_t = (wl.arrival_s + lat).tolist()
            arr_in = wl.input_tokens.tolist()
            arr_out = wl.output_tokens.tolist()
            arr_keys = wl.prefix_keys
        elif isinstance(wl, Sessions):
            self.plans = wl.plan(self.sim.seed)
            arr_t = [p.start_s + lat for p in self.plans]
            arr_in, arr_out, arr_keys = [], [], None
        else:
            arr_t, arr_in, arr_out, arr_keys = [], [], [], None
            for c in range(min(wl.concurrency, wl.num_requests)):
                self._issue_closed(c, 0.0)
        n_arr = len(arr_t)
        i_arr = 0
        heap = self.heap
        inf = math.inf
        limits = self.sim.limits
        max_sim = limits.max_sim_time_s or inf
        n_events = 0
        check_every = 1024
        progress = self.progress
        expected = self.expected_requests() if not isinstance(wl, Sessions) else None
        sessions = self.sessions
        pop = heapq.heappop
        while True:
            next_arr = arr_t[i_arr] if i_arr < n_arr else inf
            self.next_arrival_s = next_arr
            if heap and heap[0][0] < next_arr:  # at equal times, arrivals first (they join the next batch)
                t, _, kind, obj = pop(heap)
                self.now = t
                if kind == _STEP_END:
                    if not obj.busy or t != obj._end_s:  # a decode run cut short: stale end
                        continue
                    obj.end_step(t)
                    if obj.has_work():
                        end = obj.start_step(t)
                        if end is not None:
                            self.push(end, _STEP_END, obj)
                elif kind == _KICK:
                    obj.kicked = False
                    if not obj.busy:
                        end = obj.start_step(t)
                        if end is not None:
                            self.push(end, _STEP_END, obj)
                elif kind == _ARRIVAL:
                    self.arrive(obj, t)
                elif kind == _TRANSFER:
                    self.transferred(obj[0], obj[1], t)
                else:  # a transferred request admitted by its decode worker
                    self.admit(obj[0], obj[1], t)
            elif next_arr < inf:
                t = next_arr
                self.now = t
                i = i_arr
                i_arr += 1
                if sessions is not None:
                    plan = self.plans[i]
                    prompt, out, keys = sessions.turn_request(plan, 0)
                    req = self._new_request(t - lat, prompt, out, keys, session=plan.session, turn=0)
                else:
                    req = self._new_request(
                        t - lat, arr_in[i], arr_out[i], arr_keys[i] if arr_keys is not None else None
                    )
                self.arrive(req, t)
            else:
                break
            n_events += 1
            if n_events % check_every == 0:
                reason = self._over_budget(wall0)
                if not reason and self.now > max_sim:
                    reason = f"simulated time passed the limit of {max_sim:g} s"
                if reason:
                    self.partial = True
                    self.stop_reason = reason
                    break
                if progress is not None:
                    if expected is None:
                        total = sum(len(p.user) for p in self.plans)
                        progress(min(1.0, self.ended / max(total, 1)))
                    else:
                        progress(min(1.0, self.ended / max(expected, 1)))
        # anything that has not ended is incomplete (a partial run) and says why; what was never sent
        # is listed too (not issued), so a partial run accounts for every request of the workload
        for req in self.requests:
            if req.status not in ("completed", "rejected"):
                req.status = INCOMPLETE
                req.reason = (
                    f"run stopped early: {self.stop_reason}"
                    if self.partial
                    else "never scheduled: no replica could make progress (simulator bug)"
                )
        if self.partial:
            self._list_not_issued(i_arr, arr_t, arr_in, arr_out, arr_keys)
        if not self.partial:
            for unit in self.units:
                unit.check_drained()
        if progress is not None:
            progress(1.0)
        wall = time.perf_counter() - wall0
        return build_result(self, wall)

    def _list_not_issued(self, i_arr: int, arr_t: list[Any], arr_in: list[Any], arr_out: list[Any], keys: Any) -> None:
        """Requests of the workload a partial run never sent: status `not_issued`, arrival NaN for the
        closed loop and sessions (their send time depends on replies that never came)."""
        why = f"not issued: run stopped early: {self.stop_reason}"
        lat = self.lat
        added: list[Request] = []
        wl = self.sim.workload
        if isinstance(wl, StaticWorkload):
            for i in range(i_arr, len(arr_t)):
                added.append(
                    self._new_request(arr_t[i] - lat, arr_in[i], arr_out[i], keys[i] if keys is not None else None)
                )
        elif isinstance(wl, ClosedLoop):
            for _ in range(self.issued, wl.num_requests):
                p = int(wl.isl.sample(self.rng, 1)[0])
                o = int(wl.osl.sample(self.rng, 1)[0])
                added.append(self._new_request(math.nan, p, o, None))
        elif isinstance(wl, Sessions):
            last: dict[int, Request] = {}
            for r in self.requests:
                if r.session >= 0 and (r.session not in last or r.turn > last[r.session].turn):
                    last[r.session] = r
            for plan in self.plans:
                prev = last.get(plan.session)
                if prev is not None and prev.status == REJECTED:
                    continue  # a rejected turn ends its session, as in a complete run
                first = 0 if prev is None else prev.turn + 1
                for turn in range(first, len(plan.user)):
                    prompt, out, k = wl.turn_request(plan, turn)
                    t = plan.start_s if prev is None and turn == 0 else math.nan
                    added.append(self._new_request(t, prompt, out, k, session=plan.session, turn=turn))
        for req in added:
            req.status = NOT_ISSUED
            req.reason = why

    def _over_budget(self, wall0: float) -> str:
        limits = self.sim.limits
        if limits.max_wall_s is not None and time.perf_counter() - wall0 > limits.max_wall_s:
            return f"wall-time budget of {limits.max_wall_s:g} s exceeded"
        if limits.max_memory_bytes is not None:
            rss = _rss_bytes()
            if rss > limits.max_memory_bytes:
                return f"memory budget of {limits.max_memory_bytes / 1e9:.2f} GB exceeded ({rss / 1e9:.2f} GB resident)"
        return ""


def _rss_bytes() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def simulate(model: Any, hardware: Any, workload: Workload, **kwargs: Any) -> SimResult:
    """One call: `Simulation.from_names(model, hardware, workload, **kwargs).run()`."""
    return Simulation.from_names(model, hardware, workload, **kwargs).run()
