"""The simulator against the performance model's closed-form steady state (the real, calibrated model).

A closed loop of C clients sending identical requests must reproduce `predict(..., concurrency=C)`
within 8% for TPOT and throughput, measured between the warm-up (the first 2C completions) and the
drain (the last C). Both use the engine's calibrated token budget. The simulator starts every client
at once and has no jitter, so its cohorts stay synchronised: the closed form is taken in that regime,
once started (`steady_state.synchronised_loop`). TTFT is not asserted: the closed form models the
wait of a new request with a fitted scale, the simulator plays the queue out; the numbers are in the
lead's report, not tuned here.
"""

from __future__ import annotations

import pytest

from _closed_loop import steady_window
from inferonomics.perf.steady_state import synchronised_loop
from inferonomics.serving import ClosedLoop, Fixed, Simulation

TOLERANCE = 0.08
"""The closed form averages the cohorts the simulator plays out one by one: a budget-filling cohort is
split by the decode tokens sharing the budget (15 + 1 prompts instead of 16 at a 16k budget and 1k
prompts), which moves TPOT by up to 7% (c = 32 and 64 at 1k/256); elsewhere TPOT agrees within 3% and
throughput within 4% (measured 2026-11-21)."""

CASES = [
    ("llama-3.1-70b", 4, "fp8", 1024, 256, 1),
    ("llama-3.1-70b", 4, "fp8", 1024, 256, 8),
    ("llama-3.1-70b", 4, "fp8", 1024, 256, 32),
    ("llama-3.1-70b", 4, "fp8", 1024, 256, 64),
    ("llama-3.1-70b", 4, "fp8", 4096, 512, 8),
    ("llama-3.1-70b", 4, "fp8", 4096, 512, 32),
    ("llama-3.1-70b", 4, "fp8", 128, 1024, 32),
    ("llama-3.1-8b", 1, "bf16", 1024, 256, 8),
    ("llama-3.1-8b", 1, "bf16", 4096, 512, 64),
]


def _perf():  # type: ignore[no-untyped-def]
    try:
        from inferonomics.perf import StepTimeModel, make_deployment, predict
    except ImportError as exc:  # pragma: no cover - perf not built
        pytest.skip(f"performance model not available: {exc}")
    return StepTimeModel, make_deployment, predict


@pytest.mark.parametrize(("model", "tp", "precision", "isl", "osl", "c"), CASES)
def test_closed_loop_matches_steady_state(model: str, tp: int, precision: str, isl: int, osl: int, c: int) -> None:
    StepTimeModel, make_deployment, _ = _perf()
    from inferonomics.errors import UnknownNameError

    try:
        dep = make_deployment(model, "h100_sxm", tp=tp, precision=precision, backend="vllm")
    except UnknownNameError as exc:  # pragma: no cover - catalog not built
        pytest.skip(str(exc))
    pred = synchronised_loop(StepTimeModel(dep), float(c), float(isl), float(osl))
    res = Simulation(StepTimeModel(dep), ClosedLoop(c, Fixed(isl), Fixed(osl), num_requests=max(30 * c, 60))).run()
    steady, rps = steady_window(res, c)
    tpot = steady.tpot_s.mean()
    assert tpot == pytest.approx(float(pred.tpot_s), rel=TOLERANCE), (
        f"TPOT sim {tpot * 1e3:.2f} ms vs {float(pred.tpot_s) * 1e3:.2f} ms"
    )
    assert rps == pytest.approx(float(pred.requests_per_s), rel=TOLERANCE), (
        f"req/s sim {rps:.3f} vs {float(pred.requests_per_s):.3f}"
    )
    assert rps * osl == pytest.approx(float(pred.output_tokens_per_s), rel=TOLERANCE)


