"""Performance commands: `predict` (steady state of serving) and `floor` (lower bounds)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.panel import Panel

from inferonomics.cli.common import ACCEPTANCE_HELP, app, console, parse_acceptance, print_json, table
from inferonomics.cli.engine_options import (
    BlockSize,
    GpuMemoryUtilization,
    MaxNumBatchedTokens,
    MaxNumSeqs,
    engine_args_from,
)
from inferonomics.cli.render import describe_pools, fmt, per_user_speed
from inferonomics.cli.spec_opts import (
    AdpAutoOpt,
    EpAutoOpt,
    MaxTtftOpt,
    MinSpeedOpt,
    ObjectiveOpt,
    PpAutoOpt,
    TpAutoOpt,
    print_note,
    resolve,
)
from inferonomics.economics.spec import parse_tp
from inferonomics.errors import InvalidInputError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="What-if hardware figure, e.g. --set hbm_bandwidth_tb_s=10.")
]


def _overrides(pairs: list[str] | None) -> dict[str, Any]:
    from inferonomics.catalog.hardware import parse_overrides

    return parse_overrides(pairs)


def _breakdown_table(breakdown_ms: dict[str, float], title: str) -> Any:
    order = ["compute_ms", "memory_ms", "network_ms", "overhead_ms", "kv_transfer_ms", "total_ms"]
    rows = [[k.removesuffix("_ms"), v] for k, v in ((k, breakdown_ms.get(k)) for k in order) if v is not None]
    detail = [[f"  {k.removesuffix('_ms')}", v] for k, v in breakdown_ms.items() if k not in order]
    return table(title, ["term", "ms per iteration"], rows + detail)


@app.command("predict")
def predict_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name, Hugging Face id or config.json path.")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System or chip name (e.g. h100_sxm).")],
    isl: Annotated[int, typer.Option("--isl", help="Input tokens per request.")],
    osl: Annotated[int, typer.Option("--osl", help="Output tokens per request.")],
    tp: TpAutoOpt = "auto",
    pp: PpAutoOpt = None,
    ep: EpAutoOpt = None,
    dp: Annotated[int, typer.Option("--dp", help="Data parallelism: replicas of the instance.")] = 1,
    attention_dp: AdpAutoOpt = None,
    objective: ObjectiveOpt = "cost",
    max_ttft_s: MaxTtftOpt = None,
    min_speed: MinSpeedOpt = None,
    precision: Annotated[
        str | None, typer.Option("--precision", help="Weight format (default: the checkpoint's).")
    ] = None,
    kv_precision: Annotated[str | None, typer.Option("--kv-precision", help="KV-cache format.")] = None,
    expert_precision: Annotated[
        str | None, typer.Option("--expert-precision", help="MoE: routed experts' format, if not --precision.")
    ] = None,
    backend: Annotated[str, typer.Option("--backend", help="trtllm, vllm or sglang.")] = "vllm",
    concurrency: Annotated[float | None, typer.Option("--concurrency", "-c", help="Closed-loop clients.")] = None,
    max_throughput: Annotated[
        bool, typer.Option("--max-throughput", help="Pick the batch that maximises throughput.")
    ] = False,
    mode: Annotated[str, typer.Option("--mode", help="agg or disagg.")] = "agg",
    prefill_instances: Annotated[int, typer.Option("--prefill-instances", help="disagg: prefill instances.")] = 1,
    decode_instances: Annotated[int, typer.Option("--decode-instances", help="disagg: decode instances.")] = 1,
    prefill_tp: Annotated[int | None, typer.Option("--prefill-tp", help="disagg: TP of each prefill instance.")] = None,
    prefill_ep: Annotated[int | None, typer.Option("--prefill-ep", help="disagg: EP of each prefill instance.")] = None,
    prefill_attention_dp: Annotated[
        int | None, typer.Option("--prefill-attention-dp", help="disagg: attention DP of each prefill instance.")
    ] = None,
    decode_tp: Annotated[int | None, typer.Option("--decode-tp", help="disagg: TP of each decode instance.")] = None,
    decode_ep: Annotated[int | None, typer.Option("--decode-ep", help="disagg: EP of each decode instance.")] = None,
    decode_attention_dp: Annotated[
        int | None, typer.Option("--decode-attention-dp", help="disagg: attention DP of each decode instance.")
    ] = None,
    speculative_tokens: Annotated[int, typer.Option("--spec-tokens", help="Draft tokens per step (0 = off).")] = 0,
    acceptance: Annotated[str | None, typer.Option("--acceptance", help=ACCEPTANCE_HELP)] = None,
    gpu_memory_utilization: GpuMemoryUtilization = None,
    max_num_seqs: MaxNumSeqs = None,
    max_num_batched_tokens: MaxNumBatchedTokens = None,
    block_size: BlockSize = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Predict TTFT, TPOT, throughput and memory of a deployment serving a closed loop of clients.

    With --tp auto (the default) the deployment is the cheapest that fits and meets the targets
    (`economics.spec`); clients beyond the KV-cache capacity queue and their wait is in TTFT."""
    from inferonomics.economics.spec import Pool
    from inferonomics.perf import predict_deployment, predict_disaggregated

    if (concurrency is None) == (not max_throughput):
        raise InvalidInputError("give exactly one of --concurrency C or --max-throughput")
    if mode not in ("agg", "disagg"):
        raise InvalidInputError(f"--mode must be agg or disagg, got {mode!r}")
    common: dict[str, Any] = dict(
        precision=precision,
        kv_precision=kv_precision,
        expert_precision=expert_precision,
        backend=backend,
        speculative_tokens=speculative_tokens,
        acceptance=parse_acceptance(acceptance),
        overrides=_overrides(set_),
        objective=objective,
        max_ttft_s=max_ttft_s,
        min_tokens_per_s_per_user=min_speed,
        isl=isl,
        osl=osl,
        concurrency=concurrency,
        engine_args=engine_args_from(gpu_memory_utilization, max_num_seqs, max_num_batched_tokens, block_size),
    )
    if mode == "disagg":
        if concurrency is None:
            raise InvalidInputError("disaggregated prediction needs --concurrency")
        if dp != 1:
            raise InvalidInputError("--dp does not apply to --mode disagg: give --prefill-instances/--decode-instances")

        def pool(n: int, p_tp: int | None, p_ep: int | None, p_adp: int | None) -> Pool:
            return Pool(n, p_tp or parse_tp(tp), pp, p_ep or ep, p_adp or attention_dp)

        r = resolve(
            model,
            hardware,
            tp=tp,
            mode="disagg",
            prefill=pool(prefill_instances, prefill_tp, prefill_ep, prefill_attention_dp),
            decode=pool(decode_instances, decode_tp, decode_ep, decode_attention_dp),
            **common,
        )
        pred = predict_disaggregated(r.disagg, isl, osl, concurrency)
    else:
        pool_opts = (prefill_tp, prefill_ep, prefill_attention_dp, decode_tp, decode_ep, decode_attention_dp)
        if any(v is not None for v in pool_opts):
            raise InvalidInputError("--prefill-*/--decode-* options apply only to --mode disagg")
        r = resolve(model, hardware, tp=tp, pp=pp, ep=ep, attention_dp=attention_dp, dp=dp, **common)
        pred = predict_deployment(r.deployment, isl, osl, concurrency, max_throughput=max_throughput)
    d = {**pred.to_dict(), "resolution_note": r.note}
    plan = None
    if mode != "disagg":
        from inferonomics.perf.memory import memory_plan

        plan = memory_plan(r.deployment)
        d["memory_plan"] = plan.to_dict()
    if json_:
        print_json(d)
        return
    about = describe_pools(pred.disagg) if pred.disagg is not None else pred.deployment.describe()
    console.print(Panel.fit(about, title="deployment"))
    print_note(r)
    if plan is not None:
        console.print(f"memory plan: {plan.log_line()}")
    console.print(
        table(
            "prediction",
            ["metric", "value"],
            [
                ["concurrency", d["concurrency"]],
                ["clients queued (KV cache full)", d["queued_clients"]],
                ["TTFT (ms)", d["ttft_ms"]],
                ["TTFT range (ms): clients spread .. synchronised", " .. ".join(fmt(v) for v in d["ttft_range_ms"])],
                ["TPOT (ms)", d["tpot_ms"]],
                ["tokens/s per user", per_user_speed(d["tokens_per_s_per_user"])],
                ["output tokens/s (deployment)", d["output_tokens_per_s"]],
                ["output tokens/s per GPU", d["output_tokens_per_s_per_gpu"]],
                ["requests/s", d["requests_per_s"]],
                ["sequences in flight per replica", d["batch_size"]],
                ["chips", d["chips"]],
                [
                    "memory per GPU, GB (decimal)",
                    f"{fmt(d['memory_gb_per_gpu'])} of {fmt(d['memory']['capacity_gb'])} "
                    f"({fmt(d['memory']['capacity_gb'] * 1e9 / 2**30)} GiB)",
                ],
                ["fits", "yes" if d["fits"] else "no"],
            ],
        )
    )
    console.print(_breakdown_table(d["breakdown"], "mean iteration, by term"))


