"""`inferonomics validate vllm-run FOLDER` and `validate vllm-bench FILE`: a real vLLM run, request by
request, against the simulator replaying it (`inferonomics.validate.vllm_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from inferonomics.cli.common import console, print_json, table
from inferonomics.cli.engine_options import (
    BlockSize,
    GpuMemoryUtilization,
    MaxNumBatchedTokens,
    MaxNumSeqs,
    engine_args_from,
)
from inferonomics.cli.spec_opts import TpAutoOpt
from inferonomics.cli.validate_cmds import validate_app


def _print(cmp: Any, json_: bool) -> None:
    d = cmp.to_dict()
    if json_:
        print_json(d)
        return
    console.print(f"{d['source']}: {d['requests']} requests; simulated {d['deployment']}")
    console.print(d["memory_plan"])
    logged = d["kv_tokens_logged"]
    kv = f"KV cache: {d['kv_tokens_predicted']:,} tokens predicted"
    if logged:
        kv += f", {logged:,} logged ({d['kv_error_pct']:+.1f}%)"
    if d["kv_tokens_peak_in_use_measured"]:
        kv += f"; the run held up to {d['kv_tokens_peak_in_use_measured']:,} at once"
    console.print(kv)
    rows = []
    for metric in ("ttft", "tpot"):
        for q in (50, 90, 99):
            rows.append(
                [
                    f"{metric.upper()} p{q}",
                    f"{d[f'{metric}_p{q}_ms_measured']:,.1f}",
                    f"{d[f'{metric}_p{q}_ms_simulated']:,.1f}",
                    f"{d[f'{metric}_p{q}_error_pct']:+.1f}%",
                ]
            )
    console.print(table("measured vs simulated (ms)", ["metric", "measured", "simulated", "error"], rows))
    for note in d["notes"]:
        console.print(f"note: {note}")


@validate_app.command("vllm-run")
def validate_vllm_run_cmd(
    folder: Annotated[Path, typer.Argument(help="Run folder: meta.json + requests.jsonl (shared/data/engine_runs).")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System the run used.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model (default: meta.json's).")] = None,
    gpu_memory_utilization: GpuMemoryUtilization = None,
    max_num_seqs: MaxNumSeqs = None,
    max_num_batched_tokens: MaxNumBatchedTokens = None,
    block_size: BlockSize = None,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 0,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Replay the run's requests (arrival, input and output tokens) through the simulator with the run's
    engine arguments; compare the KV cache and TTFT/TPOT p50/p90/p99."""
    from inferonomics.validate.vllm_run import compare_run, read_vllm_run

    run = read_vllm_run(folder)
    args = engine_args_from(gpu_memory_utilization, max_num_seqs, max_num_batched_tokens, block_size, run.engine_args)
    _print(compare_run(run, hardware, model, engine_args=args, seed=seed), json_)


@validate_app.command("vllm-bench")
def validate_vllm_bench_cmd(
    file: Annotated[Path, typer.Argument(help="`vllm bench serve --save-result` JSON.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model the benchmark served.")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System it ran on.")],
    tp: TpAutoOpt = "auto",
    gpu_memory_utilization: GpuMemoryUtilization = None,
    max_num_seqs: MaxNumSeqs = None,
    max_num_batched_tokens: MaxNumBatchedTokens = None,
    block_size: BlockSize = None,
    seed: Annotated[int, typer.Option(help="Seed of the re-drawn arrivals and the simulation.")] = 0,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Replay a `vllm bench serve` result (lengths; arrivals re-drawn at its request rate) and compare
    TTFT/TPOT p50/p90/p99. Give the server's engine arguments and --tp: the JSON does not record them (with
    --tp auto the deployment is the resolver's for the run's lengths and load, and the note says so)."""
    from dataclasses import replace

    from inferonomics.economics.spec import DeploymentSpec, Workload, parse_tp
    from inferonomics.validate.vllm_run import compare_run, read_vllm_bench

    run = read_vllm_bench(file, seed=seed)
    args = engine_args_from(gpu_memory_utilization, max_num_seqs, max_num_batched_tokens, block_size, run.engine_args)
    n = int(run.input_tokens.size)
    span_s = float(run.arrival_s.max() - run.arrival_s.min()) if n else 0.0
    clients = run.max_concurrency or (n if span_s <= 0 else None)
    load = Workload(
        isl=max(int(round(float(run.input_tokens.mean()))), 1),
        osl=max(int(round(float(run.output_tokens.mean()))), 1),
        concurrency=clients,
        rate_per_s=None if clients else n / span_s,
    )
    r = DeploymentSpec(model, hardware, tp=parse_tp(tp), engine_args=args).resolve(load)
    d = r.deployment
    shape = {"tp": d.tp, "pp": d.pp, "ep": d.moe_ep, "attention_dp": d.attention_dp}
    cmp = compare_run(run, hardware, model, engine_args=args, seed=seed, **shape)
    if r.auto:
        note = f"the JSON does not record the server's parallelism: {r.note} (give --tp to replay yours)"
        cmp = replace(cmp, notes=[note, *cmp.notes])
    _print(cmp, json_)