def test_simulation_from_the_same_names_as_predict() -> None:
    _perf()
    from inferonomics.serving import simulate

    res = simulate("llama-3.1-8b", "h100_sxm", ClosedLoop(4, Fixed(256), Fixed(32), num_requests=20), tp=1, dp=2)
    assert res.summary["completed"] == 20 and res.summary["replicas"] == 2 and res.summary["chips"] == 2


DISAGG_CASES = [
    # model, tp, precision, backend, isl, osl, clients, prefill instances, decode instances
    ("llama-3.1-70b", 4, "fp8", "vllm", 4096, 512, 16, 1, 1),  # prefill pool lightly loaded
    ("llama-3.1-70b", 4, "fp8", "vllm", 4096, 512, 64, 1, 1),  # prefill pool saturated: clients queue
    ("llama-3.1-70b", 4, "fp8", "vllm", 1024, 512, 256, 1, 1),  # busy prefill pool, batches of 1-2
    ("llama-3.1-8b", 1, "bf16", "trtllm", 512, 256, 256, 1, 1),  # batches of several prompts
    # below the prefill pools' saturation: at 256 clients (decode faster since TensorRT-LLM reads its FP8 KV
    # natively) the prefill pools bind, and TTFT is then the residual of Little's law, 256 / throughput -
    # osl x TPOT, in which the 8% TPOT tolerance is worth ~0.8 s (saturation: the llama-3.1-70b case above)
    ("qwen3-32b", 2, "fp8", "trtllm", 2048, 512, 192, 2, 2),
]


