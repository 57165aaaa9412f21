"""Memory per chip: weights, KV cache, activations and runtime reserve; does a deployment fit.

The KV cache gets what the engine's memory plan leaves (`memory_plan`), computed the way each engine
computes it at start-up, on the device memory as the device reports it:

- vLLM v1 (`vllm/v1/worker/gpu_worker.py` `determine_available_memory`, `vllm/utils` `memory_profiling`):
  KV = gpu_memory_utilization x total device memory - weights - the torch peak of a profiling forward
  pass of `max_num_batched_tokens` tokens and a sampler pass of `max_num_seqs` rows - non-torch memory
  (CUDA context, cuBLAS workspace, NCCL buffers). From v0.21 the CUDA-graph pool is estimated and
  subtracted too (and the default fraction is 0.92; `cudagraph_memory_bytes`, with
  `EngineArgs(engine_version=...)`); before, graphs live in the 1 - fraction left over. A speculative drafter's
  weights and its layers' KV count too (`draft_bytes_per_chip`).
  `kv_cache_utils.py` then cuts the bytes into `block_size`-token blocks ("GPU KV cache size: N tokens").
- SGLang (`model_runner.py` `profile_max_num_token`): KV = mem_fraction_static x total - weights -
  non-torch memory, in `page_size`-token pages; activations and graphs use the rest.
- TensorRT-LLM (`KvCacheConfig.free_gpu_memory_fraction`): KV = 0.9 x (total - weights - activations -
  non-torch), the memory free after the model and its runtime buffers, in 32-token blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from inferonomics.catalog.hardware import GIB, Chip
from inferonomics.catalog.model_figures import (
    kv_bytes_per_token_long,
    kv_bytes_per_token_per_layer,
    mtp_params,
    param_breakdown,
    softmax_attention_params,
    state_bytes_per_sequence,
)
from inferonomics.catalog.precision import get_precision
from inferonomics.errors import DoesNotFitError
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.perf.engines import engine_policy

DRIVER_RESERVED_FRACTION = 0.01
"""Share of a GPU's memory the driver keeps and CUDA never reports as total: 80 GiB H100 -> 79.19 GiB,
80 GiB A100 -> 79.15 GiB, 96 GiB RTX PRO 6000 Blackwell Server -> 94.97 GiB (101,976,440,832 bytes),
24 GiB RTX 4090 -> 23.55 GiB (`torch.cuda.mem_get_info` totals in vLLM start-up logs and run metadata):
0.8-1.9%, about 1%."""

NON_TORCH_BYTES = 0.13 * GIB
"""Memory a vLLM worker holds outside torch's allocator at tp = 1 (CUDA context extras, cuBLAS
workspace): 0.13-0.14 GiB in vLLM 0.11 start-up logs on H100 ("non-torch forward increase memory")."""

NCCL_BYTES = 0.41 * GIB
"""Extra non-torch memory with tensor parallelism (NCCL and custom all-reduce buffers): 0.54-0.55 GiB at
tp = 2 in the same logs, less the 0.13-0.14 GiB at tp = 1."""

SAMPLER_BYTES_PER_LOGIT = 20.0
"""Bytes per (row, vocabulary entry) at the sampler's peak: fp32 logits (4), fp32 probabilities (4),
and the sort of top-k/top-p (fp32 values 4 + int64 indices 8) (vLLM v1 `vllm/v1/sample/sampler.py`)."""


def device_memory_bytes(chip: Chip) -> float:
    """Total memory as the device reports it (CUDA's total): the binary capacity less the driver's share."""
    return chip.hbm_bytes * (1.0 - DRIVER_RESERVED_FRACTION)


CUDAGRAPH_MODES = 2
"""Graph sets vLLM v1 captures by default (`cudagraph_mode` FULL_AND_PIECEWISE: full graphs for uniform decode
batches, piecewise graphs for the rest), each over the capture sizes."""


def cudagraph_capture_sizes(max_num_seqs: int, max_num_batched_tokens: int, speculative_tokens: int = 0) -> list[int]:
    """vLLM's default CUDA-graph capture sizes (`vllm/config/vllm.py` `_set_cudagraph_sizes`): up to
    min(max_num_seqs x (1 + drafts) x 2, 512, max_num_batched_tokens), as [1, 2, 4] + every 8 below 256 + every
    16 from 256; with drafts each rounded up to a multiple of 1 + drafts (`adjust_cudagraph_sizes_for_spec_decode`)."""
    step = 1 + speculative_tokens
    top = min(max_num_seqs * step * 2, 512, max_num_batched_tokens)
    sizes = [s for s in (1, 2, 4) if s <= top]
    sizes += list(range(8, min(top + 1, 256), 8)) + list(range(256, top + 1, 16))
    if step > 1:
        sizes = sorted({-(-s // step) * step for s in sizes})
    return sizes


def cudagraph_memory_bytes(dep: Deployment) -> float:
    """vLLM's estimate of its CUDA-graph pool on one chip, taken out of the KV budget from v0.21
    (`EngineArgs.counts_cudagraphs`). vLLM captures dummy graphs at start-up and measures the first two of each
    mode (largest first), then extrapolates linearly (`gpu_model_runner.py` `profile_cudagraph_memory`:
    `per_graph_estimate[mode] = per_graph * (len(descs) - 1)`, total = the largest first graph + the sum of the
    per-mode estimates). Modelled with each graph holding the activations of its forward pass
    (`activation_peak_bytes` at its capture size, no sampler): the largest size's once, the second size's for
    every further graph of each of the `CUDAGRAPH_MODES` modes. An assumption, not fitted: on the one logged
    run we have (vLLM 0.28, Llama-3.1-8B, RTX PRO 6000, 128 sequences, 2,048-token budget: 35 sizes, 1.90 GiB)
    the KV tokens land within 0.3% of the log. vLLM's extrapolation is known to run far higher on some MoE
    deployments (vLLM issue #45178: MiniMax-M2.5 NVFP4 on 2 B200 with DP+EP, KV cut 3.1x), which this does not
    reproduce."""
    args = dep.engine_args
    sizes = cudagraph_capture_sizes(args.max_seqs(dep.backend), args.token_budget(dep.backend), dep.speculative_tokens)
    if not sizes:
        return 0.0
    largest = activation_peak_bytes(dep, sizes[-1], 0)
    second = activation_peak_bytes(dep, sizes[-2], 0) if len(sizes) > 1 else 0.0
    return largest + CUDAGRAPH_MODES * (len(sizes) - 1) * second


def draft_bytes_per_chip(dep: Deployment) -> tuple[float, float]:
    """(weight bytes, KV bytes per token) the speculative drafter adds on each chip.

    vLLM loads the drafter's weights beside the target's (`load_model`, counted in the model's memory) and
    registers its attention layers in the same KV cache (`draft_attn_layer_names` in the KV-cache groups), so
    every block holds the drafter's KV too and fewer blocks fit (`vllm/v1/spec_decode`, `gpu_model_runner.py`
    `get_kv_cache_spec`). A draft model (`draft="model"`): its own weights and KV on the target's chips
    (`Deployment.draft_deployment`). MTP / EAGLE heads (`draft="mtp"`): the model's MTP layers (DeepSeek-V3
    sec. 2.2; `mtp_params`), else one EAGLE head of the target's layer shape, each one decoder layer with one
    layer of KV; attention split over tp, an MoE head's experts over the expert-parallel chips.
    """
    if not dep.speculative_tokens:
        return 0.0, 0.0
    draft = dep.draft_deployment
    if draft is not None:
        return weight_bytes_per_chip(draft), kv_bytes_per_token_per_chip(draft)
    m = dep.model
    head = m if m.mtp_layers else replace(m, mtp_layers=1)
    layers = head.mtp_layers
    attention = layers * softmax_attention_params(head)
    rest = mtp_params(head) - attention
    experts_chips = dep.moe_tp_size * dep.moe_ep if m.is_moe else dep.tp
    weights = (attention / dep.tp + rest / experts_chips) * get_precision(dep.weight_precision).bytes_per_value
    return weights, layers * kv_bytes_per_token_per_layer(m, dep.kv_precision) / kv_shards(dep)


def activation_peak_bytes(dep: Deployment, tokens: int, rows: int) -> float:
    """Torch peak of the engine's profiling run on one chip: a forward pass of `tokens` tokens (the widest
    point of a layer: the residual stream and hidden states, the fused QKV output and the gated FFN's
    two intermediate tensors, in the activation format), then the sampler on `rows` rows of logits."""
    m = dep.model
    act = 2.0  # bf16/fp16 activations
    h = float(m.hidden_size)
    qkv = (m.num_heads + 2 * m.num_kv_heads) * m.head_dim / dep.tp
    if m.is_moe:
        ffn = float(m.moe_intermediate_size) * max(m.experts_per_token, 1) / max(dep.moe_tp_size, 1)
    else:
        ffn = float(m.intermediate_size) / dep.tp
    ffn_live = (3.0 if m.ffn_gated else 2.0) * ffn
    forward = tokens * act * (4.0 * h + max(qkv, ffn_live))
    sampler = rows * float(m.vocab_size) / dep.tp * SAMPLER_BYTES_PER_LOGIT if dep.pp == 1 else 0.0
    return forward + sampler


@dataclass(frozen=True)
class MemoryPlan:
    """How an engine splits one chip's memory at start-up, and the KV cache it ends up with."""

    engine: str
    device_bytes: float
    fraction: float
    fraction_name: str
    weights_bytes: float
    activation_bytes: float
    non_torch_bytes: float
    kv_cache_bytes: float
    """KV bytes per chip (0 when nothing is left)."""
    block_size: int
    kv_bytes_per_token: float
    """KV bytes one token costs on each chip holding it."""
    num_blocks: int
    """KV blocks per attention rank (vLLM's `num_gpu_blocks`)."""
    reserve_bytes: float = 0.0
    """What the plan keeps from weights, activations and KV: the share outside the fraction, and
    non-torch memory."""
    attention_dp: int = 1
    cudagraph_bytes: float = 0.0
    """vLLM >= 0.21's CUDA-graph estimate, taken out of the KV budget (`cudagraph_memory_bytes`)."""
    draft_weights_bytes: float = 0.0
    """The speculative drafter's share of `weights_bytes` (`draft_bytes_per_chip`)."""

    @property
    def kv_tokens(self) -> int:
        """KV tokens of the whole replica (vLLM logs "GPU KV cache size: N tokens" per rank)."""
        return self.num_blocks * self.block_size * self.attention_dp

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "engine": self.engine,
            "device_gib": self.device_bytes / GIB,
            self.fraction_name: self.fraction,
            "weights_gib": self.weights_bytes / GIB,
            "activation_peak_gib": self.activation_bytes / GIB,
            "non_torch_gib": self.non_torch_bytes / GIB,
            "cudagraph_gib": self.cudagraph_bytes / GIB,
            "draft_weights_gib": self.draft_weights_bytes / GIB,
            "kv_cache_gib": self.kv_cache_bytes / GIB,
            "block_size": self.block_size,
            "num_gpu_blocks": self.num_blocks,
            "kv_cache_tokens": self.kv_tokens,
        }

    def log_line(self) -> str:
        """The plan as the engine logs it."""
        return (
            f"{self.engine}: {self.fraction_name}={self.fraction:g} of {self.device_bytes / GIB:.2f} GiB; weights "
            f"{self.weights_bytes / GIB:.2f} GiB, activation peak {self.activation_bytes / GIB:.2f} GiB, non-torch "
            f"{self.non_torch_bytes / GIB:.2f} GiB"
            + (f", CUDA graphs {self.cudagraph_bytes / GIB:.2f} GiB" if self.cudagraph_bytes else "")
            + (f" (drafter weights {self.draft_weights_bytes / GIB:.2f} GiB)" if self.draft_weights_bytes else "")
            + f"; available KV cache memory {self.kv_cache_bytes / GIB:.2f} GiB; "
            f"num_gpu_blocks={self.num_blocks:,} (block_size {self.block_size}); "
            f"GPU KV cache size: {self.kv_tokens:,} tokens"
        )


