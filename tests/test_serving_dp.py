"""Data-parallel groups in the simulator: MoE ranks in lock-step (vLLM DP with and without EP, SGLang DP
attention), against the step-time model's closed form.

- `StepTimeModel.dp_group_time_s` with the same batch on every rank is `iteration_time_s` of the total
  (a property over random batches), and one rank's extra work never shortens the group's step;
- a DP8 group of DeepSeek-V3 under a closed loop (balanced load) matches the closed form's synchronised
  regime within `DP_TOLERANCE`, with and without expert parallelism;
- one rank with a long prompt slows the decodes on every other rank (they wait for it at each MoE layer).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _closed_loop import steady_window
from inferonomics.perf import StepTimeModel, make_deployment
from inferonomics.perf.steady_state import synchronised_loop
from inferonomics.serving import ClosedLoop, Fixed, Simulation, StaticWorkload

DP_TOLERANCE = 0.05
"""TPOT and requests/s of the simulated DP8 group against the closed form. Measured 2026-12-07
(DeepSeek-V3, H200, DP8 with and without EP8, 1,024/256 tokens): TPOT within 2.1%, requests/s within
2.3%; the simulated ranks' batches differ by the balancer's rounding, the closed form splits evenly."""


@pytest.fixture(scope="module")
def dsv3() -> dict[int, StepTimeModel]:
    return {
        ep: StepTimeModel(make_deployment("deepseek-v3", "h200_sxm", tp=1, attention_dp=8, ep=ep, precision="fp8"))
        for ep in (1, 8)
    }


@settings(max_examples=30, deadline=None)
@given(
    prefill=st.integers(0, 8192),
    seqs=st.integers(0, 64),
    ctx=st.integers(1, 8000),
    ep=st.sampled_from([1, 8]),
    extra=st.integers(1, 8192),
    rank=st.integers(0, 7),
)
def test_group_step_is_the_closed_forms_on_equal_batches(
    dsv3: dict[int, StepTimeModel], prefill: int, seqs: int, ctx: int, ep: int, extra: int, rank: int
) -> None:
    stm = dsv3[ep]
    p_seqs = 1.0 if prefill else 0.0
    one = np.ones(8)
    args = [one * prefill, one * prefill * (prefill + 1) / 2, one * seqs, one * seqs * ctx, one * p_seqs]
    group = stm.dp_group_time_s(*args)
    total = stm.iteration_time_s(
        8.0 * prefill, 8.0 * prefill * (prefill + 1) / 2, 8.0 * seqs, 8.0 * seqs * ctx, 8.0 * p_seqs
    )
    assert group == pytest.approx(total, rel=1e-9)
    # more prefill on one rank: every rank waits for it
    heavier = [a.copy() for a in args]
    heavier[0][rank] += extra
    heavier[1][rank] = heavier[0][rank] * (heavier[0][rank] + 1) / 2
    heavier[4][rank] = 1.0
    assert stm.dp_group_time_s(*heavier) > group


@pytest.mark.parametrize("ep", [8, 1])
@pytest.mark.parametrize("clients", [64, 256])
def test_balanced_dp_group_matches_the_closed_form(dsv3: dict[int, StepTimeModel], ep: int, clients: int) -> None:
    stm = dsv3[ep]
    isl, osl = 1024, 256
    res = Simulation(stm, ClosedLoop(clients, Fixed(isl), Fixed(osl), num_requests=10 * clients)).run()
    assert res.summary["dp_lockstep"] and res.summary["engines"] == 8 and res.summary["chips"] == 8
    pred = synchronised_loop(stm, float(clients), float(isl), float(osl))
    steady, rps = steady_window(res, clients)
    assert steady.tpot_s.mean() == pytest.approx(float(pred.tpot_s), rel=DP_TOLERANCE)
    assert rps == pytest.approx(float(pred.requests_per_s), rel=DP_TOLERANCE)
    # every rank holds its own share of the KV cache (the memory plan's blocks per rank)
    assert set(res.replicas.kv_capacity_tokens) == {stm.kv_capacity_tokens // 8}


def test_one_rank_with_a_long_prompt_slows_every_rank(dsv3: dict[int, StepTimeModel]) -> None:
    stm = dsv3[8]
    short = StaticWorkload(np.zeros(8), np.full(8, 128), np.full(8, 200))
    base = Simulation(stm, short).run().requests
    # the same eight requests, and one 32k-token prompt shortly after: vLLM's balancer (4 x waiting + running,
    # all ranks at 1 running) gives it to rank 0, whose prefill chunks every other rank then waits for
    t = np.r_[np.zeros(8), 0.2]
    long = StaticWorkload(t, np.r_[np.full(8, 128), 32768], np.r_[np.full(8, 200), 2])
    res = Simulation(stm, long).run()
    mixed = res.requests
    assert (base.replica.to_numpy() == np.arange(8)).all()
    assert mixed.replica.iloc[8] == 0
    others, before = mixed.tpot_s.iloc[1:8].to_numpy(), base.tpot_s.iloc[1:8].to_numpy()
    assert (others > 1.5 * before).all()
    # what the other ranks lose is rank 0's prefill iterations, each as long as the group's step with it,
    # less the decode step they would have run (measured: 6.503 s lost, 6.502 s of stall)
    it = res.iterations
    chunks = it[(it.replica == 0) & (it.prefill_tokens > 0) & (it.start_s >= 0.2)]
    stall_s = float((chunks.duration_s - before[0]).sum())
    assert (others - before) * 199 == pytest.approx(np.full(7, stall_s), rel=0.02)


def test_sglang_round_robin_and_dense_ranks_run_apart() -> None:
    from inferonomics.serving import EngineConfig

    moe = StepTimeModel(make_deployment("qwen3-30b-a3b", "h100_sxm", tp=1, attention_dp=4, ep=4, backend="sglang"))
    wl = StaticWorkload(np.linspace(0.0, 0.01, 8), np.full(8, 64), np.full(8, 4))
    res = Simulation(moe, wl, engine=EngineConfig(scheduler="sglang")).run()
    assert list(res.requests.replica) == [0, 1, 2, 3, 0, 1, 2, 3]  # SGLang's default round robin
    dense = make_deployment("llama-3.1-8b", "h100_sxm", tp=1, attention_dp=2)
    res = Simulation(dense, ClosedLoop(4, Fixed(256), Fixed(16), num_requests=16)).run()
    s = res.summary
    assert not s["dp_lockstep"] and s["engines"] == 2 and s["chips"] == 2 and s["completed"] == 16
    assert any("dense" in n for n in s["notes"])