@app.command("floor")
def floor_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name, Hugging Face id or config.json path.")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System or chip name.")],
    context: Annotated[int, typer.Option("--context", help="Context length in tokens.")] = 4096,
    precision: Annotated[str | None, typer.Option("--precision", help="Weight format.")] = None,
    kv_precision: Annotated[str | None, typer.Option("--kv-precision", help="KV-cache format.")] = None,
    usd_per_chip_hour: Annotated[
        float | None, typer.Option("--usd-per-chip-hour", help="Price of a chip-hour.")
    ] = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Lower bounds: the latency floor (batch 1, best chip count) and the cost floor (full batch)."""
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.perf.bounds import floors

    system = get_hardware(hardware, overrides=_overrides(set_) or None)
    f = floors(
        get_model(model),
        system,
        context_tokens=context,
        precision=precision,
        kv_precision=kv_precision,
        usd_per_chip_hour=usd_per_chip_hour,
    )
    d = f.to_dict()
    if json_:
        print_json(d)
        return
    lf, cf = d["latency_floor"], d["cost_floor"]
    console.print(
        table(
            f"{f.model} on {f.hardware}, {f.context_tokens} tokens of context",
            ["bound", "value"],
            [
                ["latency floor (ms/token)", lf["ms_per_token"]],
                ["  = tokens/s per user", lf["tokens_per_s"]],
                ["  at chips", lf["chips"]],
                ["  memory term (ms)", lf["terms_ms"]["memory_s"]],
                ["  network term (ms)", lf["terms_ms"]["network_s"]],
                ["  USD per M tokens at that point", lf["usd_per_mtok"]],
                ["cost floor (USD per M output tokens)", cf["usd_per_mtok"]],
                ["  bound by", cf["bound"]],
                ["  USD per chip-hour", cf["usd_per_chip_hour"]],
                ["single-user / batched cost", d["single_user_to_batched_cost_ratio"]],
            ],
        )
    )
