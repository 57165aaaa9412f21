"""Property: under KV pressure, with preemption by recompute or by swap, every request ends (completed,
or rejected with a reason) and every KV page comes back (the run's `check_drained` invariant).

Regression for issue #17 item 3: `simulate -m Qwen3-32B -H h100_sxm --rate 3 --num-requests 500
--isl-dist lognormal:4000,1 --osl-dist lognormal:3000,1 --preemption swap` ended with "replica 0 ended
with work or pages held": a request swapped back in while still mid-prompt was put back among the
running prefills after their turn, got no chunk, and when nothing else ran the replica went idle with
it (and its pages) held forever.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from _serving_fakes import FakeStepTimeModel
from inferonomics.serving import EngineConfig, LogNormal, Simulation, synthetic_workload


def _run(preemption: str, kv_tokens: int, scheduler: str, isl: int, osl: int, n: int, seed: int, swap_gb: float):
    wl = synthetic_workload(50.0, n, LogNormal(isl, 1.0, high=30_000), LogNormal(osl, 1.0, high=8_000), seed=seed)
    engine = EngineConfig(
        scheduler=scheduler,  # type: ignore[arg-type]
        preemption=preemption,  # type: ignore[arg-type]
        kv_capacity_tokens=kv_tokens,
        max_tokens_per_iter=2048,
        swap_space_bytes=swap_gb * 1e9,
    )
    return Simulation(FakeStepTimeModel(kv_capacity_tokens=kv_tokens), wl, engine, seed=seed).run()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preemption=st.sampled_from(["recompute", "swap"]),
    kv_tokens=st.sampled_from([2_048, 6_000, 20_000, 60_000]),
    scheduler=st.sampled_from(["vllm", "sarathi", "sglang", "orca"]),
    isl=st.integers(16, 12_000),
    osl=st.integers(2, 4_000),
    n=st.integers(1, 150),
    seed=st.integers(0, 10_000),
    swap_gb=st.sampled_from([0.05, 1.0, 100.0]),
)
# SGLang (prefill before decode): the decode phase preempted the only decoding request for want of a page,
# freeing what the stalled prefill needed, but the iteration was given up and the replica idled with work held.
@example(preemption="swap", kv_tokens=6_000, scheduler="sglang", isl=3_695, osl=1_286, n=102, seed=6_300, swap_gb=100.0)
def test_every_request_ends_and_every_page_is_released(
    preemption: str, kv_tokens: int, scheduler: str, isl: int, osl: int, n: int, seed: int, swap_gb: float
) -> None:
    res = _run(preemption, kv_tokens, scheduler, isl, osl, n, seed, swap_gb)  # check_drained runs at the end
    rq = res.requests
    assert len(rq) == n
    assert set(rq.status) <= {"completed", "rejected"}
    assert (rq[rq.status == "rejected"].reason.str.len() > 0).all()
    assert not res.summary.get("partial")


def test_issue_17_swap_case_completes() -> None:
    """The shape of the reported crash (20k-token KV, lognormal 4000/3000 lengths, swap) drains."""
    res = _run("swap", 20_000, "vllm", 4_000, 3_000, 300, 0, 4.0)
    assert set(res.requests.status) <= {"completed", "rejected"}
    assert (res.requests.status == "completed").sum() > 0
