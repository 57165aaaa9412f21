"""The deployment options every command shares (`--tp auto` and friends) and the one call that turns them
into a deployment: `economics.spec.DeploymentSpec.resolve`. Commands stay thin: they print the
resolution note beside their answer."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from inferonomics.cli.common import console


def _tp_value(value: str) -> str:
    """Checked while the command line is parsed, so a bad --tp is named before any missing option."""
    from inferonomics.economics.spec import parse_tp
    from inferonomics.errors import InvalidInputError

    try:
        parse_tp(value)
    except InvalidInputError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--tp ")) from None
    return value


TpAutoOpt = Annotated[
    str,
    typer.Option(
        "--tp",
        help="Tensor parallelism, or 'auto': the cheapest deployment that fits and meets the targets.",
        callback=_tp_value,
    ),
]
PpAutoOpt = Annotated[
    int | None, typer.Option("--pp", min=1, help="Pipeline stages (default: 1, or chosen with --tp auto).")
]
EpAutoOpt = Annotated[int | None, typer.Option("--ep", min=1, help="Expert parallelism, MoE (default: 1, or auto).")]
AdpAutoOpt = Annotated[
    int | None, typer.Option("--attention-dp", min=1, help="Attention data parallelism, MoE (default: 1, or auto).")
]
ObjectiveOpt = Annotated[
    str, typer.Option("--objective", help="With --tp auto: 'cost' (cheapest per token) or 'latency' (fastest).")
]
MaxTtftOpt = Annotated[
    float | None, typer.Option("--max-ttft-s", help="With --tp auto: TTFT target in seconds (default 2 s for cost).")
]
MinSpeedOpt = Annotated[
    float | None, typer.Option("--min-tokens-per-s", help="With --tp auto: tokens/s per user target (1 / TPOT).")
]


def resolve(
    model: str,
    hardware: Any,
    *,
    tp: str | int | None,
    pp: int | None = None,
    ep: int | None = None,
    attention_dp: int | None = None,
    isl: int = 1024,
    osl: int = 1024,
    concurrency: float | None = None,
    objective: str = "cost",
    max_ttft_s: float | None = None,
    min_tokens_per_s_per_user: float | None = None,
    **spec: Any,
) -> Any:
    """`ResolvedDeployment` for the command's options (given parallelism is used as given)."""
    from inferonomics.economics.spec import resolve_deployment

    return resolve_deployment(
        model,
        hardware,
        tp=tp,
        pp=pp,
        ep=ep,
        attention_dp=attention_dp,
        isl=isl,
        osl=osl,
        concurrency=concurrency,
        objective=objective,  # type: ignore[arg-type]  # checked by Workload
        max_ttft_s=max_ttft_s,
        min_tokens_per_s_per_user=min_tokens_per_s_per_user,
        **spec,
    )


def print_note(resolved: Any) -> None:
    """The resolver's choice, dim; when no deployment met the targets, a warning line first (the figures that
    follow are for the closest deployment, not one that serves the targets)."""
    if resolved.auto and not getattr(resolved, "met", True):
        console.print(
            "[bold yellow]warning:[/] no deployment meets the targets: the figures below are for the closest "
            "one (the next line says which and why)",
            highlight=False,
        )
    if resolved.auto:
        console.print(f"[dim]{resolved.note}[/]", highlight=False)


__all__ = [
    "AdpAutoOpt",
    "EpAutoOpt",
    "MaxTtftOpt",
    "MinSpeedOpt",
    "ObjectiveOpt",
    "PpAutoOpt",
    "TpAutoOpt",
    "print_note",
    "resolve",
]
