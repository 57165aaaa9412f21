"""A replica of `attention_dp` data-parallel ranks that step together (MoE engines with attention DP).

Each rank is an engine of its own (`Replica`): its scheduler, its waiting queue, its share of the KV
cache (the memory plan's blocks per rank, `perf/memory.py` `MemoryPlan.num_blocks`), its `max_num_seqs`
and token budget. What ties them is the MoE layer, a collective over every rank of the group:

- vLLM `--data-parallel-size N` (with `--enable-expert-parallel`: experts sharded over the DP x TP ranks,
  all-to-all dispatch and combine per MoE layer; without it: the expert layers form one tensor-parallel
  group of DP x TP ranks). "Forward passes must be aligned ... even when there are fewer requests to be
  processed than DP ranks": a rank with nothing scheduled runs a dummy batch (vLLM docs, "Data Parallel
  Deployment"; `vllm/v1/engine/core.py` `DPEngineCoreProc`, `execute_dummy_batch`), so every rank's
  iteration lasts as long as the group's.
- SGLang `--enable-dp-attention` (dp_size within tp_size, the MoE over the whole TP group): the
  scheduler all-gathers each rank's token count before every forward (`prepare_mlp_sync_batch`) and
  idle ranks run `ForwardMode.IDLE` batches.
- TensorRT-LLM `enable_attention_dp`: the same lock-step through the MoE all-to-all.

So one group iteration forms every rank's batch, then lasts `StepTimeModel.dp_group_time_s` of those
batches (when every busy rank only decodes, K iterations run as one event, as a `Replica`'s decode runs
do): the slowest rank's attention and dense layers plus the experts on the group's tokens (the
step-time model's own terms; nothing is re-derived here). A new request goes to the rank the engine's
DP balancer picks (`EnginePolicy.dp_balance` in `perf/engines.py`, the one engine table). vLLM's
balancer reads counts the DP coordinator publishes every 100 ms and adds its own picks in between; the
simulator reads the live counts.

Dense models with DP have no collective between ranks (vLLM: "the data parallel ranks are not
completely independent" only for MoE); the simulator runs their ranks as independent replicas.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inferonomics.perf.engines import engine_policy
from inferonomics.serving.config import EngineConfig
from inferonomics.serving.replica import Replica, ReplicaHost
from inferonomics.serving.request import Request
from inferonomics.serving.timing import StepTimes

WAITING_WEIGHT = 4
"""vLLM's DP load-balancing score: 4 x waiting + running (`core_client.py`)."""


class _GroupPool:
    """What routers read of a group's KV cache: the longest prefix any rank holds, pages of one rank."""

    def __init__(self, ranks: list[Replica]) -> None:
        self.ranks = ranks
        self.total_pages = ranks[0].pool.total_pages

    def match(self, keys: Any, n: int) -> tuple[int, int, int]:
        return max((r.pool.match(keys, n) for r in self.ranks), key=lambda m: m[0])


