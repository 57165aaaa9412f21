"""Economics core: ownership, cost per token, the speed/cost frontier, derived price sheets, and Erdil 2025's
published figures where the model allows (shared/facts/targets.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferonomics.catalog.hardware import with_overrides
from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.economics import (
    OwnershipAssumptions,
    candidate_deployments,
    chip_hour_cost,
    context_costs,
    derive_price_sheet,
    frontier,
    operating_points,
    own_cost,
    pareto_mask,
    token_cost,
)
from inferonomics.economics.ownership import capital_recovery_factor
from inferonomics.errors import DoesNotFitError, InvalidInputError
from inferonomics.perf import make_deployment
from inferonomics.perf.bounds import floors


@pytest.fixture(scope="module")
def h100():
    return get_hardware("h100_sxm")


@pytest.fixture(scope="module")
def llama70_tp8():
    return make_deployment("llama-3.1-70b", "h100_sxm", tp=8)


@pytest.fixture(scope="module")
def llama70_frontier():
    # one lever setting (bf16, no speculative decoding): the Erdil reproductions below compare against it
    return frontier(
        "llama-3.1-70b", "h100_sxm", max_chips=16, usd_per_chip_hour=2.0, precision="bf16", speculative_tokens=0
    )


@pytest.fixture(scope="module")
def sheet70(llama70_tp8):
    return derive_price_sheet(llama70_tp8, utilisation=0.6, margin=0.0)


# --- ownership --------------------------------------------------------------------------------------------


def test_own_h100_by_hand(h100):
    """Epoch defaults: 37,000 USD server per GPU (catalog), interconnect 19% of cluster, 5 y at 10%,
    700 W x 1.82 x 0.75 x PUE 1.25 x 0.08 USD/kWh."""
    c = own_cost(h100)
    crf = 0.10 / (1 - 1.10**-5)
    capital = 37_000 / 0.81 * crf / 8766
    power = 700 * 1.82 * 0.75 * 1.25 / 1000 * 0.08
    assert c.usd_per_chip_hour == pytest.approx(capital + power, rel=1e-9)
    assert c.usd_per_chip_hour == pytest.approx(1.470, abs=2e-3)
    # shared facts: renting below ~1.65 USD/h does not repay an H100
    assert 1.0 < c.usd_per_chip_hour < 1.65
    assert sum(c.terms_usd_per_chip_hour.values()) == pytest.approx(c.usd_per_chip_hour)


def test_own_from_chip_price_uses_epoch_server_ratio(h100):
    c = own_cost(h100, OwnershipAssumptions(chip_usd=25_000))
    assert c.assumptions["server_usd_per_chip"] == pytest.approx(25_000 * 1.64)


@settings(max_examples=40, deadline=None)
@given(life=st.floats(1.0, 10.0), rate=st.floats(0.0, 0.3), extra=st.floats(0.1, 5.0))
def test_ownership_monotone(life: float, rate: float, extra: float) -> None:
    h = get_hardware("h100_sxm")
    base = own_cost(h, OwnershipAssumptions(life_years=life, cost_of_capital_per_year=rate))
    longer = own_cost(h, OwnershipAssumptions(life_years=life + extra, cost_of_capital_per_year=rate))
    dearer = own_cost(h, OwnershipAssumptions(life_years=life, cost_of_capital_per_year=rate + 0.05))
    assert longer.usd_per_chip_hour < base.usd_per_chip_hour < dearer.usd_per_chip_hour
    assert capital_recovery_factor(rate, life) >= 1 / life - 1e-12


def test_rent_and_own_errors():
    with pytest.raises(InvalidInputError, match="no public rental price"):
        chip_hour_cost(get_hardware("h800"), "rent")  # China-only part: no USD list price
    with pytest.raises(InvalidInputError, match="no purchase price"):
        chip_hour_cost(get_hardware("b200_sxm"), "own")
    with pytest.raises(InvalidInputError, match="price >= 0"):
        chip_hour_cost(get_hardware("h100_sxm"), "rent", usd_per_chip_hour=-1.0)
    with pytest.raises(InvalidInputError, match="pue"):
        OwnershipAssumptions(pue=0.9)
    with pytest.raises(InvalidInputError, match="key=value"):
        OwnershipAssumptions.from_pairs(["lifetime=3"])
    assert OwnershipAssumptions.from_pairs(["life_years=4"]).life_years == 4.0


# --- cost per token ---------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(u1=st.floats(0.05, 1.0), u2=st.floats(0.05, 1.0))
def test_cost_falls_with_utilisation(u1: float, u2: float) -> None:
    dep = make_deployment("llama-3.1-8b", "h100_sxm", tp=1)
    a = token_cost(dep, 512, 256, 16, usd_per_chip_hour=2.0, utilisation=u1)
    b = token_cost(dep, 512, 256, 16, usd_per_chip_hour=2.0, utilisation=u2)
    if u1 < u2:
        assert b.output_usd_per_mtok < a.output_usd_per_mtok and b.input_usd_per_mtok < a.input_usd_per_mtok
    assert a.output_usd_per_mtok * u1 == pytest.approx(b.output_usd_per_mtok * u2, rel=1e-9)


def test_bad_inputs_are_specific(llama70_tp8):
    for u in (0.0, 1.5, float("nan")):
        with pytest.raises(InvalidInputError, match="utilisation"):
            token_cost(llama70_tp8, 1024, 1024, 8, utilisation=u)
    with pytest.raises(InvalidInputError, match="isl"):
        token_cost(llama70_tp8, 0, 1024, 8)
    with pytest.raises(DoesNotFitError):
        token_cost(make_deployment("llama-3.1-70b", "h100_sxm", tp=1), 1024, 1024, 1)
    # past the KV capacity the extra clients queue (as engines do): a cost, with a note and a long TTFT
    queued = token_cost(llama70_tp8, 1024, 1024, 100_000)
    held = token_cost(llama70_tp8, 1024, 1024, 64)
    assert "queue" in queued.notes[0] and queued.ttft_s > 10 * held.ttft_s


def test_prefill_decode_split_comes_from_step_times(llama70_tp8):
    pts = operating_points(llama70_tp8, 2048, 256, [1, 8, 64, 256])
    # prefill per input token is batched at the token budget: the same at any concurrency
    assert np.ptp(pts["chip_s_per_input_token"]) == 0
    # decode per output token amortises the weight read over the batch
    assert np.all(np.diff(pts["chip_s_per_output_token"]) < 0)
    # the split is not a fixed ratio: it moves with the batch and with the lengths
    assert np.ptp(pts["prefill_share"]) > 0.2
    longer = operating_points(llama70_tp8, 256, 2048, [64])
    assert longer["prefill_share"].iloc[0] < pts["prefill_share"].iloc[2]
    total = pts["chip_s_per_input_token"] * 2048 + pts["chip_s_per_output_token"] * 256
    assert np.allclose(total / 256, pts["chip_s_per_output_token_all_in"])


def test_token_cost_max_throughput_is_cheapest(llama70_tp8):
    best = token_cost(llama70_tp8, 1024, 1024, usd_per_chip_hour=2.0)
    some = token_cost(llama70_tp8, 1024, 1024, 32, usd_per_chip_hour=2.0)
    assert best.all_in_usd_per_mtok_output < some.all_in_usd_per_mtok_output
    assert best.usd_per_hour == pytest.approx(16.0)


def test_context_raises_cost_and_marks_a_surcharge(llama70_tp8):
    cc = context_costs(llama70_tp8, [1000, 8000, 32000, 100000], 256, usd_per_chip_hour=2.0)
    out = cc.table["output_usd_per_mtok"].to_numpy()
    assert np.all(np.diff(out) > 0)
    assert np.all(np.diff(cc.table["batch_size"]) < 0)
    assert np.all(cc.table["output_usd_per_mtok"] >= cc.table["kv_read_floor_usd_per_mtok"])
    assert cc.surcharge_threshold_tokens == 8000


# --- frontier ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.1, 100), st.floats(0.01, 100)), min_size=1, max_size=40))
def test_pareto_mask_is_exactly_the_undominated_set(pts: list[tuple[float, float]]) -> None:
    speed = np.array([p[0] for p in pts])
    cost = np.array([p[1] for p in pts])
    keep = pareto_mask(speed, cost)
    for i in range(len(pts)):
        dominated = np.any((speed >= speed[i]) & (cost <= cost[i]) & ((speed > speed[i]) | (cost < cost[i])))
        if keep[i]:
            assert not dominated
        elif not dominated:  # a duplicate of a kept point
            assert np.any(keep & (speed == speed[i]) & (cost == cost[i]))


def test_frontier_is_pareto_optimal_and_marked(llama70_frontier):
    f = llama70_frontier
    front, alls = f.points, f.all_points
    for _, p in front.iterrows():
        better = (alls["tokens_per_s_per_user"] >= p["tokens_per_s_per_user"]) & (
            alls["usd_per_mtok_output"] < p["usd_per_mtok_output"] - 1e-12
        )
        assert not better.any()
    assert np.all(np.diff(front["tokens_per_s_per_user"]) < 0)
    assert np.all(np.diff(front["usd_per_mtok_output"]) < 0)
    # the latency floor: the cheapest point within 1% of the top speed (a Pareto point)
    top = alls["tokens_per_s_per_user"].max()
    assert f.latency_floor["tokens_per_s_per_user"] >= 0.99 * top
    near = alls[alls["tokens_per_s_per_user"] >= 0.99 * top]
    assert f.latency_floor["usd_per_mtok_output"] == near["usd_per_mtok_output"].min()
    assert f.cost_floor["usd_per_mtok_output"] == alls["usd_per_mtok_output"].min()
    assert f.single_user["batch_size"] == 1
    assert f.single_user_to_batched_cost_ratio > 50
    d = f.to_dict()
    for key in ("points", "latency_floor", "cost_floor", "single_user_to_batched_cost_ratio"):
        assert key in d
    for key in ("tokens_per_s_per_user", "usd_per_mtok_output", "batch_size", "chips"):
        assert key in d["points"][0]


def test_frontier_never_beats_the_analytic_floors(llama70_frontier):
    f = llama70_frontier
    assert f.bounds is not None
    assert f.cost_floor["usd_per_mtok_output"] >= f.bounds.cost_floor_usd_per_mtok
    assert f.latency_floor["tokens_per_s_per_user"] <= f.bounds.latency_floor_tokens_per_s


def test_frontier_that_fits_nowhere():
    with pytest.raises(DoesNotFitError, match="fits on no deployment"):
        frontier("llama-3.1-405b", "h100_sxm", max_chips=4)


# --- derived price sheets ---------------------------------------------------------------------------------


def test_price_sheet_json_fields_and_margin(sheet70, llama70_tp8):
    d = sheet70.to_dict()
    for key in (
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "cache_write_usd_per_mtok",
        "long_context",
        "batch_usd_per_mtok",
    ):
        assert key in d
    marked = derive_price_sheet(llama70_tp8, utilisation=0.6, margin=0.5)
    assert marked.output_usd_per_mtok == pytest.approx(1.5 * sheet70.output_usd_per_mtok)
    assert marked.cached_input_usd_per_mtok == pytest.approx(1.5 * sheet70.cached_input_usd_per_mtok)


def test_no_price_below_the_cost_floor_at_zero_margin(sheet70, llama70_tp8):
    fl = floors(
        llama70_tp8.model,
        llama70_tp8.system,
        context_tokens=1024 + 512,
        precision="bf16",
        kv_precision="bf16",
        usd_per_chip_hour=sheet70.chip_hour.usd_per_chip_hour,
    )
    for price in (sheet70.output_usd_per_mtok, sheet70.batch_output_usd_per_mtok, sheet70.priority_output_usd_per_mtok):
        assert price >= fl.cost_floor_usd_per_mtok
    c = sheet70.cost_usd_per_mtok
    assert sheet70.input_usd_per_mtok == pytest.approx(c["input"])
    assert sheet70.batch_output_usd_per_mtok <= sheet70.output_usd_per_mtok <= sheet70.priority_output_usd_per_mtok
    assert sheet70.cached_input_usd_per_mtok < sheet70.input_usd_per_mtok < sheet70.cache_write_usd_per_mtok
    lc = sheet70.long_context
    assert lc is not None and lc["output_multiplier"] > 1 and lc["threshold_tokens"] > 1024


def test_cache_tier_follows_the_ttl(llama70_tp8):
    short = derive_price_sheet(llama70_tp8, cache_ttl_s=10.0, cache_reads_per_write=50, long_contexts=[1024])
    long = derive_price_sheet(llama70_tp8, cache_ttl_s=7 * 86400.0, long_contexts=[1024])
    assert short.cache_tier == "hbm"
    assert long.cache_tier == "ssd"
    hbm = derive_price_sheet(llama70_tp8, cache_tier="hbm", long_contexts=[1024])
    assert hbm.cached_input_usd_per_mtok == 0.0


def test_price_sheet_rejects_nonsense(llama70_tp8):
    with pytest.raises(InvalidInputError, match="margin"):
        derive_price_sheet(llama70_tp8, margin=-1.0)
    with pytest.raises(InvalidInputError, match="utilisation"):
        derive_price_sheet(llama70_tp8, utilisation=1.01)
    with pytest.raises(InvalidInputError, match="price >= 0"):
        derive_price_sheet(llama70_tp8, usd_per_chip_hour=-2.0)
    with pytest.raises(InvalidInputError, match="TTL"):
        derive_price_sheet(llama70_tp8, cache_ttl_s=0)


# --- Erdil 2025 (shared/facts/targets.md) -------------------------------------------------------------------


def test_erdil_mistral_large_2_kv_floor_at_100k(h100):
    """~36 GB of KV per token at 100K context: a floor of ~6 USD per M output tokens at 2 USD/h."""
    m = get_model("mistral-large-2")
    deps = candidate_deployments(m, h100, isl=100_000, osl=64, max_chips=16, kv_precision="bf16")
    cc = context_costs(deps, [100_000], 64, usd_per_chip_hour=2.0)
    row = cc.table.iloc[0]
    assert row["kv_read_floor_usd_per_mtok"] == pytest.approx(6.0, abs=0.2)  # 5.98
    assert row["output_usd_per_mtok"] > row["kv_read_floor_usd_per_mtok"]


def test_erdil_deepseek_v3_kv_much_cheaper_than_mistral(h100):
    """Erdil: DeepSeek-V3's MLA cache (~60 kB/token) makes it ~6x cheaper per long-context token. The
    catalog's 70 kB/token gives 5.1x on the KV-read floor; the modelled decode cost is 3.9x lower."""
    floor, modelled = {}, {}
    for name in ("mistral-large-2", "deepseek-v3"):
        m = get_model(name)
        deps = candidate_deployments(m, h100, isl=100_000, osl=64, max_chips=64, kv_precision="bf16")
        cc = context_costs(deps, [100_000], 64, usd_per_chip_hour=2.0)
        floor[name] = cc.table["kv_read_floor_usd_per_mtok"].iloc[0]
        modelled[name] = min(operating_points(d, 100_000, 64, n=12)["chip_s_per_output_token"].min() for d in deps)
    assert 4.5 < floor["mistral-large-2"] / floor["deepseek-v3"] < 7.0
    assert modelled["mistral-large-2"] / modelled["deepseek-v3"] > 2.5


