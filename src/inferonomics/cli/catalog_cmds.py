"""Catalog commands: models, model, hardware, prices, and `summary` (a model on a chip at a glance).

Presentation only: each command calls the Python API and prints Rich tables, or JSON with `--json`.
Product errors (`InferonomicsError`) propagate to `run_app()`, which prints one red line and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel

from inferonomics.catalog.rental import NO_PUBLIC_PRICE
from inferonomics.cli.common import app, console, print_json
from inferonomics.cli.render import Column, WideOpt, fmt, human_bytes, human_count, records_table, table
from inferonomics.errors import ConfigError
from inferonomics.frames import json_records

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="What-if: replace a hardware figure, e.g. --set hbm_bandwidth_tb_s=10 (repeatable)."),
]
HwFileOpt = Annotated[
    Path | None, typer.Option("--file", help="Your own hardware TOML (same format as the built-in catalog).")
]


def _model_api() -> Any:
    try:
        from inferonomics.catalog import model_catalog
    except ModuleNotFoundError as exc:  # pragma: no cover - until the model catalog lands
        if exc.name != "inferonomics.catalog.model_catalog":
            raise
        raise ConfigError("the model catalog is not available in this build") from None
    return model_catalog


# ---------------------------------------------------------------------------------------------------
# models / model
# ---------------------------------------------------------------------------------------------------


def _params_cell(total: float, active: float) -> str:
    """'8.03B', or "235B/22.2B" (total/active) for a mixture of experts."""
    return human_count(total) if active >= total else f"{human_count(total)}/{human_count(active)}"


def _also_cell(name: str, hf_id: str, aliases: str) -> str:
    """Other names that work: the catalog name where the HF id does not hold it, then two short aliases."""
    hf_id = hf_id if isinstance(hf_id, str) else ""
    names = [name] if hf_id and not hf_id.split("/")[-1].lower().startswith(name.lower()) else []
    names += [a for a in (aliases or "").split(", ") if a and a.lower() != name.lower()][:2]
    return ", ".join(dict.fromkeys(names))


_MODEL_COLUMNS = [
    Column("hf_id", "Hugging Face id", priority=0),
    Column("params", "params (active)", priority=1),
    Column("also", "also known as", priority=2, prose=True),
    Column("max_context_tokens", "context", priority=3),
    Column("kv", "KV/token bf16", priority=4),
    Column("native_precision", "weights", priority=5),
    Column("attention", "attention", priority=6),
    Column("layers", "layers", priority=7),
    Column("family", "family", priority=8),
    Column("name", "name", priority=9),
]


@app.command("models")
def models_cmd(json_: JsonOpt = False, wide: WideOpt = False) -> None:
    """List the built-in models: Hugging Face id, other names, size, context, KV cache per token."""
    df = _model_api().list_models()
    if json_:
        print_json(json_records(df))
        return
    view = df.assign(
        hf_id=[h if isinstance(h, str) and h else n for h, n in zip(df["hf_id"], df["name"], strict=True)],
        also=[_also_cell(*r) for r in zip(df["name"], df["hf_id"], df.get("aliases", [""] * len(df)), strict=True)],
        params=[_params_cell(t, a) for t, a in zip(df["total_params"], df["active_params"], strict=True)],
        kv=[human_bytes(v) for v in df["kv_bytes_per_token_bf16"]],
    )
    console.print(
        records_table(
            f"Models ({len(df)}); any name on a row works; `inferonomics model NAME` for one", view, _MODEL_COLUMNS
        )
    )


@app.command("model")
def model_cmd(
    name: Annotated[str, typer.Argument(help="Catalog name, Hugging Face id, or path to a config.json.")],
    json_: JsonOpt = False,
) -> None:
    """One model's architecture, parameters, weight bytes and KV bytes per token."""
    summary = _model_api().get_model(name).summary()
    if json_:
        print_json(summary)
        return
    keys = [
        "hf_id",
        "family",
        "attention",
        "layers",
        "hidden_size",
        "num_heads",
        "num_kv_heads",
        "head_dim",
        "vocab_size",
        "sliding_window",
        "max_context_tokens",
        "native_precision",
        "source",
        "date",
    ]
    lines = [
        f"[bold]total params[/]  {human_count(summary['total_params'])}    "
        f"[bold]active params[/]  {human_count(summary['active_params'])}",
        *(f"[bold]{k}[/]  {fmt(summary.get(k))}" for k in keys if summary.get(k) not in (None, "", 0)),
    ]
    moe = summary.get("moe")
    if moe:
        lines.append("[bold]moe[/]  " + ", ".join(f"{k} {fmt(v)}" for k, v in moe.items()))
    console.print(Panel("\n".join(lines), title=str(summary["name"]), title_align="left"))
    weights = summary.get("weight_bytes", {})
    console.print(
        table(
            "Weight bytes by precision",
            ["precision", "bytes", "human"],
            [[p, float(b), human_bytes(b)] for p, b in weights.items()],
        )
    )
    kv = summary.get("kv_bytes_per_token", {})
    console.print(
        table(
            "KV cache bytes per token by KV precision",
            ["kv precision", "bytes/token", "human"],
            [[p, float(b), human_bytes(b)] for p, b in kv.items()],
        )
    )


