"""One engine instance (a replica): its scheduler, its KV pages, and the iterations it runs.

Scheduling is one token-budget loop in the style of vLLM v1's `Scheduler.schedule()`: running
requests first (decodes, then unfinished prefill chunks), then requests restored from swap or KV
transfer, then new requests in queue order while seats, tokens and KV blocks last. The four
schedulers differ only in their knobs (see `SCHEDULERS`):

- `vllm`: vLLM v1, chunked prefill mixed with decode, 8192 tokens per iteration.
- `sarathi`: Sarathi-Serve stall-free batching (Agrawal et al., OSDI 2024): the same loop with a small
  token budget (512), so long prompts never stall decodes for long.
- `orca`: Orca iteration-level scheduling (Yu et al., OSDI 2022): whole prompts join a running batch
  of decodes; no chunking (a prompt larger than the budget runs alone).
- `sglang`: SGLang (Zheng et al., 2024): a prefill batch, when one can be formed, runs on its own
  and pauses decoding; waiting requests in longest-prefix-match order (FCFS above 128 waiting,
  as SGLang does); radix prefix cache on.

Decode is simulated lazily: a decoding request gains one token (one verify step with speculation)
per decode iteration, so the replica keeps only sums (sequences, context tokens) and, per request,
the decode step it joined at. Its finishing step is known when it joins (a heap), and the KV pages
the whole batch needs at step t are counted in O(1) by bucketing requests by (kv0 - t0) mod
block_size. Per-iteration cost is O(requests that start or stop), not O(batch).

Preemption (when pages run out) takes the most recently admitted running request (vLLM's FCFS
policy), by recompute (its KV is dropped and recomputed later; full prefix blocks stay cached) or
by swap to host memory (vLLM v0), paying bytes / bandwidth both ways. Prefill chunks that find no
pages preempt only later-admitted prefills. With speculative decoding the pages of a request's
whole output are reserved when it is admitted (so it is never preempted) and its KV growth within
the decode phase is spread evenly over its verify steps.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from inferonomics.errors import DoesNotFitError
from inferonomics.perf.engines import ENGINE_POLICIES, SCHEDULER_NAMES, EngineArgs, EnginePolicy
from inferonomics.serving.config import EngineConfig
from inferonomics.serving.kv_cache import BlockPool
from inferonomics.serving.records import DecodeRunRecord, IterationRecord
from inferonomics.serving.request import COMPLETED, PENDING, RUNNING, Request
from inferonomics.serving.timing import StepTimes


class ReplicaHost(Protocol):
    """What a replica needs from the run around it (the simulator's `_Run`): the next arrival (so a decode
    run does not overshoot it), a KV transfer to start (disaggregated prefill), a finished request to
    hand back, and the run's random draws of speculative verify steps."""

    next_arrival_s: float

    def start_transfer(self, req: Request, src: Replica, now: float) -> None: ...

    def on_complete(self, req: Request, now: float) -> None: ...

    def draw_verify_steps(self, remaining: int, k: int, a: float | tuple[float, ...]) -> int: ...


SCHEDULERS: dict[str, EnginePolicy] = {name: ENGINE_POLICIES[name] for name in SCHEDULER_NAMES}
"""The simulator's schedulers: rows of the one engine table (`inferonomics.perf.engines`)."""

_new_record = tuple.__new__
"""Builds a record from a tuple of its fields in order (0.3 us against 0.8 us for the NamedTuple call)."""

RUN_MAX_STEPS = 4096
"""Longest run of decode-only iterations advanced as one event."""

LPM_MAX_WAITING = 128
"""SGLang falls back from longest-prefix-match to FCFS above this many waiting requests."""


