"""`inferonomics simulate`: replay a trace or a synthetic workload through the serving simulator.

Presentation only: builds the deployment as `predict` does, a workload, and the engine/cluster
configs, runs `inferonomics.serving.Simulation` and prints a summary (Rich tables, or `--json`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from inferonomics.cli.common import ACCEPTANCE_HELP, app, console, err_console, parse_acceptance, print_json, table
from inferonomics.cli.engine_options import (
    BlockSize,
    GpuMemoryUtilization,
    MaxNumBatchedTokens,
    MaxNumSeqs,
    engine_args_from,
)
from inferonomics.cli.render import plural
from inferonomics.cli.spec_opts import EpAutoOpt, ObjectiveOpt, PpAutoOpt, TpAutoOpt, print_note
from inferonomics.errors import InvalidInputError, OverBudgetError


@app.command("simulate")
def simulate_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name (see `inferonomics models`).")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System name (see `inferonomics hardware`).")],
    tp: TpAutoOpt = "auto",
    pp: PpAutoOpt = None,
    ep: EpAutoOpt = None,
    attention_dp: Annotated[
        int | None,
        typer.Option(
            "--attention-dp",
            min=1,
            help="Data-parallel ranks per replica (vLLM --data-parallel-size, SGLang --dp with DP attention); "
            "MoE ranks step together, chips per replica = tp x attention-dp x pp (default: 1, or auto).",
        ),
    ] = None,
    objective: ObjectiveOpt = "cost",
    precision: Annotated[str | None, typer.Option(help="Weight format (default: the checkpoint's).")] = None,
    kv_precision: Annotated[str | None, typer.Option(help="KV-cache format (default: fp8 with 8-bit weights).")] = None,
    backend: Annotated[str, typer.Option(help="Engine whose overheads the step-time model uses.")] = "vllm",
    replicas: Annotated[int, typer.Option("--replicas", "-r", help="Replicas behind the router.")] = 1,
    # workload -----------------------------------------------------------------------------------
    trace: Annotated[
        Path | None, typer.Option(help="Replay a trace (Azure CSV, Mooncake JSONL, BurstGPT CSV, vLLM benchmark JSON).")
    ] = None,
    trace_format: Annotated[str, typer.Option(help="auto, azure, mooncake, burstgpt or vllm.")] = "auto",
    max_requests: Annotated[int | None, typer.Option(help="Only the first N requests of the trace.")] = None,
    rate_scale: Annotated[float | None, typer.Option(help="Replay the trace N times faster.")] = None,
    rate: Annotated[
        float | None, typer.Option(help="Open loop: requests per second (Poisson; see --burstiness).")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Closed loop: this many clients.")] = None,
    sessions: Annotated[
        int | None, typer.Option(help="Multi-turn: this many chat sessions (at --rate sessions/s).")
    ] = None,
    isl_dist: Annotated[
        str,
        typer.Option(
            help="Prompt lengths: 1024, fixed:N, uniform:LO,HI, lognormal:MEAN,CV, "
            "empirical:V1,V2,... or empirical:FILE[:COLUMN]."
        ),
    ] = "fixed:1024",
    osl_dist: Annotated[str, typer.Option(help="Output lengths (same forms).")] = "fixed:256",
    num_requests: Annotated[int, typer.Option(help="Requests of a synthetic workload.")] = 1000,
    burstiness: Annotated[float, typer.Option(help="Gamma shape of inter-arrivals: 1 Poisson, < 1 burstier.")] = 1.0,
    shared_prefix_tokens: Annotated[int, typer.Option(help="A system prompt shared by every request.")] = 0,
    turns: Annotated[str, typer.Option(help="Turns per session (a length distribution).")] = "fixed:4",
    think_s: Annotated[float, typer.Option(help="Mean think time between turns, s.")] = 5.0,
    # engine --------------------------------------------------------------------------------------
    scheduler: Annotated[str, typer.Option(help="vllm, orca, sarathi or sglang.")] = "vllm",
    gpu_memory_utilization: GpuMemoryUtilization = None,
    max_num_seqs: MaxNumSeqs = None,
    max_num_batched_tokens: MaxNumBatchedTokens = None,
    block_size: BlockSize = None,
    prefix_cache: Annotated[
        bool | None, typer.Option("--prefix-cache/--no-prefix-cache", help="Prefix caching (default: the scheduler's).")
    ] = None,
    preemption: Annotated[str, typer.Option(help="recompute or swap.")] = "recompute",
    kv_host_gb: Annotated[float, typer.Option(help="Host-DRAM tier for evicted prefix blocks, GB per replica.")] = 0.0,
    kv_ssd_gb: Annotated[float, typer.Option(help="SSD tier for evicted prefix blocks, GB per replica.")] = 0.0,
    spec_tokens: Annotated[int, typer.Option(help="Speculative decoding: draft tokens per step.")] = 0,
    acceptance: Annotated[str | None, typer.Option("--acceptance", "--acceptance-rate", help=ACCEPTANCE_HELP)] = None,
    # cluster -------------------------------------------------------------------------------------
    router: Annotated[
        str, typer.Option(help="round_robin, least_outstanding, least_kv or prefix_aware.")
    ] = "round_robin",
    gateway_ms: Annotated[float, typer.Option(help="API gateway latency, one way, ms.")] = 0.0,
    lb_ms: Annotated[float, typer.Option(help="Load balancer latency, one way, ms.")] = 0.0,
    prefill_replicas: Annotated[int | None, typer.Option(help="Disaggregated: prefill replicas.")] = None,
    decode_replicas: Annotated[int | None, typer.Option(help="Disaggregated: decode replicas.")] = None,
    slo_ttft_ms: Annotated[float | None, typer.Option(help="Goodput SLO: time to first token, ms.")] = None,
    slo_tpot_ms: Annotated[float | None, typer.Option(help="Goodput SLO: time per output token, ms.")] = None,
    # run -----------------------------------------------------------------------------------------
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same result).")] = 0,
    max_wall_s: Annotated[float | None, typer.Option(help="Stop (partial result) after this many seconds.")] = None,
    max_memory_gb: Annotated[
        float | None, typer.Option(help="Stop (partial result) above this resident memory.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write requests, iterations, summary.json and trace.json here.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run even when the run is sized above an hour or 16 GB (or --max-wall-s).")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on a terminal.")] = True,
) -> None:
    """Simulate serving a workload: tail latency, goodput under an SLO, replicas, cost per request.

    With --tp auto (the default) each replica is the deployment `predict` and `cost` would choose for this
    workload's mean lengths (a closed loop: its clients; --slo-ttft-ms/--slo-tpot-ms as the targets), and the
    choice is printed."""
    from inferonomics.economics.spec import DeploymentSpec, Workload, parse_tp
    from inferonomics.serving import (
        SLO,
        ClosedLoop,
        ClusterConfig,
        Disaggregation,
        EngineConfig,
        RunLimits,
        Sessions,
        Simulation,
        host_dram_tier,
        load_trace,
        parse_distribution,
        ssd_tier,
        synthetic_workload,
    )

    chosen = [
        n for n, v in (("--trace", trace), ("--concurrency", concurrency), ("--sessions", sessions)) if v is not None
    ]
    if rate is not None and sessions is None:
        chosen.append("--rate")
    if len(chosen) != 1:
        raise InvalidInputError(
            "give exactly one workload: --trace FILE, --rate X, --concurrency C or "
            f"--sessions N (with --rate); got {', '.join(chosen) or 'none'}"
        )
    wl: Any
    if trace is not None:
        wl = load_trace(trace, trace_format, seed=seed)
        if max_requests is not None:
            wl = wl.head(max_requests)
        if rate_scale is not None:
            wl = wl.time_scaled(rate_scale)
    elif concurrency is not None:
        wl = ClosedLoop(concurrency, parse_distribution(isl_dist), parse_distribution(osl_dist), num_requests)
    elif sessions is not None:
        if rate is None:
            raise InvalidInputError("--sessions needs --rate (sessions per second)")
        wl = Sessions(
            rate,
            sessions,
            parse_distribution(turns),
            parse_distribution(isl_dist),
            parse_distribution(osl_dist),
            think_s,
            shared_prefix_tokens,
        )
    else:
        assert rate is not None
        wl = synthetic_workload(
            rate,
            num_requests,
            parse_distribution(isl_dist),
            parse_distribution(osl_dist),
            burstiness=burstiness,
            seed=seed,
            shared_prefix_tokens=shared_prefix_tokens,
        )
    slo = SLO(None if slo_ttft_ms is None else slo_ttft_ms / 1e3, None if slo_tpot_ms is None else slo_tpot_ms / 1e3)
    resolved = DeploymentSpec(
        model,
        hardware,
        tp=parse_tp(tp),
        pp=pp,
        ep=ep,
        attention_dp=attention_dp,
        dp=replicas,
        precision=precision,
        kv_precision=kv_precision,
        backend=backend,
        speculative_tokens=spec_tokens,
        acceptance=parse_acceptance(acceptance),
        engine_args=engine_args_from(gpu_memory_utilization, max_num_seqs, max_num_batched_tokens, block_size),
    ).resolve(
        Workload.of_run(
            wl,
            objective,  # type: ignore[arg-type]  # checked by Workload
            max_ttft_s=slo.ttft_s,
            min_tokens_per_s_per_user=None if slo.tpot_s is None else 1.0 / slo.tpot_s,
        )
    )
    dep = resolved.deployment
    tiers = tuple(
        t
        for t in (
            (host_dram_tier(kv_host_gb * 1e9) if kv_host_gb > 0 else None),
            (ssd_tier(kv_ssd_gb * 1e9) if kv_ssd_gb > 0 else None),
        )
        if t is not None
    )
    engine = EngineConfig(
        scheduler=scheduler,  # type: ignore[arg-type]
        prefix_cache=prefix_cache,
        preemption=preemption,  # type: ignore[arg-type]
        kv_tiers=tiers,
    )
    disagg = None
    if (prefill_replicas is None) != (decode_replicas is None):
        raise InvalidInputError("disaggregation needs both --prefill-replicas and --decode-replicas")
    if prefill_replicas is not None and decode_replicas is not None:
        disagg = Disaggregation(prefill_replicas, decode_replicas)
    cluster = ClusterConfig(
        router=router,  # type: ignore[arg-type]
        gateway_latency_s=gateway_ms / 1e3,
        load_balancer_latency_s=lb_ms / 1e3,
        disaggregation=disagg,
    )
    limits = RunLimits(max_wall_s, None if max_memory_gb is None else max_memory_gb * 1e9)
    _check_size(dep, wl, engine, max_wall_s, force)
    with _hard_wall_limit(max_wall_s):
        sim = Simulation(dep, wl, engine, cluster, slo, limits, seed)
        res = _run_with_progress(sim, progress and err_console.is_terminal)
    s = res.summary
    s["workload"] = wl.describe()
    s["deployment"] = dep.describe()
    s["resolution_note"] = resolved.note
    s["scheduler"] = scheduler
    s["router"] = router
    if out is not None:
        paths = res.write(out)
        s["files"] = [str(p) for p in paths]
    if json_:
        print_json(s)
        return
    print_note(resolved)
    _print_summary(s, res)


def _check_size(dep: Any, wl: Any, engine: Any, max_wall_s: float | None, force: bool) -> None:
    """Size the run before it starts; above an hour or 16 GB, or set-up alone past --max-wall-s, ask for --force."""
    from inferonomics.economics.sizing import FORCE_MEMORY_BYTES, FORCE_WALL_S
    from inferonomics.serving.sizing import REPLICA_S, size_of

    size = size_of(dep, wl, engine)
    if force:
        return
    setup_s = size.replicas * REPLICA_S
    if max_wall_s is not None and setup_s > max(max_wall_s, 1.0):
        raise OverBudgetError(
            f"--replicas {size.replicas:,}: building the replicas alone takes about {setup_s:,.0f} s, over "
            f"--max-wall-s {max_wall_s:g}; lower --replicas, raise --max-wall-s, or pass --force"
        )
    if size.wall_s > FORCE_WALL_S or size.memory_bytes > FORCE_MEMORY_BYTES:
        raise OverBudgetError(
            f"this run is sized at {size.describe()}, above {FORCE_WALL_S / 3600:.0f} h or "
            f"{FORCE_MEMORY_BYTES / 1e9:.0f} GB; pass --force to run it anyway, or lower --num-requests, "
            "--replicas or the output lengths"
        )


@contextlib.contextmanager
def _hard_wall_limit(max_wall_s: float | None) -> Iterator[None]:
    """--max-wall-s covers the whole job: the simulator stops its loop at the limit (partial result); set-up
    and results get half as long again plus 10 s, after which the command stops with exit 2."""
    if (
        max_wall_s is None
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    limit = max_wall_s * 1.5 + 10.0

    def stop(signum: int, frame: Any) -> None:
        raise OverBudgetError(f"stopped after {limit:g} s: over --max-wall-s {max_wall_s:g} in set-up or results")

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _run_with_progress(sim: Any, show: bool) -> Any:
    if not show:
        return sim.run()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("sim", total=1.0)
        return sim.run(progress=lambda f: bar.update(task, completed=f))


def _print_summary(s: dict[str, Any], res: Any) -> None:
    if s["partial"]:
        err_console.print(f"[bold yellow]partial result:[/] {s['stop_reason']}", highlight=False)
    console.print(f"{s['deployment']}\n{s['workload']}", highlight=False)
    rows: list[list[Any]] = []
    for key, label in (
        ("ttft_ms", "TTFT, ms"),
        ("tpot_ms", "TPOT, ms"),
        ("itl_ms", "ITL, ms"),
        ("e2e_ms", "end to end, ms"),
        ("queue_ms", "queueing, ms"),
    ):
        st = s[key]
        rows.append([label, st["mean"], st["p50"], st["p90"], st["p99"]])
    console.print(table("latency", ["", "mean", "p50", "p90", "p99"], rows))
    slo = s["slo"]
    slo_txt = ", ".join(f"{k.split('_')[0].upper()} <= {v:g} ms" for k, v in slo.items() if v is not None) or "none"
    rows = [
        [
            "requests (completed / rejected / incomplete / not issued)",
            f"{s['completed']:,} / {s['rejected']:,} / {s['incomplete']:,} / {s['not_issued']:,}",
        ],
        ["throughput, requests/s", s["throughput_rps"]],
        [f"goodput, requests/s (SLO: {slo_txt})", s["goodput_rps"]],
        ["output tokens/s", s["throughput_output_tokens_per_s"]],
        ["prefix-cache hit rate", f"{s['prefix_cache_hit_rate']:.1%}"],
        ["preemptions", s["preemptions"]],
        [
            "replicas x chips",
            f"{s['replicas']} ({plural(s['chips'], 'chip')}"
            + (
                f"; {s['engines']} data-parallel ranks, {'in lock-step (MoE)' if s['dp_lockstep'] else 'independent'})"
                if s["engines"] != s["replicas"]
                else ")"
            ),
        ],
        ["cost per request, USD", s["cost_per_request_usd"]],
        ["USD per million output tokens", s["usd_per_million_output_tokens"]],
        ["simulated time, s", s["duration_s"]],
        ["wall time, s", s["sim_wall_s"]],
    ]
    if s["rejected_by_reason"]:
        rows.append(["rejected by reason", ", ".join(f"{k}: {v}" for k, v in s["rejected_by_reason"].items())])
    console.print(table("summary", ["", "value"], rows))
    rep = res.replicas
    console.print(
        table(
            "replicas",
            ["replica", "role", "utilisation", "mean batch", "mean KV occupancy", "preemptions"],
            [
                [r.replica, r.role, r.utilisation, r.mean_batch, r.mean_kv_occupancy, r.preemptions]
                for r in rep.itertuples()
            ],
        )
    )
    if "files" in s:
        console.print("wrote " + ", ".join(s["files"]), highlight=False)
