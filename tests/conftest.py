"""Shared fixtures: where ../shared is, and a CLI runner that behaves like the installed command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Tables are checked by content: give Rich a wide, colourless console whatever the terminal (CI and
# pytest-xdist workers have none).
os.environ.setdefault("COLUMNS", "200")
os.environ.setdefault("NO_COLOR", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`, or skip: tests that read measured data need the shared folder beside the repo."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (tests that read measurements need ../shared)")
    return path


@pytest.fixture(autouse=True)
def _no_user_catalog_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the built-in catalog only, whatever the developer's environment points at."""
    from inferonomics.catalog.hardware_catalog import ENV_VAR as HW_ENV
    from inferonomics.catalog.prices import ENV_VAR as PRICES_ENV

    monkeypatch.delenv(HW_ENV, raising=False)
    monkeypatch.delenv(PRICES_ENV, raising=False)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """cli(*args) -> (exit code, stdout, stderr), through `run_app()` exactly as the installed script."""
    import inferonomics.cli  # noqa: F401  (registers every command)
    from inferonomics.cli.common import run_app

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["inferonomics", *args])
        code = run_app()
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.exit_code = code
        self.stdout = out
        self.stderr = err
        self.output = out + err


@pytest.fixture
def run_cli(cli):
    """Like `cli`, returning an object with exit_code, stdout, stderr and output."""
    return lambda *args: CliResult(*cli(*args))