class Replica:
    def __init__(
        self,
        idx: int,
        role: str,
        stm: Any,
        engine: EngineConfig,
        run: ReplicaHost,
        prefix_block_tokens: int,
        max_context_tokens: int,
        times: StepTimes,
        kv_capacity_tokens: int | None = None,
    ) -> None:
        """`kv_capacity_tokens`: this engine's KV cache (a data-parallel rank's share); None = the engine
        config's override, else the step-time model's (the whole replica)."""
        self.idx = idx
        self.role = role  # "both" | "prefill" | "decode"
        self.run = run
        self.stm = stm
        self.times = times
        dep = stm.deployment
        args = getattr(dep, "engine_args", None)
        args = args if isinstance(args, EngineArgs) else None
        self.kv_bytes_per_token = float(stm.kv_bytes_per_token)
        bs = engine.block_size(args)
        self.block_tokens = bs
        cap_tokens = int(kv_capacity_tokens or engine.kv_capacity_tokens or stm.kv_capacity_tokens)
        if cap_tokens < bs:
            what = dep.describe() if hasattr(dep, "describe") else "the deployment"
            raise DoesNotFitError(
                f"{what} leaves room for {max(cap_tokens, 0):,} tokens of KV cache per replica, less than one "
                f"{bs}-token block; use more chips per replica (--tp/--pp) or narrower weights",
                float(bs * self.kv_bytes_per_token),
                0.0,
            )
        self.capacity_tokens = cap_tokens
        self.pool = BlockPool(
            max(cap_tokens // bs, 0),
            bs,
            prefix_block_tokens,
            self.kv_bytes_per_token,
            engine.prefix_cache_enabled and role != "decode",
            engine.kv_tiers,
        )
        self.prefix_block_tokens = prefix_block_tokens
        self.pages_per_prefix_block = self.pool.ppb
        self.watermark_pages = int(engine.watermark_fraction * self.pool.total_pages)
        policy = SCHEDULERS[engine.scheduler]
        self.policy = policy
        self.chunked = policy.chunked_prefill
        self.mixed = policy.mixed
        self.lpm = policy.lpm and engine.sglang_policy == "lpm" and self.pool.enabled
        fitted = getattr(getattr(stm, "engine", None), "prefill_token_budget", None)
        self.budget = engine.token_budget(max_context_tokens, fitted if isinstance(fitted, int | float) else None, args)
        self.max_batch = engine.batch_limit(args)
        k = int(getattr(dep, "speculative_tokens", 0) or 0)
        self.spec_k = k
        self.spec = k > 0
        per_position = getattr(dep, "position_acceptance", None)
        self.spec_a: float | tuple[float, ...] = (
            tuple(per_position) if per_position else float(getattr(dep, "acceptance_rate", 0.0) or 0.0)
        )
        self.tokens_per_decode = 1 + k
        self.reserve_full_prompt = policy.reserve_full_prompt and not self.spec
        self.hold_after_preemption = policy.no_admission_after_preemption
        self.preemption = engine.preemption
        if engine.swap_space_bytes is not None:
            self.swap_cap = float(engine.swap_space_bytes)
        elif engine.kv_tiers:
            self.swap_cap = float(engine.kv_tiers[0].capacity_bytes)
        else:
            self.swap_cap = 4 * 2**30 * int(getattr(dep, "chips_per_replica", 1))
        self.swap_bw = (
            engine.kv_tiers[0].bandwidth_bytes_per_s if engine.kv_tiers else engine.swap_bandwidth_bytes_per_s
        )
        self.swap_used = 0.0
        # queues
        self.waiting: deque[Request] = deque()
        self.resume: deque[tuple[Request, bool]] = deque()
        self.prefilling: dict[int, Request] = {}
        self.running: dict[int, Request] = {}
        self.transferring: dict[int, Request] = {}
        # lazy decode state
        self.dstep = 0
        self.n_dec = 0
        self.dec_base = 0.0
        self.dec_rate = 0.0
        self.mod = [0] * bs
        self.fin_heap: list[tuple[int, int, int, Request]] = []
        self.private_pages = 0
        # the iteration in flight
        self.busy = False
        self.kicked = False
        self._chunks: list[tuple[Request, int]] = []
        self._decoded = False
        self._resumed: list[Request] = []
        self._start_s = 0.0
        self._now = 0.0
        self._n_old = 0
        self.last_end_s = 0.0
        self.last_dec_end_s = math.nan
        self._joined: list[float] = []
        # stats
        self.outstanding = 0
        self.busy_s = 0.0
        self.preemptions = 0
        self.prompt_tokens = 0
        self.hit_tokens = 0
        self.hit_tokens_all = 0
        self.log: list[IterationRecord] = []
        self.itl_samples: list[float] = []
        self.itl_weighted: list[tuple[float, int]] = []
        self.itl_runs: list[tuple[np.ndarray, int]] = []
        self.runs: list[DecodeRunRecord] = []
        self._run_steps = 1
        self._ends: np.ndarray | None = None
        self._record_args: tuple[Any, ...] = ()
        self._rec_running = 0
        self._rec_waiting = 0
        self._end_s = 0.0
        self._last_dec_dur = 0.01
        self.waiting_tokens = 0
        self.iteration_extra_s = 0.0
        """Host time added to every iteration (a disaggregated decode worker's `Handoff.iteration_s`)."""

    # ------------------------------------------------------------------------------------------------
    # queue entry points
    # ------------------------------------------------------------------------------------------------
    def enqueue(self, req: Request, now: float) -> None:
        req.replica = self.idx if req.replica < 0 else req.replica
        req.enqueue_s = now
        self.waiting.append(req)
        self.waiting_tokens += req.target
        self.outstanding += 1

    def receive_kv(self, req: Request, now: float) -> None:
        """Disaggregated decode: a request arrives with its prompt's KV (one token already out)."""
        req.decode_replica = self.idx
        req.swapped_kv = req.computed
        req.status = PENDING
        self.resume.append((req, False))
        self.outstanding += 1

    def decode_step_estimate_s(self, context_tokens: int) -> float:
        """One decode iteration of the running batch with one more sequence of `context_tokens` (how long a
        transferred request's admission iterations take)."""
        n = self.n_dec + 1
        ctx = self.dec_base + self.dec_rate * self.dstep + self.n_dec + context_tokens
        return self.times.iteration(0, 0.0, n, ctx, 0) + self.iteration_extra_s

    def has_work(self) -> bool:
        return bool(self.n_dec or self.prefilling or self.waiting or self.resume)

    @property
    def kv_load(self) -> float:
        """Fraction of KV pages in use by requests, plus the demand of those waiting."""
        return (self.private_pages + self.waiting_tokens / self.block_tokens) / self.pool.total_pages

    # ------------------------------------------------------------------------------------------------
    # scheduling one iteration
    # ------------------------------------------------------------------------------------------------
    def start_step(self, now: float) -> float | None:
        """Form the next batch at `now`; return when it ends, or None if there is nothing to run.

        A decode-only batch runs as a *run* of K iterations of the same requests, up to the next
        finishing request (and the pages free for it); `interrupt` cuts the run short at the first
        iteration boundary after new work arrives, so the result is that of stepping one by one.
        """
        load = self.form_batch(now)
        if load is None:
            return None
        pf_tokens, pf_att, n_dec, dec_ctx, extra_s = load
        if self._chunks or self._resumed or extra_s > 0.0 or not n_dec:
            dur = self.times.iteration(pf_tokens, pf_att, n_dec, dec_ctx, len(self._chunks)) + extra_s
            return self.begin_iteration(now, dur + self.iteration_extra_s, load)
        return self._start_decode_run(now, n_dec)

    def form_batch(self, now: float) -> tuple[int, float, int, float, float] | None:
        """Schedule the next iteration at `now` (the replica is then busy); returns its load (prefill tokens,
        attended tokens, decoding sequences, their context tokens, seconds of swap or KV-tier transfer), or
        None if there is nothing to run. A data-parallel group (`serving/dp_group.py`) forms every rank's
        batch this way and times them together."""
        self._chunks = []
        self._resumed = []
        self._decoded = False
        self._now = now
        self._preempted_now = False
        self._swapped_in = False
        extra_s = 0.0
        if self.mixed:
            extra_s += self._phase_decode()
            pf_tokens, pf_att, e = self._phase_prefill(
                self.budget - self.n_dec * self.tokens_per_decode if self._decoded else self.budget
            )
            extra_s += e
        else:
            pf_tokens, pf_att, e = self._phase_prefill(self.budget)
            extra_s += e
            if not self._chunks:
                extra_s += self._phase_decode()
                if not self._decoded and self._preempted_now:
                    # decode found no page and preempted every decoding request: the pages it freed
                    # let the stalled prefill go on now (else the replica idles with work held)
                    pf_tokens, pf_att, e = self._phase_prefill(self.budget)
                    extra_s += e
        if not self._chunks and not self._decoded and not self._resumed and not self._swapped_in:
            return None
        self._start_s = now
        self.busy = True
        n_dec = self.n_dec if self._decoded else 0
        self._rec_running = len(self.running)
        self._rec_waiting = len(self.waiting) + len(self.resume)
        dec_ctx = self.dec_base + self.dec_rate * self.dstep + n_dec if n_dec else 0.0
        return pf_tokens, pf_att, n_dec, dec_ctx, extra_s

    @property
    def prefill_seqs(self) -> int:
        """Prompts with a chunk in the batch `form_batch` formed."""
        return len(self._chunks)

    @property
    def decode_only(self) -> bool:
        """The formed batch only decodes (no prompt chunk, no request joining from swap or transfer)."""
        return not (self._chunks or self._resumed)

    def begin_iteration(self, now: float, duration_s: float, load: tuple[int, float, int, float, float]) -> float:
        """Run the batch `form_batch` formed as one iteration of `duration_s`; returns when it ends."""
        pf_tokens, pf_att, n_dec, dec_ctx, extra_s = load
        self._run_steps = 1
        self._ends = None
        self._record_args = (
            pf_tokens,
            pf_att,
            n_dec,
            dec_ctx,
            self.pool.total_pages - self.pool.free_pages,
            extra_s,
        )
        self._end_s = now + duration_s
        return self._end_s

    def _start_decode_run(self, now: float, n_dec: int) -> float:
        """A decode-only run: K iterations up to the next finish, within the free pages."""
        K = self.decode_run_steps(now, n_dec)
        u0, du = self.decode_run_context(n_dec)
        durs = self.times.decode_run(n_dec, u0, du, K)
        if self.iteration_extra_s:
            durs = durs + self.iteration_extra_s
        return self.begin_decode_run(now, n_dec, K, durs)

    def decode_run_steps(self, now: float, n_dec: int) -> int:
        """Most decode-only iterations the batch can run as one event: up to its next finish, short of the
        next arrival, within the free pages."""
        K = min(self.fin_heap[0][0] - self.dstep + 1, RUN_MAX_STEPS)
        horizon = self.run.next_arrival_s - now
        if K > 8 and horizon < K * self._last_dec_dur:  # likely cut short by an arrival: don't overshoot
            K = min(K, max(8, int(horizon / self._last_dec_dur) + 2))
        if K > 1 and not self.spec:
            avail = self.pool.available_pages
            if -(-(K - 1) // self.block_tokens) * n_dec > avail:
                K = 1 + self._steps_within(avail, K - 1)
        return K

    def decode_run_context(self, n_dec: int) -> tuple[float, float]:
        """(mean context per decoding sequence at the run's first step, its growth per step)."""
        return (self.dec_base + self.dec_rate * self.dstep + n_dec) / n_dec, self.dec_rate / n_dec

    def begin_decode_run(self, now: float, n_dec: int, K: int, durs: np.ndarray) -> float:
        """Run K decode-only iterations of `durs` seconds (pages for the K - 1 after this one taken now)."""
        used0 = self.pool.total_pages - self.pool.free_pages
        if K > 1 and not self.spec:
            pages = self._run_pages(K - 1)
            self.pool.alloc(pages)
            self.private_pages += pages
        u0, du = self.decode_run_context(n_dec)
        self._last_dec_dur = float(durs[0])
        ends = np.cumsum(durs)
        ends += now
        self._run_steps = K
        self._ends = ends
        self._record_args = (durs, u0, du, used0, self.dstep, tuple(self.mod))
        self._end_s = float(ends[-1])
        return self._end_s

    def _run_pages(self, m: int) -> int:
        """Pages the decode batch needs in the m steps after the current one (non-speculative)."""
        bs = self.block_tokens
        q, r = divmod(m, bs)
        total = q * self.n_dec
        mod = self.mod
        s0 = self.dstep + 1 + q * bs
        for s in range(s0, s0 + r):
            total += mod[(-s) % bs]
        return total

    def _steps_within(self, avail: int, m_max: int) -> int:
        """Most steps after the current one (<= m_max) whose pages fit in `avail`."""
        bs = self.block_tokens
        q = min(avail // self.n_dec, m_max // bs) if self.n_dec else m_max // bs
        used = q * self.n_dec
        m = q * bs
        mod = self.mod
        while m < m_max:
            need = mod[(-(self.dstep + 1 + m)) % bs]
            if used + need > avail:
                break
            used += need
            m += 1
        return m

    def interrupt(self, now: float) -> float | None:
        """New work reached this busy replica: end the current decode run at the first iteration
        boundary at or after `now`. Returns the new end time, or None if it does not change."""
        if self._run_steps <= 1 or self._ends is None:
            return None
        j = int(np.searchsorted(self._ends, now, side="left"))
        k = j + 1
        if k >= self._run_steps:
            return None
        if not self.spec:
            excess = self._run_pages(self._run_steps - 1) - self._run_pages(k - 1)
            self.pool.free(excess)
            self.private_pages -= excess
        self._run_steps = k
        self._end_s = float(self._ends[k - 1])
        return self._end_s

    def _phase_decode(self) -> float:
        if not self.n_dec:
            return 0.0
        extra = 0.0
        pool = self.pool
        while True:
            need = 0 if self.spec else self.mod[(-self.dstep) % self.block_tokens]
            if pool.alloc(need):
                self.private_pages += need
                break
            victim = self.running[next(reversed(self.running))]
            extra += self._preempt(victim)
            if not self.n_dec:
                return extra
        self._decoded = True
        self._n_old = max(0, self.n_dec - len(self._joined))
        return extra

    def _pages_needed(self, req: Request, n: int) -> int:
        shared = req.n_shared * self.prefix_block_tokens
        if self.spec:
            final = req.target + (req.output - req.gen) + self.spec_k
            return max(0, -(-(final - shared) // self.block_tokens) - req.pages)
        return -(-(req.computed + n - shared) // self.block_tokens) - req.pages

    def _phase_prefill(self, budget: int) -> tuple[int, float, float]:
        pool = self.pool
        chunks = self._chunks
        pf_tokens = 0
        pf_att = 0.0
        extra = 0.0
        # 1. unfinished prefills (chunked), in admission order
        if self.prefilling and budget > 0:
            for req in list(self.prefilling.values()):
                if budget <= 0:
                    break
                if req.rid not in self.prefilling:
                    continue
                n = req.target - req.computed
                if n > budget:
                    if self.chunked:
                        n = budget
                    elif chunks:
                        break
                need = self._pages_needed(req, n)
                while not pool.alloc(need):
                    victim = self.prefilling[next(reversed(self.prefilling))]
                    if victim is req:
                        n = 0
                        break
                    extra += self._preempt(victim)
                if n == 0:
                    break
                req.pages += need
                self.private_pages += need
                chunks.append((req, n))
                c = req.computed
                pf_tokens += n
                pf_att += n * c + n * (n + 1) / 2
                budget -= n
        # 2. requests coming back from swap or KV transfer
        while self.resume and len(self.running) < self.max_batch:
            req, is_swap = self.resume[0]
            kv = req.swapped_kv
            need = (
                -(-(kv + (req.output - req.gen) + self.spec_k) // self.block_tokens)
                if self.spec
                else -(-kv // self.block_tokens)
            )
            if self.running and pool.available_pages - need < self.watermark_pages:
                break
            if not pool.alloc(need):
                break
            self.resume.popleft()
            req.pages = need
            req.n_shared = 0
            req.computed = kv
            self.private_pages += need
            if is_swap:
                nbytes = kv * self.kv_bytes_per_token
                self.swap_used -= nbytes
                extra += nbytes / self.swap_bw
            req.status = RUNNING
            self.running[req.rid] = req
            self._swapped_in = True
            if req.computed >= req.target:
                self._resumed.append(req)
                continue
            # back from swap mid-prompt: its next chunk runs in this iteration, as a waiting request's would
            self.prefilling[req.rid] = req
            if budget <= 0:
                continue
            n = req.target - req.computed
            if n > budget:
                if not self.chunked:
                    continue
                n = budget
            more = self._pages_needed(req, n)
            if not pool.alloc(more):
                continue
            req.pages += more
            self.private_pages += more
            chunks.append((req, n))
            pf_tokens += n
            pf_att += n * req.computed + n * (n + 1) / 2
            budget -= n
        # 3. new requests, in queue order (SGLang: longest prefix match first); on a disaggregated
        # decode replica only its own preempted requests, recomputed there
        if not self.waiting or (self.hold_after_preemption and self._preempted_now):
            return pf_tokens, pf_att, extra
        reserved = 0
        if self.reserve_full_prompt:  # blocks the running prefills still need for their prompts
            for r in self.prefilling.values():
                reserved += max(
                    -(-(r.target - r.n_shared * self.prefix_block_tokens) // self.block_tokens) - r.pages, 0
                )
        if self.lpm and 1 < len(self.waiting) <= LPM_MAX_WAITING:
            P = self.prefix_block_tokens
            self.waiting = deque(sorted(self.waiting, key=lambda r: -pool.match(r.keys, (r.target - 1) // P)[0]))
        waiting = self.waiting
        P = self.prefix_block_tokens
        bs = self.block_tokens
        while waiting and budget > 0 and len(self.running) < self.max_batch:
            req = waiting[0]
            h, lower, evictable = pool.match(req.keys, (req.target - 1) // P) if pool.enabled else (0, 0, 0)
            hit = h * P
            n = req.target - hit
            if n > budget:
                if self.chunked:
                    n = budget
                elif chunks:
                    break
            need = -(-(req.target + (req.output - req.gen) + self.spec_k - hit) // bs) if self.spec else -(-n // bs)
            need_total = need + lower * self.pages_per_prefix_block
            if self.reserve_full_prompt:  # the whole prompt must fit now, though blocks come per chunk
                need_total = -(-(req.target - hit) // bs) + lower * self.pages_per_prefix_block + reserved
            if self.running or self.transferring:
                if pool.available_pages - evictable * self.pages_per_prefix_block - need_total < self.watermark_pages:
                    break
            elif pool.available_pages - evictable * self.pages_per_prefix_block < need_total:
                break
            load_s = 0.0
            if h:
                got, load_s = pool.acquire(req.keys, h)  # type: ignore[arg-type]
                if got < h:
                    hit = got * P
                    n = req.target - hit
                    if self.chunked and n > budget:
                        n = budget
                    need = (
                        -(-(req.target + (req.output - req.gen) + self.spec_k - hit) // bs)
                        if self.spec
                        else -(-n // bs)
                    )
                h = got
            if not pool.alloc(need):
                if h:
                    pool.release(req.keys, h)  # type: ignore[arg-type]
                break
            waiting.popleft()
            self.waiting_tokens -= req.target
            extra += load_s
            self.hit_tokens_all += hit
            if req.gen == 0 and req.preemptions == 0:
                req.cached_tokens = hit
                self.prompt_tokens += req.prompt
                self.hit_tokens += hit
                req.first_sched_s = self._now
            req.computed = hit
            req.n_shared = h
            req.pages = need
            self.private_pages += need
            req.status = RUNNING
            self.running[req.rid] = req
            self.prefilling[req.rid] = req
            chunks.append((req, n))
            pf_tokens += n
            pf_att += n * hit + n * (n + 1) / 2
            budget -= n
            if self.reserve_full_prompt:
                reserved += max(-(-(req.target - hit) // bs) - need, 0)
        return pf_tokens, pf_att, extra

    # ------------------------------------------------------------------------------------------------
    # the end of an iteration
    # ------------------------------------------------------------------------------------------------
    def end_step(self, now: float) -> None:
        self.busy = False
        self.busy_s += now - self._start_s
        self.last_end_s = now
        run = self.run
        K = self._run_steps
        if self._ends is None:
            pf_tokens, pf_att, n_dec, dec_ctx, used, extra_s = self._record_args
            self.log.append(
                _new_record(  # IterationRecord(...) without the constructor's keyword handling (hot path)
                    IterationRecord,
                    (
                        self.idx,
                        self._start_s,
                        now - self._start_s,
                        pf_tokens,
                        pf_att,
                        n_dec,
                        dec_ctx,
                        self._rec_running,
                        used,
                        self._rec_waiting,
                        extra_s,
                    ),
                )
            )
            first_end = now
        else:
            durs, u0, du, used0, dstep0, mod = self._record_args
            self.runs.append(
                _new_record(
                    DecodeRunRecord,
                    (
                        self.idx,
                        self._start_s,
                        durs[:K],
                        self.n_dec,
                        u0,
                        du,
                        self._rec_running,
                        used0,
                        dstep0,
                        None if self.spec else mod,
                        self._rec_waiting,
                    ),
                )
            )
            first_end = float(self._ends[0])  # type: ignore[index]
            if K > 1:
                self.itl_runs.append((durs[1:K], self.n_dec))
        if self._decoded:
            # inter-token gaps: requests that decoded last time vs those that joined since
            if self._n_old > 0 and self.last_dec_end_s == self.last_dec_end_s:
                self.itl_weighted.append((first_end - self.last_dec_end_s, self._n_old))
            for t_join in self._joined:
                self.itl_samples.append(first_end - t_join)
            self._joined = []
            self.last_dec_end_s = now
            t = self.dstep + K - 1
            heap = self.fin_heap
            while heap and heap[0][0] <= t:
                fin_step, _, epoch, req = heapq.heappop(heap)
                if epoch != req.epoch or not req.in_decode:
                    continue
                if fin_step != t:
                    raise AssertionError(f"decode run overshot request {req.rid}'s last step")
                kv_final = req.kv0 + req.steps
                self._leave_decode(req)
                if not self.spec:
                    req.pages = -(-(kv_final - req.n_shared * self.prefix_block_tokens) // self.block_tokens)
                req.gen = req.output
                req.last_token_s = now
                self._release(req, kv_final)
                del self.running[req.rid]
                self._complete(req, now)
            self.dstep = t + 1
        for req, n in self._chunks:
            if req.rid not in self.prefilling:  # defensive: preempted after being scheduled
                continue
            req.computed += n
            if self.pool.enabled and req.keys:
                self._register(req, req.computed)
            if req.computed < req.target:
                continue
            del self.prefilling[req.rid]
            req.gen += 1
            if req.first_token_s != req.first_token_s:  # NaN: first token
                req.first_token_s = now
            else:
                if req.resume_gaps is None:
                    req.resume_gaps = []
                req.resume_gaps.append(now - req.last_token_s)
            req.last_token_s = now
            if req.gen >= req.output:
                self._release(req, req.computed)
                del self.running[req.rid]
                self._complete(req, now)
            elif self.role == "prefill":
                del self.running[req.rid]
                self.transferring[req.rid] = req
                self.outstanding -= 1
                run.start_transfer(req, self, now)
            else:
                self._join_decode(req)
                self._joined.append(now)
        for req in self._resumed:
            self._join_decode(req)
            self._joined.append(req.last_token_s if req.last_token_s == req.last_token_s else now)
        self._chunks = []
        self._resumed = []

    def _join_decode(self, req: Request) -> None:
        t0 = self.dstep
        kv0 = req.computed
        remaining = req.output - req.gen
        req.kv0 = kv0
        req.t0 = t0
        req.gen0 = req.gen
        req.in_decode = True
        if self.spec:
            steps = self.run.draw_verify_steps(remaining, self.spec_k, self.spec_a)
            rate = remaining / steps
        else:
            steps = remaining
            rate = 1.0
            self.mod[(kv0 - t0) % self.block_tokens] += 1
        req.steps = steps
        req.rate = rate
        self.n_dec += 1
        self.dec_base += kv0 - rate * t0
        self.dec_rate += rate
        heapq.heappush(self.fin_heap, (t0 + steps - 1, req.rid, req.epoch, req))

    def _leave_decode(self, req: Request) -> None:
        self.n_dec -= 1
        self.dec_base -= req.kv0 - req.rate * req.t0
        self.dec_rate -= req.rate
        if not self.spec:
            self.mod[(req.kv0 - req.t0) % self.block_tokens] -= 1
        req.in_decode = False
        req.epoch += 1
        if not self.n_dec:  # no drift in the float sums
            self.dec_base = 0.0
            self.dec_rate = 0.0

    def _register(self, req: Request, upto_tokens: int) -> None:
        """Share the request's full prefix blocks up to `upto_tokens` through the prefix cache."""
        keys = req.keys
        full = min(upto_tokens // self.prefix_block_tokens, len(keys))  # type: ignore[arg-type]
        pool = self.pool
        ppb = self.pages_per_prefix_block
        while req.n_shared < full:
            dup = pool.insert(keys[req.n_shared])  # type: ignore[index]
            req.n_shared += 1
            req.pages -= ppb
            self.private_pages -= ppb
            if dup:
                pool.free(ppb)

    def _release(self, req: Request, kv_tokens: int) -> None:
        """Give back a request's KV: full blocks stay in the prefix cache, the rest is freed."""
        pool = self.pool
        if pool.enabled and req.keys:
            self._register(req, kv_tokens)
        if req.n_shared:
            pool.release(req.keys, req.n_shared)  # type: ignore[arg-type]
        pool.free(req.pages)
        self.private_pages -= req.pages
        req.pages = 0
        req.n_shared = 0

    def release_transferred(self, req: Request) -> None:
        """Disaggregated prefill: the KV has reached the decode pool; free it here."""
        del self.transferring[req.rid]
        self._release(req, req.computed)

    def _complete(self, req: Request, now: float) -> None:
        req.status = COMPLETED
        req.finish_s = now
        self.outstanding -= 1
        self.run.on_complete(req, now)

    def _preempt(self, req: Request) -> float:
        """Preempt a running request (before this iteration runs); returns seconds of swap-out."""
        if req.in_decode:
            done = self.dstep - req.t0
            adv = min(int(round(req.rate * done)), req.output - req.gen0 - 1) if self.spec else done
            kv = req.kv0 + adv
            req.gen = req.gen0 + adv
            self._leave_decode(req)
            if not self.spec:
                req.pages = -(-(kv - req.n_shared * self.prefix_block_tokens) // self.block_tokens)
            req.target = kv
            req.computed = kv
        else:
            del self.prefilling[req.rid]
            kv = req.computed
        del self.running[req.rid]
        req.preemptions += 1
        self.preemptions += 1
        self._preempted_now = True
        extra = 0.0
        nbytes = kv * self.kv_bytes_per_token
        if self.preemption == "swap" and self.swap_used + nbytes <= self.swap_cap:
            self._release(req, kv)
            self.swap_used += nbytes
            req.swapped_kv = kv
            req.computed = kv
            req.status = PENDING
            self.resume.append((req, True))
            return nbytes / self.swap_bw
        # recompute: everything computed so far is computed again (less what the prefix cache keeps)
        self._release(req, kv)
        req.recomputed_tokens += kv
        req.target = req.prompt + req.gen if req.gen else req.prompt
        req.computed = 0
        req.status = PENDING
        self.waiting.appendleft(req)
        self.waiting_tokens += req.target
        return extra

    # ------------------------------------------------------------------------------------------------
    def check_drained(self) -> None:
        """After a complete run: nothing left running and every page back (free or cached)."""
        held = (self.running, self.prefilling, self.transferring, self.waiting, self.resume)
        if any(held) or self.n_dec or self.private_pages:
            raise AssertionError(
                f"replica {self.idx} ended with work or pages held: running {len(self.running)}, "
                f"queued {len(self.waiting) + len(self.resume)}, private pages {self.private_pages}"
            )
        self.pool.check(self.private_pages)
        if any(self.pool.refs.values()):
            raise AssertionError(f"replica {self.idx} ended with referenced prefix blocks")


def draw_verify_steps(rng: np.random.Generator, remaining: int, k: int, a: float | Sequence[float]) -> int:
    """Verify steps to emit `remaining` tokens with k drafts, accepted with probability a (one rate, or one
    per position: draft j is accepted with a[j] once drafts 1..j-1 were).

    Each step emits 1 + (accepted drafts before the first rejection, at most k) tokens (Leviathan et
    al. 2023); the last step may overshoot and is truncated.
    """
    if remaining <= 0:
        return 1
    rates = np.asarray(a, dtype=np.float64).ravel()
    if k == 0 or rates.size == 0 or not rates.any():
        return remaining
    rates = np.concatenate([rates[:k], np.full(max(k - rates.size, 0), rates[min(rates.size, k) - 1])])
    survive = np.cumprod(rates)  # P(at least j drafts accepted), j = 1..k
    mean = 1.0 + float(survive.sum())
    total = 0
    steps = 0
    while True:
        n = int(remaining / mean * 1.2) + 8
        gains = 1 + _accepted(rng, rates, n)
        cs = np.cumsum(gains) + total
        idx = int(np.searchsorted(cs, remaining))
        if idx < n:
            return steps + idx + 1
        total = int(cs[-1])
        steps += n


def _accepted(rng: np.random.Generator, rates: np.ndarray, n: int) -> np.ndarray:
    """Accepted drafts in each of n steps: the run of accepted positions before the first rejection."""
    if np.all(rates == rates[0]) and rates[0] < 1.0:
        return np.minimum(rng.geometric(1.0 - rates[0], size=n) - 1, rates.size)
    ok = rng.random((n, rates.size)) < rates[None, :]
    return np.cumprod(ok, axis=1).sum(axis=1)
