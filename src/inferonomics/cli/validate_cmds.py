"""`inferonomics validate serving FILE.csv`: predict every measured run and report the error."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inferonomics.cli.common import app, console, print_json, table

validate_app = typer.Typer(help="Compare predictions with measurements.", no_args_is_help=True)
app.add_typer(validate_app, name="validate")


@validate_app.command("serving")
def validate_serving_cmd(
    path: Annotated[Path, typer.Argument(help="CSV in the measured-serving schema (shared/data/README.md).")],
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    rows_out: Annotated[Path | None, typer.Option("--rows", help="Write per-row predictions to this CSV.")] = None,
    configs: Annotated[
        Path | None,
        typer.Option(
            "--configs",
            help="Folder of Hugging Face configs (org--name_config.json) for models not in the "
            "catalog; default: ../model_configs beside the CSV's folder, if present.",
        ),
    ] = None,
) -> None:
    """Median and p90 absolute percentage error of TTFT and TPOT, overall and per group, plus coverage."""
    from inferonomics.validate.serving import validate_serving

    if configs is not None and not configs.is_dir():
        from inferonomics.errors import InvalidInputError

        raise InvalidInputError(f"--configs {configs}: no such folder")
    summary, res = validate_serving(path, configs_dir=configs)
    if rows_out is not None:
        res.to_csv(rows_out, index=False)
    if json_:
        print_json(summary)
        return
    pct = lambda s: f"{s['median_ape']:.1%} / {s['p90_ape']:.1%}" if s["n"] else "-"  # noqa: E731
    console.print(
        f"{summary['predicted']} of {summary['rows']} rows predicted "
        f"({summary['coverage']:.1%}); median / p90 absolute error"
    )
    rows = [["all", "", summary["predicted"], pct(summary["ttft"]), pct(summary["tpot"])]]
    for group, members in summary["groups"].items():
        for key, st in members.items():
            rows.append([group, key, st["tpot"]["n"], pct(st["ttft"]), pct(st["tpot"])])
    console.print(table("validation", ["group", "value", "rows", "TTFT", "TPOT"], rows))
    rng = summary["ttft_range"]
    if rng["n"]:
        console.print(
            f"measured TTFT within the predicted range (clients spread .. synchronised): "
            f"{rng['within_share']:.1%} of rows; median range width {rng['median_width_ratio']:.2f}x"
        )
    if summary["skipped"]:
        console.print(table("not predicted", ["id", "reason"], [[s["id"], s["reason"]] for s in summary["skipped"]]))
