"""Regression guard on the shared measured runs (in-sample; the real figures are printed by
benchmarks/accuracy.py and reported in the README). The bounds are loose on purpose: they catch a
broken model, they are not the accuracy claim."""

from __future__ import annotations

from pathlib import Path

from inferonomics.validate.serving import validate_serving


def test_measured_runs_are_covered_and_tpot_is_close(shared_data: Path) -> None:
    summary, res = validate_serving(shared_data / "measured" / "serving_h100_h200.csv")
    assert summary["coverage"] >= 0.98
    assert all(s["reason"] for s in summary["skipped"])
    assert summary["tpot"]["median_ape"] < 0.25
    assert summary["ttft"]["median_ape"] < 0.75
    assert res["pred_tpot_ms"].dropna().gt(0).all()
