"""Workloads: length distributions and their text form, arrivals, prefix keys, sessions."""

from __future__ import annotations

import numpy as np
import pytest

from inferonomics.errors import InvalidInputError
from inferonomics.serving import (
    ClosedLoop,
    Empirical,
    Fixed,
    LogNormal,
    Sessions,
    StaticWorkload,
    Uniform,
    chain_keys,
    parse_distribution,
    synthetic_workload,
)


def test_parse_distributions() -> None:
    assert parse_distribution("1024") == Fixed(1024)
    assert parse_distribution("fixed:512") == Fixed(512)
    assert parse_distribution("uniform:10,20") == Uniform(10, 20)
    assert parse_distribution("lognormal:1000,0.5") == LogNormal(1000, 0.5)
    assert parse_distribution("empirical:1,2,3") == Empirical((1, 2, 3))
    for bad in ("gauss:3", "uniform:5", "lognormal:x", "fixed:0", "uniform:20,10", "empirical:/no/such/file.csv"):
        with pytest.raises(InvalidInputError):
            parse_distribution(bad)


def test_empirical_from_a_csv_column(tmp_path: object) -> None:
    from pathlib import Path

    f = Path(str(tmp_path)) / "lens.csv"
    f.write_text("a,b\n1,10\n2,20\n3,30\n")
    d = parse_distribution(f"empirical:{f}:b")
    assert d == Empirical((10, 20, 30))
    f.write_text("a,b\n1,10\n2,x\n")
    with pytest.raises(InvalidInputError, match=r"lens.csv:3"):
        parse_distribution(f"empirical:{f}:b")


def test_lognormal_has_the_mean_and_cv_asked_for() -> None:
    x = LogNormal(2000, 0.8).sample(np.random.default_rng(0), 200_000)
    assert x.mean() == pytest.approx(2000, rel=0.02)
    assert x.std() / x.mean() == pytest.approx(0.8, rel=0.05)


@pytest.mark.parametrize("burstiness", [1.0, 0.25])
def test_arrival_rate_and_burstiness(burstiness: float) -> None:
    wl = synthetic_workload(5.0, 20_000, Fixed(10), Fixed(10), burstiness=burstiness, seed=1)
    gaps = np.diff(wl.arrival_s)
    assert 1 / gaps.mean() == pytest.approx(5.0, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(1 / np.sqrt(burstiness), rel=0.05)  # gamma CV


def test_shared_prefix_keys() -> None:
    wl = synthetic_workload(1.0, 3, Fixed(100), Fixed(5), shared_prefix_tokens=1100, seed=0)
    assert list(wl.input_tokens) == [1200] * 3
    keys = wl.prefix_keys
    assert keys is not None and all(len(k) == 2 for k in keys)  # 1200 // 512 whole blocks
    assert keys[0][:2] == keys[1][:2] == keys[2][:2]  # both blocks fall inside the shared 1100 tokens
    a = chain_keys([1, 2, 3])
    assert chain_keys([1, 2, 4])[:2] == a[:2] and chain_keys([9, 2, 3])[1] != a[1]  # keys name whole prefixes


def test_static_workload_sorts_and_validates() -> None:
    wl = StaticWorkload(np.array([2.0, 1.0]), np.array([5, 6]), np.array([1, 2]), ((1,), (2,)))
    assert list(wl.input_tokens) == [6, 5] and wl.prefix_keys == ((2,), (1,))
    assert list(wl.time_scaled(2.0).arrival_s) == [0.0, 0.5]
    with pytest.raises(InvalidInputError):
        StaticWorkload(np.array([0.0]), np.array([-1]), np.array([1]))
    with pytest.raises(InvalidInputError):
        StaticWorkload(np.array([0.0, 1.0]), np.array([1]), np.array([1]))


def test_sessions_plan_and_turns() -> None:
    s = Sessions(
        1.0,
        5,
        turns=Fixed(3),
        user_tokens=Fixed(100),
        output_tokens=Fixed(50),
        system_prompt_tokens=600,
        prefix_block_tokens=256,
    )
    plans = s.plan(seed=0)
    assert len(plans) == 5 and all(len(p.user) == 3 for p in plans)
    p0, o0, k0 = s.turn_request(plans[0], 0)
    p2, o2, k2 = s.turn_request(plans[0], 2)
    assert (p0, o0) == (700, 50) and p2 == 600 + 2 * 150 + 100
    assert k2[: len(k0)] == k0  # a later turn extends the earlier conversation
    _, _, other = s.turn_request(plans[1], 2)
    assert len(k2) == len(other) == 4
    assert other[:2] == k2[:2] and other[2] != k2[2]  # the system prompt (2 whole blocks) is shared


def test_closed_loop_validation() -> None:
    with pytest.raises(InvalidInputError):
        ClosedLoop(0)
    assert "closed loop of 4 clients" in ClosedLoop(4).describe()
