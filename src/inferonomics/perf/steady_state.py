"""Steady state of a closed loop of C clients, each sending requests of ISL input and OSL output tokens.

This is how serving benchmarks are run (and how the measured data was taken). The engine admits
waiting prompts first come, first served, up to its token budget B per iteration, so requests enter
in cohorts of g prompts; a cohort's prefill takes k = ceil(g x ISL / B) iterations that also carry the
decode step of the sequences already decoding (engines that mix prefill and decode: TensorRT-LLM,
vLLM) or stall them (SGLang's default separate prefill batches). The loop runs in one of two regimes:

- spread: the clients' requests are spread over the loop. About a = C / (OSL - 1 + k) prompts arrive
  per iteration, so an iteration that admits prompts admits a Poisson count given at least one,
  g = a / (1 - e^-a) (one prompt at low load, a budget-full cohort at high load); a request waits for
  no other prefill, and the other n - 1 cohorts' prefills (n = C / g) fall into its decode phase;
- synchronised (all clients started together, identical requests finish together): cohorts fill the
  budget, g = min(C, B // ISL), and when they start together cohort j waits for the j ahead of it.

With x = (n - 1) k the prefill iterations inside a request's decode phase (the other cohorts' prefills
come round once per cycle) and a the ones it waits for (0 spread, (n - 1) k / 2 synchronised),

    TTFT = (frontend overhead) + (wait for the iteration in progress) + (k + a) x tau_prefill,
    TPOT = [(OSL - 1 - x) tau_decode + x tau_prefill] / (OSL - 1),
    lambda = C / (TTFT + (OSL - 1) x TPOT),

and the prediction is the engine's fitted share w of the synchronised regime plus 1 - w of the spread one.
The two regimes' TTFTs are also returned as a range (`SteadyState.ttft_range_s`): where a run lands
between them depends on how its benchmark started the clients, which measured data rarely records.

The simulator (`inferonomics.serving`) plays the loop out iteration by iteration and agrees with this
closed form (its synchronised regime) on TPOT and throughput within 8% (tests/test_serving_steady_state.py).

When the KV cache cannot hold C sequences of ISL + OSL tokens, only M fit; the other C - M clients
queue (Little's law: a queue wait of (C - M) / lambda is added to TTFT).
Disaggregated serving solves the prefill pool (prompts batched up to the token budget, queueing near
capacity), the KV transfer and the
decode pool separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inferonomics.perf.deployment import BACKENDS
from inferonomics.perf.engines import engine_policy
from inferonomics.perf.memory import kv_bytes_per_sequence_per_chip
from inferonomics.perf.step import StepTimeModel

FIXED_POINT_ITERATIONS = 60


@dataclass
class SteadyState:
    """Arrays (or scalars) of the closed-loop steady state of one deployment."""

    ttft_s: Any
    tpot_s: Any
    requests_per_s: Any
    output_tokens_per_s: Any
    decode_batch: Any
    iteration_s: Any
    prefill_tokens_per_iteration: Any
    breakdown: dict[str, Any] = field(default_factory=dict)
    ttft_low_s: Any = None
    """TTFT if the clients' requests are spread over the loop (None: same as ttft_s)."""
    ttft_high_s: Any = None
    """TTFT if the clients run synchronised, in budget-full waves (None: same as ttft_s). How a benchmark
    starts its clients, which decides where between the two a run lands, is rarely recorded."""

    @property
    def ttft_range_s(self) -> tuple[Any, Any]:
        """(low, high) TTFT of the loop's two regimes; both equal ttft_s where there is one regime."""
        low = self.ttft_s if self.ttft_low_s is None else self.ttft_low_s
        high = self.ttft_s if self.ttft_high_s is None else self.ttft_high_s
        return np.minimum(low, high), np.maximum(low, high)


MIXED_BATCH_BACKENDS = tuple(name for name in BACKENDS if engine_policy(name).mixed)
"""Engines whose iterations mix prefill chunks with decodes (the one engine table, `perf/engines.py`)."""


def _token_budget(stm: StepTimeModel) -> float:
    """Prefill tokens per iteration: the deployment's `max_num_batched_tokens` if given, else the fitted one."""
    return float(stm.deployment.engine_args.max_num_batched_tokens or stm.engine.prefill_token_budget)


