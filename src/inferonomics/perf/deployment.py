"""A deployment: one model on one kind of system, its parallelism, formats and engine."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import InvalidInputError
from inferonomics.perf.engines import EngineArgs

Backend = Literal["trtllm", "vllm", "sglang", "jax"]
BACKENDS: tuple[Backend, ...] = ("trtllm", "vllm", "sglang", "jax")
"""Serving engines; `jax` stands for a TPU implementation such as Pope et al.'s (PaLM on TPU v4)."""
TpLayout = Literal["1d", "2d", "weight_gathered"]


@dataclass(frozen=True)
class Deployment:
    """One serving instance (a replica) and how many copies of it run.

    Chips per replica = tp x attention_dp x pp. Attention runs tensor-parallel over `tp` chips and
    data-parallel over `attention_dp` groups; MoE experts are split over `moe_tp x moe_ep` chips per
    pipeline stage (default: `moe_ep = 1`, experts tensor-parallel over all of them), as in
    TensorRT-LLM / SGLang / vLLM. An expert-parallel size that does not divide the expert count is
    accepted: the engine then places redundant experts (`redundant_experts`) and `notes` says so.
    """

    model: ModelSpec
    system: System
    tp: int = 1
    pp: int = 1
    attention_dp: int = 1
    moe_ep: int = 1
    moe_tp: int = 0
    """0 = chips per stage / moe_ep."""
    weight_precision: str = "bf16"
    kv_precision: str = "bf16"
    expert_precision: str | None = None
    """Format of the routed experts' weights when it differs from the rest (e.g. NVIDIA's FP4 checkpoints
    of DeepSeek-R1 quantise only the MoE experts to NVFP4); None = `weight_precision`."""
    backend: Backend = "vllm"
    redundant_experts: int | None = None
    """Extra physical expert slots per MoE layer beyond the model's experts, spread evenly over the
    expert-parallel ranks (copies of busy experts): vLLM EPLB `num_redundant_experts`, SGLang
    `ep_num_redundant_experts`, TensorRT-LLM's online load balancer `num_slots` - experts (vLLM docs,
    `vllm/distributed/eplb/eplb_state.py`: DeepSeek-R1's 256 experts + 32 redundant = 288 physical,
    9 per rank on 32 EP ranks; TensorRT-LLM `examples/wide_ep`: `num_slots: 288`). None = the fewest
    that let every rank hold the same number, (-experts) mod moe_ep: 0 when moe_ep divides the experts,
    32 for 256 experts on EP 48 or 72. Each rank stores and reads (experts + redundant) / moe_ep experts;
    the load balancing the copies buy is not modelled (the busiest rank's share stays that of E / ep)."""
    replicas: int = 1
    speculative_tokens: int = 0
    """Draft tokens per step (MTP / speculative decoding); 0 = off."""
    acceptance_rate: float = 0.0
    """Probability each draft token is accepted, the same at every position (see `acceptance`)."""
    acceptance: tuple[float, ...] = ()
    """Acceptance per draft position (position j is accepted with this probability given the ones before it
    were); shorter than `speculative_tokens`: the last value repeats; empty: `acceptance_rate` everywhere."""
    draft: Literal["mtp", "model"] = "mtp"
    """How drafts are made: `mtp` runs the model's multi-token-prediction layers (one decoder layer and the
    LM head per draft, on the target's KV cache: DeepSeek-V3 sec. 2.2); `model` runs `draft_model` as its
    own decode step per draft (Leviathan et al. 2023)."""
    draft_model: ModelSpec | None = None
    tp_layout: TpLayout = "1d"
    """How the feed-forward weights split over the tp chips (Pope et al. 2022, sec. 3.2): `1d`
    weight-stationary (Megatron: two all-reduces per layer), `2d` weight-stationary over a sqrt(n) x
    sqrt(n) grid, or `weight_gathered` (weights all-gathered per layer, for very large batches)."""
    kv_in_sram: bool = False
    """What-if: keep as much of the KV cache as fits in on-chip SRAM (`Chip.sram_mb`) and read that part
    at SRAM bandwidth (TPU 8i's stated design goal)."""
    shard_kv_by_batch: bool = False
    """Split the KV cache over the tensor-parallel chips by sequence instead of by head, as Pope et al.
    2022 (sec. 3.3) do for multiquery attention, whose single KV head would otherwise be replicated."""
    two_batch_overlap: bool = False
    """Split each iteration into two micro-batches and run one's expert all-to-all (dispatch and combine)
    while the other computes (DeepSeek-V3 report sec. 3.4 and its inference-system overview: prefill and
    decode both overlap the two; SGLang `--enable-two-batch-overlap`, vLLM `--enable-dbo`, both opt-in and
    used with DeepEP). Applies to MoE layers under attention data parallelism with at least two tokens per
    rank; see `StepTimeModel`."""
    engine_args: EngineArgs = EngineArgs()
    """The engine's knobs (memory fraction, max sequences, token budget, block size); None fields take
    the engine's defaults (`perf/engines.py`)."""

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "attention_dp", "moe_ep", "replicas"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.moe_tp < 0:
            raise InvalidInputError(f"moe_tp must be >= 0, got {self.moe_tp}")
        per_stage = self.tp * self.attention_dp
        if self.moe_tp and self.moe_tp * self.moe_ep != per_stage:
            raise InvalidInputError(
                f"moe_tp x moe_ep ({self.moe_tp} x {self.moe_ep}) must equal tp x attention_dp ({per_stage})"
            )
        if not self.moe_tp and per_stage % self.moe_ep:
            raise InvalidInputError(f"moe_ep ({self.moe_ep}) must divide tp x attention_dp ({per_stage})")
        if self.redundant_experts is not None and (
            not isinstance(self.redundant_experts, int) or self.redundant_experts < 0
        ):
            raise InvalidInputError(f"redundant_experts must be a whole number >= 0, got {self.redundant_experts!r}")
        if self.model.is_moe and self.physical_experts % self.moe_ep:
            raise InvalidInputError(
                f"moe_ep ({self.moe_ep}) must divide the physical experts ({self.model.num_experts} + "
                f"{self.expert_slots_extra} redundant = {self.physical_experts}); "
                f"use redundant_experts = {(-self.model.num_experts) % self.moe_ep} or a multiple of {self.moe_ep} more"
            )
        if not self.model.is_moe and self.moe_ep > 1:
            raise InvalidInputError(f"moe_ep > 1 needs an MoE model; {self.model.name} is dense")
        if self.tp_layout == "1d" and not self.shard_kv_by_batch and self.model.num_heads % self.tp:
            raise InvalidInputError(
                f"tp ({self.tp}) must divide {self.model.name}'s {self.model.num_heads} attention heads"
            )
        if self.pp > self.model.num_layers:
            raise InvalidInputError(f"pp ({self.pp}) exceeds the number of layers ({self.model.num_layers})")
        if self.tp_layout not in ("1d", "2d", "weight_gathered"):
            raise InvalidInputError(f"tp_layout must be 1d, 2d or weight_gathered, got {self.tp_layout!r}")
        if self.backend not in BACKENDS:
            raise InvalidInputError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.speculative_tokens < 0:
            raise InvalidInputError("speculative_tokens must be >= 0")
        if not 0.0 <= self.acceptance_rate < 1.0:
            raise InvalidInputError(f"acceptance_rate must be in [0, 1), got {self.acceptance_rate}")
        if self.acceptance and not self.speculative_tokens:
            raise InvalidInputError("an acceptance per position needs speculative_tokens >= 1")
        if any(not 0.0 <= a < 1.0 for a in self.acceptance):
            raise InvalidInputError(f"acceptance per position must be in [0, 1), got {list(self.acceptance)}")
        if self.draft not in ("mtp", "model"):
            raise InvalidInputError(f"draft must be mtp or model, got {self.draft!r}")
        if self.draft == "model" and self.speculative_tokens and self.draft_model is None:
            raise InvalidInputError("a draft of kind 'model' needs a draft_model")
        get_precision(self.weight_precision)
        get_precision(self.kv_precision)
        if self.expert_precision is not None:
            get_precision(self.expert_precision)

    @property
    def routed_expert_precision(self) -> str:
        """The format the routed experts' weights are stored and multiplied in."""
        return self.expert_precision or self.weight_precision

    @property
    def expert_slots_extra(self) -> int:
        """Redundant expert slots per MoE layer (given, else the fewest that balance the ranks)."""
        if not self.model.is_moe:
            return 0
        if self.redundant_experts is not None:
            return self.redundant_experts
        return (-self.model.num_experts) % self.moe_ep

    @property
    def physical_experts(self) -> int:
        """Expert weight sets per MoE layer across the EP group: the model's plus the redundant copies."""
        return self.model.num_experts + self.expert_slots_extra

    @property
    def expert_copies_ratio(self) -> float:
        """Physical / logical experts (1 without redundant experts): scales expert weights per rank."""
        return self.physical_experts / self.model.num_experts if self.model.is_moe else 1.0

    @property
    def notes(self) -> tuple[str, ...]:
        """Assumptions this layout implies that the user did not state."""
        out: list[str] = []
        r = self.expert_slots_extra
        if r:
            given = self.redundant_experts is not None
            out.append(
                f"{r} redundant expert slots per MoE layer ({self.model.num_experts} experts + {r} = "
                f"{self.physical_experts} over EP{self.moe_ep}, {self.physical_experts // self.moe_ep} per rank"
                + (
                    ""
                    if given
                    else f": EP{self.moe_ep} does not divide {self.model.num_experts}, so engines place copies"
                )
                + "); the copies' weights count in each rank's memory and expert reads (vLLM EPLB "
                "num_redundant_experts, SGLang ep_num_redundant_experts, TensorRT-LLM online EPLB num_slots)"
            )
        return tuple(out)

    @property
    def chips_per_stage(self) -> int:
        return self.tp * self.attention_dp

    @property
    def chips_per_replica(self) -> int:
        return self.tp * self.attention_dp * self.pp

    @property
    def chips(self) -> int:
        return self.chips_per_replica * self.replicas

    @property
    def moe_tp_size(self) -> int:
        return self.moe_tp or self.chips_per_stage // self.moe_ep

    @property
    def position_acceptance(self) -> tuple[float, ...]:
        """Acceptance of each of the `speculative_tokens` draft positions (see `acceptance`)."""
        k = self.speculative_tokens
        if not self.acceptance or not k:
            return (self.acceptance_rate,) * k
        given = tuple(float(a) for a in self.acceptance[:k])
        return given + (given[-1],) * (k - len(given))

    @property
    def tokens_per_step(self) -> float:
        """Expected tokens a sequence gains per decode step: 1 + accepted drafts.

        Draft j counts only if drafts 1..j all are accepted, so the expected accepted run is the sum over
        positions of the product of the acceptances up to it, a_1 + a_1 a_2 + ... (with one rate a
        everywhere: a(1 - a^k)/(1 - a), Leviathan et al. 2023, eq. 1), plus the verified token.
        """
        return 1.0 + float(sum(np.cumprod(self.position_acceptance))) if self.speculative_tokens else 1.0

    @property
    def draft_deployment(self) -> Deployment | None:
        """The separate draft model (`draft="model"`) as it runs: on the same chips and engine, tensor-parallel
        like the target, no experts split, no drafts of its own; None without one."""
        if not (self.speculative_tokens and self.draft == "model" and self.draft_model is not None):
            return None
        return self.with_(
            model=self.draft_model,
            speculative_tokens=0,
            draft="mtp",
            draft_model=None,
            moe_ep=1,
            moe_tp=0,
            expert_precision=None,
            redundant_experts=None,
        )

    def with_(self, **changes: object) -> Deployment:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def parallelism_label(self) -> str:
        """'TP8', 'TP1/ADP32/EP32', ...: the parallelism of one replica."""
        parts = [f"TP{self.tp}"]
        if self.pp > 1:
            parts.append(f"PP{self.pp}")
        if self.attention_dp > 1:
            parts.append(f"ADP{self.attention_dp}")
        if self.model.is_moe and self.moe_ep > 1:
            parts.append(f"EP{self.moe_ep}")
        return "/".join(parts)

    def describe(self) -> str:
        parts = [self.parallelism_label]
        if self.expert_slots_extra:
            parts.append(f"+{self.expert_slots_extra} redundant experts")
        if self.replicas > 1:
            parts.append(f"x{self.replicas}")
        experts = ""
        if self.model.is_moe and self.routed_expert_precision != self.weight_precision:
            experts = f", {self.routed_expert_precision} experts"
        return (
            f"{self.model.name} on {self.chips_per_replica}x {self.system.name} ({'/'.join(parts)}, "
            f"{self.weight_precision} weights{experts}, {self.kv_precision} KV, {self.backend}"
            f"{', two-batch overlap' if self.two_batch_overlap else ''})"
        )
