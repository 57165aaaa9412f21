"""Economics commands: cost, frontier, price-sheet, read-prices, compare, capacity, modes.

Presentation only: each command calls `inferonomics.economics` and prints Rich tables, or JSON with
`--json`; `--plot FILE.png|.html` draws where a picture says it better. Product errors propagate to
`run_app()` (one red line, exit code 2).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from inferonomics.cli.common import app, console, print_json, table
from inferonomics.cli.render import Column, per_user_speed, plural, records_table, shorten_labels
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
from inferonomics.errors import InvalidInputError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write a chart to FILE.png or FILE.html (offline).")]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model name, Hugging Face id or config.json path.")]
HardwareOpt = Annotated[str, typer.Option("--hardware", "-H", help="System or chip name (h100_sxm, b200 ...).")]
PrecisionOpt = Annotated[str | None, typer.Option("--precision", help="Weight format (default: native).")]
KvOpt = Annotated[str | None, typer.Option("--kv-precision", help="KV-cache format (default: by weights).")]
BackendOpt = Annotated[str, typer.Option("--backend", help="Engine: vllm, trtllm or sglang.")]
IslOpt = Annotated[int, typer.Option("--isl", min=1, help="Input (prompt) tokens per request.")]
OslOpt = Annotated[int, typer.Option("--osl", min=1, help="Output tokens per request.")]
OwnOpt = Annotated[bool, typer.Option("--own", help="Price owned hardware (Epoch AI's model) instead of rent.")]
UsdOpt = Annotated[
    float | None, typer.Option("--usd-per-chip-hour", help="Rental price per chip-hour (default: catalog).")
]
OwnSetOpt = Annotated[
    list[str] | None,
    typer.Option("--own-set", help="Ownership assumption, e.g. --own-set life_years=4 --own-set pue=1.1."),
]
UtilOpt = Annotated[float, typer.Option("--utilisation", help="Fraction of paid chip-hours in use, (0, 1].")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="What-if hardware figure, e.g. --set hbm_bandwidth_tb_s=6.7."),
]
MaxChipsOpt = Annotated[int, typer.Option("--max-chips", min=1, help="Largest deployment swept (chips).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Run even when sized above an hour or 16 GB.")]
MAX_CLIENTS = 1e9
"""Most concurrent agents or conversations a capacity plan takes (more than any fleet serves)."""


def _size_frontiers(
    systems: list[Any], model: str | None, max_chips: int, force: bool, option: str, advice: str = ""
) -> None:
    """Refuse (naming `option`) sweeps of frontiers sized above an hour (`economics.sizing`)."""
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.economics.sizing import frontier_deployments, frontier_size, refuse_if_over

    moe = bool(model) and get_model(model).is_moe  # type: ignore[arg-type]
    domain = max((s.scaleup_domain_chips for s in systems), default=1)
    each = frontier_deployments(max_chips, domain, moe, levers=3 * 2)  # formats x speculation off/on
    refuse_if_over(frontier_size(len(systems), each), option, force, advice)


def _system(hardware: str, set_: list[str] | None) -> Any:
    from inferonomics.catalog.hardware import parse_overrides, with_overrides
    from inferonomics.catalog.hardware_catalog import get_hardware

    return with_overrides(get_hardware(hardware), parse_overrides(set_))


def _ownership(own_set: list[str] | None) -> Any:
    from inferonomics.economics import OwnershipAssumptions

    return OwnershipAssumptions.from_pairs(own_set) if own_set else None


def _acq(own: bool, usd: float | None, own_set: list[str] | None) -> tuple[Any, float | None, Any]:
    if own and usd is not None:
        raise InvalidInputError("--own prices owned hardware; --usd-per-chip-hour is a rental price: give one")
    if own_set and not own:
        raise InvalidInputError("--own-set changes ownership assumptions: add --own")
    return ("own" if own else "rent"), usd, _ownership(own_set)


def _deployment(model: str, hardware: str, set_: list[str] | None, **kw: Any) -> Any:
    """The resolved deployment (`economics.spec`: `tp="auto"` takes the cheapest that fits)."""
    return resolve(model, _system(hardware, set_), **kw)


def _df(title: str, df: pd.DataFrame, cols: dict[str, str]) -> None:
    if "deployment" in cols and "deployment" in df.columns:  # what every row shares goes to the title
        short, shared = shorten_labels(list(df["deployment"]))
        df = df.assign(deployment=short)
        shared = "; ".join(p for p in shared.split("; ") if p and p not in title)
        title = f"{title} ({shared})" if shared else title
    columns = [Column(k, h, prose=False if k == "deployment" else None) for k, h in cols.items()]  # one line a row
    console.print(records_table(title, df, columns))


def _plot_done(path: Path) -> None:
    console.print(f"[dim]chart written to {path}[/]")


# ---------------------------------------------------------------------------------------------------
# cost
# ---------------------------------------------------------------------------------------------------


@app.command("cost")
def cost_cmd(
    model: ModelOpt,
    hardware: HardwareOpt,
    tp: TpAutoOpt = "auto",
    pp: PpAutoOpt = None,
    ep: EpAutoOpt = None,
    attention_dp: AdpAutoOpt = None,
    precision: PrecisionOpt = None,
    kv_precision: KvOpt = None,
    backend: BackendOpt = "vllm",
    isl: IslOpt = 1024,
    osl: OslOpt = 1024,
    concurrency: Annotated[
        float | None,
        typer.Option("--concurrency", help="Clients per replica (default: the cheapest point meeting the targets)."),
    ] = None,
    objective: ObjectiveOpt = "cost",
    max_ttft_s: MaxTtftOpt = None,
    min_speed: MinSpeedOpt = None,
    own: OwnOpt = False,
    usd_per_chip_hour: UsdOpt = None,
    own_set: OwnSetOpt = None,
    utilisation: UtilOpt = 1.0,
    set_: SetOpt = None,
    contexts: Annotated[
        str | None, typer.Option("--contexts", help="Also cost these prompt lengths, e.g. 1000,10000,100000.")
    ] = None,
    plot: PlotOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Hourly cost (rent or own) and USD per million input/output tokens of one deployment."""
    from inferonomics.economics import chip_hour_cost, context_costs, token_cost
    from inferonomics.economics.plots import plot_context

    acq, usd, ownership = _acq(own, usd_per_chip_hour, own_set)
    dep = _deployment(
        model,
        hardware,
        set_,
        tp=tp,
        pp=pp,
        ep=ep,
        attention_dp=attention_dp,
        precision=precision,
        kv_precision=kv_precision,
        backend=backend,
        isl=isl,
        osl=osl,
        concurrency=concurrency,
        objective=objective,
        max_ttft_s=max_ttft_s,
        min_tokens_per_s_per_user=min_speed,
    )
    resolved, dep = dep, dep.deployment
    price = chip_hour_cost(dep.system, acq, usd_per_chip_hour=usd, ownership=ownership)
    tc = token_cost(dep, isl, osl, concurrency or resolved.concurrency, chip_hour=price, utilisation=utilisation)
    cc = None
    if contexts:
        try:
            ctx = [int(float(x)) for x in contexts.split(",") if x.strip()]
        except ValueError:
            raise InvalidInputError(f"--contexts must be numbers separated by commas, got {contexts!r}") from None
        cc = context_costs(dep, ctx, osl, chip_hour=price, utilisation=utilisation)
    elif plot:
        raise InvalidInputError("--plot draws cost against context: give --contexts")
    if plot and cc is not None:
        _plot_done(plot_context(cc, plot))
    if json_:
        print_json({**tc.to_dict(), "resolution_note": resolved.note, "context": cc.to_dict() if cc else None})
        return
    print_note(resolved)
    rows = [[k, v] for k, v in price.terms_usd_per_chip_hour.items()]
    rows.append(["total per chip-hour", price.usd_per_chip_hour])
    rows.append([f"deployment per hour ({plural(tc.chips, 'chip')})", tc.usd_per_hour])
    console.print(table(f"Hourly cost ({price.acquisition})", ["term", "USD"], rows))
    if price.acquisition == "own":
        a = price.assumptions
        console.print(
            f"[dim]server {a['server_usd_per_chip']:,.0f} USD/chip ({a['server_source']}), interconnect "
            f"{a['interconnect_share_of_cluster']:.0%} of cluster, {a['life_years']:g} y at "
            f"{a['cost_of_capital_per_year']:.0%}, {a['tdp_w']:g} W x {a['server_power_to_tdp']:g} x "
            f"{a['average_draw']:.0%} x PUE {a['pue']:g} at {a['electricity_usd_per_kwh']:g} USD/kWh[/]"
        )
    console.print(
        table(
            f"{tc.deployment}: {isl}+{osl} tokens, {tc.concurrency:g} clients/replica, {utilisation:.0%} utilisation",
            ["", "value"],
            [
                ["input USD / M tokens", tc.input_usd_per_mtok],
                ["output USD / M tokens", tc.output_usd_per_mtok],
                ["all-in USD / M output tokens", tc.all_in_usd_per_mtok_output],
                ["USD per request", tc.usd_per_request],
                ["prefill share of chip-time", tc.prefill_share],
                ["tokens/s per user", per_user_speed(tc.tokens_per_s_per_user)],
                ["TTFT (s)", tc.ttft_s],
                ["decode batch", tc.batch_size],
            ],
        )
    )
    if cc is not None:
        _df(
            "Cost against prompt length",
            cc.table,
            {
                "context_tokens": "prompt tokens",
                "batch_size": "batch",
                "input_usd_per_mtok": "input USD/M",
                "output_usd_per_mtok": "output USD/M",
                "kv_read_floor_usd_per_mtok": "KV-read floor",
                "output_cost_vs_shortest": "output x shortest",
            },
        )
        th = cc.surcharge_threshold_tokens
        console.print(
            f"long-context surcharge needed from {th:,} tokens (output cost > {cc.surcharge_factor:g}x the shortest)"
            if th
            else "no long-context surcharge needed in this range"
        )
    for n in (*tc.notes, *(cc.notes if cc else ())):
        console.print(f"[dim]note: {n}[/]")