"""Engines whose prefill iterations also carry the running decode steps (SGLang's default does not)."""


@dataclass(frozen=True)
class _Loop:
    """The arrays every regime of a closed loop starts from."""

    clients: np.ndarray
    isl: np.ndarray
    osl: np.ndarray
    budget: float
    in_flight: np.ndarray
    decode_iters: np.ndarray
    full_group: np.ndarray
    context: np.ndarray
    decode_iteration_s: np.ndarray


def _loop(stm: StepTimeModel, concurrency: Any, isl: Any, osl: Any) -> _Loop:
    dep = stm.deployment
    c, i, o = np.broadcast_arrays(
        np.asarray(concurrency, dtype=np.float64),
        np.asarray(isl, dtype=np.float64),
        np.asarray(osl, dtype=np.float64),
    )
    budget = _token_budget(stm) * dep.attention_dp
    in_flight = np.minimum(c, _max_in_flight(stm, i + o))
    decode_iters = np.maximum(o - 1.0, 0.0) / dep.tokens_per_step
    full_group = np.clip(np.floor(budget / i), 1.0, in_flight)
    ctx = i + o / 2.0  # mean context of a sequence in its decode phase
    tau_d = np.asarray(stm.iteration_time_s(0.0, 0.0, in_flight, in_flight * ctx))  # the same in every regime
    return _Loop(c, i, o, budget, in_flight, decode_iters, full_group, ctx, tau_d)


def closed_loop(
    stm: StepTimeModel, concurrency: Any, isl: Any, osl: Any, wave_fraction: float | None = None
) -> SteadyState:
    """Closed-loop steady state of one replica with `concurrency` clients (arrays broadcast): the
    engine's fitted share `wave_fraction` of the synchronised regime plus the rest of the spread one
    (see the module docstring); `wave_fraction` given overrides the engine's (0: the spread regime)."""
    lp = _loop(stm, concurrency, isl, osl)
    # Spread regime: arrivals fall independently over a cycle of ~decode_iters + 1 iterations, so an
    # iteration that admits prompts admits a Poisson count conditioned on >= 1: a / (1 - e^-a).
    arrivals = lp.in_flight / (lp.decode_iters + np.ceil(lp.isl / lp.budget))
    spread_group = np.clip(arrivals / -np.expm1(-np.maximum(arrivals, 1e-9)), 1.0, lp.full_group)
    wave = stm.engine.wave_fraction if wave_fraction is None else wave_fraction
    spread, spread_seqs = _regime(stm, lp, spread_group, startup_wait=False)
    synced, synced_seqs = _regime(stm, lp, lp.full_group, startup_wait=True)
    if wave <= 0.0:
        out = _with_breakdown(stm, lp, spread, spread_seqs)
    else:
        blended = _blend(synced, spread, wave, lp.clients, lp.osl)
        out = _with_breakdown(stm, lp, blended, wave * synced_seqs + (1.0 - wave) * spread_seqs)
    out.ttft_low_s, out.ttft_high_s = spread.ttft_s, synced.ttft_s
    return out


OPEN_LOOP_GRID = 48
"""Concurrencies at which `open_loop` tabulates a replica's closed-loop request rate."""


def open_loop(stm: StepTimeModel, rate_per_s: Any, isl: float, osl: float, max_concurrency: Any) -> SteadyState:
    """Steady state of one replica fed independent arrivals at `rate_per_s` (arrays broadcast), with at
    most `max_concurrency` requests in flight (its max batch).

    By Little's law an open loop at rate lambda holds on average the C requests for which the closed
    loop's rate lambda(C) = lambda; arrivals are independent, so the loop is in its spread regime. C is
    interpolated on a grid of concurrencies (the rate grows with C); a rate beyond lambda(max) saturates
    the replica, which then runs its full batch (the caller's replica count should prevent that)."""
    rate, cap = np.broadcast_arrays(
        np.asarray(rate_per_s, dtype=np.float64), np.asarray(max_concurrency, dtype=np.float64)
    )
    top = max(float(np.max(cap)), 1.0)
    grid = np.unique(np.concatenate([np.geomspace(1.0, top, OPEN_LOOP_GRID), np.maximum(cap.ravel(), 1.0)]))
    served = np.maximum.accumulate(np.asarray(closed_loop(stm, grid, isl, osl, wave_fraction=0.0).requests_per_s))
    in_flight = np.clip(np.interp(rate, served, grid), 1.0, np.maximum(cap, 1.0))
    return closed_loop(stm, in_flight, isl, osl, wave_fraction=0.0)


