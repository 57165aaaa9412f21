"""The `inferonomics` command line: one Typer app; each area registers its commands from its module.

Presentation only: every command calls the Python API and prints a Rich table or, with `--json`,
JSON. Errors raised on purpose (`InferonomicsError`) become one red line and exit code 2.
"""

from __future__ import annotations

import sys

import typer

# Each module adds its commands to `app` on import.
from inferonomics.cli import catalog_cmds  # noqa: F401,E402
from inferonomics.cli.common import app, run_app
from inferonomics.cli.render import WideOpt, install_help_metavars

install_help_metavars()


@app.callback()
def _root(wide: WideOpt = False) -> None:
    """What it costs, in money and in time, to serve a large language model."""


for _optional in (
    "perf_cmds",
    "validate_cmds",
    "validate_run_cmds",
    "serving_cmds",
    "economics_cmds",
    "search_cmds",
    "web_cmds",
    "report_cmds",
):
    try:
        __import__(f"inferonomics.cli.{_optional}")
    except ModuleNotFoundError as exc:  # an area not built yet
        if exc.name != f"inferonomics.cli.{_optional}":
            raise


def main() -> None:
    sys.exit(run_app())


__all__ = ["app", "main", "typer"]
