"""The search space: which deployments of one model to screen, and how they are enumerated.

A `Candidate` is one deployment (a replica's system, parallelism, formats, engine, speculative
decoding and prefill chunk size) described by names and numbers only, so it pickles cheaply to
worker processes and Ray tasks. Batch sizes are not part of a candidate: each candidate's batch
sizes are screened together in one vectorised call of the performance model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import InvalidInputError
from inferonomics.perf import BACKENDS
from inferonomics.perf.engines import EngineArgs

MODES: tuple[str, ...] = ("agg", "disagg")

ENGINES_BY_VENDOR: dict[str, tuple[str, ...]] = {
    "NVIDIA": ("trtllm", "vllm", "sglang"),
    "AMD": ("vllm", "sglang"),
}
"""Engines that run on a vendor's chips (with `SearchSpace.all_engines`); others get vLLM."""

_SAME_TIER_PREFERENCE: dict[str, tuple[str, ...]] = {
    # one format per tensor tier, unless the user lists formats: the first the chip supports
    "8bit": ("fp8", "int8"),  # int8's tier differs from fp8's but costs the same bytes
    "fp4": ("nvfp4", "mxfp4"),
}


@dataclass(frozen=True)
class SearchSpace:
    """What to enumerate. Defaults keep a full-catalog search of a 70B model to a few seconds.

    `None` for a format or engine list means "derived per chip": weight formats the chip runs that are
    no wider than the checkpoint's (one per tensor tier: bf16, fp8 | int8, int4 weight-only,
    nvfp4 | mxfp4), KV in bf16 and fp8 where the chip has fp8, and the vLLM engine (all engines that
    run on the vendor with `all_engines`). Pipeline stages other than 1 are tried only with tensor
    parallelism filling the scale-up domain (pipelining across domains, as deployments do), unless
    `pp_within_domain`. Attention data parallelism and expert parallelism are tried for MoE models
    only (for a dense model attention-DP is the same as more replicas, which the search sizes itself).
    """

    hardware: tuple[str, ...] = ()
    """System or chip names; empty = every system in the catalog."""
    tp: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    pp: tuple[int, ...] = (1, 2, 4, 8)
    attention_dp: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    max_chips_per_instance: int = 64
    pp_within_domain: bool = False
    weight_precisions: tuple[str, ...] = ()
    kv_precisions: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    all_engines: bool = False
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
    """Max batch sizes (clients per instance); the largest batch that fits in memory is always added."""
    chunk_tokens: tuple[int, ...] = (0,)
    """Prefill chunk sizes (tokens per iteration); 0 = the engine's calibrated default."""
    speculative_tokens: tuple[int, ...] = ()
    """Draft tokens per step to try besides 0 (off); empty = the model's default speculation
    (`economics.levers.default_speculation`: its MTP heads, else an EAGLE-3 draft head)."""
    acceptance_rate: float | None = None
    """Acceptance per draft token; None = the cited default of the model's speculation (0.85 for MTP heads,
    DeepSeek-V3 report sec. 5.4.3; 0.66 for an EAGLE-3 head). An assumption: measure it on your workload."""
    engine_args: EngineArgs = EngineArgs()
    """Engine knobs every candidate runs with (memory fraction, max sequences, token budget, block size)."""
    acceptance: tuple[float, ...] = ()
    """Assumed acceptance per draft position (overrides `acceptance_rate` when given)."""
    modes: tuple[str, ...] = MODES
    disagg_groups: int = 3
    """Disaggregated pools are built for this many leading (hardware, formats, engine) groups."""
    disagg_decode_candidates: int = 2
    max_prefill_instances: int = 4
    max_decode_instances: int = 8

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "attention_dp", "batch_sizes"):
            values = getattr(self, name)
            if not values or any(not isinstance(v, int) or v < 1 for v in values):
                raise InvalidInputError(f"{name} must be a non-empty list of whole numbers >= 1, got {values!r}")
        if any(not isinstance(c, int) or c < 0 for c in self.chunk_tokens) or not self.chunk_tokens:
            raise InvalidInputError(f"chunk_tokens must be whole numbers >= 0 (0 = default), got {self.chunk_tokens}")
        if any(k < 1 for k in self.speculative_tokens):
            raise InvalidInputError(f"speculative_tokens must be >= 1, got {self.speculative_tokens}")
        if self.acceptance_rate is not None and not 0.0 <= self.acceptance_rate < 1.0:
            raise InvalidInputError(f"acceptance_rate must be in [0, 1), got {self.acceptance_rate}")
        if any(not 0.0 <= a < 1.0 for a in self.acceptance):
            raise InvalidInputError(f"acceptance per position must be in [0, 1), got {list(self.acceptance)}")
        if self.max_chips_per_instance < 1:
            raise InvalidInputError("max_chips_per_instance must be >= 1")
        bad_modes = [m for m in self.modes if m not in MODES]
        if bad_modes or not self.modes:
            raise InvalidInputError(f"modes must be among {', '.join(MODES)}, got {self.modes!r}")
        bad = [e for e in self.engines if e not in BACKENDS]
        if bad:
            raise InvalidInputError(f"engine must be one of {', '.join(BACKENDS)}, got {', '.join(bad)}")
        for p in (*self.weight_precisions, *self.kv_precisions):
            get_precision(p)  # unknown names say which are close
        for name in ("disagg_groups", "disagg_decode_candidates", "max_prefill_instances", "max_decode_instances"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def acceptance_for(self, model: ModelSpec) -> float:
        """The acceptance per draft token used for `model` (the given one, else the model's cited default)."""
        if self.acceptance_rate is not None:
            return self.acceptance_rate
        from inferonomics.economics.levers import default_speculation

        return default_speculation(model).acceptance_rate


@dataclass(frozen=True, order=True)
class Candidate:
    """One deployment to screen (a replica; `replicas` is sized later for the target rate)."""

    system: str
    tp: int
    pp: int
    attention_dp: int
    moe_ep: int
    weight_precision: str
    kv_precision: str
    engine: str
    speculative_tokens: int = 0
    chunk_tokens: int = 0

    @property
    def chips(self) -> int:
        return self.tp * self.pp * self.attention_dp

    @property
    def config_id(self) -> str:
        """Stable text key of the deployment (resume and deterministic order use it)."""
        return (
            f"agg|{self.system}|tp{self.tp}|pp{self.pp}|adp{self.attention_dp}|ep{self.moe_ep}|"
            f"{self.weight_precision}|{self.kv_precision}|{self.engine}|spec{self.speculative_tokens}|"
            f"chunk{self.chunk_tokens}"
        )


@dataclass(frozen=True, order=True)
class DisaggPair:
    """A prefill deployment and a decode deployment of the same system and formats (xPyD is screened
    as a grid over instance counts)."""

    prefill: Candidate
    decode: Candidate

    @property
    def config_id(self) -> str:
        p, d = self.prefill, self.decode
        return (
            f"disagg|{d.system}|P:tp{p.tp}pp{p.pp}adp{p.attention_dp}ep{p.moe_ep}|"
            f"D:tp{d.tp}pp{d.pp}adp{d.attention_dp}ep{d.moe_ep}|{d.weight_precision}|{d.kv_precision}|"
            f"{d.engine}|spec{d.speculative_tokens}"
        )


def _powers_upto(values: Iterable[int], limit: int) -> list[int]:
    return sorted({v for v in values if v <= limit})


def weight_formats(model: ModelSpec, system: System, space: SearchSpace) -> list[str]:
    """Weight formats to try on `system` (see `SearchSpace`)."""
    chip = system.chip
    if space.weight_precisions:
        return [p for p in dict.fromkeys(get_precision(x).name for x in space.weight_precisions) if chip.supports(p)]
    native = get_precision(model.native_precision)
    out = ["bf16"] if chip.supports("bf16") else []
    for names in (_SAME_TIER_PREFERENCE["8bit"], ("int4",), _SAME_TIER_PREFERENCE["fp4"]):
        fmt = get_precision(names[0])
        if (
            native.name not in names
            and not fmt.weight_only
            and native.compute_tier == fmt.compute_tier
            and native.bits_per_value < 16
        ):
            names = (native.name, *names)  # the checkpoint's own format first (fp8_block for DeepSeek)
        pick = next((n for n in names if chip.supports(n)), None)
        if pick is not None and pick not in out:
            out.append(pick)
    if chip.supports(native):
        return [p for p in out if get_precision(p).bits_per_value <= native.bits_per_value + 1e-9]
    # the checkpoint's format does not run here: narrower formats, or widen to bf16
    return out


def kv_formats(system: System, space: SearchSpace) -> list[str]:
    chip = system.chip
    if space.kv_precisions:
        return [p for p in dict.fromkeys(get_precision(x).name for x in space.kv_precisions) if chip.supports(p)]
    return ["bf16", *(["fp8"] if chip.supports("fp8") else [])]


def engines_for(system: System, space: SearchSpace) -> tuple[str, ...]:
    if space.engines:
        return space.engines
    if space.all_engines:
        return ENGINES_BY_VENDOR.get(system.chip.vendor, ("vllm",))
    return ("vllm",)


def speculative_options(model: ModelSpec, space: SearchSpace) -> list[int]:
    """0 (off) and the draft lengths to try: the space's, else the model's default speculation."""
    from inferonomics.economics.levers import default_speculation

    if space.speculative_tokens:
        return [0, *sorted(set(space.speculative_tokens))]
    return [0, default_speculation(model).tokens]


def parallelisms(model: ModelSpec, system: System, space: SearchSpace) -> Iterator[tuple[int, int, int, int]]:
    """(tp, pp, attention_dp, moe_ep) shapes of one replica on `system` (see `SearchSpace`)."""
    limit = space.max_chips_per_instance
    domain = max(system.scaleup_domain_chips, 1)
    tps = _powers_upto(space.tp, min(domain, limit, max(model.num_heads, 1)))
    adps = _powers_upto(space.attention_dp, min(domain, limit)) if model.is_moe else [1]
    for tp in tps:
        for adp in adps:
            stage = tp * adp
            if stage > min(domain, limit):
                continue
            eps = sorted({e for e in (1, stage) if model.num_experts % e == 0}) if model.is_moe else [1]
            fills_domain = stage * 2 > min(domain, limit)  # the next power of two would not fit
            for pp in sorted(set(space.pp)):
                if stage * pp > limit or pp > model.num_layers:
                    continue
                if pp > 1 and not (space.pp_within_domain or fills_domain):
                    continue
                for ep in eps:
                    yield tp, pp, adp, ep


@dataclass(frozen=True)
class Enumeration:
    candidates: tuple[Candidate, ...]
    notes: tuple[str, ...] = field(default=())


def enumerate_candidates(model: ModelSpec, systems: Iterable[System], space: SearchSpace) -> Enumeration:
    """Every candidate deployment of `model` on `systems`, sorted by `config_id`."""
    out: list[Candidate] = []
    notes: list[str] = []
    specs = speculative_options(model, space)
    for system in systems:
        w_formats = weight_formats(model, system, space)
        kv = kv_formats(system, space)
        if not w_formats or not kv:
            notes.append(f"{system.name}: none of the requested formats runs on {system.chip.name}")
            continue
        shapes = list(parallelisms(model, system, space))
        for tp, pp, adp, ep in shapes:
            for w in w_formats:
                for k in kv:
                    for engine in engines_for(system, space):
                        for spec in specs:
                            for chunk in dict.fromkeys(space.chunk_tokens):
                                out.append(Candidate(system.name, tp, pp, adp, ep, w, k, engine, spec, chunk))
    out.sort(key=lambda c: c.config_id)
    return Enumeration(tuple(out), tuple(notes))


def chunked(items: list[Any], size: int) -> list[list[Any]]:
    """Consecutive slices of at most `size` items (the unit of work of every backend)."""
    size = max(1, int(size))
    return [items[i : i + size] for i in range(0, len(items), size)]