def open_loop_disaggregated(
    prefill: StepTimeModel,
    decode: StepTimeModel,
    prefill_instances: Any,
    decode_instances: Any,
    rate_per_s: Any,
    isl: float,
    osl: float,
    max_concurrency: Any,
) -> SteadyState:
    """`open_loop` for disaggregated pools (arrays of equal shape): per element, the clients C at which the
    closed loop over the pools (`disaggregated`) serves `rate_per_s`, at most `max_concurrency`, tabulated on
    `OPEN_LOOP_GRID // 2` concurrencies from 1 to that bound."""
    x, y, rate, cap = (
        np.asarray(a, dtype=np.float64).ravel()
        for a in np.broadcast_arrays(prefill_instances, decode_instances, rate_per_s, max_concurrency)
    )
    cap = np.maximum(cap, 1.0)
    n_grid = OPEN_LOOP_GRID // 2
    grid = cap[:, None] ** (np.arange(n_grid)[None, :] / (n_grid - 1))  # 1 .. cap, geometric
    rep = np.repeat
    curve = disaggregated(prefill, decode, rep(x, n_grid), rep(y, n_grid), grid.ravel(), isl, osl)
    served = np.maximum.accumulate(np.asarray(curve.requests_per_s).reshape(grid.shape), axis=1)
    in_flight = np.array([np.interp(r, lam, g) for r, lam, g in zip(rate, served, grid, strict=True)])
    return disaggregated(prefill, decode, x, y, np.clip(in_flight, 1.0, cap), isl, osl)


def synchronised_loop(stm: StepTimeModel, concurrency: Any, isl: Any, osl: Any) -> SteadyState:
    """The synchronised regime once started: budget-full cohorts that no longer wait for each other
    (what a jitter-free simulation of clients started together settles into)."""
    lp = _loop(stm, concurrency, isl, osl)
    return _with_breakdown(stm, lp, *_regime(stm, lp, lp.full_group, startup_wait=False))


def _with_breakdown(stm: StepTimeModel, lp: _Loop, ss: SteadyState, prefill_seqs: np.ndarray) -> SteadyState:
    """`ss` with the breakdown of its mean iteration (the decode batch plus its share of prefill), computed
    once for the final result rather than per regime."""
    p = ss.prefill_tokens_per_iteration
    ss.breakdown = stm.iteration_breakdown(
        p, p * (lp.isl + 1.0) / 2.0, lp.in_flight, lp.in_flight * lp.context, prefill_seqs
    )
    return ss


def _blend(a: SteadyState, b: SteadyState, w: float, clients: np.ndarray, osl: np.ndarray) -> SteadyState:
    """Share w of regime a and 1 - w of b: times blend, the rate follows from them (Little's law)."""
    ttft = w * a.ttft_s + (1.0 - w) * b.ttft_s
    tpot = w * a.tpot_s + (1.0 - w) * b.tpot_s
    lam = clients / (ttft + np.maximum(osl - 1.0, 0.0) * tpot)
    return SteadyState(
        ttft_s=ttft,
        tpot_s=tpot,
        requests_per_s=lam,
        output_tokens_per_s=lam * osl,
        decode_batch=a.decode_batch,
        iteration_s=w * a.iteration_s + (1.0 - w) * b.iteration_s,
        prefill_tokens_per_iteration=w * a.prefill_tokens_per_iteration + (1.0 - w) * b.prefill_tokens_per_iteration,
    )


