"""`inferonomics serve` (the web app on localhost) and `inferonomics report` (HTML + PNG reports).

Presentation only: `serve` runs `inferonomics.web.create_app()` under uvicorn; `report` calls
`inferonomics.report.build_report` and writes the files.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from inferonomics.cli.common import app, console, err_console
from inferonomics.errors import ConfigError, InvalidInputError

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_port(host: str, port: int) -> None:
    """Fail early, with a hint, when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); try --port {port + 1}"
            ) from None


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser.")] = False,
) -> None:
    """Start the web app (built-in catalog) and print its URL; Ctrl-C stops it."""
    import uvicorn

    from inferonomics.web import create_app

    _check_port(host, port)
    local = host in _LOOPBACK
    trusted = None if not local else ("localhost", "127.0.0.1", "::1")
    url = url_for(host, port)
    if not local:
        err_console.print(
            f"[bold yellow]warning:[/] listening on {host}: anyone who can reach this machine can use the app",
            highlight=False,
        )
    typer.echo(f"inferonomics is running at {url} (API docs at {url}docs); Ctrl-C to stop")
    if not no_open:
        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(create_app(trusted_hosts=trusted), host=host, port=port, log_level="warning")


@app.command("report")
def report_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name (see `inferonomics models`).")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="System or chip name.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write a self-contained HTML report here.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write one PNG per chart into this directory.")] = None,
    isl: Annotated[int, typer.Option("--isl", min=1, help="Input tokens per request.")] = 1024,
    osl: Annotated[int, typer.Option("--osl", min=1, help="Output tokens per request.")] = 1024,
    concurrency: Annotated[float, typer.Option("--concurrency", "-c", min=1, help="Concurrent users.")] = 16.0,
    tp: Annotated[
        int | None,
        typer.Option("--tp", min=1, help="Tensor parallelism (default: auto, the cheapest deployment that fits)."),
    ] = None,
    pp: Annotated[int, typer.Option("--pp", min=1, help="Pipeline stages.")] = 1,
    ep: Annotated[int, typer.Option("--ep", min=1, help="Expert parallelism (MoE).")] = 1,
    precision: Annotated[str | None, typer.Option("--precision", help="Weight format (default: native).")] = None,
    kv_precision: Annotated[str | None, typer.Option("--kv-precision", help="KV-cache format.")] = None,
    backend: Annotated[str, typer.Option("--backend", help="vllm, trtllm or sglang.")] = "vllm",
    max_chips: Annotated[int, typer.Option("--max-chips", min=1, help="Largest deployment on the frontier.")] = 64,
    compare: Annotated[
        str | None, typer.Option("--compare", help="A provider's price sheet to compare with, e.g. openai/gpt-4o.")
    ] = None,
    usd_per_chip_hour: Annotated[
        float | None, typer.Option("--usd-per-chip-hour", help="Rental price per chip-hour (default: catalog).")
    ] = None,
    utilisation: Annotated[float, typer.Option("--utilisation", help="Utilisation for the price sheet.")] = 0.6,
    margin: Annotated[float, typer.Option("--margin", help="Markup for the price sheet.")] = 0.3,
    simulate: Annotated[
        int, typer.Option("--simulate", min=0, help="Also simulate this many requests (0 = no simulation).")
    ] = 0,
    rate: Annotated[float, typer.Option("--rate", help="Requests per second for --simulate.")] = 2.0,
    force: Annotated[bool, typer.Option("--force", help="Run even when sized above an hour or 16 GB.")] = False,
) -> None:
    """Write a report of a model on a system: HTML (charts embedded, works offline) and/or PNG figures."""
    from inferonomics.report import ReportInputs, build_report, write_html, write_pngs

    if out is None and png is None:
        raise InvalidInputError("give --out FILE.html, --png DIR, or both")
    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise InvalidInputError(f"--out must end in .html, got {str(out)!r}")
    if not rate > 0:
        raise InvalidInputError(f"--rate must be > 0, got {rate}")
    if usd_per_chip_hour is not None and not usd_per_chip_hour > 0:
        raise InvalidInputError(f"--usd-per-chip-hour must be > 0, got {usd_per_chip_hour}")
    _size_report(model, hardware, isl, osl, max_chips, simulate, rate, force)
    inputs = ReportInputs(
        model=model,
        hardware=hardware,
        isl=isl,
        osl=osl,
        concurrency=concurrency,
        tp=tp,
        pp=pp,
        ep=ep,
        precision=precision,
        kv_precision=kv_precision,
        backend=backend,
        max_chips=max_chips,
        provider_sheet=compare,
        usd_per_chip_hour=usd_per_chip_hour,
        utilisation=utilisation,
        margin=margin,
        simulate_requests=simulate,
        simulate_rate_per_s=rate,
    )
    r = build_report(inputs)
    if out is not None:
        if out.parent and not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        path = write_html(r, out)
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, self-contained)", highlight=False)
    if png is not None:
        paths = write_pngs(r, png)
        console.print(f"wrote {len(paths)} PNGs to {png}: {', '.join(p.name for p in paths)}", highlight=False)


REPORT_SIM_WALL_S = 120.0
"""The report's simulation stops (partial result) after this long (`report.build._simulate`)."""


def _size_report(
    model: str, hardware: str, isl: int, osl: int, max_chips: int, requests: int, rate: float, force: bool
) -> None:
    """Size the report before it starts (`economics.sizing`, `serving.sizing`): its frontier and, with
    --simulate, the simulation (refused when a partial run would hold under a tenth of it, or above 16 GB)."""
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.economics.sizing import FORCE_MEMORY_BYTES, frontier_deployments, frontier_size, refuse_if_over
    from inferonomics.errors import OverBudgetError
    from inferonomics.serving.sizing import size_simulation

    system, m = get_hardware(hardware), get_model(model)
    refuse_if_over(
        frontier_size(1, frontier_deployments(max_chips, system.scaleup_domain_chips, m.is_moe, 6)),
        "--max-chips",
        force,
    )
    if requests <= 0:
        return
    size = size_simulation(
        replicas=1,
        requests=requests,
        mean_isl=isl,
        mean_osl=osl,
        max_batch=256,
        chunk_tokens=8192,
        kv_tokens_per_replica=None,
        rate_per_s=rate,
    )
    if not force and (size.wall_s > 10 * REPORT_SIM_WALL_S or size.memory_bytes > FORCE_MEMORY_BYTES):
        raise OverBudgetError(
            f"--simulate {requests:,}: the simulation is sized at {size.describe()}, over 10x the report's "
            f"{REPORT_SIM_WALL_S:.0f} s simulation budget (a partial run would hold under a tenth of it) or "
            f"{FORCE_MEMORY_BYTES / 1e9:.0f} GB; lower --simulate or --osl, or pass --force"
        )
