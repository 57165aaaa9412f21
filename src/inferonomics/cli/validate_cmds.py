"""`inferonomics validate serving|offline|mlperf FILE.csv`: predict every measured run and report the error."""

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
    for kind, n in summary.get("assumptions", {}).items():
        console.print(f"assumed ({n} rows): {kind} (per row: the assumptions column of --rows)")
    both = summary.get("speculative_both_ways") or {}
    if both:
        console.print(
            f"{both['rows']} rows where the serving framework's recipe runs speculative decoding "
            f"({both['assumption']}): predicted without it (the default), TTFT {pct(both['off']['ttft'])}, "
            f"TPOT {pct(both['off']['tpot'])}; with it, TTFT {pct(both['on']['ttft'])}, TPOT {pct(both['on']['tpot'])}"
        )
    inferred = summary.get("speculative_inferred") or {}
    if inferred:
        console.print(
            f"MTP read from each row's TPOT (on where it is below the model's one-sequence step without drafts; "
            f"a diagnosis, not a prediction): {inferred['rows_mtp']} of {inferred['rows']} MTP-capable rows; all rows "
            f"TTFT {pct(inferred['all']['ttft'])}, TPOT {pct(inferred['all']['tpot'])}"
        )
    spread = summary.get("same_setting_spread") or {}
    if spread.get("rows"):
        console.print(
            f"distinct runs of one setting (engine, system, model, ISL/OSL, concurrency; {spread['rows']} runs in "
            f"{spread['settings']} settings) differ from the others of their setting by a median TTFT "
            f"{spread['ttft']:.1%}, TPOT {spread['tpot']:.1%}: what the rows do not record"
        )
    if summary["skipped"]:
        console.print(table("not predicted", ["id", "reason"], [[s["id"], s["reason"]] for s in summary["skipped"]]))


def _pct(st: dict) -> str:
    return f"{st['median_ape']:.1%} / {st['p90_ape']:.1%}" if st["n"] else "-"


@validate_app.command("offline")
def validate_offline_cmd(
    path: Annotated[
        Path, typer.Argument(help="CSV in TensorRT-LLM's offline-throughput schema (shared/data/README.md).")
    ],
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    rows_out: Annotated[Path | None, typer.Option("--rows", help="Write per-row predictions to this CSV.")] = None,
) -> None:
    """Maximum offline throughput of each cell (best batch within KV memory): median / p90 error per group."""
    from inferonomics.validate.offline import validate_offline

    summary, res = validate_offline(path)
    if rows_out is not None:
        res.to_csv(rows_out, index=False)
    if json_:
        print_json(summary)
        return
    console.print(
        f"{summary['predicted']} of {summary['rows']} cells predicted ({summary['coverage']:.1%}); output tokens/s "
        f"of the TP group, median / p90 absolute error: {_pct({**summary, 'n': summary['predicted']})}"
    )
    rows = [[g["system"], g["model_id"], g["engine"], g["n"], _pct(g)] for g in summary["groups"]]
    console.print(table("offline throughput", ["system", "model", "engine", "cells", "error"], rows))
    if summary["skipped"]:
        console.print(table("not predicted", ["cells", "reason"], [["", s] for s in summary["skipped"]]))


@validate_app.command("mlperf")
def validate_mlperf_cmd(
    path: Annotated[Path, typer.Argument(help="CSV in the MLPerf LLM results schema (shared/data/README.md).")],
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    rows_out: Annotated[Path | None, typer.Option("--rows", help="Write per-row predictions to this CSV.")] = None,
    prompt_tokens: Annotated[
        list[str] | None,
        typer.Option(
            "--isl",
            help="Mean prompt tokens of a benchmark, BENCH=N (default llama2-70b=300, "
            "mixtral-8x7b=300, gptj=800: not published with the results).",
        ),
    ] = None,
) -> None:
    """Offline per-GPU throughput and Server TTFT/TPOT at the target QPS, error per (chip, model, engine), and
    per-GPU throughput ratios to H100 SXM / H200 SXM."""
    from inferonomics.errors import InvalidInputError
    from inferonomics.validate.mlperf import validate_mlperf

    isl: dict[str, float] = {}
    for item in prompt_tokens or []:
        name, _, value = item.partition("=")
        try:
            isl[name.strip().lower()] = float(value)
        except ValueError:
            raise InvalidInputError(f"--isl {item!r}: expected BENCH=N, e.g. llama2-70b=300") from None
    summary, res = validate_mlperf(path, prompt_tokens=isl)
    if rows_out is not None:
        res.to_csv(rows_out, index=False)
    if json_:
        print_json(summary)
        return
    tp = summary["tp_used"]
    rows = []
    for scen, key in (("Offline", "offline"), ("Server TTFT", "server_ttft"), ("Server TPOT", "server_tpot")):
        rows.append([scen, "all", "", "", summary[key]["n"], _pct(summary[key]), ""])
        for g in summary[key]["groups"]:
            chip_tp = [v for k, v in tp.items() if k.startswith(g["group_system"] + " /")]
            rows.append([scen, g["group_system"], g["model_id"], g["engine"], g["n"], _pct(g), chip_tp])
    console.print(table("MLPerf", ["scenario", "chip", "model", "engine", "runs", "median / p90 error", "TP"], rows))
    ratio_rows = [
        [
            r["benchmark"],
            r["system"],
            r["engine"],
            r["reference"],
            f"{r['measured_ratio']:.2f}",
            f"{r['predicted_ratio']:.2f}",
            f"{r['ratio_ape']:.1%}",
        ]
        for r in summary["ratios"]
    ]
    console.print(
        table(
            "per-GPU Offline throughput ratio",
            ["benchmark", "chip", "engine", "to", "measured", "predicted", "error"],
            ratio_rows,
        )
    )
    console.print(f"median ratio error {summary['ratio_median_ape']:.1%}")
    if summary["skipped"]:
        console.print(table("not predicted", ["run", "reason"], [["", s] for s in summary["skipped"]]))