def _regime(stm: StepTimeModel, lp: _Loop, group: np.ndarray, startup_wait: bool) -> tuple[SteadyState, np.ndarray]:
    """One regime of the loop with prompts admitted in cohorts of `group` (see the module docstring):
    its steady state without a breakdown, and the prompts per prefill iteration."""
    dep = stm.deployment
    c, i, o, budget, in_flight, decode_iters = lp.clients, lp.isl, lp.osl, lp.budget, lp.in_flight, lp.decode_iters
    tps = dep.tokens_per_step
    ctx, tau_d = lp.context, lp.decode_iteration_s
    chunks = np.ceil(group * i / budget)
    cohorts = in_flight / group
    prefill_iters = cohorts * chunks  # iterations that carry a prefill chunk, per cycle of the loop
    behind = prefill_iters - chunks
    # Every request's decode phase holds the other cohorts' prefills once per cycle. Cohorts that start
    # together also queue behind each other (`startup_wait`): cohort j waits for the j ahead.
    others = behind
    ahead = behind / 2.0 if startup_wait else behind * 0.0
    mixed = dep.backend in MIXED_BATCH_BACKENDS
    # Prefill-bound loop (long prompts, short outputs): a cycle needs more prefill iterations than a
    # request's own prefill + decode span, so requests queue for the token budget and every iteration
    # of a mixed engine carries a full budget of prefill.
    cycle_iters = np.maximum(decode_iters + chunks, prefill_iters)
    saturated = mixed & (prefill_iters > decode_iters + chunks)
    x = np.minimum(others, decode_iters) if mixed else others
    prefill_tokens = np.where(saturated, np.minimum(budget, in_flight * i / cycle_iters), group * i / chunks)
    prefill_seqs = np.maximum(prefill_tokens / i, 1.0)
    decoding = in_flight - group
    attended = prefill_tokens * (i + 1.0) / 2.0
    if mixed:
        tau_p = np.asarray(stm.iteration_time_s(prefill_tokens, attended, decoding, decoding * ctx, prefill_seqs))
        tpot = ((decode_iters - x) * tau_d + x * tau_p) / np.maximum(decode_iters, 1.0)
        own_prefill = np.where(saturated, cycle_iters - decode_iters, chunks + ahead)
    else:  # prefill batches run alone and stall the decoding sequences
        tau_p = np.asarray(stm.iteration_time_s(prefill_tokens, attended, 0.0, 0.0, prefill_seqs))
        tpot = (decode_iters * tau_d + x * tau_p) / np.maximum(decode_iters, 1.0)
        own_prefill = chunks + ahead
    ttft_server = stm.engine.request_overhead_s + stm.engine.ttft_wait_scale * tau_d + own_prefill * tau_p
    e2e_server = ttft_server + decode_iters * tpot
    lam = in_flight / e2e_server
    ttft = ttft_server + (c - in_flight) / lam
    ss = SteadyState(
        ttft_s=ttft,
        tpot_s=tpot / tps,
        requests_per_s=lam,
        output_tokens_per_s=lam * o,
        decode_batch=in_flight,
        iteration_s=tpot,
        prefill_tokens_per_iteration=prefill_tokens * x / np.maximum(decode_iters, 1.0),
    )
    return ss, prefill_seqs


def _max_in_flight(stm: StepTimeModel, tokens_per_sequence: np.ndarray) -> np.ndarray:
    """Sequences of `tokens_per_sequence` the replica's KV cache holds at once (at least 1)."""
    dep = stm.deployment
    per_seq_per_chip = kv_bytes_per_sequence_per_chip(dep, tokens_per_sequence)
    free_per_chip = stm.kv_free_bytes / dep.chips_per_replica
    held = np.floor(free_per_chip / np.maximum(per_seq_per_chip, 1e-9)) * dep.attention_dp
    if dep.engine_args.max_num_seqs:  # the engine's `max_num_seqs`, when the user sets it
        held = np.minimum(held, dep.engine_args.max_num_seqs * dep.attention_dp)
    return np.maximum(held, 1.0)


def max_sequences_held(stm: StepTimeModel, tokens_per_sequence: Any) -> Any:
    """Sequences of `tokens_per_sequence` tokens one instance's KV cache holds at once (at least 1)."""
    return _max_in_flight(stm, np.asarray(tokens_per_sequence, dtype=np.float64))


