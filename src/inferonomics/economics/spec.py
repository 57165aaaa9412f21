"""One deployment spec, resolved once: what CLI commands, the web API and reports hand over when the
user leaves the parallelism open.

    spec = DeploymentSpec("llama-3.1-70b", "h100_sxm")                  # tp="auto"
    r = spec.resolve(Workload(isl=1024, osl=1024, concurrency=32))
    r.deployment, r.concurrency, r.note                                  # TP4 ..., 32, "auto: ..."

The rule (one for every caller): among the deployments of up to `max_chips` chips that hold the weights
and one ISL + OSL sequence (`frontier.candidate_deployments`: TP within the scale-up domain x PP, and
attention-DP x EP for MoE), keep the operating points that meet the workload's targets, then take

- objective "cost": the lowest chip-seconds per output token, prefill included (the chip-hour price is
  the same for every candidate on one system, so no price is needed to rank them);
- objective "latency": the most tokens/s per user (cost breaks ties).

Targets: the workload's TTFT / tokens-per-second-per-user, and with a given concurrency that the
replica's KV cache holds every client (no queueing). With neither a concurrency nor a TTFT target, the
cost objective is quoted at a realistic service level: TTFT <= `levers.REALISTIC_TTFT_S` (2 s) and
>= `levers.REALISTIC_TOKENS_PER_S_PER_USER` (20 tok/s per user). When no
point meets the targets the closest is taken and the note says so. A parallelism the user gives is used
as given; if it is invalid or cannot hold the weights the error names a deployment that does (so a
suggestion is always a valid, fitting configuration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.economics.cost import check_workload, operating_points
from inferonomics.economics.levers import REALISTIC_TOKENS_PER_S_PER_USER, REALISTIC_TTFT_S
from inferonomics.economics.ownership import (
    Acquisition,
    ChipHourCost,
    OwnershipAssumptions,
    check_utilisation,
    chip_hour_cost,
)
from inferonomics.errors import DoesNotFitError, InferonomicsError, InvalidInputError
from inferonomics.perf import Deployment, make_deployment, max_sequences
from inferonomics.perf.calibration import Calibration
from inferonomics.perf.engines import EngineArgs
from inferonomics.perf.predict import DisaggSpec

Objective = Literal["cost", "latency"]
OBJECTIVES: tuple[str, ...] = ("cost", "latency")
AUTO = "auto"


@dataclass(frozen=True)
class Workload:
    """Request shape, load and targets: validated once."""

    isl: int = 1024
    osl: int = 1024
    concurrency: float | None = None
    """Closed-loop clients over all replicas; None = the objective picks the load."""
    max_ttft_s: float | None = None
    min_tokens_per_s_per_user: float | None = None
    """A TPOT target, as its inverse."""
    objective: Objective = "cost"
    rate_per_s: float | None = None
    """An open loop's offered requests per second over all replicas (a trace, Poisson arrivals); each
    candidate is then evaluated at its share of the rate (Little's law on the closed loop), not at a load
    the objective picks. Exclusive with `concurrency`."""

    def __post_init__(self) -> None:
        check_workload(self.isl, self.osl)
        c = self.concurrency
        if c is not None and (isinstance(c, bool) or not np.isfinite(c) or c < 1):
            raise InvalidInputError(f"concurrency must be >= 1, got {c!r}")
        r = self.rate_per_s
        if r is not None and (isinstance(r, bool) or not np.isfinite(r) or r <= 0):
            raise InvalidInputError(f"rate_per_s must be > 0, got {r!r}")
        if r is not None and c is not None:
            raise InvalidInputError("give a concurrency (closed loop) or a rate (open loop), not both")
        for name in ("max_ttft_s", "min_tokens_per_s_per_user"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not np.isfinite(v) or v <= 0):
                raise InvalidInputError(f"{name} must be > 0, got {v!r}")
        if self.objective not in OBJECTIVES:
            raise InvalidInputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")

    @property
    def effective_max_ttft_s(self) -> float | None:
        """The TTFT bound the resolver applies: the given one, else the realistic one when the objective
        picks the load for cost (a cost quoted at a 100 s TTFT is no service)."""
        if self.max_ttft_s is not None:
            return self.max_ttft_s
        if self.concurrency is None and self.objective == "cost":
            return REALISTIC_TTFT_S
        return None

    @property
    def effective_min_tokens_per_s_per_user(self) -> float | None:
        """The per-user speed the resolver applies: the given one, else the realistic one when the objective
        picks the load for cost (20 tok/s: DeepSeek's production average, the price sheets' standard tier)."""
        if self.min_tokens_per_s_per_user is not None:
            return self.min_tokens_per_s_per_user
        if self.concurrency is None and self.objective == "cost":
            return REALISTIC_TOKENS_PER_S_PER_USER
        return None

    @classmethod
    def of_run(
        cls,
        workload: Any,
        objective: Objective = "cost",
        max_ttft_s: float | None = None,
        min_tokens_per_s_per_user: float | None = None,
    ) -> Workload:
        """The resolver's workload for a simulation's (a trace, a synthetic open or closed loop, sessions):
        its mean prompt and output lengths, and its clients when it is a closed loop (an open loop leaves the
        load to the objective, at the realistic service level unless targets are given)."""
        from inferonomics.serving.sizing import workload_shape

        shape = workload_shape(workload)
        return cls(
            isl=max(int(round(shape.mean_isl)), 1),
            osl=max(int(round(shape.mean_osl)), 1),
            concurrency=shape.clients,
            rate_per_s=shape.rate_per_s if shape.clients is None else None,
            max_ttft_s=max_ttft_s,
            min_tokens_per_s_per_user=min_tokens_per_s_per_user,
            objective=objective,
        )

    def targets_text(self) -> str:
        parts = []
        if self.concurrency is not None:
            parts.append(f"{self.concurrency:g} clients held without queueing")
        if self.rate_per_s is not None:
            parts.append(f"{self.rate_per_s:.3g} requests/s served")
        t = self.effective_max_ttft_s
        if t is not None:
            parts.append(f"TTFT <= {t:g} s")
        v = self.effective_min_tokens_per_s_per_user
        if v is not None:
            parts.append(f">= {v:g} tok/s per user")
        realistic = self.concurrency is None and self.objective == "cost"
        given = self.max_ttft_s is not None and self.min_tokens_per_s_per_user is not None
        return (", ".join(parts) or "no target") + (" (realistic SLO)" if realistic and not given else "")


@dataclass(frozen=True)
class Pricing:
    """What a chip-hour costs: rent (the given or catalog price) or own, at a utilisation."""

    acquisition: Acquisition = "rent"
    usd_per_chip_hour: float | None = None
    ownership: OwnershipAssumptions | None = None
    utilisation: float = 1.0

    def __post_init__(self) -> None:
        if self.acquisition not in ("rent", "own"):
            raise InvalidInputError(f"acquisition must be 'rent' or 'own', got {self.acquisition!r}")
        if self.acquisition == "own" and self.usd_per_chip_hour is not None:
            raise InvalidInputError("usd_per_chip_hour is a rental price; ownership takes OwnershipAssumptions")
        if self.ownership is not None and self.acquisition != "own":
            raise InvalidInputError("ownership assumptions apply to acquisition 'own'")
        check_utilisation(self.utilisation)

    def chip_hour(self, system: System) -> ChipHourCost:
        """The chip-hour cost on `system`; a clear error when the catalog has no public price."""
        return chip_hour_cost(
            system, self.acquisition, usd_per_chip_hour=self.usd_per_chip_hour, ownership=self.ownership
        )


@dataclass(frozen=True)
class Pool:
    """One pool of disaggregated serving: `instances` copies of one parallelism (`tp="auto"` resolves)."""

    instances: int = 1
    tp: int | str = AUTO
    pp: int | None = None
    ep: int | None = None
    attention_dp: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.instances, bool) or not isinstance(self.instances, int) or self.instances < 1:
            raise InvalidInputError(f"a pool needs a whole number of instances >= 1, got {self.instances!r}")
        _check_tp(self.tp)


def _check_tp(tp: Any) -> None:
    if tp == AUTO:
        return
    if isinstance(tp, bool) or not isinstance(tp, int | np.integer) or tp < 1:
        raise InvalidInputError(f"tp must be a whole number >= 1 or 'auto', got {tp!r}")


def parse_tp(text: str | int | None) -> int | str:
    """'auto' / None -> 'auto'; '4' -> 4 (CLI and API text)."""
    if text is None or text == AUTO:
        return AUTO
    if isinstance(text, int):
        return text
    try:
        value = int(str(text).strip())
    except ValueError:
        raise InvalidInputError(f"--tp must be a whole number or 'auto', got {text!r}") from None
    if value < 1:
        raise InvalidInputError(f"--tp must be >= 1, got {value}")
    return value


@dataclass(frozen=True)
class ResolvedDeployment:
    """What `DeploymentSpec.resolve` chose, and why."""

    deployment: Deployment
    concurrency: float | None
    """Clients per replica the objective picked (None: the workload gave the load)."""
    note: str
    auto: bool
    candidates: int = 1
    disagg: DisaggSpec | None = None
    point: dict[str, float] = field(default_factory=dict)
    """The chosen operating point's TTFT, tokens/s per user and chip-s per output token (auto only)."""
    met: bool = True
    """False when no candidate met the targets and the closest was taken (callers say so loudly)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment.describe(),
            "concurrency_per_replica": self.concurrency,
            "resolution_note": self.note,
            "auto": self.auto,
            "candidates": self.candidates,
        }


@dataclass(frozen=True)
class DeploymentSpec:
    """A model on a system with its parallelism (`tp="auto"` = resolve), formats, engine and pools."""

    model: ModelSpec | str
    hardware: System | str
    tp: int | str = AUTO
    pp: int | None = None
    ep: int | None = None
    attention_dp: int | None = None
    dp: int = 1
    precision: str | None = None
    kv_precision: str | None = None
    expert_precision: str | None = None
    backend: str = "vllm"
    speculative_tokens: int = 0
    acceptance_rate: float = 0.0
    acceptance: tuple[float, ...] = ()
    """Draft acceptance per position (`Deployment.acceptance`); empty = `acceptance_rate` everywhere."""
    overrides: dict[str, Any] | None = field(default=None, compare=False)
    max_chips: int = 64
    mode: Literal["agg", "disagg"] = "agg"
    prefill: Pool | None = None
    decode: Pool | None = None
    engine_args: EngineArgs | None = None
    """The engine's knobs (memory fraction, max sequences, token budget, block size); None = its defaults."""

    def __post_init__(self) -> None:
        from inferonomics.catalog.hardware import with_overrides
        from inferonomics.catalog.hardware_catalog import get_hardware
        from inferonomics.catalog.model_catalog import get_model
        from inferonomics.catalog.precision import get_precision

        m = get_model(self.model) if isinstance(self.model, str) else self.model
        s = get_hardware(self.hardware) if isinstance(self.hardware, str) else self.hardware
        if self.overrides:
            s = with_overrides(s, self.overrides)
        object.__setattr__(self, "model", m)
        object.__setattr__(self, "hardware", s)
        _check_tp(self.tp)
        for name in ("pp", "ep", "attention_dp"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise InvalidInputError(f"{name} must be a whole number >= 1, got {v!r}")
        if self.pp is not None and self.pp > m.num_layers:
            raise InvalidInputError(f"pp ({self.pp}) exceeds the number of layers ({m.num_layers})")
        if self.ep is not None and self.ep > 1 and (not m.is_moe or m.num_experts % self.ep):
            raise InvalidInputError(
                f"moe_ep ({self.ep}) must divide the number of experts ({m.num_experts})"
                if m.is_moe
                else f"moe_ep > 1 needs an MoE model; {m.name} is dense"
            )
        if isinstance(self.dp, bool) or not isinstance(self.dp, int) or self.dp < 1:
            raise InvalidInputError(f"dp must be a whole number >= 1, got {self.dp!r}")
        if isinstance(self.max_chips, bool) or not isinstance(self.max_chips, int) or self.max_chips < 1:
            raise InvalidInputError(f"max_chips must be a whole number >= 1, got {self.max_chips!r}")
        for name in ("precision", "kv_precision", "expert_precision"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, get_precision(v).name)
        if self.mode not in ("agg", "disagg"):
            raise InvalidInputError(f"mode must be agg or disagg, got {self.mode!r}")
        if self.mode == "disagg" and self.dp != 1:
            raise InvalidInputError("dp does not apply to disaggregated serving: give the pools' instances")
        if self.mode == "agg" and (self.prefill is not None or self.decode is not None):
            raise InvalidInputError("prefill/decode pools apply only to mode 'disagg'")

    @property
    def model_spec(self) -> ModelSpec:
        assert isinstance(self.model, ModelSpec)
        return self.model

    @property
    def system(self) -> System:
        assert isinstance(self.hardware, System)
        return self.hardware

    # -------------------------------------------------------------------------------------------------

    def _build(self, tp: int, pp: int, ep: int, adp: int, dp: int = 1) -> Deployment:
        return make_deployment(
            self.model_spec,
            self.system,
            tp=tp,
            pp=pp,
            ep=ep,
            dp=dp,
            attention_dp=adp,
            precision=self.precision,
            kv_precision=self.kv_precision,
            expert_precision=self.expert_precision,
            backend=self.backend,
            speculative_tokens=self.speculative_tokens,
            acceptance_rate=self.acceptance_rate,
            engine_args=self.engine_args,
            acceptance=self.acceptance if self.speculative_tokens else (),
        )

    def candidates(self, workload: Workload, calibration: Calibration | None = None) -> list[Deployment]:
        """Deployments that hold the weights and one sequence, with the user's fixed pp/ep/attention-DP."""
        from inferonomics.economics.frontier import candidate_deployments

        deps = candidate_deployments(
            self.model_spec,
            self.system,
            isl=workload.isl,
            osl=workload.osl,
            max_chips=self.max_chips,
            precision=self.precision,
            kv_precision=self.kv_precision,
            backend=self.backend,
            speculative_tokens=self.speculative_tokens,
            acceptance_rate=self.acceptance_rate,
            calibration=calibration,
        )
        keep = []
        for d in deps:
            if self.pp is not None and d.pp != self.pp:
                continue
            if self.ep is not None and d.moe_ep != self.ep:
                continue
            if self.attention_dp is not None and d.attention_dp != self.attention_dp:
                continue
            if self.expert_precision:
                d = d.with_(expert_precision=self.expert_precision)
            keep.append(d.with_(engine_args=self.engine_args) if self.engine_args else d)
        if self.acceptance and self.speculative_tokens:
            keep = [d.with_(acceptance=self.acceptance) for d in keep]
        return keep

    def _no_fit(self, workload: Workload) -> DoesNotFitError:
        """Nothing holds the model: say so, and name a narrower format that does, if one does."""
        from inferonomics.economics.levers import native_formats

        m, s = self.model_spec, self.system
        w = m.weight_bytes(self.precision or m.native_precision)
        hint = f"raise max_chips (now {self.max_chips}) or use narrower weights"
        for fmt in native_formats(m, s):
            if fmt == (self.precision or m.native_precision):
                continue
            alt = DeploymentSpec(m, s, precision=fmt, backend=self.backend, max_chips=self.max_chips)
            deps = alt.candidates(workload)
            if deps:
                best = min(deps, key=lambda d: (d.chips_per_replica, -d.tp))
                shape = best.parallelism_label
                hint = f"in {fmt} it fits on {best.chips_per_replica} chips ({shape}: --precision {fmt})"
                break
        fixed = [f"{k}={getattr(self, k)}" for k in ("pp", "ep", "attention_dp") if getattr(self, k) is not None]
        return DoesNotFitError(
            f"{m.name} ({w / 1e9:.0f} GB of weights) with a {workload.isl + workload.osl}-token sequence fits on no "
            f"deployment of up to {self.max_chips} {s.name} chips ({s.chip.hbm_gb:g} GB each)"
            + (f" with {', '.join(fixed)}" if fixed else "")
            + f"; {hint}",
            w,
            self.max_chips * s.chip.hbm_bytes,
        )

    def _explicit(
        self, tp: int, pp: int | None, ep: int | None, adp: int | None, dp: int, workload: Workload, role: str = ""
    ) -> Deployment:
        """The user's parallelism; when it is invalid or cannot hold the weights, the error names one that can."""
        try:
            dep = self._build(tp, pp or 1, ep or 1, adp or 1, dp)
            if max_sequences(dep, workload.isl + workload.osl) < 1:
                from inferonomics.perf.memory import check_fits

                check_fits(dep, 1, workload.isl + workload.osl)
                raise DoesNotFitError(
                    f"{dep.describe()}: the weights leave no room for one sequence of "
                    f"{workload.isl + workload.osl} tokens",
                    0.0,
                    0.0,
                )
        except InferonomicsError as exc:
            suggestion = self._suggestion(workload, role)
            head = f"{role} pool: " if role else ""
            if suggestion or role:
                msg = head + f"{str(exc).rstrip('.')}" + (f"; {suggestion}" if suggestion else "")
                if isinstance(exc, DoesNotFitError):
                    raise DoesNotFitError(msg, exc.required_bytes, exc.available_bytes) from None
                raise type(exc)(msg) from None
            raise
        return dep

    def _suggestion(self, workload: Workload, role: str = "") -> str:
        """'a deployment that fits: TP4 (4 chips; --tp 4)', from the auto rule, or '' when none fits."""
        try:
            auto = DeploymentSpec(
                self.model_spec,
                self.system,
                precision=self.precision,
                kv_precision=self.kv_precision,
                expert_precision=self.expert_precision,
                backend=self.backend,
                max_chips=self.max_chips,
            )
            r = auto._resolve_auto(
                Workload(workload.isl, workload.osl, workload.concurrency, rate_per_s=workload.rate_per_s), dp=self.dp
            )
        except InferonomicsError as exc:
            return f"no deployment fits: {exc}"
        d = r.deployment
        prefix = f"{role}-" if role else ""
        return (
            f"a deployment that fits: {d.parallelism_label} ({d.chips_per_replica} chips; {_flags(d, prefix)}, "
            f"or leave --{prefix}tp auto)"
        )

    def _resolve_auto(
        self,
        workload: Workload,
        dp: int,
        calibration: Calibration | None = None,
        what: str = "",
        given: Deployment | None = None,
    ) -> ResolvedDeployment:
        deps = [given] if given is not None else self.candidates(workload, calibration)
        if not deps:
            raise self._no_fit(workload)
        per_replica = None if workload.concurrency is None else workload.concurrency / dp
        frames = []
        for i, d in enumerate(deps):
            try:
                if workload.rate_per_s is not None:
                    pts = _at_rate(d, workload, workload.rate_per_s / dp, calibration)
                else:
                    pts = operating_points(
                        d,
                        workload.isl,
                        workload.osl,
                        None if per_replica is None else [max(per_replica, 1.0)],
                        n=24,
                        calibration=calibration,
                    )
                    pts["carries"] = True
            except DoesNotFitError:
                continue
            pts["candidate"] = i
            pts["holds"] = pts["concurrency"] <= max_sequences(d, workload.isl + workload.osl, calibration)
            frames.append(pts)
        if not frames:
            raise self._no_fit(workload)
        pts = pd.concat(frames, ignore_index=True)
        ok = pts["carries"].to_numpy(dtype=bool).copy()
        if per_replica is not None:
            ok &= pts["holds"].to_numpy()
        t = workload.effective_max_ttft_s
        if t is not None:
            ok &= pts["ttft_s"].to_numpy() <= t
        speed = workload.effective_min_tokens_per_s_per_user
        if speed is not None:
            ok &= pts["tokens_per_s_per_user"].to_numpy() >= speed
        met = bool(ok.any())
        pool = pts[ok] if met else pts
        cost = pool["chip_s_per_output_token_all_in"]
        chips = pool["chips"]
        if workload.rate_per_s is not None and given is None and not pts["carries"].any():
            return self._resolve_uncarried(workload, dp, calibration, what)
        if workload.objective == "latency" or (not met and speed is not None):
            key = pd.DataFrame({"a": -pool["tokens_per_s_per_user"], "b": cost, "c": chips})
        elif not met and t is not None:
            key = pd.DataFrame({"a": pool["ttft_s"], "b": cost, "c": chips})
        elif not met:  # only the concurrency could not be held: the deployment that queues least
            key = pd.DataFrame({"a": -_held(pool, deps, workload), "b": cost, "c": chips})
        else:
            key = pd.DataFrame({"a": cost, "b": chips, "c": -pool["tokens_per_s_per_user"]})
        best = key.sort_values(["a", "b", "c"], kind="stable").index[0]
        row = pts.loc[best]
        dep = deps[int(row["candidate"])].with_(replicas=dp)
        objective = "fastest" if workload.objective == "latency" else "cheapest per token"
        fitting = len({int(c) for c in pts["candidate"]})
        smaller = sorted(
            {
                n
                for n in (1, 2, 4, 8, 16, 32, 64)
                if n < dep.chips_per_replica and not any(d.chips_per_replica == n for d in deps)
            }
        )
        why = f"; {', '.join(map(str, smaller))} chip(s) cannot hold it" if smaller else ""
        fmt = dep.weight_precision + (" + spec. decoding" if dep.speculative_tokens else "")
        if given is not None:
            load = f"at {row['concurrency']:.3g} clients per replica, the cheapest point" if per_replica is None else ""
            met_text = f"meeting {workload.targets_text()}" if met else f"closest to {workload.targets_text()}"
            pick = f"given: {dep.parallelism_label} on {dep.chips_per_replica}x {dep.system.name}" + (
                f"; {load} {met_text} (TTFT {row['ttft_s']:.2g} s, {_per_user(row['tokens_per_s_per_user'])})"
                if load
                else ""
            )
            return ResolvedDeployment(
                dep.with_(replicas=given.replicas),
                float(row["concurrency"]) if per_replica is None else None,
                pick,
                False,
            )
        pick = (
            f"auto{what}: {dep.parallelism_label} on {dep.chips_per_replica}x {dep.system.name} ({fmt}), "
            f"the {objective} of "
            f"{fitting} deployment(s) that hold the model"
        )
        if met:
            pick += f" and meet {workload.targets_text()}"
        else:
            pick += f"; none meets {workload.targets_text()}, so the closest is used"

        pick += (
            f" (TTFT {row['ttft_s']:.2g} s, {_per_user(row['tokens_per_s_per_user'])}"
            + (f", at {row['concurrency']:.3g} clients per replica" if per_replica is None else "")
            + f"){why}"
        )
        return ResolvedDeployment(
            deployment=dep,
            concurrency=float(row["concurrency"]) if per_replica is None else None,
            note=pick,
            auto=True,
            met=met,
            candidates=fitting,
            point={
                "requests_per_s": float(row["output_tokens_per_s"]) / workload.osl,
                "ttft_s": float(row["ttft_s"]),
                "tokens_per_s_per_user": float(row["tokens_per_s_per_user"]),
                "chip_s_per_output_token_all_in": float(row["chip_s_per_output_token_all_in"]),
            },
        )

    def _resolve_uncarried(
        self, workload: Workload, dp: int, calibration: Calibration | None, what: str
    ) -> ResolvedDeployment:
        """No candidate's replica serves its share of the offered rate: the deployment the rule picks with the
        load left open, and how many replicas would carry the rate at that point."""
        from dataclasses import replace

        rate = workload.rate_per_s or 0.0
        r = self._resolve_auto(replace(workload, rate_per_s=None), dp, calibration, what)
        per_replica = r.point.get("requests_per_s") or 0.0
        need = int(np.ceil(rate / per_replica)) if per_replica > 0 else 0
        hint = (
            f"; no replica of up to {self.max_chips} chips serves {rate / dp:.3g} requests/s "
            f"({rate:.3g} over {dp} replica(s)): at this point one serves {per_replica:.3g}, "
            f"so about {need} replicas carry the rate"
        )
        return replace(r, note=r.note + hint)

    def resolve(self, workload: Workload | None = None, calibration: Calibration | None = None) -> ResolvedDeployment:
        """The deployment to run (see the module docstring for the rule)."""
        wl = workload or Workload()
        m = self.model_spec
        if m.max_context_tokens and wl.isl + wl.osl > m.max_context_tokens:
            raise InvalidInputError(
                f"isl + osl = {wl.isl + wl.osl} exceeds {m.name}'s context window of {m.max_context_tokens} tokens"
            )
        if self.mode == "disagg":
            return self._resolve_disagg(wl, calibration)
        if self.tp == AUTO:
            return self._resolve_auto(wl, self.dp, calibration)
        dep = self._explicit(int(self.tp), self.pp, self.ep, self.attention_dp, self.dp, wl)
        if wl.concurrency is None:  # the load is still the objective's choice, by the same rule
            return self._resolve_auto(wl, self.dp, calibration, given=dep)
        return ResolvedDeployment(
            dep, None, f"given: {dep.parallelism_label} on {dep.chips_per_replica}x {dep.system.name}", False
        )

    def _resolve_disagg(self, wl: Workload, calibration: Calibration | None) -> ResolvedDeployment:
        """Each pool by the same rule: the decode pool as an aggregated deployment serving its share of the
        clients, the prefill pool the cheapest per prompt token of those that hold one prompt."""
        from inferonomics.economics.disaggregation import cheapest_prefill

        clients = wl.concurrency
        if clients is None:
            raise InvalidInputError("disaggregated serving needs a concurrency")
        pre, dec = self.prefill or Pool(), self.decode or Pool()
        notes = []

        def pool_dep(p: Pool, role: str) -> Deployment:
            if p.tp != AUTO:
                return self._explicit(int(p.tp), p.pp, p.ep, p.attention_dp, 1, wl, role)
            sub = DeploymentSpec(
                self.model_spec,
                self.system,
                pp=p.pp,
                ep=p.ep,
                attention_dp=p.attention_dp,
                precision=self.precision,
                kv_precision=self.kv_precision,
                expert_precision=self.expert_precision,
                backend=self.backend,
                speculative_tokens=self.speculative_tokens if role == "decode" else 0,
                acceptance_rate=self.acceptance_rate if role == "decode" else 0.0,
                acceptance=self.acceptance if role == "decode" else (),
                max_chips=self.max_chips,
            )
            if role == "decode":
                r = sub._resolve_auto(
                    Workload(wl.isl, wl.osl, clients / p.instances, objective=wl.objective),
                    1,
                    calibration,
                    " decode pool",
                )
                notes.append(r.note)
                return r.deployment
            deps = sub.candidates(Workload(wl.isl, 1), calibration)
            if not deps:
                raise sub._no_fit(Workload(wl.isl, 1))
            best = cheapest_prefill(deps, wl.isl, calibration)
            notes.append(
                f"auto prefill pool: {best.parallelism_label} on {best.chips_per_replica}x {best.system.name}, "
                "the cheapest per "
                f"prompt token of {len(deps)} deployment(s) that hold one prompt"
            )
            return best

        spec = DisaggSpec(pool_dep(pre, "prefill"), pool_dep(dec, "decode"), pre.instances, dec.instances)
        note = "; ".join(notes) or "given: both pools' parallelism"
        return ResolvedDeployment(spec.decode, None, note, bool(notes), disagg=spec)


def _at_rate(d: Deployment, wl: Workload, rate_per_s: float, calibration: Calibration | None) -> pd.DataFrame:
    """The operating point of one replica fed `rate_per_s` (open loop): the clients in flight at which the
    closed loop serves that rate (Little's law, as `steady_state.open_loop`), interpolated on the closed loop's
    grid; `carries` is False when even the full batch serves less (the replica saturates)."""
    grid = operating_points(d, wl.isl, wl.osl, None, n=24, calibration=calibration)
    served = np.maximum.accumulate(grid["output_tokens_per_s"].to_numpy() / wl.osl)
    in_flight = float(np.interp(rate_per_s, served, grid["concurrency"].to_numpy()))
    pts = operating_points(d, wl.isl, wl.osl, [max(in_flight, 1.0)], calibration=calibration)
    pts["requests_per_s"] = min(rate_per_s, float(served[-1]))
    pts["carries"] = bool(served[-1] >= rate_per_s)
    return pts


def _per_user(speed: float) -> str:
    """'21 tok/s per user', or why there is no such figure (one output token: no decode step)."""
    return f"{speed:.0f} tok/s per user" if np.isfinite(speed) else "no decode step (osl 1): speed per user undefined"


def _held(pool: pd.DataFrame, deps: list[Deployment], wl: Workload) -> pd.Series:
    """Clients each point's replica holds (for the least-queueing fallback)."""
    return pool["candidate"].map(lambda i: max_sequences(deps[int(i)], wl.isl + wl.osl)).astype(float)


def _flags(d: Deployment, prefix: str = "") -> str:
    out = [f"--{prefix}tp {d.tp}"]
    if d.pp > 1:
        out.append(f"--pp {d.pp}")
    if d.attention_dp > 1:
        out.append(f"--{prefix}attention-dp {d.attention_dp}")
    if d.model.is_moe and d.moe_ep > 1:
        out.append(f"--{prefix}ep {d.moe_ep}")
    return " ".join(out)


def resolve_deployment(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    tp: int | str | None = AUTO,
    pp: int | None = None,
    ep: int | None = None,
    attention_dp: int | None = None,
    isl: int = 1024,
    osl: int = 1024,
    concurrency: float | None = None,
    objective: Objective = "cost",
    max_ttft_s: float | None = None,
    min_tokens_per_s_per_user: float | None = None,
    calibration: Calibration | None = None,
    **spec: Any,
) -> ResolvedDeployment:
    """`DeploymentSpec(...).resolve(Workload(...))` in one call (keyword arguments as `DeploymentSpec`)."""
    s = DeploymentSpec(model, hardware, tp=parse_tp(tp), pp=pp, ep=ep, attention_dp=attention_dp, **spec)
    wl = Workload(isl, osl, concurrency, max_ttft_s, min_tokens_per_s_per_user, objective)
    return s.resolve(wl, calibration)


__all__ = [
    "AUTO",
    "OBJECTIVES",
    "DeploymentSpec",
    "Objective",
    "Pool",
    "Pricing",
    "ResolvedDeployment",
    "Workload",
    "parse_tp",
    "resolve_deployment",
]
