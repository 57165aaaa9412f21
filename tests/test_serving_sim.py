"""Serving simulator on a fake step-time model: token conservation, determinism, rejections, schedulers,
KV pressure (preemption by recompute and swap), prefix caching, routing, disaggregation, speculation,
partial runs, and that advancing decode runs as one event equals stepping one iteration at a time."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import inferonomics.serving.replica as replica_mod
from _serving_fakes import FakeStepTimeModel
from inferonomics.errors import InvalidInputError
from inferonomics.serving import (
    SLO,
    ClosedLoop,
    ClusterConfig,
    Disaggregation,
    EngineConfig,
    Fixed,
    KVTier,
    LogNormal,
    RunLimits,
    Sessions,
    Simulation,
    StaticWorkload,
    Uniform,
    chain_keys,
    synthetic_workload,
)


def poisson(
    n: int = 300, rate: float = 20.0, isl: object = None, osl: object = None, seed: int = 1, **kw: object
) -> StaticWorkload:
    return synthetic_workload(
        rate,
        n,
        isl or LogNormal(600, 0.8, high=4000),  # type: ignore[arg-type]
        osl or LogNormal(120, 0.8, high=800),
        seed=seed,
        **kw,
    )  # type: ignore[arg-type]


def token_identity(res) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(tokens processed, tokens owed): prefill + decode + prefix hits vs prompts + fed-back outputs +
    recomputed KV. Equal when nothing is lost or double counted."""
    t = res.summary["tokens"]
    done = res.requests[res.requests.status == "completed"]
    processed = t["prefill_computed"] + t["decode_steps"] + t["prefix_cache_hits_all"]
    owed = int(done.input_tokens.sum() + (done.output_tokens - 1).sum() + done.recomputed_tokens.sum())
    return processed, owed


# --- conservation and accounting ---------------------------------------------------------------------------


def test_tokens_are_conserved_and_every_request_ends() -> None:
    wl = poisson()
    res = Simulation(FakeStepTimeModel(), wl).run()
    s = res.summary
    assert s["completed"] + s["rejected"] + s["incomplete"] == len(wl) == len(res.requests)
    assert s["completed"] == len(wl) and not s["partial"]
    processed, owed = token_identity(res)
    assert processed == owed
    assert s["tokens"]["prefill_computed"] == int(wl.input_tokens.sum())
    assert s["tokens"]["decode_steps"] == int((wl.output_tokens - 1).sum())
    assert s["tokens"]["output_completed"] == int(wl.output_tokens.sum())
    rq = res.requests
    assert (rq.ttft_s > 0).all() and (rq.e2e_s >= rq.ttft_s).all() and (rq.queue_s >= 0).all()
    one = rq.output_tokens > 1
    assert np.allclose(rq.tpot_s[one], (rq.e2e_s - rq.ttft_s)[one] / (rq.output_tokens[one] - 1))