def kv_transfer_s(prefill: StepTimeModel, decode: StepTimeModel, chips: Any, isl: Any) -> Any:
    """Seconds to ship one prompt's KV cache from a prefill instance to a decode instance: its bytes over
    the scale-up fabric (NVLink) when both pools fit in one scale-up domain (`chips` <= the domain, an NVL72
    rack), else over the scale-out network (RDMA, the system's per-chip NIC bandwidth), every chip of the
    prefill replica sending its shard in parallel, plus one link latency per transfer."""
    dep_d = decode.deployment
    sys = dep_d.system
    kv_bytes = np.asarray(dep_d.model.kv_bytes(isl, dep_d.kv_precision))
    one_domain = np.asarray(chips) <= sys.scaleup_domain_chips
    link_per_chip = np.where(
        one_domain, sys.intra_node_bandwidth_bytes_per_s, max(sys.inter_node_bandwidth_bytes_per_s, 1e9)
    )
    latency = np.where(one_domain, sys.intra_node_latency_s, sys.inter_node_latency_s or 10e-6)
    return kv_bytes / (link_per_chip * prefill.deployment.chips_per_replica) + latency


@dataclass(frozen=True)
class Handoff:
    """What a disaggregated request pays between the pools beyond their own iterations: the decode engine's
    constants fitted on the disaggregated runs (`calibrate/disagg.py`, `EngineFit.disagg_*`). The closed form
    (`disaggregated`) and the simulator (`serving/simulator.py`) both read them here."""

    orchestration_s: float
    """Per request, after the prefill: router hops and the transfer handshake (`disagg_overhead_s`)."""
    admission_steps: float
    """Decode iterations before a transferred request's first token (`disagg_admission_steps`)."""
    iteration_s: float
    """Host time added to every iteration of a disaggregated decode worker (`disagg_iteration_s`)."""


def disagg_handoff(decode: StepTimeModel) -> Handoff:
    """The decode engine's fitted hand-off terms (`Handoff`)."""
    eng = decode.engine
    return Handoff(eng.disagg_overhead_s, eng.disagg_admission_steps, eng.disagg_iteration_s)


PLANNER_STEP_RATIO = 2.0
"""The planner's decode batch: the most sequences per decode worker whose step stays within this many times
the step of one sequence per attention rank (past it TPOT grows about linearly with the batch: the worker
is no longer latency-bound, and a planner meeting a TPOT target adds workers instead)."""
PLANNER_PREFILL_UTILISATION = 0.8
"""Rate matching: prefill workers so the pool runs at this share of its capacity at full batches."""


def plan_disaggregated_workers(
    prefill: StepTimeModel,
    decode: StepTimeModel,
    concurrency: float,
    isl: float,
    osl: float,
    decode_workers: int | None = None,
) -> tuple[int, int]:
    """(prefill workers, decode workers) for `concurrency` closed-loop clients, as a rate-matching planner
    sizes the pools (NVIDIA Dynamo's planner, aiconfigurator's disaggregated mode): decode workers so each
    holds at most the batch of `PLANNER_STEP_RATIO` (and what its KV cache holds), then the fewest prefill
    workers whose capacity at full batches matches the decode pool's request rate at
    `PLANNER_PREFILL_UTILISATION`. For runs that do not record their worker counts; the result is an
    assumption, stated as such. Measured on the disaggregated runs that do record them (43 rows), this
    rule's constants carry to the others better than the fewest decode workers that hold the sequences
    (leave-one-model-out TPOT of DeepSeek-R1 55% vs 77%). `decode_workers` given: only the prefill pool is
    sized."""
    dep_d = decode.deployment
    adp = float(dep_d.attention_dp)
    ctx = isl + osl / 2.0
    cap = max(float(_max_in_flight(decode, np.asarray(isl + osl, dtype=np.float64))), adp)
    batches = np.unique(np.round(np.geomspace(adp, cap, 48)))
    steps = np.asarray(decode.decode_step_time_s(batches, ctx))
    one = float(decode.decode_step_time_s(adp, ctx))
    within = batches[steps <= PLANNER_STEP_RATIO * one]
    per_worker = float(within.max()) if within.size else adp
    if decode_workers is None:
        decode_workers = max(int(np.ceil(concurrency / per_worker - 1e-9)), 1)
    budget = prefill.engine.prefill_token_budget * prefill.deployment.attention_dp
    g_max = max(float(np.floor(budget / isl)), 1.0)
    full_s = float(prefill.iteration_time_s(g_max * isl, g_max * isl * (isl + 1.0) / 2.0, 0.0, 0.0, g_max))
    one_s = float(prefill.iteration_time_s(isl, isl * (isl + 1.0) / 2.0, 0.0, 0.0, 1.0))
    tau = float(decode.decode_step_time_s(concurrency / decode_workers, ctx))
    rate = concurrency / (one_s + max(osl - 1.0, 0.0) / dep_d.tokens_per_step * tau)
    prefill_workers = max(int(np.ceil(rate / (PLANNER_PREFILL_UTILISATION * g_max / full_s) - 1e-9)), 1)
    return prefill_workers, decode_workers


