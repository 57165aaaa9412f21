"""The user-facing prediction: a deployment + workload -> TTFT, TPOT, throughput, memory, breakdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.errors import DoesNotFitError, InvalidInputError
from inferonomics.perf.calibration import Calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.perf.engines import EngineArgs
from inferonomics.perf.memory import MemoryUse, max_sequences, memory_use
from inferonomics.perf.steady_state import closed_loop, disaggregated
from inferonomics.perf.step import StepTimeModel
from inferonomics.results import ResultMixin


@dataclass(frozen=True)
class DisaggSpec:
    """Prefill and decode pools for disaggregated serving (each pool's instances share one parallelism)."""

    prefill: Deployment
    decode: Deployment
    prefill_instances: int = 1
    decode_instances: int = 1


@dataclass(repr=False)
class ServingPrediction(ResultMixin):
    deployment: Deployment
    isl: int
    osl: int
    concurrency: float
    ttft_s: float
    ttft_range_s: tuple[float, float]
    """TTFT with the clients spread over the loop and with them synchronised (`SteadyState.ttft_range_s`)."""
    tpot_s: float
    requests_per_s: float
    output_tokens_per_s: float
    chips: int
    batch_size: float
    """Mean number of sequences in their decode phase per replica."""
    memory: MemoryUse
    breakdown: dict[str, float] = field(default_factory=dict)
    mode: str = "agg"
    disagg: DisaggSpec | None = None
    prefill_memory: MemoryUse | None = None
    """Disaggregated: memory per chip of a prefill instance (weights and one prompt's KV cache)."""
    queued_clients: float = 0.0
    """Clients waiting in the engine's queue because the KV cache holds no more sequences (their wait is in TTFT)."""

    @property
    def output_tokens_per_s_per_gpu(self) -> float:
        return self.output_tokens_per_s / self.chips

    @property
    def tokens_per_s_per_user(self) -> float:
        return 1.0 / self.tpot_s if self.tpot_s > 0 else float("inf")

    @property
    def fits(self) -> bool:
        """The deployment holds its sequences (disaggregated: both pools do)."""
        return self.memory.fits and (self.prefill_memory is None or self.prefill_memory.fits)

    def to_dict(self) -> dict[str, Any]:
        dep = self.deployment
        out: dict[str, Any] = {
            "model": dep.model.name,
            "hardware": dep.system.name,
            "mode": self.mode,
            "tp": dep.tp,
            "pp": dep.pp,
            "ep": dep.moe_ep,
            "attention_dp": dep.attention_dp,
            "replicas": dep.replicas,
            "precision": dep.weight_precision,
            "expert_precision": dep.routed_expert_precision if dep.model.is_moe else None,
            "kv_precision": dep.kv_precision,
            "backend": dep.backend,
            "isl": self.isl,
            "osl": self.osl,
            "concurrency": self.concurrency,
            "ttft_ms": self.ttft_s * 1e3,
            "ttft_range_ms": [t * 1e3 for t in self.ttft_range_s],
            "tpot_ms": self.tpot_s * 1e3,
            "tokens_per_s_per_user": self.tokens_per_s_per_user,
            "output_tokens_per_s": self.output_tokens_per_s,
            "output_tokens_per_s_per_gpu": self.output_tokens_per_s_per_gpu,
            "requests_per_s": self.requests_per_s,
            "batch_size": self.batch_size,
            "chips": self.chips,
            "fits": self.fits,
            "queued_clients": self.queued_clients,
            "memory_gb_per_gpu": self.memory.total_bytes / 1e9,
            "memory": self.memory.to_dict(),
            "breakdown": {
                k.replace("_s", "_ms") if k.endswith("_s") else k: v * 1e3 for k, v in self.breakdown.items()
            },
        }
        if not self.tpot_s > 0:
            out["tokens_per_s_per_user"] = None
            out["undefined"] = {
                "tokens_per_s_per_user": f"infinite: with osl = {self.osl} there is no decode step, so TPOT is 0 "
                "and tokens/s per user (1 / TPOT) has no finite value"
            }
        decoder = self.disagg.decode if self.disagg is not None else dep
        if decoder.speculative_tokens:
            out["speculative"] = {
                "draft": decoder.draft,
                "draft_tokens": decoder.speculative_tokens,
                "acceptance": list(decoder.position_acceptance),
                "tokens_per_step": decoder.tokens_per_step,
            }
        if self.disagg is not None:
            out["disagg"] = {
                "prefill_instances": self.disagg.prefill_instances,
                "decode_instances": self.disagg.decode_instances,
                "prefill_chips_per_instance": self.disagg.prefill.chips_per_replica,
                "decode_chips_per_instance": self.disagg.decode.chips_per_replica,
                "prefill": _parallelism(self.disagg.prefill),
                "decode": _parallelism(self.disagg.decode),
            }
            if self.prefill_memory is not None:
                out["disagg"]["prefill_memory_gb_per_gpu"] = self.prefill_memory.total_bytes / 1e9
                out["disagg"]["prefill_fits"] = self.prefill_memory.fits
        return out


def _check_workload(isl: int, osl: int, concurrency: float | None, model: ModelSpec) -> None:
    if not isinstance(isl, int | np.integer) or isl < 1:
        raise InvalidInputError(f"isl must be a whole number >= 1, got {isl!r}")
    if not isinstance(osl, int | np.integer) or osl < 1:
        raise InvalidInputError(f"osl must be a whole number >= 1, got {osl!r}")
    if concurrency is not None and (not np.isfinite(concurrency) or concurrency < 1):
        raise InvalidInputError(f"concurrency must be >= 1, got {concurrency!r}")
    if model.max_context_tokens and isl + osl > model.max_context_tokens:
        raise InvalidInputError(
            f"isl + osl = {isl + osl} exceeds {model.name}'s context window of {model.max_context_tokens} tokens"
        )


def predict_deployment(
    dep: Deployment,
    isl: int,
    osl: int,
    concurrency: float | None = None,
    *,
    max_throughput: bool = False,
    calibration: Calibration | None = None,
    require_fit: bool = True,
) -> ServingPrediction:
    """Steady state of `dep` serving `concurrency` closed-loop clients (over all replicas), or with
    `max_throughput` the concurrency per replica that maximises output tokens/s within memory."""
    _check_workload(isl, osl, concurrency, dep.model)
    stm = StepTimeModel(dep, calibration)
    if max_throughput:
        most = max_sequences(dep, isl + osl, stm.calibration)
        if most < 1:
            raise DoesNotFitError(
                f"{dep.describe()}: the weights leave no room for a single sequence of {isl + osl} tokens",
                0,
                0,
            )
        if dep.engine_args.max_num_seqs:  # the engine runs at most max_num_seqs per attention-DP rank
            most = min(most, dep.engine_args.max_num_seqs * dep.attention_dp)
        candidates = np.unique(np.clip(np.round(np.geomspace(1, most, 48)), 1, most))
        ss = closed_loop(stm, candidates, isl, osl)
        best = int(np.argmax(ss.output_tokens_per_s))
        per_replica = float(candidates[best])
    else:
        if concurrency is None:
            raise InvalidInputError("give a concurrency or ask for max_throughput")
        per_replica = float(concurrency) / dep.replicas
    ss = closed_loop(stm, per_replica, isl, osl)
    # Clients beyond the KV-cache capacity wait in the engine's queue, as engines do (the closed loop adds
    # their wait to TTFT): memory holds only the sequences in flight, and only weights that leave no room
    # for one sequence are an error.
    held = min(per_replica, max(float(max_sequences(dep, isl + osl, stm.calibration)), 1.0))
    mem = memory_use(dep, held, isl + osl, stm.calibration)
    if require_fit and not mem.fits:
        from inferonomics.perf.memory import check_fits

        check_fits(dep, held, isl + osl, stm.calibration)
    return ServingPrediction(
        deployment=dep,
        isl=int(isl),
        osl=int(osl),
        concurrency=per_replica * dep.replicas,
        ttft_s=float(ss.ttft_s),
        ttft_range_s=(float(ss.ttft_range_s[0]), float(ss.ttft_range_s[1])),
        tpot_s=float(ss.tpot_s),
        requests_per_s=float(ss.requests_per_s) * dep.replicas,
        output_tokens_per_s=float(ss.output_tokens_per_s) * dep.replicas,
        chips=dep.chips,
        batch_size=float(ss.decode_batch),
        memory=mem,
        breakdown={k: float(v) for k, v in ss.breakdown.items()},
        queued_clients=(per_replica - held) * dep.replicas,
    )


def _parallelism(dep: Deployment) -> dict[str, int]:
    return {"tp": dep.tp, "pp": dep.pp, "ep": dep.moe_ep, "attention_dp": dep.attention_dp}


def predict_disaggregated(
    spec: DisaggSpec,
    isl: int,
    osl: int,
    concurrency: float,
    calibration: Calibration | None = None,
    require_fit: bool = True,
) -> ServingPrediction:
    """Steady state of disaggregated serving (see `steady_state.disaggregated`)."""
    _check_workload(isl, osl, concurrency, spec.decode.model)
    if spec.prefill_instances < 1 or spec.decode_instances < 1:
        raise InvalidInputError("prefill and decode pools need at least one instance each")
    p = StepTimeModel(spec.prefill, calibration)
    d = StepTimeModel(spec.decode, calibration)
    ss = disaggregated(p, d, spec.prefill_instances, spec.decode_instances, concurrency, isl, osl)
    per_decode = concurrency / spec.decode_instances
    mem = memory_use(spec.decode, per_decode, isl + osl, d.calibration)
    # A prefill instance holds the weights and at least one prompt's KV cache until it is shipped.
    prefill_mem = memory_use(spec.prefill, 1, isl, p.calibration)
    if require_fit:
        from inferonomics.perf.memory import check_fits

        for pool, use, dep, seqs, ctx, cal in (
            ("prefill", prefill_mem, spec.prefill, 1, isl, p.calibration),
            ("decode", mem, spec.decode, per_decode, isl + osl, d.calibration),
        ):
            if not use.fits:
                try:
                    check_fits(dep, seqs, ctx, cal)
                except DoesNotFitError as exc:
                    raise DoesNotFitError(f"{pool} pool: {exc}", exc.required_bytes, exc.available_bytes) from None
    chips = (
        spec.prefill.chips_per_replica * spec.prefill_instances + spec.decode.chips_per_replica * spec.decode_instances
    )
    return ServingPrediction(
        deployment=spec.decode,
        isl=int(isl),
        osl=int(osl),
        concurrency=float(concurrency),
        ttft_s=float(ss.ttft_s),
        ttft_range_s=(float(ss.ttft_range_s[0]), float(ss.ttft_range_s[1])),
        tpot_s=float(ss.tpot_s),
        requests_per_s=float(ss.requests_per_s),
        output_tokens_per_s=float(ss.output_tokens_per_s),
        chips=chips,
        batch_size=float(ss.decode_batch),
        memory=mem,
        breakdown={k: float(v) for k, v in ss.breakdown.items()},
        mode="disagg",
        disagg=spec,
        prefill_memory=prefill_mem,
    )


def make_deployment(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    dp: int = 1,
    attention_dp: int = 1,
    moe_tp: int = 0,
    precision: str | None = None,
    kv_precision: str | None = None,
    expert_precision: str | None = None,
    backend: str = "vllm",
    speculative_tokens: int = 0,
    acceptance_rate: float = 0.0,
    acceptance: tuple[float, ...] | list[float] = (),
    draft: str = "mtp",
    draft_model: ModelSpec | str | None = None,
    overrides: dict[str, Any] | None = None,
    engine_args: EngineArgs | None = None,
    two_batch_overlap: bool = False,
) -> Deployment:
    """A `Deployment` from names or objects; precision defaults to the checkpoint's native format and
    the KV cache to fp8 when weights are 8-bit or narrower, else bf16; `expert_precision` stores an MoE
    model's routed experts in another format (None: as the other weights). Speculative decoding:
    `speculative_tokens` drafts per step accepted with `acceptance` per position (or `acceptance_rate` at
    every position), drafted by the model's MTP layers or by `draft_model` (`draft="model"`);
    `two_batch_overlap` hides the expert all-to-all behind the other micro-batch (`Deployment`)."""
    from inferonomics.catalog.hardware import with_overrides
    from inferonomics.catalog.hardware_catalog import get_hardware
    from inferonomics.catalog.model_catalog import get_model

    m = get_model(model) if isinstance(model, str) else model
    s = get_hardware(hardware) if isinstance(hardware, str) else hardware
    if overrides:
        s = with_overrides(s, overrides)
    w = precision or m.native_precision
    kv = kv_precision or ("fp8" if w not in ("bf16", "fp16", "fp32") else "bf16")
    return Deployment(
        model=m,
        system=s,
        tp=tp,
        pp=pp,
        attention_dp=attention_dp,
        moe_ep=ep,
        moe_tp=moe_tp,
        weight_precision=w,
        kv_precision=kv,
        expert_precision=expert_precision,
        backend=backend,  # type: ignore[arg-type]  # checked by Deployment
        replicas=dp,
        speculative_tokens=speculative_tokens,
        acceptance_rate=acceptance_rate,
        engine_args=engine_args or EngineArgs(),
        acceptance=tuple(float(a) for a in acceptance),
        draft=draft,  # type: ignore[arg-type]  # checked by Deployment
        draft_model=get_model(draft_model) if isinstance(draft_model, str) else draft_model,
        two_batch_overlap=two_batch_overlap,
    )


def predict(
    model: ModelSpec | str,
    hardware: System | str,
    *,
    isl: int,
    osl: int,
    concurrency: float | None = None,
    max_throughput: bool = False,
    calibration: Calibration | None = None,
    **deployment: Any,
) -> ServingPrediction:
    """Predict serving of `model` on `hardware` (names or objects) for a closed loop of `concurrency`
    clients sending ISL/OSL requests; keyword arguments as `make_deployment` (tp, pp, ep, dp, ...)."""
    dep = make_deployment(model, hardware, **deployment)
    return predict_deployment(dep, isl, osl, concurrency, max_throughput=max_throughput, calibration=calibration)
