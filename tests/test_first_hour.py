"""A new user's first hour across the catalog (the README's tour on other models and chips): every answer a
deployment with the choice explained, or one clear line with exit code 2; never a traceback, NaN or a
number that reads wrong. Each test fails on what the tour found before its fix."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)

TOUR = [
    ("deepseek-ai/DeepSeek-V3", "b200", []),
    ("openai/gpt-oss-120b", "mi300x", []),
    ("Qwen/Qwen3-235B-A22B", "h20", ["--usd-per-chip-hour", "1.2"]),  # no public USD price for the H20
    ("meta-llama/Llama-3.1-8B-Instruct", "rtx_pro_6000", []),
    ("meta-llama/Llama-3.1-405B-Instruct", "l40s", []),
]


def _finite(obj: Any) -> bool:
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_finite(v) for v in obj)
    return True


@pytest.mark.parametrize(("model", "hardware", "price"), TOUR)
def test_cost_across_the_catalog_explains_its_deployment(cli: Any, model: str, hardware: str, price: list) -> None:
    code, out, err = cli("cost", "-m", model, "-H", hardware, *price, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["resolution_note"].startswith("auto:") and _finite(d) and d["output_usd_per_mtok"] > 0


def test_a_missing_price_names_the_flag_once(cli: Any) -> None:
    code, _, err = cli("cost", "-m", "Qwen/Qwen3-235B-A22B", "-H", "h20")
    assert code == 2 and err.count("--usd-per-chip-hour") == 1 and "no public rental price for h20" in err


def test_modes_takes_the_price_its_error_asks_for(cli: Any) -> None:
    code, _, err = cli("modes", "-m", "Qwen/Qwen3-235B-A22B", "-H", "h20")
    assert code == 2 and "--usd-per-chip-hour" in err
    code, out, err = cli("modes", "-m", "Qwen/Qwen3-235B-A22B", "-H", "h20", "--usd-per-chip-hour", "1.2", "--json")
    assert code == 0, err  # was "No such option: --usd-per-chip-hour"
    code, out, err = cli(
        "capacity", "coding", "--sheet", "anthropic/claude-sonnet-4.5", "-m", "qwen3-235b", "-H", "h20",
        "--usd-per-chip-hour", "1.2", "--turns", "5", "--json",
    )  # fmt: skip
    assert code == 0, err


def test_a_deployment_that_does_not_fit_names_one_that_does(cli: Any) -> None:
    code, _, err = cli(
        "predict", "-m", "meta-llama/Llama-3.1-405B-Instruct", "-H", "l40s", "--tp", "8", "--isl", "1024",
        "--osl", "1024", "-c", "8",
    )  # fmt: skip
    assert code == 2 and "a deployment that fits: TP8/PP4" in err and err.count("\n") <= 2
    code, _, err = cli("frontier", "-m", "meta-llama/Llama-3.1-405B-Instruct", "-H", "l40s", "--max-chips", "8")
    assert code == 2 and "fits on no deployment of up to 8 l40s chips" in err


def test_capacity_refusal_reads_as_words(cli: Any) -> None:
    code, _, err = cli("capacity", "agents", "-m", "meta-llama/Llama-3.1-405B-Instruct", "-H", "l40s", "--agents", "10")
    assert code == 2 and "{" not in err and "output tokens per s per agent 10" in err


def test_one_output_token_says_why_speed_is_undefined(cli: Any) -> None:
    code, out, err = cli("cost", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--osl", "1")
    assert code == 0, err
    assert "no decode step" in out and " inf " not in out
    code, _, err = cli("frontier", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--osl", "1")
    assert code == 2 and "--osl" in err and "no decode step" in err


def test_the_resolvers_format_is_on_the_frontier(cli: Any) -> None:
    """gpt-oss-120b ships in mxfp4, which an MI300X runs weight-only: `cost` serves it so, and the frontier
    sweeps it too (it swept bf16 and fp8 only)."""
    code, out, _ = cli("cost", "-m", "openai/gpt-oss-120b", "-H", "mi300x", "--json")
    assert code == 0 and "mxfp4" in json.loads(out)["deployment"]
    code, out, _ = cli("frontier", "-m", "openai/gpt-oss-120b", "-H", "mi300x", "--no-disagg", "--json")
    assert code == 0 and "mxfp4" in json.loads(out)["levers"]["precisions"]


@pytest.mark.parametrize("argv", [["models", "--wide"], ["--wide", "models"]])
def test_wide_shows_every_column_before_or_after_the_command(cli: Any, argv: list[str]) -> None:
    code, out, _ = cli(*argv)
    assert code == 0 and "more column" not in out and "KV/token" in out


def test_wide_after_an_economics_command(cli: Any) -> None:
    code, out, err = cli("frontier", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--max-chips", "2", "--wide")
    assert code == 0, err  # was "No such option: --wide", though the caption asks for it
    assert "more column" not in out and "drafts" in out


def test_predict_memory_reads_against_the_device(cli: Any) -> None:
    """DeepSeek-V3 on a B200 used '191.2' GB of a chip the hardware table lists at 180: the row now gives the
    capacity beside it, in decimal GB and in the GiB the device reports."""
    code, out, err = cli("predict", "-m", "deepseek-v3", "-H", "b200", "--isl", "1024", "--osl", "1024", "-c", "32")
    assert code == 0, err
    assert "191.2 of 191.3 (178.2 GiB)" in out


def test_summary_uses_the_resolvers_deployment(cli: Any) -> None:
    """The tour's first command glanced at 2 H100s for Llama-3.1-70B (the weights alone) and at 5 H20s for
    Qwen3-235B, deployments nobody runs; it now uses the chips `cost` chooses, and says which."""
    code, out, _ = cli("summary", "--model", "llama-3.1-70b", "--hardware", "h100_sxm", "--json")
    s = json.loads(out)
    code2, out2, _ = cli("cost", "-m", "llama-3.1-70b", "-H", "h100_sxm", "--json")
    assert code == code2 == 0 and s["resolution_note"].startswith("auto:")
    assert s["chips"] == json.loads(out2)["chips"] and s["chips_to_hold_weights"] == 2
    code, out, _ = cli("summary", "--model", "llama-3.1-70b", "--hardware", "h100_sxm", "--chips", "2", "--json")
    assert code == 0 and json.loads(out)["chips"] == 2


def test_a_deployment_short_of_the_targets_is_said_loudly(cli: Any) -> None:
    """Llama-3.1-405B on L40S: 32 chips over four PCIe nodes reach 6 tok/s per user, short of the realistic
    service level; the answer is still given (the closest deployment), under a warning, not only a dim note."""
    code, out, err = cli("cost", "-m", "meta-llama/Llama-3.1-405B-Instruct", "-H", "l40s")
    assert code == 0, err
    assert "warning: no deployment meets the targets" in out and "none meets" in out
    code, out, _ = cli("cost", "-m", "llama-3.1-70b", "-H", "h100_sxm")
    assert code == 0 and "warning" not in out