def disaggregated(
    prefill: StepTimeModel,
    decode: StepTimeModel,
    prefill_instances: Any,
    decode_instances: Any,
    concurrency: Any,
    isl: Any,
    osl: Any,
    benchmark_waves: float | None = None,
) -> SteadyState:
    """Closed loop over separate prefill and decode pools, with the KV cache shipped between them.

    TTFT = frontend overhead + prefill queue and batch + KV transfer + decode admission + orchestration:
    - prefill pool: an instance batches the prompts waiting when it starts an iteration, up to its token
      budget B (g_max = B // ISL prompts). Prompts arrive at lambda_i = lambda / instances, so a batch holds
      g = clip(lambda_i S(g), 1, g_max) prompts, S(g) being one iteration of g x ISL prefill tokens. A prompt
      finds the instance busy with probability rho = lambda_i S(g) / g and waits for the rest of that batch,
      S(g) / 2 (batching absorbs bursts, and a closed loop has no unbounded queue: Poisson-style 1 / (1 - rho)
      growth does not apply); past 95% of the pool's capacity at full batches, g_max / S(g_max) per
      instance, the clients queue there and capacity sets the rate;
    - KV transfer (`kv_transfer_s`): NVLink inside one scale-up domain, else RDMA; bytes over bandwidth plus
      a per-transfer latency;
    - decode admission: the decode worker takes the transferred request in at an iteration boundary and
      emits its first token after `disagg_admission_steps` of its iterations (engine constant);
    - orchestration: the engine's `disagg_overhead_s` per request (router hops, transfer handshake).
    Decode pool: decode-only iterations with the sequences in their decode phase spread over the instances,
    each iteration paying the engine's `disagg_iteration_s` on top (transfer polling), each step advancing
    a sequence by `tokens_per_step` (speculative decoding). The pool holds at most M sequences of ISL + OSL
    tokens in its KV caches (`_max_in_flight` per instance); the other C - M clients wait for a slot, which
    adds (C - M) / lambda to TTFT (Little's law, as `closed_loop`).

    First wave (`ttft_high_s`): a closed-loop benchmark starts its C clients together, so the first C
    prompts reach the prefill pool at once; an instance takes its n = C / instances in full batches of
    g_max, and a prompt of the first wave waits on average (n / g_max + 1) / 2 batches of S(g_max) (one
    batch S(n) when n <= g_max). With `benchmark_waves` W given (the benchmark sends W x C requests:
    genai-perf and aiperf default to 10 x concurrency, as aiconfigurator's disaggregated TTFT model assumes),
    the mean TTFT is the steady state's plus 1 / W of the first wave's excess over it; without it, the
    steady state (`ttft_low_s`).
    The simulator (`inferonomics.serving`, Disaggregation) plays this out and agrees within the tolerance
    of tests/test_serving_steady_state.py.
    """
    clients, i, o = np.broadcast_arrays(
        np.asarray(concurrency, dtype=np.float64),
        np.asarray(isl, dtype=np.float64),
        np.asarray(osl, dtype=np.float64),
    )
    # the decode pool's KV caches hold at most this many sequences; the other clients wait for a slot
    c = np.minimum(clients, _max_in_flight(decode, i + o) * np.asarray(decode_instances, dtype=np.float64))
    dep_d = decode.deployment
    eng_d = decode.engine
    tps = dep_d.tokens_per_step
    ctx = i + o / 2.0
    decode_steps = np.maximum(o - 1.0, 0.0) / tps
    budget = _token_budget(prefill) * prefill.deployment.attention_dp
    g_max = np.maximum(np.floor(budget / i), 1.0)

    def batch_s(g: np.ndarray) -> np.ndarray:
        """One prefill iteration of g prompts of ISL tokens."""
        return np.asarray(prefill.iteration_time_s(g * i, g * i * (i + 1.0) / 2.0, 0.0, 0.0, g))

    def step_s(seqs: np.ndarray) -> np.ndarray:
        """One decode iteration of a disaggregated decode worker holding `seqs` sequences."""
        return np.asarray(decode.decode_step_time_s(np.maximum(seqs, 1e-9), ctx)) + eng_d.disagg_iteration_s

    service = batch_s(np.ones_like(i))
    service_full = batch_s(g_max)
    chips = prefill.deployment.chips_per_replica * prefill_instances + dep_d.chips_per_replica * decode_instances
    transfer = kv_transfer_s(prefill, decode, chips, i)
    tau = step_s(np.maximum(c / decode_instances, 1.0))
    overhead = prefill.engine.request_overhead_s + eng_d.disagg_overhead_s
    admission = eng_d.disagg_admission_steps
    ttft = service + transfer + overhead + admission * tau
    shape = np.broadcast_shapes(c.shape, np.shape(service), np.shape(prefill_instances), np.shape(decode_instances))
    ttft, tau = np.broadcast_to(ttft, shape).copy(), np.broadcast_to(tau, shape).copy()
    s_g = np.broadcast_to(service, shape).copy()
    lam = c / (ttft + decode_steps * tau)
    lam_cap = 0.95 * prefill_instances * g_max / service_full
    active = np.ones(shape, dtype=bool)  # each element iterates until it converges, alone (scalar = vector)
    for _ in range(FIXED_POINT_ITERATIONS):
        lam_new = c / np.maximum(ttft + decode_steps * tau, 1e-9)
        lam_next = 0.5 * lam + 0.5 * lam_new
        per_instance = lam_next / prefill_instances
        g = np.clip(per_instance * s_g, 1.0, g_max)
        s_next = batch_s(g)
        rho = np.minimum(per_instance * s_next / g, 1.0)
        capped = per_instance * service_full / g_max >= 0.95
        wait = rho * s_next / 2.0
        d = np.minimum(c, lam_next * decode_steps * tau) / decode_instances
        tau_next = step_s(d)
        ttft_next = s_next + wait + transfer + overhead + admission * tau_next
        # A saturated prefill pool: clients queue there; the pool's capacity sets the rate.
        ttft_next = np.where(capped, np.maximum(c / lam_cap - decode_steps * tau_next, ttft_next), ttft_next)
        converged = (np.abs(ttft_next - ttft) <= 1e-7 * ttft_next) & (np.abs(lam_next - lam) <= 1e-7 * lam_next)
        ttft = np.where(active, ttft_next, ttft)
        lam = np.where(active, lam_next, lam)
        tau = np.where(active, tau_next, tau)
        s_g = np.where(active, s_next, s_g)
        active &= ~converged
        if not active.any():
            break
    lam = c / (ttft + decode_steps * tau)
    seqs = np.minimum(c, lam * decode_steps * tau) / decode_instances
    bd = decode.iteration_breakdown(0.0, 0.0, seqs, seqs * ctx)
    bd["overhead_s"] = bd["overhead_s"] + eng_d.disagg_iteration_s
    bd["total_s"] = bd["total_s"] + eng_d.disagg_iteration_s
    bd["kv_transfer_s"] = transfer
    queued_s = (clients - c) / lam
    steady = ttft + queued_s
    # First wave: every instance takes its share of the C prompts in full batches (module docstring).
    n = np.maximum(clients / prefill_instances, 1.0)
    burst = np.where(n > g_max, service_full * (n / g_max + 1.0) / 2.0, batch_s(np.minimum(n, g_max)))
    first = burst + transfer + overhead + admission * tau + queued_s
    excess = np.maximum(first - steady, 0.0)
    bd["first_wave_excess_s"] = excess
    mean_ttft = steady if not benchmark_waves else steady + excess / benchmark_waves
    lam = clients / (mean_ttft + decode_steps * tau)
    return SteadyState(
        ttft_low_s=steady,
        ttft_high_s=steady + excess,
        ttft_s=mean_ttft,
        tpot_s=tau / tps,
        requests_per_s=lam,
        output_tokens_per_s=lam * o,
        decode_batch=seqs,
        iteration_s=tau,
        prefill_tokens_per_iteration=np.zeros_like(c),
        breakdown=bd,
    )
