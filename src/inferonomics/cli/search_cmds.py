"""`inferonomics search`: the cheapest deployment that meets an SLO (presentation only; see `inferonomics.search`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel

from inferonomics.cli.common import app, console, err_console, fmt, parse_acceptance, print_json, table
from inferonomics.cli.engine_options import (
    BlockSize,
    GpuMemoryUtilization,
    MaxNumBatchedTokens,
    MaxNumSeqs,
    engine_args_from,
)
from inferonomics.errors import InvalidInputError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
ListOpt = list[str] | None

_ROW_COLUMNS = [
    "description",
    "ttft_ms",
    "tpot_ms",
    "tokens_per_s_per_user",
    "tokens_per_s_per_gpu",
    "chips",
    "usd_per_hour",
    "usd_per_mtok",
]
_ROW_HEADERS = ["configuration", "TTFT ms", "TPOT ms", "tok/s/user", "tok/s/GPU", "chips", "USD/h", "USD/Mtok"]


def _ints(values: ListOpt, name: str) -> tuple[int, ...]:
    out: list[int] = []
    for v in values or []:
        for part in str(v).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                out.append(int(part))
            except ValueError:
                raise InvalidInputError(f"{name} takes whole numbers, got {part!r}") from None
    return tuple(out)


def _names(values: ListOpt) -> tuple[str, ...]:
    return tuple(p.strip() for v in values or [] for p in str(v).split(",") if p.strip())


def _prices(pairs: ListOpt) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        try:
            price = float(value)
        except ValueError:
            price = float("nan")
        if not sep or not name.strip() or not price > 0:
            raise InvalidInputError(f"--usd-per-chip-hour takes NAME=PRICE with a price > 0, got {pair!r}")
        out[name.strip()] = price
    return out


def _rows_table(title: str, rows: list[dict[str, Any]]) -> Any:
    return table(title, _ROW_HEADERS, [[r.get(c) for c in _ROW_COLUMNS] for r in rows])


@app.command("search")
def search_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name, Hugging Face id or config.json path.")],
    hardware: Annotated[
        ListOpt, typer.Option("--hardware", "-H", help="Systems or chips to consider (repeatable; default: all).")
    ] = None,
    isl: Annotated[
        int | None, typer.Option("--isl", help="Input tokens per request (default: the trace's mean).")
    ] = None,
    osl: Annotated[
        int | None, typer.Option("--osl", help="Output tokens per request (default: the trace's mean).")
    ] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Requests per second to serve.")] = None,
    trace: Annotated[
        Path | None, typer.Option("--trace", help="Request trace (Azure, Mooncake, BurstGPT or vLLM format).")
    ] = None,
    ttft_ms: Annotated[float | None, typer.Option("--ttft-ms", help="Time-to-first-token target, ms.")] = None,
    tpot_ms: Annotated[float | None, typer.Option("--tpot-ms", help="Time-per-output-token target, ms.")] = None,
    percentile: Annotated[
        float | None, typer.Option("--percentile", help="Targets apply to this percentile (e.g. 99; default: mean).")
    ] = None,
    objective: Annotated[
        str, typer.Option("--objective", help="usd (cost per token) or throughput (per GPU).")
    ] = "usd",
    budget: Annotated[
        float | None, typer.Option("--budget-usd-per-hour", help="Most the deployment may cost per hour.")
    ] = None,
    max_chips: Annotated[int | None, typer.Option("--max-chips", help="Most chips in total.")] = None,
    precision: Annotated[
        ListOpt, typer.Option("--precision", help="Weight formats to try (default: per chip).")
    ] = None,
    kv_precision: Annotated[ListOpt, typer.Option("--kv-precision", help="KV formats to try.")] = None,
    engine: Annotated[ListOpt, typer.Option("--engine", help="Serving engines: trtllm, vllm, sglang.")] = None,
    all_engines: Annotated[bool, typer.Option("--all-engines", help="Every engine that runs on each chip.")] = False,
    mode: Annotated[ListOpt, typer.Option("--mode", help="agg and/or disagg (default: both).")] = None,
    max_chips_per_instance: Annotated[
        int, typer.Option("--max-chips-per-instance", help="Largest instance (replica) to try.")
    ] = 64,
    batch_sizes: Annotated[ListOpt, typer.Option("--batch-sizes", help="Max batch sizes, e.g. 8,16,32.")] = None,
    chunk_tokens: Annotated[
        ListOpt, typer.Option("--chunk-tokens", help="Prefill chunk sizes to try (0 = engine default).")
    ] = None,
    spec_tokens: Annotated[
        ListOpt, typer.Option("--spec-tokens", help="Speculative draft tokens to try besides off.")
    ] = None,
    acceptance: Annotated[
        str | None,
        typer.Option(
            "--acceptance",
            help="Draft acceptance: one rate, or one per position separated by commas "
            "(default: the model's cited MTP / EAGLE-3 figure).",
        ),
    ] = None,
    usd_per_chip_hour: Annotated[
        ListOpt, typer.Option("--usd-per-chip-hour", help="Your price, NAME=USD per chip-hour (repeatable).")
    ] = None,
    own: Annotated[bool, typer.Option("--own", help="Price chips as owned (purchase, power, hosting).")] = False,
    recheck: Annotated[int, typer.Option("--recheck", help="Leaders to re-check in the simulator (0 = off).")] = 5,
    recheck_requests: Annotated[int, typer.Option("--recheck-requests", help="Requests per re-check.")] = 400,
    backend: Annotated[str, typer.Option("--backend", help="local or ray.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (with --backend ray).")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Local processes (or Ray CPUs for a local Ray).")] = 1,
    out: Annotated[Path | None, typer.Option("--out", help="Write every screened row to this Parquet file.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip deployments already in --out.")] = False,
    gpu_memory_utilization: GpuMemoryUtilization = None,
    max_num_seqs: MaxNumSeqs = None,
    max_num_batched_tokens: MaxNumBatchedTokens = None,
    block_size: BlockSize = None,
    json_: JsonOpt = False,
) -> None:
    """Find the cheapest deployment that serves the traffic within the TTFT/TPOT targets."""
    from inferonomics.search import SearchRequest, SearchSpace, search

    if (rate is None) == (trace is None):
        raise InvalidInputError("give exactly one of --rate or --trace")
    if backend not in ("local", "ray"):
        raise InvalidInputError(f"--backend must be local or ray, got {backend!r}")
    if address and backend != "ray":
        raise InvalidInputError("--address needs --backend ray")
    if resume and out is None:
        raise InvalidInputError("--resume needs --out FILE.parquet")
    if workers < 1 or recheck < 0 or recheck_requests < 1:
        raise InvalidInputError("--workers and --recheck-requests must be >= 1, --recheck >= 0")
    space_kwargs: dict[str, Any] = {
        "hardware": _names(hardware),
        "weight_precisions": _names(precision),
        "kv_precisions": _names(kv_precision),
        "engines": _names(engine),
        "all_engines": all_engines,
        "max_chips_per_instance": max_chips_per_instance,
        "acceptance_rate": (parse_acceptance(acceptance) or (None,))[0],
        "acceptance": parse_acceptance(acceptance),
        "speculative_tokens": _ints(spec_tokens, "--spec-tokens"),
        "engine_args": engine_args_from(gpu_memory_utilization, max_num_seqs, max_num_batched_tokens, block_size),
    }
    if mode:
        space_kwargs["modes"] = _names(mode)
    if batch_sizes:
        space_kwargs["batch_sizes"] = _ints(batch_sizes, "--batch-sizes")
    if chunk_tokens:
        space_kwargs["chunk_tokens"] = _ints(chunk_tokens, "--chunk-tokens")
    req = SearchRequest(
        model=model,
        isl=isl,
        osl=osl,
        rate_per_s=rate,
        trace=str(trace) if trace else None,
        ttft_s=ttft_ms / 1e3 if ttft_ms is not None else None,
        tpot_s=tpot_ms / 1e3 if tpot_ms is not None else None,
        percentile=percentile,
        objective=objective,  # type: ignore[arg-type]  # checked by Targets
        max_usd_per_hour=budget,
        max_chips=max_chips,
        space=SearchSpace(**space_kwargs),
        acquisition="own" if own else "rent",
        usd_per_chip_hour=_prices(usd_per_chip_hour),
        recheck=recheck,
        recheck_requests=recheck_requests,
    )

    def stage(msg: str) -> None:
        if not json_:
            err_console.print(f"[dim]{msg}[/]", highlight=False)

    res = search(
        req,
        backend=backend,  # type: ignore[arg-type]  # checked above
        address=address,
        workers=workers,
        out=out,
        resume=resume,
        progress=not json_,
        on_stage=stage,
    )
    if json_:
        print_json(res.to_dict())
        return
    _print_result(res)


def _why_two_ttfts(inp: dict[str, Any]) -> str:
    traffic = "the trace's arrivals" if inp.get("trace") else f"Poisson arrivals at {fmt(inp.get('rate_per_s'))} req/s"
    return (
        "why two figures: the first line is the analytic screen's steady-state mean (it ranks thousands of "
        f"configurations); 'simulated' replays {traffic} through the engine's scheduler, so it sees bursts, "
        "queueing and the run's start-up. It is the check: a leader that misses a target there is dropped"
    )


def _weights_note(model: str, best: dict[str, Any], pareto: list[dict[str, Any]]) -> str:
    """Which weight format was picked, why, and what it trades (the search tries lower-bit formats)."""
    from inferonomics.catalog.model_catalog import get_model

    native = str(get_model(model).native_precision)
    picked = str(best.get("precision") or native)
    seen = sorted({str(r.get("precision")) for r in pareto if r.get("precision")})
    if picked == native:
        return f"weights: {picked}, the checkpoint's own format (also on the Pareto set: {', '.join(seen)})"
    return (
        f"weights: [bold]{picked}[/] instead of the checkpoint's {native}: the cheapest at the targets among the "
        f"formats tried ({', '.join(seen)} on the Pareto set). Fewer weight bytes free HBM for KV cache and "
        "speed up decode (weights stream from HBM every step); the trade is model quality, which this tool "
        f"does not measure. --precision {native} keeps the checkpoint's format."
    )


def _print_result(res: Any) -> None:
    d = res.to_dict(pareto_limit=12)
    inp = d["inputs"]
    slo = []
    if inp.get("ttft_s"):
        slo.append(f"TTFT <= {inp['ttft_s'] * 1e3:g} ms")
    if inp.get("tpot_s"):
        slo.append(f"TPOT <= {inp['tpot_s'] * 1e3:g} ms")
    stat = f" (p{inp['percentile']:g})" if inp.get("percentile") else " (mean)"
    rate = f"{inp['rate_per_s']:.3g} req/s" if inp.get("rate_per_s") else "one replica at capacity"
    console.print(
        f"[bold]{inp['model']}[/], ISL {inp['isl']}, OSL {inp['osl']}, {rate}; "
        f"{', '.join(slo) or 'no latency target'}{stat if slo else ''}; objective {d['objective']}",
        highlight=False,
    )
    best = d["best"]
    if best is None:
        inf = d["infeasible"] or {}
        console.print(
            Panel(
                f"[bold red]Nothing meets the targets.[/] {inf.get('message', '')}",
                title="No feasible configuration",
                title_align="left",
            )
        )
        if inf.get("closest"):
            console.print(_rows_table("Closest configurations (worst ratio to a target first)", inf["closest"]))
    else:
        lines = [
            f"[bold]{best['description']}[/]",
            f"TTFT {fmt(best['ttft_ms'])} ms, TPOT {fmt(best['tpot_ms'])} ms "
            f"({fmt(best['tokens_per_s_per_user'])} tok/s per user), {fmt(best['tokens_per_s_per_gpu'])} tok/s per GPU "
            f"({fmt(best['tokens_per_s_per_gpu_at_capacity'])} at capacity)",
            f"{best['chips']} chip{'s' if best['chips'] != 1 else ''}, {fmt(best['usd_per_hour'])} USD/h, "
            f"{fmt(best['usd_per_mtok'])} USD per million output tokens; "
            f"memory {fmt(best['memory_gb_per_gpu'])} of {fmt(best['memory']['capacity_gb'])} GB per GPU",
        ]
        sim = best.get("simulated")
        if sim:
            lines.append(
                f"simulated: TTFT {fmt(sim['sim_ttft_ms'])} ms, TPOT {fmt(sim['sim_tpot_ms'])} ms"
                f"{stat}, SLO attainment {fmt(sim['sim_slo_attainment'])}"
                f"{' - ' + sim['sim_note'] if sim.get('sim_note') else ''}"
            )
            lines.append(f"[dim]{_why_two_ttfts(inp)}[/]")
        lines.append(_weights_note(inp["model"], best, d["pareto"]))
        if d["runner_up"]:
            lines.append(f"runner-up: {d['runner_up']['description']} - {d['runner_up_reason']}")
        console.print(Panel("\n".join(lines), title="Recommended", title_align="left"))
        if d["pareto"]:
            console.print(_rows_table(f"Pareto set: cost vs speed per user ({d['pareto_size']} points)", d["pareto"]))
    for note in d["notes"]:
        console.print(f"[dim]note: {note}[/]", highlight=False)
    t = d["timings_s"]
    console.print(
        f"[dim]screened {d['evaluated']:,} configurations ({d['deployments']:,} deployments) in "
        f"{t['screen_s']:.2f} s ({d['configs_per_s']:,.0f}/s); total {d['elapsed_s']:.2f} s"
        f"{'; rows in ' + d['out'] if d['out'] else ''}[/]",
        highlight=False,
    )