class DPGroup:
    """One replica whose data-parallel ranks run in lock-step; the event loop drives it like a `Replica`."""

    def __init__(
        self,
        first_idx: int,
        role: str,
        stm: Any,
        engine: EngineConfig,
        run: ReplicaHost,
        prefix_block_tokens: int,
        max_context_tokens: int,
        times: StepTimes,
    ) -> None:
        dep = stm.deployment
        n = int(dep.attention_dp)
        per_rank = int(engine.kv_capacity_tokens or stm.kv_capacity_tokens) // n
        self.ranks = [
            Replica(
                first_idx + i,
                role,
                stm,
                engine,
                run,
                prefix_block_tokens,
                max_context_tokens,
                times,
                kv_capacity_tokens=per_rank,
            )
            for i in range(n)
        ]
        self._by_idx = {r.idx: r for r in self.ranks}
        self.idx = first_idx
        self.role = role
        self.stm = stm
        self.pool = _GroupPool(self.ranks)
        self.block_tokens = self.ranks[0].block_tokens
        self.balance = engine_policy(engine.scheduler).dp_balance
        self._next = 0
        self.busy = False
        self.kicked = False
        self._end_s = 0.0
        self._active: list[Replica] = []
        self._zeros = np.zeros((5, n))

    # --- what routers and the loop read ------------------------------------------------------------
    @property
    def outstanding(self) -> int:
        return sum(r.outstanding for r in self.ranks)

    @property
    def kv_load(self) -> float:
        return sum(r.kv_load for r in self.ranks) / len(self.ranks)

    def has_work(self) -> bool:
        return any(r.has_work() for r in self.ranks)

    def pick_rank(self) -> Replica:
        """The rank the engine's DP balancer gives a new request (`EnginePolicy.dp_balance`)."""
        ranks = self.ranks
        if self.balance == "round_robin":
            r = ranks[self._next % len(ranks)]
            self._next += 1
            return r
        if self.balance == "fewest_tokens":
            return min(ranks, key=lambda r: r.kv_load)
        best, best_score = ranks[0], -1
        for r in ranks:
            score = WAITING_WEIGHT * (len(r.waiting) + len(r.resume)) + len(r.running)
            if best_score < 0 or score < best_score:
                best, best_score = r, score
        return best

    # --- queue entry points ----------------------------------------------------------------------------
    def enqueue(self, req: Request, now: float) -> None:
        self.pick_rank().enqueue(req, now)

    def receive_kv(self, req: Request, now: float) -> None:
        self.pick_rank().receive_kv(req, now)

    def decode_step_estimate_s(self, context_tokens: int) -> float:
        """One group iteration of the ranks' decode batches, one more sequence of `context_tokens` on the rank
        the balancer would pick next (without moving the balancer)."""
        loads = self._zeros.copy()
        for i, r in enumerate(self.ranks):
            loads[2, i] = r.n_dec
            loads[3, i] = r.dec_base + r.dec_rate * r.dstep + r.n_dec if r.n_dec else 0.0
        i = int(np.argmin(loads[2]))
        loads[2, i] += 1
        loads[3, i] += context_tokens
        return float(self.stm.dp_group_time_s(*loads)) + self.ranks[0].iteration_extra_s

    def release_transferred(self, req: Request) -> None:
        self._by_idx[req.replica].release_transferred(req)

    def interrupt(self, now: float) -> float | None:
        """New work reached the busy group: every rank ends its decode run at the same boundary."""
        end = None
        for r in self._active:
            e = r.interrupt(now)
            end = e if e is not None else end
        if end is not None:
            self._end_s = end
        return end

    # --- one lock-step iteration -----------------------------------------------------------------------
    def start_step(self, now: float) -> float | None:
        """Form every rank's batch; the group's iteration lasts `dp_group_time_s` of them (idle ranks run
        a dummy batch, no tokens)."""
        loads = self._zeros.copy()
        active: list[tuple[Replica, tuple[int, float, int, float, float]]] = []
        extra_s = 0.0
        for i, r in enumerate(self.ranks):
            load = r.form_batch(now)
            if load is None:
                continue
            active.append((r, load))
            loads[0, i], loads[1, i], loads[2, i], loads[3, i], e = load
            loads[4, i] = r.prefill_seqs
            extra_s = max(extra_s, e)
        if not active:
            return None
        self._active = [r for r, _ in active]
        self.busy = True
        host_s = self.ranks[0].iteration_extra_s
        if extra_s == 0.0 and all(load[2] and r.decode_only for r, load in active):
            self._end_s = self._start_decode_run(now, active, host_s)
            return self._end_s
        dur = float(self.stm.dp_group_time_s(*loads)) + extra_s + host_s
        for r, load in active:
            r.begin_iteration(now, dur, load)
        self._end_s = now + dur
        return self._end_s

    def _start_decode_run(
        self, now: float, active: list[tuple[Replica, tuple[int, float, int, float, float]]], host_s: float
    ) -> float:
        """Every busy rank only decodes: K group iterations as one event (as `Replica` runs them), K the fewest
        any rank can take, each iteration timed by `dp_group_time_s` on the ranks' growing contexts."""
        K = min(r.decode_run_steps(now, load[2]) for r, load in active)
        k = np.arange(K, dtype=np.float64)[:, None]
        seqs = np.zeros((1, len(self.ranks)))
        u0 = np.zeros_like(seqs)
        du = np.zeros_like(seqs)
        for r, load in active:
            i = r.idx - self.idx
            seqs[0, i] = load[2]
            u0[0, i], du[0, i] = r.decode_run_context(load[2])
        zeros = np.zeros((K, len(self.ranks)))
        durs = np.asarray(self.stm.dp_group_time_s(zeros, zeros, zeros + seqs, seqs * (u0 + du * k), zeros))
        durs = np.atleast_1d(durs) + host_s
        end = now
        for r, load in active:
            end = r.begin_decode_run(now, load[2], K, durs)
        return end

    def end_step(self, now: float) -> None:
        self.busy = False
        for r in self._active:
            r.end_step(now)
        self._active = []

    def check_drained(self) -> None:
        for r in self.ranks:
            r.check_drained()