def test_same_seed_same_result_other_seed_differs() -> None:
    def run(seed: int) -> pd.DataFrame:
        return Simulation(FakeStepTimeModel(), poisson(seed=seed), seed=seed).run().requests

    a, b, c = run(3), run(3), run(4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.ttft_s.equals(c.ttft_s)


def test_rejections_say_why_and_nothing_is_dropped() -> None:
    stm = FakeStepTimeModel(kv_capacity_tokens=10_000, max_context_tokens=16_000)
    wl = StaticWorkload(
        np.array([0.0, 0.1, 0.2, 0.3, 0.4]), np.array([100, 15_000, 0, 200, 9_000]), np.array([10, 2_000, 5, 0, 2_000])
    )
    res = Simulation(stm, wl).run()
    rq = res.requests.set_index("request_id")
    assert list(rq.status) == ["completed", "rejected", "rejected", "rejected", "rejected"]
    assert "context window of 16,000" in rq.reason[1]
    assert "empty prompt" in rq.reason[2]
    assert "0 output tokens" in rq.reason[3]
    assert "KV cache" in rq.reason[4] and "holds 10,000" in rq.reason[4]
    assert res.summary["rejected_by_reason"] == {
        "context_window": 1,
        "empty_prompt": 1,
        "zero_output": 1,
        "kv_capacity": 1,
    }


def test_partial_run_on_wall_budget_is_marked_and_keeps_every_request() -> None:
    wl = poisson(n=3000, rate=200.0)
    res = Simulation(FakeStepTimeModel(), wl, limits=RunLimits(max_wall_s=1e-6)).run()
    s = res.summary
    assert res.partial and s["partial"] and "wall-time budget" in s["stop_reason"]
    assert len(res.requests) == len(wl)
    assert s["incomplete"] + s["not_issued"] > 0
    assert s["completed"] + s["rejected"] + s["incomplete"] + s["not_issued"] == len(wl) == s["requests"]
    inc = res.requests[res.requests.status.isin(["incomplete", "not_issued"])]
    assert inc.reason.str.contains("run stopped early").all()


def test_partial_closed_loop_counts_the_requests_it_never_sent() -> None:
    """Issue #17 item 4: a closed loop stopped by its budget reported only the requests it had issued."""
    wl = ClosedLoop(50, Fixed(200), Fixed(2_000), 2_000)
    res = Simulation(FakeStepTimeModel(), wl, limits=RunLimits(max_sim_time_s=30.0)).run()
    s = res.summary
    assert res.partial and s["requests"] == 2_000 == len(res.requests)
    assert s["issued"] == s["completed"] + s["rejected"] + s["incomplete"] < 2_000
    assert s["not_issued"] == 2_000 - s["issued"] > 0
    never = res.requests[res.requests.status == "not_issued"]
    assert never.reason.str.startswith("not issued: run stopped early").all() and never.arrival_s.isna().all()
    assert s["completed"] / s["requests"] < 0.5  # the completed share is of the whole workload


def test_partial_sessions_count_every_turn() -> None:
    wl = Sessions(5.0, 400, Fixed(4), Fixed(300), Fixed(200), 5.0)
    full = Simulation(FakeStepTimeModel(), wl).run()
    part = Simulation(FakeStepTimeModel(), wl, limits=RunLimits(max_wall_s=1e-6)).run()
    assert part.partial and len(part.requests) == len(full.requests) == 1_600
    assert part.summary["not_issued"] > 0


def test_partial_run_on_simulated_time_limit() -> None:
    res = Simulation(FakeStepTimeModel(), poisson(n=3000, rate=50.0), limits=RunLimits(max_sim_time_s=5.0)).run()
    assert res.partial and "simulated time" in res.stop_reason


# --- decode runs are exact ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["vllm", "sglang"])
def test_decode_runs_equal_stepping_one_iteration_at_a_time(monkeypatch: pytest.MonkeyPatch, scheduler: str) -> None:
    stm = FakeStepTimeModel(kv_capacity_tokens=30_000)  # tight: preemptions happen too
    wl = poisson(n=200, rate=15.0)
    eng = EngineConfig(scheduler=scheduler)  # type: ignore[arg-type]
    fast = Simulation(stm, wl, eng, decode_time_table=False).run()
    monkeypatch.setattr(replica_mod, "RUN_MAX_STEPS", 1)
    slow = Simulation(stm, wl, eng, decode_time_table=False).run()
    assert fast.summary["preemptions"] == slow.summary["preemptions"]
    assert len(fast.iterations) == len(slow.iterations)
    for col in ("ttft_s", "e2e_s", "finish_s"):
        np.testing.assert_allclose(fast.requests[col], slow.requests[col], rtol=1e-9, atol=1e-9)
    for col in ("start_s", "duration_s", "decode_seqs", "decode_context_tokens", "kv_used_blocks", "prefill_tokens"):
        np.testing.assert_allclose(fast.iterations[col], slow.iterations[col], rtol=1e-9, atol=1e-9)


def test_decode_time_table_matches_the_model() -> None:
    stm = FakeStepTimeModel()
    wl = poisson(n=150)
    a = Simulation(stm, wl, decode_time_table=True).run().requests
    b = Simulation(stm, wl, decode_time_table=False).run().requests
    np.testing.assert_allclose(a.e2e_s, b.e2e_s, rtol=1e-4)


# --- KV pressure ------------------------------------------------------------------------------------------------


def burst(n: int = 40, isl: int = 1000, osl: int = 600) -> StaticWorkload:
    return StaticWorkload(np.zeros(n), np.full(n, isl), np.full(n, osl))


def test_preemption_by_recompute_conserves_tokens() -> None:
    stm = FakeStepTimeModel(kv_capacity_tokens=12_000)
    res = Simulation(stm, burst(), EngineConfig(prefix_cache=False)).run()
    s = res.summary
    assert s["completed"] == 40 and s["preemptions"] > 0
    assert res.requests.recomputed_tokens.sum() > 0
    processed, owed = token_identity(res)
    assert processed == owed
    assert res.iterations.kv_occupancy.max() <= 1.0


def test_preemption_with_prefix_cache_keeps_blocks_and_conserves_tokens() -> None:
    stm = FakeStepTimeModel(kv_capacity_tokens=12_000)
    wl = poisson(n=60, rate=1000.0, isl=Fixed(1500), osl=Fixed(500), shared_prefix_tokens=1024)
    res = Simulation(stm, wl, EngineConfig(prefix_cache=True)).run()
    assert res.summary["preemptions"] > 0 and res.summary["completed"] == 60
    processed, owed = token_identity(res)
    assert processed == owed


def test_preemption_by_swap_pays_transfers_and_recomputes_nothing() -> None:
    stm = FakeStepTimeModel(kv_capacity_tokens=12_000)
    eng = EngineConfig(preemption="swap", swap_space_bytes=50e9, swap_bandwidth_bytes_per_s=20e9, prefix_cache=False)
    res = Simulation(stm, burst(), eng).run()
    assert res.summary["preemptions"] > 0 and res.summary["completed"] == 40
    assert res.requests.recomputed_tokens.sum() == 0
    assert res.iterations.extra_s.sum() > 0
    processed, owed = token_identity(res)
    assert processed == owed


def test_watermark_and_capacity_bound_the_batch() -> None:
    stm = FakeStepTimeModel(kv_capacity_tokens=16_000)
    res = Simulation(stm, burst(osl=50), EngineConfig(prefix_cache=False)).run()
    # each request needs ~1050 tokens of KV: at most ~15 fit at once
    assert res.iterations.running.max() <= 16


# --- prefix caching ------------------------------------------------------------------------------------------------


def test_shared_prefix_hits_the_cache_and_cuts_prefill() -> None:
    wl = poisson(n=200, rate=10.0, isl=Fixed(200), osl=Fixed(50), shared_prefix_tokens=2048)
    on = Simulation(FakeStepTimeModel(), wl, EngineConfig(prefix_cache=True)).run()
    off = Simulation(FakeStepTimeModel(), wl, EngineConfig(prefix_cache=False)).run()
    assert off.summary["prefix_cache_hit_rate"] == 0.0
    # every request but the first reuses the 4 shared 512-token blocks: 2048 of 2248 tokens
    assert on.summary["prefix_cache_hit_rate"] == pytest.approx(2048 / 2248 * 199 / 200, rel=1e-3)
    assert on.summary["tokens"]["prefill_computed"] < off.summary["tokens"]["prefill_computed"]
    assert on.summary["ttft_ms"]["p50"] < off.summary["ttft_ms"]["p50"]
    processed, owed = token_identity(on)
    assert processed == owed


def test_evicted_prefix_blocks_come_back_from_a_lower_tier_at_a_cost() -> None:
    # HBM holds ~6 prefixes' worth; 30 distinct 2048-token prefixes cycle twice
    n_prefix, n = 30, 60
    keys = tuple(chain_keys([(i % n_prefix, j) for j in range(4)]) for i in range(n))
    wl = StaticWorkload(np.arange(n) * 0.5, np.full(n, 2100), np.full(n, 4), keys, 512)
    stm = FakeStepTimeModel(kv_capacity_tokens=16 * 512)
    host = KVTier("host_dram", capacity_bytes=1e12, bandwidth_bytes_per_s=10e9)
    with_tier = Simulation(stm, wl, EngineConfig(prefix_cache=True, kv_tiers=(host,))).run()
    no_tier = Simulation(stm, wl, EngineConfig(prefix_cache=True)).run()
    hits = with_tier.replicas.lower_tier_hits.iloc[0][0]
    assert hits == 4 * n_prefix  # the second pass loads every prefix block back from DRAM
    assert with_tier.summary["prefix_cache_hit_rate"] > no_tier.summary["prefix_cache_hit_rate"]
    block_load_s = 512 * stm.kv_bytes_per_token / 10e9
    assert with_tier.iterations.extra_s.sum() == pytest.approx(hits * (block_load_s + host.latency_s), rel=1e-9)


def test_multi_turn_sessions_grow_and_reuse_their_context() -> None:
    wl = Sessions(
        rate_sessions_per_s=2.0,
        num_sessions=20,
        turns=Fixed(4),
        user_tokens=Fixed(300),
        output_tokens=Fixed(200),
        think_time_s=1.0,
        system_prompt_tokens=1024,
    )
    res = Simulation(FakeStepTimeModel(), wl, EngineConfig(prefix_cache=True), seed=2).run()
    rq = res.requests
    assert len(rq) == 80 and (rq.status == "completed").all()
    by_turn = rq.groupby("turn")
    assert list(by_turn.input_tokens.first()) == [1324, 1824, 2324, 2824]
    later = rq[rq.turn > 0]
    # a later turn finds its whole earlier conversation (whole blocks of it) in the cache
    assert (later.cached_tokens >= (later.input_tokens - 300 - 511) // 512 * 512).all()
    # each turn is sent after the previous one ended
    for _, g in rq.sort_values("turn").groupby("session"):
        assert (g.arrival_s.to_numpy()[1:] >= g.finish_s.to_numpy()[:-1]).all()


# --- schedulers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["vllm", "orca", "sarathi", "sglang"])
def test_every_scheduler_completes_and_respects_its_budget(scheduler: str) -> None:
    wl = poisson(n=200, rate=30.0, isl=Uniform(100, 6000))
    res = Simulation(FakeStepTimeModel(), wl, EngineConfig(scheduler=scheduler)).run()  # type: ignore[arg-type]
    assert res.summary["completed"] == 200
    it = res.iterations
    processed, owed = token_identity(res)
    assert processed == owed
    if scheduler == "vllm":
        assert (it.prefill_tokens + it.decode_seqs).max() <= 8192
    if scheduler == "sarathi":  # stall-free: every iteration within 512 tokens, long prompts chunked
        assert (it.prefill_tokens + it.decode_seqs).max() <= 512
    if scheduler == "orca":  # whole prompts: some iteration carries a whole long prompt
        assert it.prefill_tokens.max() >= wl.input_tokens.max()
    if scheduler == "sglang":  # prefill batches pause decoding
        assert not ((it.prefill_tokens > 0) & (it.decode_seqs > 0)).any()
    if scheduler != "sglang":
        assert ((it.prefill_tokens > 0) & (it.decode_seqs > 0)).any()


def test_max_batch_size_caps_running_requests() -> None:
    res = Simulation(FakeStepTimeModel(), burst(n=50, osl=100), EngineConfig(max_batch_size=8)).run()
    assert res.iterations.running.max() == 8


def test_sarathi_keeps_decode_stalls_shorter_than_orca() -> None:
    wl = poisson(n=150, rate=8.0, isl=Fixed(6000), osl=Fixed(200))
    sar = Simulation(FakeStepTimeModel(), wl, EngineConfig(scheduler="sarathi")).run()
    orca = Simulation(FakeStepTimeModel(), wl, EngineConfig(scheduler="orca")).run()
    assert sar.summary["itl_ms"]["p99"] < orca.summary["itl_ms"]["p99"]


# --- cluster ---------------------------------------------------------------------------------------------


def test_round_robin_spreads_evenly() -> None:
    res = Simulation(FakeStepTimeModel(replicas=4), poisson(n=400)).run()
    counts = res.requests.replica.value_counts()
    assert sorted(counts.index) == [0, 1, 2, 3] and counts.max() - counts.min() <= 1


def test_prefix_aware_router_keeps_a_prefix_on_one_replica() -> None:
    groups = 8
    n = 400
    rng = np.random.default_rng(0)
    g = rng.integers(0, groups, n)
    keys = tuple(chain_keys([("grp", int(g[i]), j) for j in range(6)] + [(i, 6)]) for i in range(n))
    wl = StaticWorkload(np.sort(rng.uniform(0, 40, n)), np.full(n, 3600), np.full(n, 50), keys, 512)
    rr = Simulation(FakeStepTimeModel(replicas=4), wl, EngineConfig(prefix_cache=True)).run()
    pa = Simulation(
        FakeStepTimeModel(replicas=4), wl, EngineConfig(prefix_cache=True), ClusterConfig(router="prefix_aware")
    ).run()
    assert pa.summary["prefix_cache_hit_rate"] > rr.summary["prefix_cache_hit_rate"]
    for router in ("least_outstanding", "least_kv"):
        res = Simulation(FakeStepTimeModel(replicas=4), wl, cluster=ClusterConfig(router=router)).run()  # type: ignore[arg-type]
        assert res.summary["completed"] == n and res.requests.replica.nunique() == 4


def test_front_end_latency_is_paid_both_ways() -> None:
    wl = StaticWorkload(np.zeros(1), np.array([500]), np.array([20]))
    base = Simulation(FakeStepTimeModel(), wl).run().requests.iloc[0]
    lat = (
        Simulation(
            FakeStepTimeModel(), wl, cluster=ClusterConfig(gateway_latency_s=0.01, load_balancer_latency_s=0.002)
        )
        .run()
        .requests.iloc[0]
    )
    assert lat.ttft_s - base.ttft_s == pytest.approx(0.024)
    assert lat.e2e_s - base.e2e_s == pytest.approx(0.024)
    assert lat.tpot_s == pytest.approx(base.tpot_s)


def test_disaggregation_ships_kv_and_splits_the_work() -> None:
    stm = FakeStepTimeModel()
    wl = poisson(n=200, rate=10.0)
    dis = Disaggregation(
        prefill_replicas=1, decode_replicas=2, kv_transfer_bandwidth_bytes_per_s=10e9, kv_transfer_latency_s=0.001
    )
    res = Simulation(stm, wl, cluster=ClusterConfig(disaggregation=dis)).run()
    assert res.summary["completed"] == 200
    it = res.iterations
    assert (it[it.replica == 0].decode_seqs == 0).all()
    assert (it[it.replica > 0].prefill_tokens == 0).all()
    rq = res.requests
    multi = rq[rq.output_tokens > 1]
    assert set(multi.decode_replica) == {1, 2}
    # the first token reaches the client from the decode worker: after the prompt's prefill and its KV transfer
    xfer = 0.001 + multi.input_tokens * stm.kv_bytes_per_token / 10e9
    assert (multi.ttft_s >= stm.prefill_time_s(multi.input_tokens) + xfer - 1e-9).all()
    processed, owed = token_identity(res)
    assert processed == owed


def test_speculative_decoding_needs_fewer_steps() -> None:
    wl = poisson(n=100, osl=Fixed(400))
    spec = Simulation(FakeStepTimeModel(speculative_tokens=3, acceptance_rate=0.7), wl, seed=5).run()
    plain = Simulation(FakeStepTimeModel(), wl).run()
    steps = spec.summary["tokens"]["decode_steps"]
    owed = int((wl.output_tokens - 1).sum())
    a, k = 0.7, 3
    expected = owed / (1 + a * (1 - a**k) / (1 - a))
    assert spec.summary["completed"] == 100 and spec.summary["tokens"]["output_completed"] == 400 * 100
    assert steps == pytest.approx(expected, rel=0.05)
    assert plain.summary["tokens"]["decode_steps"] == owed


# --- closed loop, SLO, outputs ---------------------------------------------------------------------------


def test_closed_loop_never_exceeds_its_clients() -> None:
    C = 6
    res = Simulation(FakeStepTimeModel(), ClosedLoop(C, Uniform(100, 800), Uniform(10, 200), num_requests=120)).run()
    rq = res.requests
    assert len(rq) == 120 and (rq.status == "completed").all()
    events = sorted([(t, 1) for t in rq.arrival_s] + [(t, -1) for t in rq.finish_s])
    assert max(np.cumsum([d for _, d in events])) <= C


def test_goodput_counts_requests_within_slo() -> None:
    wl = poisson(n=300, rate=40.0)
    free = Simulation(FakeStepTimeModel(), wl).run()
    ttft_slo, tpot_slo = free.requests.ttft_s.median(), free.requests.tpot_s.median()
    assert free.summary["goodput_rps"] == free.summary["throughput_rps"]  # no SLO: every completion counts
    res = Simulation(FakeStepTimeModel(), wl, slo=SLO(ttft_s=ttft_slo, tpot_s=tpot_slo)).run()
    rq = res.requests
    ok = (rq.ttft_s <= ttft_slo) & ((rq.tpot_s <= tpot_slo) | (rq.output_tokens <= 1))
    assert rq.meets_slo.equals(ok)
    assert res.summary["goodput_rps"] == pytest.approx(ok.sum() / res.summary["duration_s"])
    assert 0 < res.summary["goodput_rps"] < res.summary["throughput_rps"]


def test_cost_per_request_from_hourly_price() -> None:
    res = Simulation(FakeStepTimeModel(replicas=2), poisson(n=100)).run()
    s = res.summary
    assert s["cost_usd"] == pytest.approx(2 * 2.0 * s["duration_s"] / 3600)
    assert s["cost_per_request_usd"] == pytest.approx(s["cost_usd"] / 100)


def test_outputs_and_chrome_trace(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    res = Simulation(FakeStepTimeModel(replicas=2), poisson(n=80)).run()
    paths = res.write(out)
    names = {p.name for p in paths}
    assert {"requests.parquet", "requests.csv", "iterations.parquet", "summary.json", "trace.json"} <= names
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "completed",
        "rejected",
        "goodput_rps",
        "throughput_output_tokens_per_s",
        "prefix_cache_hit_rate",
        "sim_wall_s",
    ):
        assert key in summary
    for key in ("ttft_ms", "tpot_ms"):
        assert set(summary[key]) >= {"p50", "p90", "p99"}
    trace = json.loads((out / "trace.json").read_text())
    ev = trace["traceEvents"]
    assert {e["ph"] for e in ev} >= {"M", "X", "C", "b", "e"}
    xs = [e for e in ev if e["ph"] == "X"]
    assert sum(e["args"]["iterations"] for e in xs) == len(res.iterations)
    assert all(e["dur"] > 0 for e in xs)
    assert pd.read_parquet(out / "requests.parquet").shape[0] == 80


def test_iterations_account_for_busy_time_and_occupancy() -> None:
    res = Simulation(FakeStepTimeModel(replicas=2), poisson(n=200)).run()
    it = res.iterations
    for rep, g in it.groupby("replica"):
        starts, ends = g.start_s.to_numpy(), (g.start_s + g.duration_s).to_numpy()
        assert (starts[1:] >= ends[:-1] - 1e-9).all()  # one iteration at a time
        row = res.replicas.set_index("replica").loc[rep]
        assert row.busy_s == pytest.approx(g.duration_s.sum())
    assert ((it.kv_occupancy >= 0) & (it.kv_occupancy <= 1)).all()
    itl = res.summary["itl_ms"]
    assert 0 < itl["p50"] <= itl["p99"] and math.isfinite(itl["mean"])


def test_bad_configs_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="scheduler"):
        EngineConfig(scheduler="fifo")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="router"):
        ClusterConfig(router="random")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="whole number of"):
        Simulation(FakeStepTimeModel(), poisson(n=5), EngineConfig(block_size_tokens=24, prefix_cache=True)).run()
    with pytest.raises(InvalidInputError):
        Simulation(object(), poisson(n=5)).run()


