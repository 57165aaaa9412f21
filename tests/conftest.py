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


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.exit_code = code
        self.stdout = out
        self.stderr = err
        self.output = out + err


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `inferonomics ARGS...` in-process exactly as the console script does; returns exit code and output."""
    from inferonomics.cli.common import run_app

    def _run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["inferonomics", *args])
        import inferonomics.cli  # noqa: F401  (registers every command)

        code = run_app()
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run