@pytest.mark.parametrize(("model", "tp", "precision", "backend", "isl", "osl", "c", "pi", "di"), DISAGG_CASES)
def test_disaggregated_closed_form_matches_the_simulator(
    model: str, tp: int, precision: str, backend: str, isl: int, osl: int, c: int, pi: int, di: int
) -> None:
    """Disaggregated pools: TPOT and throughput within 8%. TTFT: the jitter-free simulation is the
    optimistic end (its clients never collide), so the closed form may exceed it by the wait for a busy
    prefill batch, at most one full-budget batch S(g_max), and must not fall below it by more than 8% and
    half such a batch (the closed form's mean residual wait; Llama-3.1-70B vLLM at 256 clients: 90.9 vs
    99.4 ms on a 97 ms batch since vLLM's GEMMs run at the kernel tables' speed).
    Both run without the engines' fitted hand-off constants (`disagg_*`: overhead, admission, per-iteration
    host time): this compares the pools' queueing and batching; `test_disaggregated_handoff_terms_agree`
    compares what the constants add."""
    from dataclasses import replace

    StepTimeModel, make_deployment, _ = _perf()
    from inferonomics.perf.calibration import default_calibration
    from inferonomics.perf.steady_state import disaggregated
    from inferonomics.serving import ClusterConfig, Disaggregation

    dep = make_deployment(model, "h100_sxm", tp=tp, precision=precision, backend=backend)
    cal = default_calibration()
    bare = replace(cal.engine(backend), disagg_overhead_s=0.0, disagg_admission_steps=0.0, disagg_iteration_s=0.0)
    stm = StepTimeModel(dep, replace(cal, engines={**cal.engines, backend: bare}))
    pred = disaggregated(stm, stm, pi, di, float(c), float(isl), float(osl))
    cluster = ClusterConfig(disaggregation=Disaggregation(pi, di))
    res = Simulation(stm, ClosedLoop(c, Fixed(isl), Fixed(osl), num_requests=20 * c), cluster=cluster).run()
    steady, rps = steady_window(res, c)
    assert steady.tpot_s.mean() == pytest.approx(float(pred.tpot_s), rel=TOLERANCE)
    assert rps == pytest.approx(float(pred.requests_per_s), rel=TOLERANCE)
    g_max = max(stm.engine.prefill_token_budget // isl, 1)
    full_batch_s = stm.iteration_time_s(g_max * isl, g_max * isl * (isl + 1) / 2, 0.0, 0.0, g_max)
    sim_ttft = steady.ttft_s.mean()
    # Below: the closed form's wait for a busy batch is its mean residual (rho x half a batch); clients
    # that never collide land in one phase of the batch, so the simulation may sit up to half a batch above.
    lower_s = (1 - TOLERANCE) * sim_ttft - full_batch_s / 2
    assert lower_s <= float(pred.ttft_s) <= sim_ttft * (1 + TOLERANCE) + full_batch_s, (
        f"TTFT sim {sim_ttft * 1e3:.1f} ms vs {float(pred.ttft_s) * 1e3:.1f} ms (S(g_max) {full_batch_s * 1e3:.1f} ms)"
    )


HANDOFF_TOLERANCE = 0.14
"""The fitted hand-off (`steady_state.disagg_handoff`: orchestration, admission iterations, host time per decode
iteration) in both the simulator and the closed form. Measured 2026-12-07 on `DISAGG_CASES`: TPOT within 1.0%
on the vLLM cases and 2.3% on Qwen3-32B TRT-LLM, 13.5% on Llama-3.1-8B TRT-LLM at 256 clients (its fitted
admission of 100 decode iterations makes the simulated decode batch swing by +-20% around the closed form's
mean, 169 vs 150 sequences); requests/s within 3.2%; what the terms do to TTFT (-1.4 to +3.6 s: at 64 clients
they take load off a saturated prefill pool) the same in both within 10% of the closed form's TTFT (324 ms of
3.2 s on that case, 8-52 ms elsewhere)."""


@pytest.mark.parametrize(("model", "tp", "precision", "backend", "isl", "osl", "c", "pi", "di"), DISAGG_CASES)
def test_disaggregated_handoff_terms_agree(
    model: str, tp: int, precision: str, backend: str, isl: int, osl: int, c: int, pi: int, di: int
) -> None:
    """The simulator applies the calibrated disaggregated terms from the closed form's place (`kv_transfer_s`,
    `disagg_handoff`): TPOT and requests/s agree, and the TTFT the hand-off adds (fitted minus zeroed
    constants) is the same in both."""
    from dataclasses import replace

    StepTimeModel, make_deployment, _ = _perf()
    from inferonomics.perf.calibration import default_calibration
    from inferonomics.perf.steady_state import disaggregated
    from inferonomics.serving import ClusterConfig, Disaggregation

    dep = make_deployment(model, "h100_sxm", tp=tp, precision=precision, backend=backend)
    cal = default_calibration()
    bare = replace(cal.engine(backend), disagg_overhead_s=0.0, disagg_admission_steps=0.0, disagg_iteration_s=0.0)
    cluster = ClusterConfig(disaggregation=Disaggregation(pi, di))
    out = []
    for c_ in (cal, replace(cal, engines={**cal.engines, backend: bare})):
        stm = StepTimeModel(dep, c_)
        pred = disaggregated(stm, stm, pi, di, float(c), float(isl), float(osl))
        res = Simulation(stm, ClosedLoop(c, Fixed(isl), Fixed(osl), num_requests=20 * c), cluster=cluster).run()
        steady, rps = steady_window(res, c)
        out.append((steady.ttft_s.mean(), steady.tpot_s.mean(), rps, pred))
    (ttft, tpot, rps, pred), (ttft0, _, _, pred0) = out
    assert tpot == pytest.approx(float(pred.tpot_s), rel=HANDOFF_TOLERANCE)
    assert rps == pytest.approx(float(pred.requests_per_s), rel=HANDOFF_TOLERANCE)
    # what the hand-off adds to TTFT, the same in both, within the tolerance of the TTFT itself
    added, added_pred = ttft - ttft0, float(pred.ttft_s) - float(pred0.ttft_s)
    assert abs(added - added_pred) <= HANDOFF_TOLERANCE * float(pred.ttft_s), (
        f"hand-off adds {added * 1e3:.0f} ms simulated, {added_pred * 1e3:.0f} ms in the closed form"
    )
