"""Regression guard on the shared measured runs (in-sample; the real figures are printed by
benchmarks/accuracy.py and reported in the README). The bounds are loose on purpose: they catch a
broken model, they are not the accuracy claim."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inferonomics.calibrate.engines import SCALE_PARAMS, fit_engines
from inferonomics.perf.calibration import default_calibration
from inferonomics.validate.serving import load_measured, validate_serving


def test_measured_runs_are_covered_and_tpot_is_close(shared_data: Path) -> None:
    summary, res = validate_serving(shared_data / "measured" / "serving_h100_h200.csv")
    assert summary["coverage"] >= 0.98
    assert all(s["reason"] for s in summary["skipped"])
    assert summary["tpot"]["median_ape"] < 0.25
    assert summary["ttft"]["median_ape"] < 0.75
    assert res["pred_tpot_ms"].dropna().gt(0).all()


def test_measured_ttft_mostly_falls_in_the_predicted_range(shared_data: Path) -> None:
    """The range between the spread and synchronised regimes is the model's statement of TTFT uncertainty
    when a benchmark's client start-up is unknown: most runs must fall inside it (68.2% measured)."""
    summary, res = validate_serving(shared_data / "measured" / "serving_h100_h200.csv")
    rng = summary["ttft_range"]
    assert rng["n"] == summary["predicted"]
    assert rng["within_share"] > 0.6
    ok = res.dropna(subset=["pred_ttft_ms"])
    assert (ok.pred_ttft_low_ms <= ok.pred_ttft_ms * (1 + 1e-9)).all()
    assert (ok.pred_ttft_ms <= ok.pred_ttft_high_ms * (1 + 1e-9)).all()


def test_engine_prior_pulls_poorly_informed_scales_towards_the_kernel_tables(shared_data: Path) -> None:
    """Fitted on a few vLLM runs of one MoE model, the efficiency scales stray further from 1 (the
    kernel tables) without the prior than with it (calibrate.engines.PRIOR_WEIGHT)."""
    df = load_measured(shared_data / "measured" / "serving_h100_h200.csv")
    few = df[(df.backend == "vllm") & (df.model_path == "openai/gpt-oss-120b")].head(24)
    cal = default_calibration()
    budgets = {"vllm": (cal.engines["vllm"].prefill_token_budget,)}

    def spread(weight: float) -> float:
        eng = fit_engines(cal, few, ["vllm"], budgets=budgets, verbose=False, prior_weight=weight)["vllm"]
        scales = [getattr(eng, n) for n in SCALE_PARAMS] + list(eng.format_scales.values())
        return float(np.sum(np.log(scales) ** 2))

    assert spread(4.0) < 0.5 * spread(0.0)


def test_campaigns_are_read_from_the_source_text() -> None:
    from inferonomics.validate.campaign import CI, SWEEP, campaign_of

    sweep = "source_file=/Users/x/projects/aic-auto-gap-analysis/data/h100_sxm/trtllm/1.0.0rc3/Qwen_Qwen3-32B.csv"
    assert campaign_of(sweep + "; silicon_concurrency=8") == SWEEP
    assert campaign_of(sweep + "; gtl_job_id=1; gtl_task_id=2; measured=2026-01-23") == CI  # a Dynamo job
    assert campaign_of("db-dump/2026-04-27; config_id=81; silicon_concurrency=4") == CI
    assert campaign_of("source_file=2026-04-06.csv; model=GPT-OSS-120B; silicon_concurrency=4") == CI
    assert campaign_of("my own run") is None
    assert campaign_of(None) is None and campaign_of(float("nan")) is None


def test_validation_reports_the_error_per_campaign(shared_data: Path) -> None:
    summary, res = validate_serving(shared_data / "measured" / "serving_h100_h200.csv")
    per_campaign = summary["groups"]["campaign"]
    assert set(per_campaign) == {"aic-ci", "aic-sweep"}
    assert sum(g["tpot"]["n"] for g in per_campaign.values()) == summary["predicted"]