# ---------------------------------------------------------------------------------------------------
# hardware
# ---------------------------------------------------------------------------------------------------

_LIST_COLUMNS = [
    Column("system", "system", priority=0),
    Column("hbm_gb", "HBM GB", priority=1),
    Column("hbm_bandwidth_tb_s", "HBM TB/s", priority=2),
    Column("bf16_tflops", "bf16 TFLOP/s", priority=3, zero="-"),
    Column("fp8_tflops", "fp8 TFLOP/s", priority=4, zero="-"),
    Column("rental_text", "USD/chip-h", priority=5),
    Column("scaleup_domain_chips", "scale-up chips", priority=6),
    Column("intra_node_bandwidth_gb_s", "scale-up GB/s", priority=7, zero="-"),
    Column("fp4_tflops", "fp4 TFLOP/s", priority=8, zero="-"),
    Column("inter_node_bandwidth_gb_s", "scale-out GB/s", priority=9, zero="-"),
    Column("chips_per_node", "per node", priority=10),
    Column("topology", "topology", priority=11),
    Column("n_unverified", "(?)", priority=12, zero=""),
]


def _figure_rows(obj: Any, unverified: tuple[str, ...], skip: set[str]) -> list[list[Any]]:
    from dataclasses import fields

    rows = []
    for f in fields(obj):
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, tuple):
            value = ", ".join(value) or None
        mark = "(?) unverified" if f.name in unverified else ""
        rows.append([f.name, value if value != "" else None, mark])
    return rows


_RENTAL_FIELDS = {
    "rental_usd_per_hour_low",
    "rental_usd_per_hour_high",
    "rental_hyperscaler_usd_per_hour_low",
    "rental_hyperscaler_usd_per_hour_high",
    "rental_1y_usd_per_hour",
    "rental_3y_usd_per_hour",
    "rental_date",
    "rental_source",
    "rental_no_public_price",
}
"""Shown together in the Sources panel (reference, range, commitments, date, source), not as 0s."""


def _rental_text(price: Any) -> str:
    """A reference rental price for the table, or 'no public price' (never 0)."""
    return NO_PUBLIC_PRICE if price is None or price != price else f"{price:.2f}"


