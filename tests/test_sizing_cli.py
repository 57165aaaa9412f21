"""`compare`, `capacity` and `report` are sized before they start (`economics.sizing`, the bounds `simulate`
uses: an hour or 16 GB): a huge request exits 2 naming the option to change, and the work is never started
(the functions that would do it are replaced by ones that fail the test)."""

from __future__ import annotations

from typing import Any

import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)
from inferonomics.economics.sizing import FORCE_WALL_S, frontier_deployments, frontier_size, session_size


def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the work started although the request was sized over its budget")


def test_sizes_grow_with_their_knobs() -> None:
    assert session_size(2_000, 1).wall_s > session_size(1_000, 1).wall_s
    assert session_size(1_000, 2).memory_bytes == pytest.approx(2 * session_size(1_000, 1).memory_bytes)
    one = frontier_deployments(64, 8, False, 6)
    assert frontier_deployments(2**20, 8, False, 6) > one and frontier_deployments(64, 8, True, 6) > one
    assert frontier_size(2, one).wall_s == pytest.approx(2 * frontier_size(1, one).wall_s)
    # the everyday requests are far inside the bound
    assert not frontier_size(2, frontier_deployments(64, 72, True, 6)).over()
    assert not session_size(400, 3).over()


def test_coding_session_with_millions_of_turns_is_refused(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import inferonomics.economics as econ

    monkeypatch.setattr(econ, "coding_session", _never)
    code, _, err = cli("capacity", "coding", "--sheet", "anthropic/claude-sonnet-4.5", "--turns", "30000000")
    assert code == 2 and "--turns" in err and "--force" in err and "22.5 GB" in err


def test_compare_hardware_with_thousands_of_options_is_refused(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import inferonomics.economics as econ

    monkeypatch.setattr(econ, "hardware_per_dollar", _never)
    options = [a for _ in range(2_000) for a in ("-o", "h100_sxm")]
    code, _, err = cli("compare", "hardware", "-m", "llama-3.1-70b", *options, "--max-chips", str(2**60))
    assert code == 2 and "--option" in err and "2,000 frontier(s)" in err
    per = frontier_size(2_000, frontier_deployments(2**60, 8, False, 6))
    assert per.wall_s > FORCE_WALL_S


def test_report_with_a_huge_simulation_is_refused(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import inferonomics.report as report

    monkeypatch.setattr(report, "build_report", _never)
    out = tmp_path / "r.html"
    code, _, err = cli("report", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--out", str(out), "--simulate", "100000000")
    assert code == 2 and "--simulate 100,000,000" in err and not out.exists()


@pytest.mark.parametrize("option", ["--agents", "--conversations"])
def test_capacity_counts_past_any_fleet_are_refused(cli: Any, option: str) -> None:
    kind = "agents" if option == "--agents" else "voice"
    code, _, err = cli("capacity", kind, "-m", "llama-3.1-8b", "-H", "h100_sxm", option, "1e300")
    assert code == 2 and option in err
