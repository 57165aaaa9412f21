"""Collect a report: a model on a hardware system, seen through every view (prediction, floors, roofline,
frontier, price sheet, optionally a short simulation), each with its charts."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from inferonomics.errors import InferonomicsError
from inferonomics.report import charts, views


@dataclass(frozen=True)
class ReportInputs:
    """What to report on; `tp=None` = auto (`economics.spec`: the cheapest deployment that fits and holds
    `concurrency` clients)."""

    model: str
    hardware: str
    isl: int = 1024
    osl: int = 1024
    concurrency: float = 16.0
    tp: int | None = None
    pp: int = 1
    ep: int = 1
    precision: str | None = None
    kv_precision: str | None = None
    backend: str = "vllm"
    max_chips: int = 64
    provider_sheet: str | None = None
    usd_per_chip_hour: float | None = None
    """Rental price per chip-hour; None = the catalog's."""
    utilisation: float = 0.6
    margin: float = 0.3
    simulate_requests: int = 0
    """0 = no simulation; else this many Poisson requests at `simulate_rate_per_s`."""
    simulate_rate_per_s: float = 2.0
    seed: int = 0


@dataclass
class Report:
    inputs: ReportInputs
    sections: dict[str, dict[str, Any]]
    """name -> {"title", "data", "charts": {name: figure}, "notes": [...]}"""
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))

    def figures(self) -> dict[str, dict[str, Any]]:
        return {name: fig for s in self.sections.values() for name, fig in s.get("charts", {}).items()}


def build_report(inp: ReportInputs) -> Report:
    """Run every view for `inp` (calls the Python API; product errors propagate)."""
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model

    model = get_model(inp.model)
    system = get_hardware(inp.hardware)
    from inferonomics.economics.spec import DeploymentSpec, Workload

    auto = inp.tp is None
    resolved = DeploymentSpec(
        model,
        system,
        tp="auto" if auto else inp.tp,  # type: ignore[arg-type]
        pp=None if auto and inp.pp == 1 else inp.pp,
        ep=None if auto and inp.ep == 1 else inp.ep,
        precision=inp.precision,
        kv_precision=inp.kv_precision,
        backend=inp.backend,
        max_chips=inp.max_chips,
    ).resolve(Workload(inp.isl, inp.osl, inp.concurrency))
    dep = resolved.deployment
    sections: dict[str, dict[str, Any]] = {}
    pred = views.prediction_view(dep, inp.isl, inp.osl, inp.concurrency, False)
    sections["prediction"] = {
        "title": "Prediction",
        "data": pred,
        "charts": {"breakdown": charts.breakdown_chart(pred), "memory": charts.memory_chart(pred)},
        "notes": [resolved.note],
    }

    def floors_section() -> dict[str, Any]:
        fl = views.floors_view(
            model,
            system,
            context_tokens=inp.isl + inp.osl // 2,
            precision=dep.weight_precision,
            kv_precision=dep.kv_precision,
            usd_per_chip_hour=inp.usd_per_chip_hour,
        )
        return {"title": "Lower bounds", "data": fl, "charts": {}}

    def roofline_section() -> dict[str, Any]:
        roof = views.roofline_view(dep, inp.isl, inp.osl, max(float(pred.get("batch_size") or 1.0), 1.0))
        return {
            "title": "Roofline",
            "data": roof,
            "charts": {"roofline": charts.roofline_chart(roof)},
            "notes": roof.get("notes", []),
        }

    def frontier_section() -> dict[str, Any]:
        fr = views.frontier_view(
            model,
            system,
            isl=inp.isl,
            osl=inp.osl,
            max_chips=inp.max_chips,
            precision=dep.weight_precision,
            kv_precision=dep.kv_precision,
            backend=dep.backend,
            usd_per_chip_hour=inp.usd_per_chip_hour,
        )
        return {
            "title": "Speed/cost frontier",
            "data": fr,
            "charts": {"frontier": charts.frontier_chart(fr)},
            "notes": fr.get("notes", []),
        }

    def price_section() -> dict[str, Any]:
        ps = views.price_sheet_view(
            dep,
            inp.provider_sheet,
            isl=inp.isl,
            osl=inp.osl,
            utilisation=inp.utilisation,
            margin=inp.margin,
            usd_per_chip_hour=inp.usd_per_chip_hour,
        )
        return {
            "title": "Price sheet",
            "data": ps,
            "charts": {"price_sheet": charts.price_sheet_chart(ps)},
            "notes": ps["derived"].get("notes", []),
        }

    def simulation_section() -> dict[str, Any]:
        sim = _simulate(dep, inp)
        return {
            "title": "Simulation",
            "data": sim,
            "charts": {"latency_cdf": charts.latency_cdf_chart(sim), "kv_occupancy": charts.kv_occupancy_chart(sim)},
        }

    parts = [
        ("floors", "Lower bounds", floors_section),
        ("roofline", "Roofline", roofline_section),
        ("frontier", "Speed/cost frontier", frontier_section),
        ("price_sheet", "Price sheet", price_section),
    ]
    if inp.simulate_requests > 0:
        parts.append(("simulation", "Simulation", simulation_section))
    for key, title, make in parts:
        try:
            sections[key] = make()
        except InferonomicsError as exc:  # e.g. no rental price for this hardware: the rest still reports
            sections[key] = {"title": title, "data": None, "charts": {}, "error": str(exc)}
    return Report(inp, sections)


def _simulate(dep: Any, inp: ReportInputs) -> dict[str, Any]:
    from inferonomics.serving import Fixed, RunLimits, Simulation, synthetic_workload

    wl = synthetic_workload(
        inp.simulate_rate_per_s, inp.simulate_requests, Fixed(inp.isl), Fixed(inp.osl), seed=inp.seed
    )
    res = Simulation(dep, wl, limits=RunLimits(max_wall_s=120.0), seed=inp.seed).run()
    return views.simulation_view(res, {"workload": wl.describe(), "deployment": dep.describe()})


__all__ = ["Report", "ReportInputs", "build_report"]
