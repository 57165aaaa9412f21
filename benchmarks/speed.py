#!/usr/bin/env python
"""How fast the analytic model predicts: steady-state predictions per second on one core.

Vectorised path: one StepTimeModel, 100,000 (concurrency, ISL, OSL) points through `closed_loop` in
one NumPy call chain. Scalar path: one iteration time (what the simulator calls per step).
Target (issue 3): >= 100k predictions/s on one core.

    python benchmarks/speed.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from inferonomics.perf import StepTimeModel, make_deployment  # noqa: E402
from inferonomics.perf.steady_state import closed_loop  # noqa: E402


def main() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    for model, hw, kw in (
        ("llama-3.1-70b", "h100_sxm", {"tp": 4, "precision": "fp8"}),
        ("deepseek-v3", "h200_sxm", {"tp": 8, "precision": "fp8_block"}),
        ("gpt-oss-120b", "b200_sxm", {"tp": 2, "precision": "mxfp4"}),
    ):
        stm = StepTimeModel(make_deployment(model, hw, **kw))  # type: ignore[arg-type]
        c = rng.integers(1, 256, n).astype(float)
        isl = rng.choice([128, 1024, 4096, 8192], n).astype(float)
        osl = rng.choice([128, 512, 1024, 2048], n).astype(float)
        closed_loop(stm, c[:100], isl[:100], osl[:100])  # warm up
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            ss = closed_loop(stm, c, isl, osl)
            best = min(best, time.perf_counter() - t0)
        assert np.isfinite(ss.tpot_s).all()
        calls = 20_000
        t0 = time.perf_counter()
        for i in range(calls):
            stm.iteration_time_s(512.0, 512.0 * 700, 64.0, 64.0 * (2048 + i % 7))
        scalar_us = (time.perf_counter() - t0) / calls * 1e6
        print(
            f"{model:15s} on {hw:9s}: {n / best:>12,.0f} steady-state predictions/s (vectorised, {best * 1e3:.0f} ms "
            f"for {n:,}); one iteration time, scalar: {scalar_us:.1f} us"
        )


if __name__ == "__main__":
    main()
