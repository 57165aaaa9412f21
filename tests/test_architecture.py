"""The architecture model (perf.architecture): power cap on tensor throughput, vendor stack, FP4 format."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.perf import make_deployment
from inferonomics.perf.architecture import power_compute_scale, process_node, vendor_scale
from inferonomics.perf.calibration import ArchitectureFit, default_calibration
from inferonomics.perf.step import StepTimeModel

POWER = ArchitectureFit(power_headroom=1.0, static_power_w=150.0)


def _cal(fit: ArchitectureFit = POWER):
    return replace(default_calibration(), architecture=fit)


def test_the_kernel_tables_chips_are_unchanged() -> None:
    for name in ("h100_sxm", "h200_sxm"):
        chip = get_hardware(name).chip
        for kind in ("bf16", "fp8", "fp8_block"):
            assert power_compute_scale(chip, kind, _cal()) == pytest.approx(1.0)


def test_power_cap_binds_on_low_power_parts_of_the_same_die_and_follows_the_budget() -> None:
    """H100 NVL (400 W) and PCIe (350 W) share the SXM's die at half its power: they throttle, the PCIe
    part more; with no power model nothing changes."""
    nvl, pcie = get_hardware("h100_nvl").chip, get_hardware("h100_pcie").chip
    s_nvl, s_pcie = power_compute_scale(nvl, "fp8", _cal()), power_compute_scale(pcie, "fp8", _cal())
    assert 0.0 < s_pcie < s_nvl < 1.0
    assert power_compute_scale(nvl, "fp8", _cal(ArchitectureFit())) == 1.0
    # More static power leaves less for the tensor cores of a 400 W part.
    assert power_compute_scale(nvl, "fp8", _cal(replace(POWER, static_power_w=250.0))) < s_nvl


def test_a_power_limited_reference_lets_a_higher_power_part_run_faster() -> None:
    """k < 1: the 700 W SXM is itself power-limited, so the same die at 1,000 W (H200 CTS-like) gains."""
    h200 = get_hardware("h200_sxm").chip
    hot = replace(h200, tdp_w=1000.0)
    fit = replace(POWER, power_headroom=0.8)
    assert power_compute_scale(hot, "fp8", _cal(fit)) == pytest.approx(1.0 / 0.8)
    assert power_compute_scale(h200, "fp8", _cal(fit)) == pytest.approx(1.0)


def test_vendor_stack_scale_applies_to_that_vendor_only_and_slows_its_step() -> None:
    fit = replace(POWER, vendor_scales={"AMD": 0.7})
    mi300x, h100 = get_hardware("mi300x").chip, get_hardware("h100_sxm").chip
    assert vendor_scale(mi300x, _cal(fit)) == 0.7 and vendor_scale(h100, _cal(fit)) == 1.0
    dep = make_deployment("llama-3.1-70b", "mi300x", tp=1, precision="fp8")
    fast = StepTimeModel(dep, _cal()).decode_step_time_s(64.0, 64.0 * 1000)
    slow = StepTimeModel(dep, _cal(fit)).decode_step_time_s(64.0, 64.0 * 1000)
    assert slow > fast * 1.2


def test_process_nodes() -> None:
    assert process_node(get_hardware("a100_sxm").chip) == "N7"
    assert process_node(get_hardware("mi355x").chip) == "N3P"
    assert process_node(get_hardware("b200_sxm").chip) == "4NP"


def test_ratio_errors_pair_each_chip_with_the_reference_of_the_same_benchmark() -> None:
    import numpy as np
    import pandas as pd

    from inferonomics.calibrate.architecture import objective, ratio_errors

    rows = pd.DataFrame(
        {
            "source": ["mlperf"] * 4 + ["trtllm"],
            "chip": ["h100_sxm", "mi300x", "mi300x", "h100_nvl", "l40s"],
            "bench": ["b/trtllm", "b/vllm", "b/vllm", "c/trtllm", "x"],
            "log_err": [np.log(1.2), np.log(2.4), np.log(2.4), 0.0, np.log(1.5)],
        }
    )
    r = ratio_errors(rows)
    assert list(r.index) == [("b/vllm", "mi300x")]  # h100_nvl has no reference run of benchmark c
    assert r.iloc[0] == pytest.approx(np.log(2.0))
    assert objective(rows, {"mi300x", "l40s"}) == pytest.approx((np.log(2.0) + np.log(1.5)) / 2)
