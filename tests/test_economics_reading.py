"""Reading real price sheets, comparisons (lab vs provider, hardware per dollar, real vs derived prices),
capacity plans and mode routing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferonomics.catalog.prices import get_price_sheet
from inferonomics.economics import (
    EXAMPLE_PORTFOLIO,
    HardwareOption,
    Mode,
    RequestClass,
    ServingRates,
    TokenRates,
    agents_capacity,
    coding_session,
    compare_sheets,
    derive_price_sheet,
    evaluate_policy,
    hardware_per_dollar,
    lab_vs_provider,
    market_gap,
    policy_frontier,
    read_price_sheet,
    route_by_value,
    voice_capacity,
)
from inferonomics.errors import InvalidInputError, UnknownNameError
from inferonomics.perf import make_deployment

# --- reading price sheets -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sonnet():
    return read_price_sheet("anthropic/claude-sonnet-4.5")


def test_reading_has_every_finding_with_ranges(sonnet):
    topics = [f.topic for f in sonnet.findings]
    assert topics[0] == "output_input_ratio"
    for t in ("long_context", "cache_read", "batch_discount"):
        assert t in topics
    assert sum(t.startswith("cache_storage") for t in topics) == 2  # 5-minute and 1-hour writes
    for f in sonnet.findings:
        assert f.statement and f.reasoning and f.assumptions
        if f.low is not None and f.high is not None:
            assert f.low <= f.high
    assert "stand-in" in sonnet.reference
    with pytest.raises(UnknownNameError):
        sonnet.finding("nope")


def test_long_context_arithmetic(sonnet):
    """m = 1.5: kT/a = (m - 1) / (L_l/T - m L_s/T) over L_s/T in {1/8, 1/2}, L_l/T in {1.25, 2}."""
    f = sonnet.finding("long_context")
    assert f.low == pytest.approx(0.5 / (2.0 - 1.5 * 0.125))
    assert f.high == pytest.approx(1.0)


def test_cache_write_premium_bounds_kv_in_hbm(sonnet):
    """5-minute write at 1.25x of 3 USD/M = 0.75 USD/M for 5 min = 9 USD per M token-hours; at 2.5 USD per
    H100-hour over 80 GB that buys 288 kB of HBM per token; the 1-hour write buys a third of it."""
    five = sonnet.finding("cache_storage (5-minute write premium)")
    hour = sonnet.finding("cache_storage (1-hour write premium)")
    assert five.low == pytest.approx(9e-6 / (2.5 / 80e9))
    assert hour.low == pytest.approx(five.low / 3)


def test_deepseek_off_peak_and_ratio():
    r = read_price_sheet("deepseek/deepseek-v3")
    assert "catalog model of the same name" in r.reference
    off = r.finding("off_peak")
    w = 8 / 24  # 16:30-00:30 UTC
    assert off.low == pytest.approx(0.6 * (1 - 0.5 * w)) and off.high == pytest.approx(1 - 0.5 * w)
    ratio = r.finding("output_input_ratio")
    assert "4.1x" in ratio.statement
    assert ratio.low is not None and ratio.high is not None and ratio.low < ratio.high


def test_fast_mode_implies_smaller_batches():
    f = read_price_sheet("anthropic/claude-opus-4.6").finding("fast_mode")
    assert f.high is not None and f.high < 40
    assert "6x" in f.statement


# --- comparisons ------------------------------------------------------------------------------------------


def test_lab_vs_provider_waterfall():
    c = lab_vs_provider(max_chips=32)
    t = c.table
    assert list(t["acquisition"]) == ["rent", "own", "own", "own"]
    assert t["cheaper_than_previous_x"].iloc[2] == pytest.approx(0.7 / 0.4)
    assert t["cheaper_than_previous_x"].iloc[1] > 1  # owning beats renting at the catalog price
    total = t["usd_per_request"].iloc[0] / t["usd_per_request"].iloc[-1]
    assert np.prod(t["cheaper_than_previous_x"].iloc[1:]) == pytest.approx(total)
    assert total > 1
    with pytest.raises(InvalidInputError, match="lab_utilisation"):
        lab_vs_provider(lab_utilisation=0)


def test_hardware_per_dollar_and_what_ifs():
    opts = [
        HardwareOption.parse("h100_sxm@2.0"),
        HardwareOption.parse("h100_sxm@4.0"),
        HardwareOption.parse("h100_sxm@2.0:intra_node_latency_us=2"),
    ]
    c = hardware_per_dollar("llama-3.1-8b", opts, max_chips=8, claimed_gain=0.8)
    ppd = c.table["perf_per_dollar_vs_first"].to_numpy()
    assert ppd[1] == pytest.approx(0.5)  # twice the price, same chips
    assert ppd[2] >= 1.0 - 1e-9  # cheaper collectives never hurt
    assert c.table["speed_floor_vs_first"].iloc[2] > 1.0
    assert "does not hold" in c.headline
    assert opts[2].overrides == {"intra_node_latency_us": 2.0}
    with pytest.raises(InvalidInputError, match="number of USD"):
        HardwareOption.parse("h100_sxm@cheap")


def test_compare_derived_to_provider():
    d = derive_price_sheet(make_deployment("llama-3.1-70b", "h100_sxm", tp=8), long_contexts=[1024])
    sheet = get_price_sheet("deepseek/deepseek-v3")
    c = compare_sheets(d, sheet)
    out = c.table.set_index("line").loc["output"]
    assert out["implied_markup"] == pytest.approx(sheet.output_usd_per_mtok / out["our_cost_usd_per_mtok"] - 1)
    assert out["break_even_utilisation"] == pytest.approx(d.cost_usd_per_mtok["output"] * 0.6 / 1.10)


def test_market_price_implies_low_utilisation_or_margin():
    """Erdil: ~0.9 USD/M for Llama 3 70B against a much lower full-utilisation cost."""
    g = market_gap("llama-3.1-70b", "h100_sxm", blended_usd_per_mtok=0.9, tokens_per_s_per_user=30, max_chips=16)
    assert g["at_cost_floor"]["price_over_cost"] > 2
    assert g["at_market_speed"]["tokens_per_s_per_user"] >= 30


# --- capacity ---------------------------------------------------------------------------------------------


def test_agents_plan_scales():
    p1 = agents_capacity(
        "llama-3.1-8b",
        "h100_sxm",
        agents=10_000,
        output_tokens_per_s_per_agent=10,
        context_tokens=8000,
        max_chips=8,
        usd_per_chip_hour=2.0,
    )
    b = p1.best
    assert b["replicas"] * b["agents_per_replica"] >= 10_000
    assert b["usd_per_agent_hour"] == pytest.approx(b["usd_per_hour"] / 10_000)
    assert b["tokens_per_s_per_agent"] >= 10
    assert b["total_chips"] == b["replicas"] * b["chips_per_replica"]
    p2 = agents_capacity(
        "llama-3.1-8b",
        "h100_sxm",
        agents=1_000_000,
        output_tokens_per_s_per_agent=10,
        context_tokens=8000,
        max_chips=8,
        usd_per_chip_hour=2.0,
    )
    # whole replicas: 100x the agents cost at most 100x (rounding up wastes less at scale), and nearly that
    assert 0.95 * 100 * b["usd_per_hour"] <= p2.best["usd_per_hour"] <= 100 * b["usd_per_hour"]


def test_voice_meets_its_targets_or_says_why():
    p = voice_capacity("llama-3.1-8b", "h100_sxm", tokens_per_s=20, ttft_s=0.3, max_chips=8)
    assert (p.options["tokens_per_s_per_user"] >= 20).all() and (p.options["ttft_s"] <= 0.3).all()
    assert p.best["usd_per_conversation_hour_at_scale"] == pytest.approx(
        p.best["chips_per_replica"] * 2.5 / p.best["conversations_per_replica"]
    )
    assert p.best["usd_per_conversation_hour"] == pytest.approx(p.best["chips_per_replica"] * 2.5)  # one alone
    with pytest.raises(InvalidInputError, match="no deployment"):
        voice_capacity("llama-3.1-8b", "h100_sxm", tokens_per_s=5000, max_chips=8)


def test_coding_session_by_hand():
    r = TokenRates("api", 3.0, 15.0, 0.3, 3.75, ((20_000, 2.0, 1.5),))
    s = coding_session(
        [r],
        turns=2,
        initial_context_tokens=10_000,
        new_input_tokens_per_turn=1_000,
        output_tokens_per_turn=500,
        cache_hit_rate=1.0,
    )
    t1 = (11_000 * 3.75 + 500 * 15.0) / 1e6  # first turn: nothing cached, all written
    t2 = (11_500 * 0.3 + 1_000 * 3.75 + 500 * 15.0) / 1e6  # context 11,500 cached, new input written
    assert s.totals["api"] == pytest.approx(t1 + t2)
    long = coding_session(
        [r],
        turns=1,
        initial_context_tokens=30_000,
        new_input_tokens_per_turn=0,
        output_tokens_per_turn=100,
        cache_hit_rate=0.0,
    )
    assert long.totals["api"] == pytest.approx((30_000 * 3.75 * 2.0 + 100 * 15.0 * 1.5) / 1e6)
    sheet = TokenRates.from_sheet(get_price_sheet("anthropic/claude-sonnet-4.5"))
    assert sheet.multipliers(250_000) == (2.0, 1.5) and sheet.multipliers(100_000) == (1.0, 1.0)
    no_cache = coding_session([sheet], cache_hit_rate=0.0)
    cached = coding_session([sheet], cache_hit_rate=0.9)
    assert cached.totals[sheet.label] < no_cache.totals[sheet.label]


def test_self_hosted_rates_step_with_context():
    d = derive_price_sheet(make_deployment("llama-3.1-70b", "h100_sxm", tp=8), utilisation=0.6, margin=0.0)
    r = TokenRates.from_derived(d)
    assert r.multipliers(1000) == (1.0, 1.0)
    outs = [r.multipliers(n)[1] for n in (5_000, 30_000, 120_000)]
    assert outs == sorted(outs) and outs[-1] > 5


# --- modes and routing ------------------------------------------------------------------------------------

RATES = ServingRates("test", 1.0, 10.0, 50.0, 0.5)


def test_evaluate_policy_by_hand():
    res = evaluate_policy(
        EXAMPLE_PORTFOLIO, {"chat": "fast", "coding": {"fast": 0.5, "thinking": 0.5}, "math": "thinking"}, RATES
    )
    cost = 0.6 * (1500 + 4000) / 1e6 + 0.25 * (8000 + 0.5 * 8000 + 0.5 * 60000) / 1e6 + 0.15 * (500 + 80000) / 1e6
    assert res["usd_per_request"] == pytest.approx(cost)
    assert res["quality"] == pytest.approx(0.6 * 0.80 + 0.25 * 0.65 + 0.15 * 0.85)
    assert res["latency_s"] == pytest.approx(0.5 + (0.6 * 400 + 0.25 * 3400 + 0.15 * 8000) / 50)
    with pytest.raises(InvalidInputError, match="add up to 1"):
        evaluate_policy(EXAMPLE_PORTFOLIO, {"chat": {"fast": 0.7}, "coding": "fast", "math": "fast"}, RATES)
    with pytest.raises(InvalidInputError, match="no mode"):
        evaluate_policy(EXAMPLE_PORTFOLIO, {"chat": "slow", "coding": "fast", "math": "fast"}, RATES)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 5000), st.floats(0, 1), st.integers(1, 20000), st.floats(0, 1)), min_size=1, max_size=4
    )
)
def test_policy_frontier_is_pareto(classes_raw: list[tuple[int, float, int, float]]) -> None:
    classes = [
        RequestClass(f"c{i}", 1.0, 100, (Mode("fast", a, qa), Mode("thinking", b, qb)))
        for i, (a, qa, b, qb) in enumerate(classes_raw)
    ]
    pf = policy_frontier(classes, RATES)
    df, fr = pf.policies, pf.frontier
    for _, p in fr.iterrows():
        assert not ((df["usd_per_request"] <= p["usd_per_request"]) & (df["quality"] > p["quality"] + 1e-12)).any()
    assert np.all(np.diff(fr["quality"]) > 0)
    best = pf.best_within(float(df["usd_per_request"].max()))
    assert best is not None and best["quality"] == pytest.approx(df["quality"].max())


def test_route_by_value_spans_the_frontier():
    cheap = route_by_value(EXAMPLE_PORTFOLIO, RATES, 1e-9)
    rich = route_by_value(EXAMPLE_PORTFOLIO, RATES, 1e9)
    assert set(cheap.values()) == {"fast"} and set(rich.values()) == {"thinking"}
    mid = route_by_value(EXAMPLE_PORTFOLIO, RATES, 0.3)  # 0.3 USD per quality point
    assert mid == {"chat": "fast", "coding": "thinking", "math": "thinking"}
    with pytest.raises(InvalidInputError):
        dataclasses.replace(RATES, tokens_per_s_per_user=0)
