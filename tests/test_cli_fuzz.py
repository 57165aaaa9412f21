"""Fuzzing the main commands' flags (hypothesis, bounded): every run exits 0 or 2, never a traceback (exit 1).

Values mix good ones with the careless and hostile: zero, negatives, huge, NaN, infinities, empty and
long strings, unknown names. Runs in-process through `run_app`, the console script's own entry.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferonomics.cli.common import run_app

EXAMPLES = int(os.environ.get("INFERONOMICS_CLI_FUZZ_EXAMPLES", "6"))
"""Examples per command; raise it for a deeper local run (e.g. 300)."""

NUMBERS = st.sampled_from(
    ["0", "-1", "1", "3", "64", "1e308", "-1e308", "nan", "inf", "-inf", "1.5", "", "abc", "99999999999999999999"]
)
NAMES = st.sampled_from(
    ["llama-3.1-8b", "qwen3-32b", "deepseek-v3", "no-such-model", "", "x" * 300, "../../etc/passwd"]
)
SYSTEMS = st.sampled_from(["h100_sxm", "b200_sxm", "gb200", "h100_sxmm", "", "[bold]x[/]"])
DISTS = st.sampled_from(["fixed:64", "fixed:0", "uniform:5,1", "lognormal:100,9", "lognormal:-1", "empirical:", "x:y"])
SETS = st.sampled_from(
    ["hbm_gb=1e308", "hbm_gb=0", "hbm_gb=nan", "hbm_bandwidth_tb_s=-1", "nope=1", "=", "bf16_tflops=1"]
)

COMMANDS: dict[str, tuple[list[str], dict[str, st.SearchStrategy[str]]]] = {
    "predict": (
        ["--isl", "64", "--osl", "32"],
        {"--tp": NUMBERS, "--ep": NUMBERS, "-c": NUMBERS, "--isl": NUMBERS, "--osl": NUMBERS, "--set": SETS},
    ),
    "frontier": (["--max-chips", "4"], {"--usd-per-chip-hour": NUMBERS, "--isl": NUMBERS, "--set": SETS}),
    "price-sheet": ([], {"--usd-per-chip-hour": NUMBERS, "--utilisation": NUMBERS, "--margin": NUMBERS}),
    "cost": (["--isl", "64", "--osl", "32"], {"--tp": NUMBERS, "--usd-per-chip-hour": NUMBERS, "--set": SETS}),
    "simulate": (
        ["--rate", "2", "--num-requests", "20", "--max-wall-s", "5", "--no-progress"],
        {"--replicas": NUMBERS, "--isl-dist": DISTS, "--osl-dist": DISTS, "--rate": NUMBERS, "--tp": NUMBERS},
    ),
    "search": (
        ["--isl", "64", "--osl", "32", "--recheck", "0", "--max-chips-per-instance", "2"],
        {"--rate": NUMBERS, "--ttft-ms": NUMBERS, "--tpot-ms": NUMBERS, "--isl": NUMBERS},
    ),
}


def _argv(command: str, model: str, system: str, flags: dict[str, str], json_out: bool) -> list[str]:
    base, _ = COMMANDS[command]
    argv = [command, "-m", model, "-H", system, *base]
    for flag, value in flags.items():
        argv += [flag, value]
    return argv + (["--json"] if json_out else [])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_fuzz_exits_0_or_2(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, options = COMMANDS[command]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        model=NAMES,
        system=SYSTEMS,
        flags=st.fixed_dictionaries({}, optional=options),
        json_out=st.booleans(),
    )
    def run(model: str, system: str, flags: dict[str, str], json_out: bool) -> None:
        argv = _argv(command, model, system, flags, json_out)
        code = run_app(argv)
        out, err = capsys.readouterr()
        assert code in (0, 2), f"{argv} exited {code}: {err[-2000:]}"
        assert "Traceback" not in err, f"{argv}: {err[-2000:]}"
        if code == 2 and json_out and out.strip().startswith("{"):
            assert '"error"' in out

    run()