@app.command("hardware")
def hardware_cmd(
    name: Annotated[str | None, typer.Argument(help="System or chip name (H100, gb200, tpu-v5e ...).")] = None,
    set_: SetOpt = None,
    file: HwFileOpt = None,
    json_: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """List chips and systems, or show every figure of one with sources and unverified marks."""
    from inferonomics.catalog.hardware import parse_overrides
    from inferonomics.catalog.hardware_catalog import get_hardware, list_hardware, unverified_fields

    overrides = parse_overrides(set_)
    if name is None:
        if overrides:
            raise ConfigError("--set needs a hardware NAME to change")
        df = list_hardware(file)
        if json_:
            print_json(json_records(df))
            return
        df = df.assign(
            n_unverified=[len(u.split(", ")) if u else 0 for u in df["unverified"]],
            rental_text=[_rental_text(p) for p in df["rental_usd_per_chip_hour"]],
        )
        console.print(
            records_table(
                f"Hardware systems ({len(df)}); figures per chip, network per chip per direction",
                df,
                _LIST_COLUMNS,
                caption="- = none or not published; (?) = figures from secondary sources. USD/chip-h: the "
                "reference rental price (midpoint of the market on-demand range, else of the hyperscaler range). "
                "`inferonomics hardware NAME` shows every figure with its source, and the price's range and date.",
            )
        )
        return
    system = get_hardware(name, overrides, file)
    if json_:
        print_json(
            {
                **system.to_dict(),
                "unverified_all": unverified_fields(system),
                "rental_usd_per_chip_hour_effective": system.rental_usd_per_hour,
                "rental": system.rental.to_dict(),
            }
        )
        return
    chip = system.chip
    console.print(
        table(
            f"Chip {chip.name} ({chip.full_name or chip.vendor})",
            ["figure", "value", ""],
            _figure_rows(chip, chip.unverified, {"name", "source", "date", "notes", *_RENTAL_FIELDS}),
        )
    )
    console.print(
        table(
            f"System {system.name}",
            ["figure", "value", ""],
            _figure_rows(
                system, system.unverified, {"name", "chip", "source", "date", "notes", "rental_usd_per_chip_hour"}
            ),
        )
    )
    lines = [f"[bold]chip source[/] ({chip.date}): {chip.source}"]
    rental = system.rental
    if rental.has_price:
        lines.append(
            f"[bold]rental[/] {rental.reference_usd_per_chip_hour:.2f} USD/chip-h ({rental.rule}); range "
            f"{rental.range_text()}"
            + "".join(
                f"; {k} {v:.2f}" for k, v in (("1-year", rental.commit_1y_usd), ("3-year", rental.commit_3y_usd)) if v
            )
            + f" ({rental.date}): {rental.source}"
        )
    else:
        lines.append(f"[bold]rental[/] {NO_PUBLIC_PRICE}: {rental.no_public_price}")
    lines.append(f"[bold]system source[/] ({system.date}): {system.source}")
    lines += [f"[bold]note[/]: {n}" for n in (chip.notes, system.notes) if n]
    console.print(Panel("\n".join(lines), title="Sources", title_align="left"))


# ---------------------------------------------------------------------------------------------------
# prices
# ---------------------------------------------------------------------------------------------------


@app.command("prices")
def prices_cmd(
    provider: Annotated[
        str | None, typer.Argument(help="Provider (openai, anthropic, google, deepseek) or provider/model.")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Your own price sheets (TOML).")] = None,
    market: Annotated[bool, typer.Option("--market", help="Show observed market points instead.")] = False,
    json_: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Public API price sheets (USD per million tokens) with their dates and sources."""
    from inferonomics.catalog.prices import get_price_sheet, list_market_points, list_prices, list_providers
    from inferonomics.errors import UnknownNameError

    if market:
        df = list_market_points(file)
        if json_:
            print_json(json_records(df))
        else:
            console.print(
                records_table(
                    "Observed market points (speed of one request, blended price)",
                    df,
                    {
                        "model": "model",
                        "precision": "precision",
                        "output_tokens_per_s": "tok/s",
                        "blended_usd_per_mtok": "USD / M tokens",
                        "date": "date",
                    },
                )
            )
            for source in dict.fromkeys(df["source"]):
                console.print(f"[dim]source: {source}[/]")
        return
    if provider is not None and "/" in provider:
        sheet = get_price_sheet(provider, file)
        if json_:
            print_json(sheet.to_dict())
            return
        rows = [[k, v if v not in ("", ()) else None] for k, v in sheet.to_dict().items()]
        console.print(table(f"Price sheet {sheet.key} (USD per million tokens)", ["field", "value"], rows))
        return
    try:
        df = list_prices(provider, file)
    except UnknownNameError:
        if provider is None:
            raise
        try:  # a bare model name ('gpt-5')
            sheet = get_price_sheet(provider, file)
        except UnknownNameError:
            raise UnknownNameError("provider or price sheet", provider, list_providers(file)[:5]) from None
        df = list_prices(sheet.provider, file)
        df = df[df["key"] == sheet.key]
    if json_:
        print_json(json_records(df))
        return
    console.print(
        records_table(
            "API prices, USD per million tokens",
            df,
            [
                Column("key", "provider/model", priority=0),
                Column("input_usd_per_mtok", "input", priority=1),
                Column("output_usd_per_mtok", "output", priority=2),
                Column("cached_input_usd_per_mtok", "cached input", priority=3),
                Column("batch_discount", "batch", priority=4, format=_discount, zero="-"),
                Column("date", "date", priority=5),
                Column("cache_write_5m_usd_per_mtok", "cache write 5m", priority=6),
                Column("long_context_threshold_tokens", "long context above", priority=7, zero="-"),
                Column("off_peak_discount", "off-peak", priority=8, format=_discount, zero="-"),
                Column("valid_until", "valid until", priority=9),
            ],
            caption="- = not documented. `inferonomics prices PROVIDER/MODEL` shows every field and the "
            "source; --market shows observed market points.",
        )
    )


def _discount(v: float) -> str:
    """0.5 -> '-50%'."""
    return f"-{fmt(v * 100)}%"


# ---------------------------------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------------------------------


@app.command("summary")
def summary_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name, Hugging Face id or config.json path.")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System or chip name.")],
    chips: Annotated[
        int | None,
        typer.Option("--chips", min=1, help="Chips to use (default: the deployment `predict` and `cost` choose)."),
    ] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="Weight precision (default: native).")] = None,
    kv_precision: Annotated[str, typer.Option("--kv-precision", help="KV cache precision.")] = "bf16",
    set_: SetOpt = None,
    file: HwFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A model on a chip: weights vs HBM, chips to hold them, KV room, and a naive decode-speed bound."""
    from inferonomics.catalog.hardware import parse_overrides
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.summary import naive_summary

    spec = _model_api().get_model(model)
    system = get_hardware(hardware, parse_overrides(set_), file)
    note = "given: --chips"
    if chips is None:  # the chips of the deployment the resolver takes (the weights alone fit on fewer)
        from inferonomics.economics.spec import DeploymentSpec
        from inferonomics.errors import DoesNotFitError

        try:
            r = DeploymentSpec(spec, system, precision=precision).resolve()
            chips, note = r.deployment.chips_per_replica, r.note
        except DoesNotFitError as exc:
            note = f"no deployment of up to 64 chips holds it ({exc}); the figures use the chips the weights need"
    s = naive_summary(spec, system, chips=chips, weight_precision=precision, kv_precision=kv_precision)
    if json_:
        print_json({**s.to_dict(), "resolution_note": note})
        return
    rows: list[list[Any]] = [
        ["model", s.model, f"{human_count(s.total_params)} params, {human_count(s.active_params)} active"],
        ["hardware", s.hardware, f"chip {s.chip}, {s.chips_per_node} per node"],
        ["weights", human_bytes(s.weight_bytes), f"at {s.weight_precision}"],
        ["HBM per chip", human_bytes(s.hbm_bytes_per_chip), ""],
        ["chips to hold the weights", s.chips_to_hold_weights, "weights only: no KV cache or reserve"],
        ["chips used below", s.chips, ("fits" if s.fits else "DOES NOT FIT") + "; the deployment chosen below"],
        ["free memory", human_bytes(max(s.free_bytes, 0.0)), f"{s.chips} x HBM - weights"],
        ["KV bytes per token", human_bytes(s.kv_bytes_per_token), f"at {s.kv_precision}"],
        ["KV tokens that fit", s.kv_tokens_that_fit, "in the free memory, all sequences together"],
        [
            "naive decode bound",
            f"{s.naive_decode_tokens_per_s:,.1f} tok/s",
            f"{s.naive_decode_s_per_token * 1e3:,.2f} ms/token = weight bytes / (chips x HBM bandwidth)",
        ],
    ]
    if s.active_params < s.total_params:
        rows.append(
            [
                "naive bound, active weights",
                f"{s.naive_decode_tokens_per_s_active:,.1f} tok/s",
                "MoE at batch 1 reads only routed experts",
            ]
        )
    console.print(
        table(
            f"{s.model} on {s.hardware} (NAIVE: one user, peak bandwidth, no overheads)",
            ["", "value", "meaning"],
            rows,
        )
    )
    console.print(f"[dim]deployment: {note}[/]", highlight=False)
    for n in s.notes:
        console.print(f"[dim]note: {n}[/]")
