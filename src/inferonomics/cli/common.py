"""Shared pieces of the CLI: the app, JSON output, error handling, table helpers."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.text import Text

from inferonomics.cli.render import fmt, human_bytes, human_count, table  # noqa: F401  (re-exported)
from inferonomics.errors import InferonomicsError, excerpt

app = typer.Typer(
    name="inferonomics",
    help="What it costs, in money and in time, to serve a large language model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return _clean_float(float(o))
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, set | tuple):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean_float(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else x


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return _clean_float(obj)
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    """JSON on stdout; NaN and infinities become null so every reader can parse it."""
    typer.echo(json.dumps(_clean(obj), default=_default, indent=2, allow_nan=False))


def print_error(message: str) -> None:
    """`error: MESSAGE` on stderr, the message as plain text (a `[` in it is not Rich markup)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    """Print a one-line error for people and exit with code 2 (with `--json`, the error as JSON on stdout)."""
    raise typer.Exit(code=report_error("InvalidInputError", message, _flag_in(message), sys.argv[1:]))


FLAG_NAMES = {
    "moe_ep": "--ep",
    "attention_dp": "--attention-dp",
    "max_batch_size": "--max-batch-size",
    "max_tokens_per_iter": "--max-tokens-per-iter",
    "usd_per_chip_hour": "--usd-per-chip-hour",
    "think_time_s": "--think-s",
    "kv_precision": "--kv-precision",
    "expert_precision": "--expert-precision",
    "isl": "--isl",
    "osl": "--osl",
    "tp": "--tp",
    "pp": "--pp",
}
"""Library argument names that product errors mention -> the CLI flag that sets them."""
MAX_ERROR_CHARS = 400


def flag_message(message: str) -> str:
    """A product error's message with library argument names replaced by the flags that set them."""
    for name, flag in FLAG_NAMES.items():
        message = re.sub(rf"(?<![\w.'\"-]){name}(?![\w'\"])", flag, message)
    # "(usd_per_chip_hour / --usd-per-chip-hour)", written for API and CLI users alike, names one flag once
    message = re.sub(r"(--[a-z][a-z0-9-]*) / \1(?![\w-])", r"\1", message)
    return excerpt(message, MAX_ERROR_CHARS)


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def report_error(code: str, message: str, field: str | None, argv: list[str]) -> int:
    """One red line on stderr; with `--json` also `{"error": {"code", "message", "field"}}` on stdout. Exit 2."""
    print_error(message)
    if _wants_json(argv):
        typer.echo(json.dumps({"error": {"code": code, "message": message, "field": field}}))
    return 2


def _flag_in(message: str) -> str | None:
    m = re.search(r"(?<![\w-])(--[a-z][a-z0-9-]*)", message)
    return m.group(1) if m else None


def run_app(argv: list[str] | None = None) -> int:
    """Run the app; turn product errors into exit 2 and usage errors into Click's exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from inferonomics.cli.render import reset_wide

    reset_wide()
    if "--wide" in argv[1:]:  # the captions say "more columns with --wide": take it after the command too
        argv = ["--wide", *(a for a in argv if a != "--wide")]
    try:
        app(args=argv, prog_name="inferonomics", standalone_mode=False)
    except InferonomicsError as exc:
        msg = flag_message(str(exc))
        return report_error(type(exc).__name__, msg, _flag_in(msg), argv)
    except RecursionError:
        return report_error("InputTooDeep", "input nested too deeply (a JSON file or value?)", None, argv)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors
        import click

        usage_errors: tuple[type[Exception], ...] = (click.exceptions.ClickException,)
        try:  # Typer >= 0.20 vendors Click as typer._click, with its own exception classes
            from typer._click.exceptions import ClickException as _VendoredClickException

            usage_errors += (_VendoredClickException,)
        except ImportError:  # pragma: no cover - older Typer uses click itself
            pass
        if isinstance(exc, usage_errors):
            if _wants_json(argv):
                param = getattr(exc, "param", None)
                opts = getattr(param, "opts", None) or []
                field = opts[0] if opts else None
                typer.echo(
                    json.dumps(
                        {"error": {"code": "UsageError", "message": excerpt(exc.format_message(), 400), "field": field}}  # type: ignore[attr-defined]
                    )
                )
            exc.show()  # type: ignore[attr-defined]
            return 2
        raise
    return 0


ACCEPTANCE_HELP = (
    "Draft acceptance: one rate for every position, or one per position separated by commas (e.g. 0.85,0.6)."
)


def parse_acceptance(text: str | None, option: str = "--acceptance") -> tuple[float, ...]:
    """`--acceptance 0.85` or `--acceptance 0.85,0.6,0.5` as a tuple of rates in [0, 1)."""
    from inferonomics.errors import InvalidInputError

    if text is None or not str(text).strip():
        return ()
    try:
        rates = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        raise InvalidInputError(f"{option} must be a rate or comma-separated rates in [0, 1), got {text!r}") from None
    if any(not (0.0 <= r < 1.0) for r in rates):
        raise InvalidInputError(f"{option} rates must be in [0, 1), got {text!r}")
    return rates
