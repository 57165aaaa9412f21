"""Disaggregated serving: the decode pool's KV capacity, the benchmark's first wave, worker counts read from
a run's concurrency, the stage-3 fit's treatment of engines with few runs, and the spread of repeated runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inferonomics.perf import StepTimeModel, make_deployment
from inferonomics.perf.calibration import EngineFit, default_calibration
from inferonomics.perf.steady_state import disaggregated, max_sequences_held
from inferonomics.validate.serving import campaign_decode_workers, same_setting_spread

DISAGG_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "measured" / "serving_disagg_h100_h200.csv"


@pytest.fixture(scope="module")
def pools() -> tuple[StepTimeModel, StepTimeModel]:
    cal = default_calibration()
    bare = replace(cal.engine("vllm"), disagg_overhead_s=0.0, disagg_admission_steps=1.0, disagg_iteration_s=0.0)
    cal = replace(cal, engines={**cal.engines, "vllm": bare})
    dep = make_deployment("llama-3.1-70b", "h100_sxm", tp=2, precision="fp8", backend="vllm")
    return StepTimeModel(dep, cal), StepTimeModel(dep, cal)


def test_clients_beyond_the_decode_pools_kv_capacity_queue(pools: tuple[StepTimeModel, StepTimeModel]) -> None:
    """Twice the sequences two decode instances hold: the rate stays, TTFT gains the queue (Little's law)."""
    prefill, decode = pools
    held = 2.0 * float(max_sequences_held(decode, 1024 + 8192))
    ss = disaggregated(prefill, decode, 1, 2, np.array([held, 2.0 * held]), 1024, 8192)
    assert ss.requests_per_s[1] == pytest.approx(ss.requests_per_s[0], rel=0.02)
    assert ss.decode_batch[1] == pytest.approx(ss.decode_batch[0], rel=0.02)
    queue_s = held / ss.requests_per_s[1]
    assert ss.ttft_s[1] - ss.ttft_s[0] == pytest.approx(queue_s, rel=0.05)


def test_first_wave_enters_the_mean_once_per_benchmark_wave(pools: tuple[StepTimeModel, StepTimeModel]) -> None:
    """64 prompts at once queue at one prefill instance; over 10 waves the mean TTFT holds a tenth of it."""
    prefill, decode = pools
    steady = disaggregated(prefill, decode, 1, 1, 64.0, 4096, 512)
    bench = disaggregated(prefill, decode, 1, 1, 64.0, 4096, 512, benchmark_waves=10)
    low, high = bench.ttft_range_s
    assert float(low) == pytest.approx(float(steady.ttft_s))
    assert float(high) > 1.3 * float(low)
    assert float(bench.ttft_s) == pytest.approx(float(low) + (float(high) - float(low)) / 10.0)
    one = disaggregated(prefill, decode, 1, 1, 1.0, 4096, 512, benchmark_waves=10)
    assert float(one.ttft_s) == pytest.approx(float(one.ttft_range_s[0])), "one client has no first wave"


def test_decode_workers_read_from_the_concurrency() -> None:
    """concurrency = graph batch x workers x attention DP, the largest batch the worker holds, <= 16 workers."""
    assert campaign_decode_workers(576, 1) == 9  # 64 x 9 (recorded: 9 workers, batch 64)
    assert campaign_decode_workers(1152, 8) == 9  # 16 x 9 x 8
    assert campaign_decode_workers(256, 1, most_per_worker=70) == 4  # 64 fit, 256 do not
    assert campaign_decode_workers(1229, 1) is None  # a prime above 16: no such deployment, the planner decides
    assert campaign_decode_workers(6, 1) == 3


def test_an_engine_with_few_runs_gets_no_constants_from_the_others() -> None:
    """Fewer than MIN_ROWS runs of an engine: `EngineFit`'s defaults, whatever the shipped file held."""
    if not DISAGG_CSV.is_file():
        pytest.skip(f"needs the shared data: {DISAGG_CSV}")
    from inferonomics.calibrate.disagg import MIN_ROWS, fit_disagg
    from inferonomics.validate.serving import load_measured

    cal = default_calibration()
    cal = replace(cal, engines={b: replace(e, disagg_admission_steps=77.0) for b, e in cal.engines.items()})
    df = load_measured(DISAGG_CSV)
    few = df[df.backend == "vllm"]
    assert 0 < len(few) < MIN_ROWS
    engines = fit_disagg(cal, few, verbose=False)
    default = EngineFit()
    for b, e in engines.items():
        assert e.disagg_admission_steps == default.disagg_admission_steps, b
        assert e.disagg_overhead_s == default.disagg_overhead_s and e.disagg_iteration_s == 0.0


def test_same_setting_spread_compares_each_run_with_the_others_of_its_setting() -> None:
    base = {"backend": "trtllm", "system": "h200_sxm", "model_path": "m", "isl": 1024, "osl": 1024}
    src = "silicon_concurrency=8"
    rows = [
        {**base, "silicon_data_source": src, "silicon_ttft_ms": 100.0, "silicon_tpot_ms": 10.0},
        {**base, "silicon_data_source": src, "silicon_ttft_ms": 200.0, "silicon_tpot_ms": 20.0},
        {**base, "silicon_data_source": src, "silicon_ttft_ms": 200.0, "silicon_tpot_ms": 20.0},  # a repeat
        {**base, "silicon_data_source": "silicon_concurrency=16", "silicon_ttft_ms": 50.0, "silicon_tpot_ms": 5.0},
    ]
    out = same_setting_spread(pd.DataFrame(rows))
    assert out["rows"] == 2 and out["settings"] == 1
    assert out["ttft"] == pytest.approx(0.75)  # |200/100 - 1| = 1.0 and |100/200 - 1| = 0.5
    assert out["tpot"] == pytest.approx(0.75)
