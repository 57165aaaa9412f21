"""Deployment search: enumeration, the screen against the perf API, targets, ranking, Pareto set,
infeasibility, Parquet persistence and resume, local process pool, and the simulator re-check."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.catalog.model_catalog import get_model
from inferonomics.errors import InvalidInputError
from inferonomics.perf import (
    Deployment,
    DisaggSpec,
    max_sequences,
    memory_use,
    predict_deployment,
    predict_disaggregated,
)
from inferonomics.search import (
    RAW_COLUMNS,
    SearchRequest,
    SearchSpace,
    Targets,
    enumerate_candidates,
    evaluate,
    explain_infeasible,
    pareto_front,
    read_sweep,
    search,
)
from inferonomics.search import api as search_api

MODEL = "Llama-3.1-8B"
HW = ("h100_sxm", "mi300x")
ISL, OSL, RATE = 1000, 200, 20.0
SPACE = SearchSpace(hardware=HW, batch_sizes=(1, 4, 16, 64, 256), max_chips_per_instance=8, disagg_groups=2)


def _request(**kw: Any) -> SearchRequest:
    args: dict[str, Any] = dict(
        model=MODEL, isl=ISL, osl=OSL, rate_per_s=RATE, ttft_s=0.5, tpot_s=0.03, space=SPACE, recheck=0
    )
    args.update(kw)
    return SearchRequest(**args)


@pytest.fixture(scope="module")
def result() -> Any:
    return search(_request())


def _dep(row: pd.Series, prefill: bool = False) -> Deployment:
    pre = "prefill_" if prefill else ""
    return Deployment(
        model=get_model(MODEL),
        system=get_hardware(row["hardware"]),
        tp=int(row[pre + "tp"]),
        pp=int(row[pre + "pp"]),
        attention_dp=int(row[pre + "attention_dp"]),
        moe_ep=int(row[pre + "ep"]),
        weight_precision=row["precision"],
        kv_precision=row["kv_precision"],
        backend=row["engine"],
        speculative_tokens=int(row["speculative_tokens"]),
        acceptance_rate=SearchSpace().acceptance_for(get_model(MODEL)) if row["speculative_tokens"] else 0.0,
    )


# --- enumeration -------------------------------------------------------------------------------------------


def test_enumeration_rules() -> None:
    dense = get_model("Llama-3.1-70B")
    h100, b200 = get_hardware("h100_sxm"), get_hardware("b200_sxm")
    cands = enumerate_candidates(dense, [h100, b200], SearchSpace()).candidates
    ids = [c.config_id for c in cands]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(c.attention_dp == 1 and c.moe_ep == 1 for c in cands)  # dense: replicas, not attention-DP
    assert all(c.tp == 8 for c in cands if c.pp > 1)  # pipelines only across full scale-up domains
    assert {c.tp for c in cands} == {1, 2, 4, 8} and {c.pp for c in cands} == {1, 2, 4, 8}
    assert {c.weight_precision for c in cands if c.system == "h100_sxm"} == {"bf16", "fp8", "int4"}
    assert {c.weight_precision for c in cands if c.system == "b200_sxm"} == {"bf16", "fp8", "int4", "nvfp4"}
    assert {c.kv_precision for c in cands} == {"bf16", "fp8"}
    assert {c.engine for c in cands} == {"vllm"}
    # a checkpoint in fp8 is not widened to bf16 where fp8 runs; experts get EP and attention-DP options
    moe = get_model("Qwen3-30B-A3B-FP8")
    mc = enumerate_candidates(moe, [h100], SearchSpace(all_engines=True)).candidates
    assert "bf16" not in {c.weight_precision for c in mc}
    assert {c.moe_ep for c in mc} > {1} and {c.attention_dp for c in mc} > {1}
    assert {c.engine for c in mc} == {"trtllm", "vllm", "sglang"}
    assert all(c.tp * c.attention_dp * c.pp <= 64 for c in mc)


def test_space_rejects_bad_values() -> None:
    with pytest.raises(InvalidInputError, match="batch_sizes"):
        SearchSpace(batch_sizes=(0, 4))
    with pytest.raises(InvalidInputError, match="modes"):
        SearchSpace(modes=("both",))
    with pytest.raises(InvalidInputError, match="engine"):
        SearchSpace(engines=("tgi",))
    with pytest.raises(InvalidInputError, match="objective"):
        Targets(objective="speed")  # type: ignore[arg-type]


# --- the screen calls the performance model -----------------------------------------------------------------


def test_aggregated_rows_equal_perf_predictions(result: Any) -> None:
    rows = result.rows
    agg = rows[(rows["mode"] == "agg") & rows["fits"]]
    assert len(agg) > 50
    for _, r in agg.iloc[:: max(1, len(agg) // 12)].iterrows():
        p = predict_deployment(_dep(r), ISL, OSL, concurrency=float(r["batch_size"]))
        # the full batch; `ttft_ms` / `tpot_ms` are at the offered load (open loop at the rate's share)
        assert r["ttft_full_batch_ms"] == pytest.approx(p.ttft_s * 1e3, rel=1e-9)
        assert r["tpot_full_batch_ms"] == pytest.approx(p.tpot_s * 1e3, rel=1e-9)
        assert r["output_tokens_per_s_per_replica"] == pytest.approx(p.output_tokens_per_s, rel=1e-9)
        assert r["requests_per_s_per_replica"] == pytest.approx(p.requests_per_s, rel=1e-9)


def test_disaggregated_rows_equal_perf_predictions(result: Any) -> None:
    dis = result.rows[result.rows["mode"] == "disagg"]
    assert len(dis) > 0
    for _, r in dis.iloc[:: max(1, len(dis) // 6)].iterrows():
        spec = DisaggSpec(_dep(r, prefill=True), _dep(r), int(r["prefill_instances"]), int(r["decode_instances"]))
        p = predict_disaggregated(spec, ISL, OSL, float(r["concurrency_per_replica"]))
        # the full batch; `ttft_ms` / `tpot_ms` are at the offered load (open loop at the rate's share)
        assert r["ttft_full_batch_ms"] == pytest.approx(p.ttft_s * 1e3, rel=1e-9)
        assert r["tpot_full_batch_ms"] == pytest.approx(p.tpot_s * 1e3, rel=1e-9)
        assert r["tpot_ms"] <= r["tpot_full_batch_ms"] * (1 + 1e-6)
        assert r["chips_per_replica"] == p.chips
        assert r["batch_size"] * r["decode_instances"] == r["concurrency_per_replica"]


def test_batch_sizes_fit_in_memory(result: Any) -> None:
    agg = result.rows[(result.rows["mode"] == "agg") & result.rows["fits"]]
    for _, grp in list(agg.groupby("config_id"))[:15]:
        r = grp.iloc[-1]
        dep = _dep(r)
        most = max_sequences(dep, ISL + OSL)
        assert grp["max_batch_fit"].eq(most).all()
        assert grp["batch_size"].max() == most or grp["batch_size"].max() == max(SPACE.batch_sizes)
        assert memory_use(dep, float(grp["batch_size"].max()), ISL + OSL).fits
        assert not memory_use(dep, float(most + dep.attention_dp), ISL + OSL).fits


def test_nothing_fits_says_memory_binds() -> None:
    space = SearchSpace(hardware=("rtx_4090",), max_chips_per_instance=1)
    res = search(SearchRequest("Llama-3.1-70B", isl=1000, osl=100, rate_per_s=1, tpot_s=0.1, space=space, recheck=0))
    assert res.best is None
    assert not res.rows["fits"].any() and len(res.rows) > 0
    assert res.infeasible["binding"] == ["memory"]
    assert "fits in memory" in res.infeasible["message"]


# --- targets, ranking, Pareto ----------------------------------------------------------------------------------


def test_replicas_and_cost_follow_the_rate(result: Any) -> None:
    rows = result.rows[result.rows["fits"]]
    rps = rows["requests_per_s_per_replica"].to_numpy()
    reps = rows["replicas"].to_numpy()
    assert np.all(reps * rps >= RATE * (1 - 1e-9))
    assert np.all((reps - 1) * rps < RATE)
    price = rows["hardware"].map({h: get_hardware(h).rental_usd_per_hour for h in HW}).to_numpy()
    expected = rows["chips"].to_numpy() * price / 3600.0 / (RATE * OSL) * 1e6
    np.testing.assert_allclose(rows["usd_per_mtok"].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(rows["chips"], reps * rows["chips_per_replica"])


def test_feasibility_and_best(result: Any) -> None:
    rows = result.rows
    f = rows[rows["feasible"]]
    assert len(f) > 0 and (f["ttft_ms"] <= 500).all() and (f["tpot_ms"] <= 30).all()
    infeasible = rows[rows["fits"] & ~rows["feasible"]]
    assert ((infeasible["ttft_ms"] > 500) | (infeasible["tpot_ms"] > 30)).all()
    best = result.best
    assert best["usd_per_mtok"] == pytest.approx(f["usd_per_mtok"].min(), rel=1e-12)
    assert best["ttft_ms"] <= 500 and best["tpot_ms"] <= 30
    assert best["memory"]["fits"] and best["memory_gb_per_gpu"] <= best["memory"]["capacity_gb"]
    runner = result.runner_up
    assert runner["config_id"] != best["config_id"]
    assert runner["usd_per_mtok"] >= best["usd_per_mtok"]
    assert result.runner_up_reason
    if runner["usd_per_mtok"] > best["usd_per_mtok"] * (1 + 1e-9):
        assert "USD per million tokens" in result.runner_up_reason


def test_pareto_set_is_exactly_the_non_dominated_feasible_rows(result: Any) -> None:
    f = result.rows[result.rows["feasible"]]
    cost = f["usd_per_mtok"].to_numpy()
    speed = f["tokens_per_s_per_user"].to_numpy()
    dominated = np.array(
        [np.any((cost <= c) & (speed >= s) & ((cost < c) | (speed > s))) for c, s in zip(cost, speed, strict=True)]
    )
    front = pareto_front(result.rows, "usd")
    got = set(zip(front["config_id"], front["batch_size"], strict=True))
    want_points = {(c, s) for c, s, d in zip(cost, speed, dominated, strict=True) if not d}
    assert {(c, s) for c, s in zip(front["usd_per_mtok"], front["tokens_per_s_per_user"], strict=True)} == want_points
    assert len(got) == len(front)
    assert front["usd_per_mtok"].is_monotonic_increasing
    assert front["tokens_per_s_per_user"].is_monotonic_increasing


def test_throughput_objective_ranks_by_tokens_per_gpu(result: Any) -> None:
    res = search(
        _request(
            objective="throughput",
            space=SearchSpace(hardware=HW, batch_sizes=(1, 4, 16, 64, 256), max_chips_per_instance=8, modes=("agg",)),
        )
    )
    f = res.rows[res.rows["feasible"]]
    assert res.best["tokens_per_s_per_gpu"] == pytest.approx(f["tokens_per_s_per_gpu"].max())
    assert set(res.rows["mode"]) == {"agg"}


@pytest.mark.parametrize(
    ("targets", "binds", "words"),
    [
        (Targets(ttft_s=10, tpot_s=1e-4, rate_per_s=RATE), ["tpot"], "TPOT binds"),
        (Targets(ttft_s=1e-3, tpot_s=1.0, rate_per_s=RATE), ["ttft"], "TTFT binds"),
        (Targets(ttft_s=10, tpot_s=1.0, rate_per_s=RATE, max_usd_per_hour=0.01), ["budget"], "budget binds"),
        (Targets(ttft_s=10, tpot_s=1.0, rate_per_s=500, max_chips=1), ["chips"], "chip limit binds"),
    ],
)
def test_what_binds(result: Any, targets: Targets, binds: list[str], words: str) -> None:
    prices = {h: get_hardware(h).rental_usd_per_hour for h in HW}
    ev = evaluate(result.rows[list(RAW_COLUMNS)], targets, prices, OSL)
    assert not ev["feasible"].any()
    out = explain_infeasible(ev, targets, "usd")
    assert out["binding"] == binds
    assert words in out["message"]
    worst = [c["worst_ratio_to_target"] for c in out["closest"]]
    assert 0 < len(worst) <= 5 and worst == sorted(worst) and worst[0] > 1


def test_unpriced_hardware_falls_back_to_throughput() -> None:
    space = SearchSpace(hardware=("h20",), batch_sizes=(1, 8, 64), modes=("agg",))
    res = search(SearchRequest(MODEL, isl=ISL, osl=OSL, rate_per_s=2, ttft_s=2, tpot_s=0.1, space=space, recheck=0))
    assert res.objective == "throughput" and res.best is not None
    assert any("no rental price" in n for n in res.notes)
    priced = search(
        SearchRequest(
            MODEL,
            isl=ISL,
            osl=OSL,
            rate_per_s=2,
            ttft_s=2,
            tpot_s=0.1,
            space=space,
            recheck=0,
            usd_per_chip_hour={"h20": 1.0},
        )
    )
    assert priced.objective == "usd" and priced.best["usd_per_chip_hour"] == 1.0


# --- persistence, resume, backends -----------------------------------------------------------------------------


def test_parquet_holds_rows_and_inputs(result: Any, tmp_path: Path) -> None:
    out = tmp_path / "sweep.parquet"
    res = search(_request(), out=out)
    rows, meta = read_sweep(out)
    assert meta["screen_key"]["model"] == MODEL and meta["screen_key"]["isl"] == ISL
    assert meta["targets"]["tpot_s"] == 0.03
    pd.testing.assert_frame_equal(rows, res.rows.reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(res.rows, result.rows)
    assert not (tmp_path / "sweep.parquet.parts").exists()


def test_interrupted_sweep_resumes_to_the_same_rows(
    result: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sweep.parquet"
    real = search_api.screen_candidates
    seen: list[int] = []

    def flaky(inputs: Any, chunk: list[Any]) -> Any:
        if len(seen) == 2:
            raise RuntimeError("node lost")
        seen.append(len(chunk))
        return real(inputs, chunk)

    monkeypatch.setattr(search_api, "CHUNK_SIZE", 4)
    monkeypatch.setattr(search_api, "screen_candidates", flaky)
    with pytest.raises(RuntimeError, match="node lost"):
        search(_request(), out=out)
    assert not out.exists() and len(list((tmp_path / "sweep.parquet.parts").glob("*.parquet"))) == 2

    counted: list[int] = []

    def counting(inputs: Any, chunk: list[Any]) -> Any:
        counted.append(len(chunk))
        return real(inputs, chunk)

    monkeypatch.setattr(search_api, "screen_candidates", counting)
    res = search(_request(), out=out, resume=True)
    total = len(enumerate_candidates(get_model(MODEL), [get_hardware(h) for h in HW], SPACE).candidates)
    assert sum(counted) == total - sum(seen)
    pd.testing.assert_frame_equal(res.rows, result.rows)
    assert res.best == result.best
    counted.clear()
    again = search(_request(tpot_s=0.02), out=out, resume=True)  # new SLO, nothing screened again
    assert sum(counted) == 0 and again.best["tpot_ms"] <= 20
    with pytest.raises(InvalidInputError, match="isl"):
        search(_request(isl=ISL + 1), out=out, resume=True)


def test_process_pool_gives_the_same_rows(result: Any) -> None:
    res = search(_request(), workers=2)
    pd.testing.assert_frame_equal(res.rows, result.rows)


# --- stage 2 -----------------------------------------------------------------------------------------------------


def test_simulator_recheck_of_the_leaders() -> None:
    res = search(
        _request(
            recheck=2,
            recheck_requests=150,
            percentile=99,
            space=SearchSpace(hardware=("h100_sxm",), batch_sizes=(4, 16, 64), modes=("agg",)),
        )
    )
    rc = res.rechecked
    assert len(rc) == 2
    for _, r in rc.iterrows():
        expect = (r["sim_ttft_ms"] <= 500) and (r["sim_tpot_ms"] <= 30) and r["sim_completed_fraction"] >= 0.99
        assert bool(r["sim_meets_slo"]) == bool(expect)
        assert math.isfinite(r["sim_tpot_ms"])
    if res.best is not None and rc["sim_meets_slo"].any():
        assert res.best["simulated"]["sim_meets_slo"] is True


def test_a_leader_failing_the_simulator_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from inferonomics.search import recheck as rc_mod

    space = SearchSpace(hardware=("h100_sxm",), batch_sizes=(4, 16, 64), modes=("agg",))
    plain = search(_request(space=space))
    first = plain.best["config_id"]

    def fake(settings: Any, row: dict[str, Any]) -> dict[str, Any]:
        ok = row["config_id"] != first
        return {
            "sim_ttft_ms": 1.0,
            "sim_tpot_ms": 1.0,
            "sim_slo_attainment": 1.0 if ok else 0.0,
            "sim_completed_fraction": 1.0,
            "sim_output_tokens_per_s": 1.0,
            "sim_meets_slo": ok,
            "sim_note": "",
        }

    monkeypatch.setattr(rc_mod, "recheck_one", fake)
    res = search(_request(space=space, recheck=3))
    assert res.best["config_id"] == plain.runner_up["config_id"]
    assert any("fail the SLO in the simulator" in n for n in res.notes)


def test_trace_sets_lengths_and_rate(tmp_path: Path) -> None:
    n = 60
    t0 = pd.Timestamp("2024-01-01T00:00:00")
    trace = tmp_path / "azure.csv"
    pd.DataFrame(
        {
            "TIMESTAMP": [(t0 + pd.Timedelta(seconds=0.5 * i)).isoformat() for i in range(n)],
            "ContextTokens": [800 + 10 * (i % 5) for i in range(n)],
            "GeneratedTokens": [100] * n,
        }
    ).to_csv(trace, index=False)
    space = SearchSpace(hardware=("h100_sxm",), batch_sizes=(4, 16), modes=("agg",))
    res = search(
        SearchRequest(MODEL, trace=str(trace), ttft_s=1, tpot_s=0.05, space=space, recheck=1, recheck_requests=n)
    )
    assert res.inputs["isl"] == 820 and res.inputs["osl"] == 100
    assert res.inputs["rate_per_s"] == pytest.approx(n / (0.5 * (n - 1)))
    assert len(res.rechecked) == 1 and math.isfinite(res.rechecked["sim_ttft_ms"].iloc[0])