def test_erdil_llama3_70b_full_utilisation_cost(h100, llama70_frontier):
    """Erdil: ~0.11 USD/M at full utilisation. That is the compute floor (every FLOP at H100's 989 TFLOP/s
    bf16 peak) at ~2.5 USD/h; the calibrated model's cheapest point is several times dearer."""
    m = get_model("llama-3.1-70b")
    fl = floors(m, h100, context_tokens=1024, precision="bf16", usd_per_chip_hour=2.5)
    assert fl.cost_floor_bound == "compute"
    assert 0.09 < fl.cost_floor_usd_per_mtok < 0.13
    modelled = llama70_frontier.cost_floor["usd_per_mtok_output"] * 2.5 / 2.0
    assert modelled > fl.cost_floor_usd_per_mtok


def test_erdil_speculative_decoding_faster_at_equal_cost(llama70_frontier):
    spec = frontier(
        "llama-3.1-70b",
        "h100_sxm",
        max_chips=16,
        usd_per_chip_hour=2.0,
        precision="bf16",
        speculative_tokens=3,
        acceptance_rate=0.8,
    )
    for usd in (0.8, 2.0, 5.0):
        assert spec.speed_at_cost(usd) > 1.3 * llama70_frontier.speed_at_cost(usd)


def test_erdil_doubling_hbm_bandwidth_short_context():
    """Erdil: at short context, doubling HBM bandwidth cuts the latency floor by at most ~20%; the model
    gives ~27% (network and overheads stay)."""
    base = frontier("llama-3.1-70b", "h100_sxm", isl=128, osl=128, max_chips=16)
    s = with_overrides(get_hardware("h100_sxm"), {"hbm_bandwidth_tb_s": 6.7})
    fast = frontier("llama-3.1-70b", s, isl=128, osl=128, max_chips=16, usd_per_chip_hour=2.5)
    cut = 1 - base.latency_floor["tokens_per_s_per_user"] / fast.latency_floor["tokens_per_s_per_user"]
    assert 0.05 < cut < 0.4
    assert not math.isclose(cut, 0.5, abs_tol=0.05)  # far from the 2x a purely bandwidth-bound step would give