def test_memory_budget_stops_with_a_partial_result() -> None:
    res = Simulation(FakeStepTimeModel(), poisson(n=3000, rate=200.0), limits=RunLimits(max_memory_bytes=1.0)).run()
    assert res.partial and "memory budget" in res.stop_reason


def test_progress_is_reported_up_to_one() -> None:
    seen: list[float] = []
    Simulation(FakeStepTimeModel(), poisson(n=5000, rate=200.0, osl=Fixed(8))).run(progress=seen.append)
    assert len(seen) > 2 and seen[-1] == 1.0 and all(0 <= a <= b <= 1 for a, b in zip(seen, seen[1:], strict=False))


def test_sglang_longest_prefix_match_serves_cached_prefixes_first() -> None:
    # one request warms a 4-block prefix; then, while a long prompt holds the replica, 10 cold and 10 warm
    # requests queue up in alternation. LPM admits the warm ones first (FCFS keeps arrival order).
    warm = chain_keys([("warm", j) for j in range(4)])
    keys = [warm] + [chain_keys([("big", j) for j in range(8)])]
    inp, arr = [2100, 8192], [0.0, 1.0]
    for i in range(20):
        keys.append(warm + chain_keys([("x", i)]) if i % 2 else chain_keys([("cold", i, j) for j in range(4)]))
        inp.append(2100)
        arr.append(1.001 + i * 1e-4)
    wl = StaticWorkload(np.array(arr), np.array(inp), np.full(22, 2), tuple(keys), 512)

    def order(policy: str) -> list[int]:
        eng = EngineConfig(scheduler="sglang", sglang_policy=policy, max_tokens_per_iter=2200)  # type: ignore[arg-type]
        rq = Simulation(FakeStepTimeModel(), wl, eng).run().requests
        late = rq[rq.request_id >= 2].sort_values("first_token_s")
        return [int(i) % 2 for i in late.request_id]  # 1 = warm (odd index after the offset of 2)

    assert order("fcfs")[:4] == [0, 1, 0, 1]
    assert order("lpm")[:10] == [1] * 10


def test_disaggregated_decode_pool_under_kv_pressure_recomputes_locally() -> None:
    dis = Disaggregation(
        1, 1, kv_transfer_bandwidth_bytes_per_s=50e9, decode_engine=EngineConfig(kv_capacity_tokens=8000)
    )
    res = Simulation(
        FakeStepTimeModel(), burst(n=20, isl=800, osl=600), cluster=ClusterConfig(disaggregation=dis)
    ).run()
    assert res.summary["completed"] == 20 and res.replicas.set_index("replica").preemptions[1] > 0
    processed, owed = token_identity(res)
    assert processed == owed


def test_a_deployment_without_room_for_kv_is_refused() -> None:
    from inferonomics.errors import DoesNotFitError

    with pytest.raises(DoesNotFitError, match="tokens of KV cache per replica"):
        Simulation(FakeStepTimeModel(kv_capacity_tokens=0), poisson(n=5)).run()