# ---------------------------------------------------------------------------------------------------
# frontier
# ---------------------------------------------------------------------------------------------------


@app.command("frontier")
def frontier_cmd(
    model: ModelOpt,
    hardware: HardwareOpt,
    isl: IslOpt = 1024,
    osl: OslOpt = 1024,
    max_chips: MaxChipsOpt = 64,
    precision: PrecisionOpt = None,
    kv_precision: KvOpt = None,
    backend: BackendOpt = "vllm",
    speculative_tokens: Annotated[
        int | None,
        typer.Option(
            "--speculative-tokens",
            min=0,
            help="Draft tokens (default: sweep off and the model's MTP heads / an EAGLE-3 head; 0 = off).",
        ),
    ] = None,
    acceptance_rate: Annotated[float, typer.Option("--acceptance-rate", help="Per-draft acceptance.")] = 0.0,
    disagg: Annotated[
        bool,
        typer.Option(
            "--disagg/--no-disagg", help="Also sweep prefill/decode disaggregation (xPyD groups within --max-chips)."
        ),
    ] = True,
    own: OwnOpt = False,
    usd_per_chip_hour: UsdOpt = None,
    own_set: OwnSetOpt = None,
    utilisation: UtilOpt = 1.0,
    set_: SetOpt = None,
    plot: PlotOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The speed/cost Pareto frontier over chip count, parallelism, batch size, weight format, speculative
    decoding and prefill/decode disaggregation (each lever switchable: --precision, --speculative-tokens 0,
    --no-disagg)."""
    from inferonomics.economics import frontier
    from inferonomics.economics.levers import REALISTIC_TTFT_S
    from inferonomics.economics.plots import plot_frontier

    acq, usd, ownership = _acq(own, usd_per_chip_hour, own_set)
    f = frontier(
        model,
        _system(hardware, set_),
        isl=isl,
        osl=osl,
        max_chips=max_chips,
        precision=precision,
        kv_precision=kv_precision,
        backend=backend,
        speculative_tokens=speculative_tokens,
        acceptance_rate=acceptance_rate,
        acquisition=acq,
        usd_per_chip_hour=usd,
        ownership=ownership,
        utilisation=utilisation,
        disaggregation=disagg,
    )
    if plot:
        _plot_done(plot_frontier(f, plot))
    if json_:
        print_json(f.to_dict())
        return
    _df(
        f"{f.model} on {f.hardware}: Pareto frontier ({isl}+{osl} tokens, {f.chip_hour.usd_per_chip_hour:.2f} "
        f"USD/chip-h {f.chip_hour.acquisition}, {f.utilisation:.0%} utilisation)",
        f.points.assign(serving=[_serving(r) for r in f.points.to_dict(orient="records")]),
        {
            "tokens_per_s_per_user": "tok/s per user",
            "usd_per_mtok_output": "USD/M output",
            "usd_per_mtok_input": "USD/M input",
            "batch_size": "batch",
            "chips": "chips",
            "serving": "serving",
            "tp": "TP",
            "pp": "PP",
            "attention_dp": "ADP",
            "ep": "EP",
            "precision": "weights",
            "speculative_tokens": "drafts",
            "ttft_s": "TTFT s",
        },
    )
    marks = [
        ("latency floor", f.latency_floor),
        ("cost floor (any TTFT)", f.cost_floor),
        (f"cost floor, TTFT <= {REALISTIC_TTFT_S:g} s", f.realistic_cost_floor),
        ("single user", f.single_user),
        (f"disaggregated, TTFT <= {REALISTIC_TTFT_S:g} s", f.disaggregated),
    ]
    rows = [
        [
            name,
            m["tokens_per_s_per_user"],
            m["usd_per_mtok_output"],
            m["ttft_s"],
            m["batch_size"],
            m["chips"],
            f"{m['precision']}{' +spec' if m['speculative_tokens'] else ''}",
            _serving(m),
        ]
        for name, m in marks
        if m is not None
    ]
    console.print(
        table("Marks", ["", "tok/s per user", "USD/M output", "TTFT s", "batch", "chips", "weights", "serving"], rows)
    )
    floor = "realistic cost floor" if f.realistic_cost_floor else "cost floor"
    console.print(f"batched ({floor}) is {f.single_user_to_batched_cost_ratio:,.0f}x cheaper than one user alone")
    for n in f.notes:
        console.print(f"[dim]note: {n}[/]", highlight=False)
    if f.bounds is not None:
        console.print(
            f"[dim]analytic floors (perf.bounds): {f.bounds.latency_floor_tokens_per_s:.0f} tok/s per "
            f"user, {f.bounds.cost_floor_usd_per_mtok:.3f} USD/M ({f.bounds.cost_floor_bound})[/]"
        )


def _serving(point: Any) -> str:
    """'agg', or 'xPyD' for a disaggregated point (x prefill and y decode instances)."""
    if point.get("mode") != "disagg":
        return "agg"
    return f"{int(point['prefill_instances'])}P{int(point['decode_instances'])}D"


# ---------------------------------------------------------------------------------------------------
# price-sheet
# ---------------------------------------------------------------------------------------------------


@app.command("price-sheet")
def price_sheet_cmd(
    model: ModelOpt,
    hardware: HardwareOpt,
    tp: TpAutoOpt = "auto",
    pp: PpAutoOpt = None,
    ep: EpAutoOpt = None,
    attention_dp: AdpAutoOpt = None,
    precision: PrecisionOpt = None,
    kv_precision: KvOpt = None,
    backend: BackendOpt = "vllm",
    isl: IslOpt = 1024,
    osl: OslOpt = 1024,
    utilisation: Annotated[float, typer.Option("--utilisation", help="Target utilisation, (0, 1].")] = 0.6,
    margin: Annotated[float, typer.Option("--margin", help="Markup: price = cost x (1 + margin).")] = 0.3,
    min_speed: Annotated[float, typer.Option("--min-speed", help="Standard tier tok/s per user.")] = 20.0,
    fast_speed: Annotated[
        float | None, typer.Option("--fast-speed", help="Priority tier tok/s per user (default 2x standard).")
    ] = None,
    batch_utilisation: Annotated[float, typer.Option("--batch-utilisation", help="Batch tier utilisation.")] = 0.9,
    cache_ttl_s: Annotated[float, typer.Option("--cache-ttl", help="Prompt-cache time-to-live (s).")] = 300.0,
    cache_tier: Annotated[str, typer.Option("--cache-tier", help="auto, hbm, dram or ssd.")] = "auto",
    cache_reads: Annotated[float, typer.Option("--cache-reads", help="Reads per cache write.")] = 1.0,
    own: OwnOpt = False,
    usd_per_chip_hour: UsdOpt = None,
    own_set: OwnSetOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Derive a price sheet (input, output, cache, long context, batch, priority) at a utilisation and margin."""
    from inferonomics.economics import derive_price_sheet

    acq, usd, ownership = _acq(own, usd_per_chip_hour, own_set)
    dep = _deployment(
        model,
        hardware,
        set_,
        tp=tp,
        pp=pp,
        ep=ep,
        attention_dp=attention_dp,
        precision=precision,
        kv_precision=kv_precision,
        backend=backend,
        isl=isl,
        osl=osl,
        min_tokens_per_s_per_user=min_speed,
    )
    s = derive_price_sheet(
        dep.deployment,
        isl=isl,
        osl=osl,
        utilisation=utilisation,
        margin=margin,
        min_tokens_per_s_per_user=min_speed,
        fast_tokens_per_s_per_user=fast_speed,
        batch_utilisation=batch_utilisation,
        cache_ttl_s=cache_ttl_s,
        cache_tier=cache_tier,  # type: ignore[arg-type]
        cache_reads_per_write=cache_reads,
        acquisition=acq,
        usd_per_chip_hour=usd,
        ownership=ownership,
    )
    if json_:
        print_json({**s.to_dict(), "resolution_note": dep.note})
        return
    print_note(dep)
    c = s.cost_usd_per_mtok
    rows = [
        ["input", s.input_usd_per_mtok, c["input"]],
        ["output", s.output_usd_per_mtok, c["output"]],
        [
            f"cached input ({s.cache_tier}, TTL {s.cache_ttl_s:g} s)",
            s.cached_input_usd_per_mtok,
            c["cached_input"],
        ],
        ["cache write", s.cache_write_usd_per_mtok, c["cache_write"]],
        [
            f"batch input ({s.batch_utilisation:.0%} utilisation)",
            s.batch_input_usd_per_mtok,
            c["batch_input"],
        ],
        [f"batch output ({s.batch_discount:.0%} off)", s.batch_output_usd_per_mtok, c["batch_output"]],
        [
            f"priority output ({s.priority_multiplier:.2f}x)",
            s.priority_output_usd_per_mtok,
            c["priority_output"],
        ],
    ]
    lc = s.long_context
    if lc:
        rows.append(
            [
                f"long context > {lc['threshold_tokens']:,} input (at {lc['evaluated_at_tokens']:,})",
                lc["input_usd_per_mtok"],
                lc["input_usd_per_mtok"] / (1 + s.margin),
            ]
        )
        rows.append(
            [
                f"long context > {lc['threshold_tokens']:,} output (at {lc['evaluated_at_tokens']:,})",
                lc["output_usd_per_mtok"],
                lc["output_usd_per_mtok"] / (1 + s.margin),
            ]
        )
    console.print(
        table(
            f"Price sheet for {s.deployment} ({s.utilisation:.0%} utilisation, margin {s.margin:+.0%})",
            ["line", "USD / M tokens", "cost"],
            rows,
        )
    )
    op = s.operating_points
    console.print(
        table(
            "Operating points",
            ["tier", "batch", "tok/s per user", "TTFT s"],
            [[k, v["batch_size"], v["tokens_per_s_per_user"], v["ttft_s"]] for k, v in op.items()],
        )
    )
    for n in s.notes:
        console.print(f"[dim]note: {n}[/]")


# ---------------------------------------------------------------------------------------------------
# read-prices
# ---------------------------------------------------------------------------------------------------


@app.command("read-prices")
def read_prices_cmd(
    sheet: Annotated[str, typer.Argument(help="PROVIDER/MODEL, e.g. anthropic/claude-sonnet-4.5.")],
    reference_model: Annotated[
        str | None, typer.Option("--reference-model", help="Open model standing in for the provider's.")
    ] = None,
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="Reference hardware.")] = "h100_sxm",
    file: Annotated[Path | None, typer.Option("--file", help="Your own price sheets (TOML).")] = None,
    json_: JsonOpt = False,
) -> None:
    """What a real price sheet implies about decode vs prefill, KV, cache tier, batch and utilisation."""
    from inferonomics.economics import read_price_sheet

    r = read_price_sheet(
        sheet, reference_model=reference_model, hardware=hardware, price_file=str(file) if file else None
    )
    if json_:
        print_json(r.to_dict())
        return
    console.print(f"[bold]{r.sheet.key}[/] ({r.sheet.date}): reference {r.reference}")
    for f in r.findings:
        rng = ""
        if f.low is not None and f.high is not None:
            rng = f" [dim]range {f.low:.3g}-{f.high:.3g} {f.unit}[/]"
        console.print(
            f"\n[bold]{f.topic}[/]{rng}\n{f.statement}\n[dim]why: {f.reasoning}\n"
            f"assuming: {'; '.join(f.assumptions)}[/]",
            highlight=False,
        )