def memory_plan(dep: Deployment, cal: Calibration | None = None) -> MemoryPlan:
    """The engine's memory plan for one chip of `dep` (see the module docstring).

    Under `Calibration.ideal()` (no reserves) the whole binary capacity goes to weights and KV.
    """
    cal = cal or default_calibration()
    args = dep.engine_args
    backend = dep.backend
    policy = engine_policy(backend)
    draft_weights, draft_kv = draft_bytes_per_chip(dep)
    weights = weight_bytes_per_chip(dep) + draft_weights
    per_token = kv_bytes_per_token_per_chip(dep) + draft_kv
    block = args.block_tokens(backend)
    graphs = 0.0
    ideal = cal.runtime_reserve_fraction == 0.0 and cal.activation_reserve_bytes == 0.0
    if ideal:
        device = dep.system.chip.hbm_bytes
        fraction, activation, non_torch, reserve = 1.0, 0.0, 0.0, 0.0
        kv = device - weights
    else:
        device = device_memory_bytes(dep.system.chip)
        fraction = args.memory_fraction(backend, dep.tp)
        non_torch = NON_TORCH_BYTES + (NCCL_BYTES if dep.chips_per_replica > 1 else 0.0)
        budget = args.token_budget(backend)
        activation = activation_peak_bytes(dep, budget, min(args.max_seqs(backend), budget))
        if backend == "sglang":
            activation = 0.0  # SGLang leaves activations to the 1 - mem_fraction_static share
        if policy.memory_fraction_of == "free":
            reserve = (1.0 - fraction) * (device - weights - activation - non_torch) + non_torch
        else:
            reserve = (1.0 - fraction) * device + non_torch
        if args.counts_cudagraphs(backend):
            graphs = cudagraph_memory_bytes(dep)
        kv = device - weights - activation - reserve - graphs
    kv = max(kv, 0.0)
    blocks = int(kv // (block * per_token)) if per_token > 0 else 10**12 // block
    return MemoryPlan(
        engine=backend,
        device_bytes=device,
        fraction=fraction,
        fraction_name=policy.memory_fraction_name,
        weights_bytes=weights,
        activation_bytes=activation,
        non_torch_bytes=non_torch,
        kv_cache_bytes=kv,
        block_size=block,
        kv_bytes_per_token=per_token,
        num_blocks=blocks,
        reserve_bytes=reserve,
        attention_dp=dep.attention_dp,
        cudagraph_bytes=graphs,
        draft_weights_bytes=draft_weights,
    )


def kv_shards(dep: Deployment) -> int:
    """Chips one sequence's KV is split over inside an attention group.

    GQA/MHA split KV heads over tensor-parallel ranks (replicating when tp > kv heads); MLA's latent is
    shared by all heads, so every rank holds all of it (DeepSeek-V3 report, sec. 3.4).
    """
    if dep.shard_kv_by_batch:
        return dep.tp
    if dep.model.is_mla:
        return 1
    return max(1, min(dep.tp, dep.model.num_kv_heads))


def weight_bytes_per_chip(dep: Deployment) -> float:
    """Weights held by one chip: dense parts split over tp, experts (with any redundant copies) over
    moe_tp x moe_ep, layers over pp."""
    m = dep.model
    p = param_breakdown(m)
    b = get_precision(dep.weight_precision).bytes_per_value
    dense = (p["attention"] + p["dense_ffn"] + p["shared_experts"] + p["router"]) * b
    experts = p["routed_experts"] * get_precision(dep.routed_expert_precision).bytes_per_value
    experts *= dep.expert_copies_ratio  # redundant expert slots (Deployment.redundant_experts)
    embeddings = (p["embedding"] + p["lm_head"]) * 2.0 + p["norms"] * 2.0
    per_stage = (dense / dep.tp + experts / (dep.moe_tp_size * dep.moe_ep)) / dep.pp
    return per_stage + embeddings / dep.tp / max(1, min(dep.pp, 2))


def kv_bytes_per_token_per_chip(dep: Deployment) -> float:
    """KV bytes one more token of long context costs on each chip that holds its sequence (sliding
    windows already full; `kv_bytes_per_token_long`)."""
    return kv_bytes_per_token_long(dep.model, dep.kv_precision) / kv_shards(dep) / dep.pp


def state_bytes_per_sequence_per_chip(dep: Deployment) -> float:
    """Recurrent (linear-attention / Mamba) state of one sequence per chip: heads split over tp."""
    return state_bytes_per_sequence(dep.model) / dep.tp / dep.pp


def kv_bytes_per_sequence_per_chip(dep: Deployment, context_tokens: Any) -> Any:
    """KV and recurrent-state bytes of one sequence on each chip holding it (`ModelSpec.kv_bytes`:
    sliding windows stop growing, linear/Mamba layers hold a fixed state). Attention KV splits over
    `kv_shards`; recurrent state splits over the tensor-parallel heads."""
    m = dep.model
    total = np.asarray(m.kv_bytes(context_tokens, dep.kv_precision), dtype=np.float64)
    state = state_bytes_per_sequence(m)
    out = ((total - state) / kv_shards(dep) + state / dep.tp) / dep.pp
    if dep.speculative_tokens:  # the drafter's layers hold the sequence's KV too (`draft_bytes_per_chip`)
        out = out + draft_bytes_per_chip(dep)[1] * np.asarray(context_tokens, dtype=np.float64)
    return out if out.ndim else float(out)


@dataclass(frozen=True)
class MemoryUse:
    """Bytes per chip (the fullest chip) for a batch of sequences."""

    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    reserve_bytes: float
    capacity_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_cache_bytes + self.activations_bytes + self.reserve_bytes

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes

    def to_dict(self) -> dict[str, float | bool]:
        gb = 1e9
        return {
            "weights_gb": self.weights_bytes / gb,
            "kv_cache_gb": self.kv_cache_bytes / gb,
            "activations_gb": self.activations_bytes / gb,
            "reserve_gb": self.reserve_bytes / gb,
            "total_gb": self.total_bytes / gb,
            "capacity_gb": self.capacity_bytes / gb,
            "fits": self.fits,
        }


def memory_use(dep: Deployment, sequences: float, context_tokens: float, cal: Calibration | None = None) -> MemoryUse:
    """Memory of one chip when the replica holds `sequences` sequences of `context_tokens` each.

    The reserve is what the engine's plan keeps from the KV cache (the 1 - fraction share, non-torch
    memory); the batch fits when its KV fits in the plan's KV cache."""
    plan = memory_plan(dep, cal)
    seqs_per_rank = np.ceil(sequences / dep.attention_dp)
    kv = seqs_per_rank * kv_bytes_per_sequence_per_chip(dep, context_tokens)
    return MemoryUse(
        weights_bytes=plan.weights_bytes,
        kv_cache_bytes=float(kv),
        activations_bytes=plan.activation_bytes,
        reserve_bytes=plan.reserve_bytes,
        capacity_bytes=plan.device_bytes,
    )


def kv_free_bytes_per_chip(dep: Deployment, cal: Calibration | None = None) -> float:
    """Bytes the engine's plan gives the KV cache on one chip (`memory_plan`)."""
    return memory_plan(dep, cal).kv_cache_bytes


def kv_capacity_tokens(dep: Deployment, cal: Calibration | None = None) -> int:
    """Tokens of KV the whole replica holds, in whole blocks as the engine logs them (0 if none)."""
    plan = memory_plan(dep, cal)
    if plan.kv_cache_bytes <= 0:
        return 0
    if plan.kv_bytes_per_token <= 0:
        return int(1e12)
    return plan.kv_tokens


def max_sequences(dep: Deployment, context_tokens: float, cal: Calibration | None = None) -> int:
    """Largest number of sequences of `context_tokens` the replica can hold at once."""
    free = kv_free_bytes_per_chip(dep, cal)
    per_seq = float(kv_bytes_per_sequence_per_chip(dep, context_tokens))
    if free <= 0:
        return 0
    return int(free // per_seq) * dep.attention_dp if per_seq > 0 else 10**9


def check_fits(dep: Deployment, sequences: float, context_tokens: float, cal: Calibration | None = None) -> MemoryUse:
    """`MemoryUse`, or `DoesNotFitError` saying by how much it is over and what would fit."""
    use = memory_use(dep, sequences, context_tokens, cal)
    if use.fits:
        return use
    over = use.total_bytes - use.capacity_bytes
    weights_alone = use.weights_bytes + use.activations_bytes + use.reserve_bytes
    if weights_alone > use.capacity_bytes:
        min_chips = int(np.ceil(weights_alone / use.capacity_bytes * dep.chips_per_replica))
        msg = (
            f"{dep.describe()} does not fit: weights alone need {use.weights_bytes / 1e9:.1f} GB per chip plus "
            f"{(use.activations_bytes + use.reserve_bytes) / 1e9:.1f} GB reserve, over the "
            f"{use.capacity_bytes / 1e9:.0f} GB of HBM by {(weights_alone - use.capacity_bytes) / 1e9:.1f} GB; "
            f"use about {min_chips}+ chips or a narrower weight format"
        )
    else:
        most = max_sequences(dep, context_tokens, cal)
        msg = (
            f"{dep.describe()} does not fit {sequences:g} sequences of {context_tokens:g} tokens: needs "
            f"{use.total_bytes / 1e9:.1f} GB per chip, {over / 1e9:.1f} GB over the "
            f"{use.capacity_bytes / 1e9:.0f} GB of HBM; at most {most} such sequences fit"
        )
    raise DoesNotFitError(msg, use.total_bytes, use.capacity_bytes)