# ---------------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------------

compare_app = typer.Typer(
    help="Who serves cheaper: lab vs provider, hardware per dollar, real vs derived prices.",
    no_args_is_help=True,
)
app.add_typer(compare_app, name="compare")


def _comparison(c: Any, json_: bool, cols: dict[str, str]) -> None:
    if json_:
        print_json(c.to_dict())
        return
    _df(c.title, c.table, cols)
    console.print(c.headline)
    for n in c.notes:
        console.print(f"[dim]note: {n}[/]")


@compare_app.command("lab-vs-provider")
def compare_lab_cmd(
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System both serve on.")] = "h100_sxm",
    provider_model: Annotated[str, typer.Option("--provider-model", help="Open-weight model.")] = "llama-3.1-405b",
    lab_model: Annotated[str, typer.Option("--lab-model", help="The lab's own model.")] = "deepseek-v3",
    provider_utilisation: Annotated[float, typer.Option("--provider-utilisation")] = 0.4,
    lab_utilisation: Annotated[float, typer.Option("--lab-utilisation")] = 0.7,
    usd_per_chip_hour: UsdOpt = None,
    own_set: OwnSetOpt = None,
    min_speed: Annotated[float, typer.Option("--min-speed", help="tok/s per user both must give.")] = 20.0,
    isl: IslOpt = 1024,
    osl: OslOpt = 1024,
    max_chips: MaxChipsOpt = 64,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """The same workload served by a lab (owns chips, own model) and a provider (rents, open model)."""
    from inferonomics.economics import OwnershipAssumptions, lab_vs_provider

    _size_frontiers([_system(hardware, None)] * 2, lab_model, max_chips, force, "--max-chips")
    own = OwnershipAssumptions.from_pairs(own_set, OwnershipAssumptions(pue=1.1))
    c = lab_vs_provider(
        isl=isl,
        osl=osl,
        hardware=hardware,
        provider_model=provider_model,
        lab_model=lab_model,
        provider_usd_per_chip_hour=usd_per_chip_hour,
        ownership=own,
        provider_utilisation=provider_utilisation,
        lab_utilisation=lab_utilisation,
        min_tokens_per_s_per_user=min_speed,
        max_chips=max_chips,
    )
    _comparison(
        c,
        json_,
        {  # in the order they give way on a narrow terminal
            "step": "step",
            "model": "model",
            "cheaper_than_previous_x": "x cheaper",
            "usd_per_request": "USD/request",
            "output_usd_per_mtok": "output USD/M",
            "input_usd_per_mtok": "input USD/M",
            "usd_per_chip_hour": "USD/chip-h",
            "utilisation": "util",
            "chips": "chips",
        },
    )


@compare_app.command("hardware")
def compare_hardware_cmd(
    model: ModelOpt,
    option: Annotated[
        list[str],
        typer.Option("--option", "-o", help="SYSTEM[@USD_PER_CHIP_HOUR][:key=value,...]; first is the baseline."),
    ],
    isl: IslOpt = 1024,
    osl: OslOpt = 1024,
    min_speed: Annotated[float, typer.Option("--min-speed", help="tok/s per user.")] = 20.0,
    claim: Annotated[float | None, typer.Option("--claim", help="Claimed gain of the last option, 0.8 = 80%.")] = None,
    max_chips: MaxChipsOpt = 64,
    precision: PrecisionOpt = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Performance per dollar of hardware options (with what-ifs) on one workload."""
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.economics import HardwareOption, hardware_per_dollar

    options = [HardwareOption.parse(o) for o in option]
    systems = [get_hardware(o.hardware) for o in options]
    _size_frontiers(systems, model, max_chips, force, "--option", "give fewer options or a lower --max-chips")
    c = hardware_per_dollar(
        model,
        options,
        isl=isl,
        osl=osl,
        min_tokens_per_s_per_user=min_speed,
        max_chips=max_chips,
        precision=precision,
        claimed_gain=claim,
    )
    _comparison(
        c,
        json_,
        {
            "option": "option",
            "usd_per_chip_hour": "USD/chip-h",
            "usd_per_mtok_output_all_in": "USD/M output",
            "output_tokens_per_s_per_chip": "tok/s/chip",
            "perf_per_dollar_vs_first": "perf/$ vs first",
            "tokens_per_s_per_user": "tok/s/user",
            "speed_floor_vs_first": "top speed vs first",
        },
    )


@compare_app.command("prices")
def compare_prices_cmd(
    sheet: Annotated[str, typer.Argument(help="Provider sheet, e.g. deepseek/deepseek-v3.")],
    model: ModelOpt,
    hardware: HardwareOpt,
    tp: TpAutoOpt = "auto",
    pp: PpAutoOpt = None,
    ep: EpAutoOpt = None,
    attention_dp: AdpAutoOpt = None,
    precision: PrecisionOpt = None,
    utilisation: Annotated[float, typer.Option("--utilisation")] = 0.6,
    margin: Annotated[float, typer.Option("--margin")] = 0.3,
    usd_per_chip_hour: UsdOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A provider's sheet against a derived one for a comparable open model: implied markup or utilisation."""
    from inferonomics.catalog.prices import get_price_sheet
    from inferonomics.economics import compare_sheets, derive_price_sheet

    r = _deployment(
        model,
        hardware,
        None,
        tp=tp,
        pp=pp,
        ep=ep,
        attention_dp=attention_dp,
        precision=precision,
        min_tokens_per_s_per_user=20.0,  # derive_price_sheet's standard tier
    )
    d = derive_price_sheet(r.deployment, utilisation=utilisation, margin=margin, usd_per_chip_hour=usd_per_chip_hour)
    c = compare_sheets(d, get_price_sheet(sheet))
    c = replace(c, notes=(*c.notes, r.note))
    _comparison(
        c,
        json_,
        {
            "line": "line",
            "provider_usd_per_mtok": "provider",
            "our_cost_usd_per_mtok": "our cost",
            "our_price_usd_per_mtok": "our price",
            "implied_markup": "implied markup",
            "break_even_utilisation": "break-even util",
        },
    )


# ---------------------------------------------------------------------------------------------------
# capacity
# ---------------------------------------------------------------------------------------------------

capacity_app = typer.Typer(help="Capacity plans: agents, live voice, a coding-agent session.", no_args_is_help=True)
app.add_typer(capacity_app, name="capacity")


def _plan(p: Any, json_: bool, per: str) -> None:
    if json_:
        print_json(p.to_dict())
        return
    _df(
        p.title,
        p.options.head(8),
        {
            "deployment": "deployment",
            "total_chips": "chips",
            "replicas": "replicas",
            f"{per}s_per_replica": "per replica",
            "usd_per_hour": "USD/h",
            f"usd_per_{per}_hour": f"USD per {per}-hour",
            f"usd_per_{per}_hour_at_scale": "at scale",
            "tokens_per_s_per_user": "tok/s/user",
            "ttft_s": "TTFT s",
        },
    )
    for n in p.notes:
        console.print(f"[dim]note: {n}[/]")


@capacity_app.command("agents")
def capacity_agents_cmd(
    model: ModelOpt,
    hardware: HardwareOpt,
    agents: Annotated[float, typer.Option("--agents", max=MAX_CLIENTS, help="Concurrent agents.")],
    rate: Annotated[float, typer.Option("--tokens-per-s", help="Average output tokens/s per agent.")] = 10.0,
    context: Annotated[int, typer.Option("--context", min=1, help="Prompt tokens per turn.")] = 32_000,
    turn_tokens: Annotated[int, typer.Option("--turn-tokens", min=1, help="Output tokens per turn.")] = 500,
    own: OwnOpt = False,
    usd_per_chip_hour: UsdOpt = None,
    own_set: OwnSetOpt = None,
    max_chips: MaxChipsOpt = 64,
    precision: PrecisionOpt = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Chips, USD per hour and USD per agent-hour for N concurrent agents."""
    from inferonomics.economics import agents_capacity

    acq, usd, ownership = _acq(own, usd_per_chip_hour, own_set)
    _size_frontiers([_system(hardware, None)], model, max_chips, force, "--max-chips")
    p = agents_capacity(
        model,
        hardware,
        agents=agents,
        output_tokens_per_s_per_agent=rate,
        context_tokens=context,
        output_tokens_per_turn=turn_tokens,
        acquisition=acq,
        usd_per_chip_hour=usd,
        ownership=ownership,
        max_chips=max_chips,
        precision=precision,
    )
    _plan(p, json_, "agent")


@capacity_app.command("voice")
def capacity_voice_cmd(
    model: ModelOpt,
    hardware: HardwareOpt,
    rate: Annotated[float, typer.Option("--tokens-per-s", help="Real-time output tokens/s.")] = 15.0,
    ttft: Annotated[float, typer.Option("--ttft", help="Time to first token target (s).")] = 0.5,
    context: Annotated[int, typer.Option("--context", min=1, help="Prompt tokens per turn.")] = 4000,
    conversations: Annotated[
        float, typer.Option("--conversations", max=MAX_CLIENTS, help="Concurrent conversations.")
    ] = 1.0,
    own: OwnOpt = False,
    usd_per_chip_hour: UsdOpt = None,
    own_set: OwnSetOpt = None,
    max_chips: MaxChipsOpt = 64,
    precision: PrecisionOpt = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """USD per hour of a live voice conversation at a real-time token rate and TTFT target."""
    from inferonomics.economics import voice_capacity

    acq, usd, ownership = _acq(own, usd_per_chip_hour, own_set)
    _size_frontiers([_system(hardware, None)], model, max_chips, force, "--max-chips")
    p = voice_capacity(
        model,
        hardware,
        conversations=conversations,
        tokens_per_s=rate,
        ttft_s=ttft,
        context_tokens=context,
        acquisition=acq,
        usd_per_chip_hour=usd,
        ownership=ownership,
        max_chips=max_chips,
        precision=precision,
    )
    _plan(p, json_, "conversation")


@capacity_app.command("coding")
def capacity_coding_cmd(
    sheet: Annotated[list[str], typer.Option("--sheet", help="API price sheet(s), PROVIDER/MODEL.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Also self-host this model.")] = None,
    hardware: Annotated[str | None, typer.Option("--hardware", "-H", help="Self-hosting hardware.")] = None,
    tp: TpAutoOpt = "auto",
    pp: PpAutoOpt = None,
    turns: Annotated[int, typer.Option("--turns", min=1)] = 40,
    initial_context: Annotated[int, typer.Option("--initial-context", min=0)] = 20_000,
    new_input: Annotated[int, typer.Option("--new-input", min=0, help="New input tokens per turn.")] = 2_000,
    output: Annotated[int, typer.Option("--output", min=0, help="Output tokens per turn.")] = 800,
    cache_hit: Annotated[float, typer.Option("--cache-hit", help="Fraction of context read from cache.")] = 0.9,
    utilisation: Annotated[float, typer.Option("--utilisation", help="Self-hosted utilisation.")] = 0.6,
    margin: Annotated[float, typer.Option("--margin", help="Self-hosted markup.")] = 0.0,
    usd_per_chip_hour: UsdOpt = None,
    own: OwnOpt = False,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """A coding-agent session (growing context, prompt-cache hits) at API rates and self-hosted."""
    from inferonomics.catalog.prices import get_price_sheet
    from inferonomics.economics import TokenRates, coding_session, derive_price_sheet
    from inferonomics.economics.sizing import refuse_if_over, session_size

    sheets = len(sheet) + (1 if model or hardware else 0)
    refuse_if_over(session_size(turns, sheets), "--turns", force, "a coding session runs tens to hundreds of turns")
    rates = [TokenRates.from_sheet(get_price_sheet(s)) for s in sheet]
    if model or hardware:
        if not (model and hardware):
            raise InvalidInputError("self-hosting needs both --model and --hardware")
        acq, usd, _ = _acq(own, usd_per_chip_hour, None)
        d = derive_price_sheet(
            _deployment(model, hardware, None, tp=tp, pp=pp).deployment,
            utilisation=utilisation,
            margin=margin,
            cache_ttl_s=3600.0,
            acquisition=acq,
            usd_per_chip_hour=usd,
        )
        rates.append(TokenRates.from_derived(d, f"self-hosted {d.model}"))
    s = coding_session(
        rates,
        turns=turns,
        initial_context_tokens=initial_context,
        new_input_tokens_per_turn=new_input,
        output_tokens_per_turn=output,
        cache_hit_rate=cache_hit,
    )
    if json_:
        print_json(s.to_dict())
        return
    last = s.turns.iloc[-1]
    console.print(
        table(
            f"Coding session: {len(s.turns)} turns, context {initial_context:,} -> "
            f"{int(last['prompt_tokens']):,} tokens, {cache_hit:.0%} cache hits",
            ["rates", "USD per session"],
            [[k, v] for k, v in s.totals.items()],
        )
    )
    for n in s.notes:
        console.print(f"[dim]note: {n}[/]")


# ---------------------------------------------------------------------------------------------------
# modes
# ---------------------------------------------------------------------------------------------------


@app.command("modes")
def modes_cmd(
    portfolio: Annotated[
        Path | None,
        typer.Option("--portfolio", help="JSON portfolio of request classes (default: an example)."),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Price at an API sheet, PROVIDER/MODEL.")] = None,
    speed: Annotated[float, typer.Option("--speed", help="tok/s per user with --sheet.")] = 60.0,
    ttft: Annotated[float, typer.Option("--ttft", help="TTFT (s) with --sheet.")] = 0.5,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Or self-host this model...")] = None,
    hardware: Annotated[str | None, typer.Option("--hardware", "-H", help="...on this hardware.")] = None,
    tp: TpAutoOpt = "auto",
    usd_per_chip_hour: UsdOpt = None,
    own: OwnOpt = False,
    budget: Annotated[float | None, typer.Option("--budget", help="Best policy within this USD per request.")] = None,
    plot: PlotOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Fast vs thinking modes: cost, latency and quality of router policies, and their frontier."""
    from inferonomics.catalog.prices import get_price_sheet
    from inferonomics.economics import (
        EXAMPLE_PORTFOLIO,
        ServingRates,
        derive_price_sheet,
        policy_frontier,
        portfolio_from_dict,
    )
    from inferonomics.economics.plots import plot_policies

    if portfolio is not None:
        try:
            classes = portfolio_from_dict(json.loads(portfolio.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInputError(f"cannot read portfolio {str(portfolio)!r}: {exc}") from None
    else:
        classes = EXAMPLE_PORTFOLIO
    if sheet and (model or hardware):
        raise InvalidInputError("price at an API sheet (--sheet) or self-host (--model/--hardware), not both")
    if sheet:
        rates = ServingRates.from_sheet(get_price_sheet(sheet), speed, ttft)
    elif model and hardware:
        acq, usd, _ = _acq(own, usd_per_chip_hour, None)
        dep = _deployment(model, hardware, None, tp=tp).deployment
        rates = ServingRates.from_derived(derive_price_sheet(dep, acquisition=acq, usd_per_chip_hour=usd))
    else:
        raise InvalidInputError("give --sheet PROVIDER/MODEL or --model and --hardware")
    pf = policy_frontier(classes, rates)
    if plot:
        _plot_done(plot_policies(pf, plot))
    best = pf.best_within(budget) if budget is not None else None
    if json_:
        print_json({**pf.to_dict(), "best_within_budget": best})
        return
    names = [c.name for c in classes]
    _df(
        f"Frontier of router policies at {rates.label}",
        pf.frontier,
        {
            **{n: n for n in names},
            "usd_per_request": "USD/request",
            "latency_s": "latency s",
            "quality": "quality",
        },
    )
    if portfolio is None:
        console.print("[dim]note: the built-in portfolio is illustrative, not data: pass --portfolio[/]")
    if budget is not None:
        console.print(f"best within {budget:g} USD/request: {best}" if best else f"nothing costs <= {budget:g}")


# ---------------------------------------------------------------------------------------------------
# fleet
# ---------------------------------------------------------------------------------------------------


def _fleet_pool(text: str, option: str) -> Any:
    """'ADPxEP, optionally +R and /tpT', e.g. '144x144+32' (attention-DP 144, EP 144, 32 redundant experts)."""
    from inferonomics.economics.fleet import FleetPool

    try:
        main, _, tp = text.partition("/tp")
        shape, _, red = main.partition("+")
        adp, _, ep = shape.lower().partition("x")
        return FleetPool(int(tp or 1), int(adp), int(ep or adp), int(red or 0))
    except ValueError:
        raise InvalidInputError(
            f"{option} takes ADPxEP, optionally +REDUNDANT and /tpT, e.g. 144x144+32, got {text!r}"
        ) from None


@app.command("fleet")
def fleet_cmd(
    model: ModelOpt,
    hardware: HardwareOpt,
    input_tokens_per_day: Annotated[float, typer.Option("--input-tokens-per-day", help="Input tokens a day.")],
    output_tokens_per_day: Annotated[float, typer.Option("--output-tokens-per-day", help="Output tokens a day.")],
    prefill: Annotated[
        str, typer.Option("--prefill", help="Prefill unit ADPxEP, optionally +REDUNDANT and /tpT, e.g. 32x32+32.")
    ] = "8x8",
    decode: Annotated[str, typer.Option("--decode", help="Decode unit, e.g. 144x144+32.")] = "8x8",
    cache_hit_rate: Annotated[float, typer.Option("--cache-hit-rate", help="Prefix-cache hit rate, [0, 1).")] = 0.0,
    speed: Annotated[float, typer.Option("--tokens-per-s", help="Output tokens/s per user.")] = 20.0,
    isl: Annotated[int, typer.Option("--isl", min=1, help="Mean prompt tokens (cached prefix included).")] = 4096,
    osl: Annotated[int, typer.Option("--osl", min=1, help="Mean output tokens.")] = 1024,
    usd_per_chip_hour: UsdOpt = None,
    list_price: Annotated[
        str | None, typer.Option("--list-price", help="Price sheet PROVIDER/MODEL for the margin.")
    ] = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A lab's fleet: nodes, cost per day, cost per M input/output tokens, and a list price's margin."""
    from inferonomics.economics.fleet import fleet
    from inferonomics.economics.spec import Pricing

    plan = fleet(
        model,
        _system(hardware, set_),
        prefill=_fleet_pool(prefill, "--prefill"),
        decode=_fleet_pool(decode, "--decode"),
        input_tokens_per_day=input_tokens_per_day,
        output_tokens_per_day=output_tokens_per_day,
        cache_hit_rate=cache_hit_rate,
        tokens_per_s_per_user=speed,
        isl=isl,
        osl=osl,
        pricing=Pricing(usd_per_chip_hour=usd_per_chip_hour),
        list_price=list_price,
    )
    if json_:
        print_json(plan.to_dict())
        return
    rows = [
        [
            name,
            p["deployment"],
            p["units"],
            p["nodes"],
            p.get("input_tokens_per_s_per_node_incl_cache_hits") or p.get("output_tokens_per_s_per_node"),
        ]
        for name, p in (("prefill", plan.prefill), ("decode", plan.decode))
    ]
    console.print(
        table(f"Fleet: {plan.model} on {plan.hardware}", ["pool", "unit", "units", "nodes", "tok/s per node"], rows)
    )
    summary = [
        ["nodes", plan.nodes],
        ["USD per day", plan.usd_per_day],
        ["USD per M input tokens (cache hits included)", plan.usd_per_mtok_input],
        ["USD per M output tokens", plan.usd_per_mtok_output],
    ]
    if plan.margin is not None:
        summary += [
            ["revenue at list price, USD per day", plan.revenue_usd_per_day],
            ["margin (revenue / cost - 1)", plan.margin],
        ]
    console.print(table("Cost", ["", "value"], summary))
    for n in plan.notes:
        console.print(f"[dim]note: {n}[/]", highlight=False)
