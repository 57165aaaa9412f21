"""Duration of one engine iteration (a continuous-batching step) on one replica.

An iteration computes `prefill_tokens` new prompt tokens (chunks of one or more prompts) and one
decode step for `decode_seqs` sequences. Per pipeline stage and per layer, each chip runs:

- GEMMs: attention projections and dense FFNs over the tokens of its attention-DP rank with weights
  split over `tp`; routed experts over the experts it holds (expected distinct experts touched by
  T tokens choosing k of E: E x (1 - (1 - k/E)^T), Erdil 2025) with the token load of the busiest
  expert-parallel rank (routing imbalance, `moe.py`), shared experts, and the LM head;
- attention: decode reads the KV cache (memory-bound), prefill is causal FLOPs (compute-bound);
- collectives: two all-reduces per layer under tensor parallelism, all-to-all dispatch/combine for
  expert parallelism with attention DP;
- overheads: kernel launches and small kernels per layer, host scheduling per iteration (per engine).

Two-batch overlap (`Deployment.two_batch_overlap`: DeepSeek-V3 sec. 3.4, SGLang / vLLM opt-in): the
iteration runs as two micro-batches of half the tokens, and in each MoE layer one micro-batch's all-to-all
runs while the other computes, so an MoE layer takes 2 max(w, a) instead of 2 (w + a) (w, a: one
micro-batch's compute and all-to-all in that layer), plus one layer's min(w, a) to fill the pipeline.
The rest (dense layers, tensor-parallel all-reduces, launches per micro-batch) stays serial, and each
micro-batch reads the weights itself (memory-bound GEMMs cost twice).

With pipeline parallelism the batch runs as min(pp, sequences) micro-batches, so a sequence advances
once every pp x stage-time (fewer sequences than stages leave bubbles; no micro-batch holds a fraction
of a sequence). Every term is a roofline or a latency fitted on kernel tables (`calibration.py`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from inferonomics.catalog.model_figures import attention_flops_per_token, param_breakdown
from inferonomics.catalog.models import KV_LAYER_KINDS
from inferonomics.catalog.precision import get_precision
from inferonomics.perf.calibration import Calibration, default_calibration
from inferonomics.perf.deployment import Deployment
from inferonomics.perf.engines import ENGINE_POLICIES
from inferonomics.perf.kernels import (
    CollectiveKernel,
    GemmKernel,
    decode_attention_time_s,
    gemm_kernel_class,
    prefill_attention_time_s,
    safe_div,
    vmax,
    vmin,
)
from inferonomics.perf.memory import (
    kv_bytes_per_token_per_chip,
    kv_capacity_tokens,
    kv_free_bytes_per_chip,
    kv_shards,
    state_bytes_per_sequence_per_chip,
)
from inferonomics.perf.moe import busiest_rank_assignments, touched_experts_per_rank

ACTIVATION_BYTES = 2.0
_SUMMED_KEYS = (
    "gemm_s",
    "attention_decode_s",
    "attention_prefill_s",
    "compute_s",
    "memory_s",
    "network_s",
    "overhead_s",
)


class _PiecewiseLinear:
    """A function of the context length that is piecewise linear (KV bytes and attention FLOPs are:
    `min(ctx, window)` and `ctx / ratio` terms), tabulated at its breakpoints so a scalar call costs a
    bisection instead of a walk over the layers. Exact at and between breakpoints."""

    def __init__(self, fn: Any, breakpoints: list[float]):
        xs = sorted({0.0, *(float(b) for b in breakpoints if b > 0), *(2.0**k for k in range(0, 25))})
        self.xs = np.array(xs)
        self.ys = np.asarray(fn(self.xs), dtype=np.float64)
        self._xs = xs
        self._ys = self.ys.tolist()
        self._slope_end = (self._ys[-1] - self._ys[-2]) / (xs[-1] - xs[-2])

    def __call__(self, x: Any) -> Any:
        if isinstance(x, float):
            xs, ys = self._xs, self._ys
            if x >= xs[-1]:
                return ys[-1] + (x - xs[-1]) * self._slope_end
            i = bisect.bisect_right(xs, x)
            if i == 0:
                return ys[0]
            x0, x1 = xs[i - 1], xs[i]
            return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0)
        out = np.interp(x, self.xs, self.ys)
        return np.where(x > self.xs[-1], self.ys[-1] + (x - self.xs[-1]) * self._slope_end, out)


def _context_breakpoints(m: Any) -> list[float]:
    window = float(m.sliding_window or 0)
    points = [window, window + 1.0]
    topk = float(getattr(m, "sparse_topk_tokens", 0) or 0)
    for r in {1, *(getattr(m, "kv_compress_ratios", ()) or ())}:
        if r and topk:
            points += [topk * r, topk * r + 1.0]
    return points


def _as_number(x: Any) -> Any:
    """Python float for scalars (fast path), float64 array otherwise."""
    if isinstance(x, float | int) or np.ndim(x) == 0:
        return float(x)
    return np.asarray(x, dtype=np.float64)  # bf16 activations between layers and in collectives


@dataclass(frozen=True)
class _Shapes:
    """Per-chip constants of one deployment, computed once. GEMM groups are expressed as an equivalent
    (tokens x hidden) @ (hidden x n) product per layer, n = the group's weights / hidden / shards."""

    layers: int
    n_mixer: int
    n_kv_layers: int
    n_dense_ffn: int
    n_moe: int
    mixer_n: float
    ffn_n: float
    router_n: float
    shared_n: float
    expert_n: float
    lm_head_n: float
    kv_shards: int
    kv_heads_per_chip: float
    q_heads_per_chip: float


def _pope_torus(n: int, e: float, f: float) -> tuple[int, int, int]:
    """(x, y, z) of a TPU v4 slice of `n` chips in Pope et al.'s 2D layout: the Cloud TPU slice shapes
    (2x2x2, 2x2x4, 2x4x4, 4x4x4, 4x4x8, ...: powers of two, as even as possible) with x the torus axis
    closest to the optimum of the 2D weight-stationary layout, X = sqrt(n E / F) (sec. 3.2.2); y and z
    are the other two axes. 64 chips: 4 x (4x4); 16: 2 x (2x4); 8: 2 x (2x2)."""
    k = max(round(math.log2(max(n, 1))), 0)
    shape = sorted(2 ** (k // 3 + (1 if i < k % 3 else 0)) for i in range(3))
    opt = math.log2(max(math.sqrt(n * e / f), 1.0))
    i = min(range(3), key=lambda j: (abs(math.log2(shape[j]) - opt), -shape[j]))
    y, z = (shape[j] for j in range(3) if j != i)
    return shape[i], y, z


class StepTimeModel:
    """Calibrated iteration time of one replica of `deployment`; see the module docstring."""

    def __init__(self, deployment: Deployment, calibration: Calibration | None = None):
        self.deployment = deployment
        self.calibration = calibration or default_calibration()
        self.engine = self.calibration.engine(deployment.backend)
        self._s = self._shapes()
        m = deployment.model
        points = _context_breakpoints(m)
        self._kv_bytes = _PiecewiseLinear(lambda c: m.kv_bytes(c, deployment.kv_precision), points)
        self._attn_flops = _PiecewiseLinear(lambda c: attention_flops_per_token(m, c, decode=False), points)
        self._prepare_kernels()
        self.kv_capacity_tokens = kv_capacity_tokens(deployment, self.calibration)
        # Replica-wide KV accounting: every attention-DP rank holds its own sequences, and one
        # sequence's KV is spread over the chips of its rank (see memory.py).
        chips_per_rank = deployment.chips_per_replica / deployment.attention_dp
        self.kv_bytes_per_token = kv_bytes_per_token_per_chip(deployment) * chips_per_rank
        self.state_bytes_per_sequence = state_bytes_per_sequence_per_chip(deployment) * chips_per_rank
        self.kv_free_bytes = kv_free_bytes_per_chip(deployment, self.calibration) * deployment.chips_per_replica
        self._draft: StepTimeModel | None = None
        draft = deployment.draft_deployment
        if draft is not None:  # the draft model runs on the same chips and engine, its own decode step per draft
            self._draft = StepTimeModel(draft, self.calibration)

    def _shapes(self) -> _Shapes:
        dep = self.deployment
        m = dep.model
        h = float(m.hidden_size)
        p = param_breakdown(m)
        kinds = m.kinds
        n_mixer = sum(1 for k in kinds if k != "none")
        n_kv = sum(1 for k in kinds if k in KV_LAYER_KINDS)
        n_dense = m.num_dense_layers
        n_moe = m.num_moe_layers
        shards = kv_shards(dep)
        kv_heads = m.num_heads / dep.tp if m.is_mla else max(m.num_kv_heads / dep.tp, 1.0)
        return _Shapes(
            layers=m.num_layers,
            n_mixer=n_mixer,
            n_kv_layers=n_kv,
            n_dense_ffn=n_dense,
            n_moe=n_moe,
            mixer_n=p["attention"] / max(n_mixer, 1) / h / dep.tp,
            ffn_n=p["dense_ffn"] / max(n_dense, 1) / h / dep.tp,
            router_n=p["router"] / max(n_moe, 1) / h,
            shared_n=p["shared_experts"] / max(n_moe, 1) / h / dep.tp,
            expert_n=p["routed_experts"] / max(n_moe * m.num_experts, 1) / h / dep.moe_tp_size,
            lm_head_n=(p["lm_head"] or p["embedding"]) / h / dep.tp,
            kv_shards=shards,
            kv_heads_per_chip=kv_heads,
            q_heads_per_chip=m.num_heads / dep.tp,
        )

    def _prepare_kernels(self) -> None:
        dep, cal = self.deployment, self.calibration
        chip, system = dep.system.chip, dep.system
        launch = self.engine.launch_scale
        self._gemm_w = GemmKernel.prepare(chip, dep.weight_precision, cal, launch)
        self._format_scale = self.engine.format_scale(gemm_kernel_class(dep.weight_precision, chip)[0])
        # routed experts in their own format (the same kernel as the rest unless the checkpoint mixes)
        expert_class = gemm_kernel_class(dep.routed_expert_precision, chip)[0]
        self._gemm_e = GemmKernel.prepare(chip, dep.routed_expert_precision, cal, launch)
        self._expert_format_ratio = self.engine.format_scale(expert_class) / self._format_scale
        self._gemm_bf16 = GemmKernel.prepare(chip, "bf16", cal, launch)
        self._ar_tp = CollectiveKernel.prepare(
            "all_reduce", dep.tp, system, cal, latency_scale=self.engine.allreduce_latency_scale
        )
        self._a2a = CollectiveKernel.prepare("alltoall", dep.chips_per_stage, system, cal)
        self._p2p = CollectiveKernel.prepare("all_gather", 2 if dep.pp > 1 else 1, system, cal)
        self._hbm = chip.hbm_bandwidth_bytes_per_s
        # an engine whose attention reads FP8 KV natively streams it at the 16-bit efficiency
        native = dep.backend in ENGINE_POLICIES and ENGINE_POLICIES[dep.backend].fp8_kv_native
        self._kv_value_bytes = 2.0 if native else get_precision(dep.kv_precision).bytes_per_value
        self._sram_bytes = chip.sram_bytes
        self._ridge = self._gemm_w.peak_flops_per_s * self._gemm_w.weight_bytes / (2.0 * self._hbm)

    # ------------------------------------------------------------------------------------------------
    def iteration_breakdown(
        self,
        prefill_tokens: Any,
        prefill_attended_tokens: Any,
        decode_seqs: Any,
        decode_context_tokens: Any,
        prefill_seqs: Any = 1,
    ) -> dict[str, Any]:
        """Seconds by term for one iteration (arrays broadcast).

        Keys: gemm_s (weights: projections, FFN, experts, LM head), attention_decode_s (KV reads),
        attention_prefill_s (causal FLOPs), network_s (collectives), overhead_s (launches, host),
        and the same time regrouped as compute_s / memory_s / network_s / overhead_s, total_s.
        GEMM time counts as compute in proportion t / (t + ridge) of its tokens t per rank.

        With speculative decoding (k = `speculative_tokens`) each decoding sequence is verified over 1 + k
        tokens, and the drafts cost `draft_s` on top (included in the other keys): k passes of one decoder
        layer and the LM head over one token per sequence on the target's KV cache for MTP (DeepSeek-V3
        sec. 2.2: an MTP module is one Transformer block plus a projection, sharing embedding and output
        head; engines run it once per draft), or k decode steps of the draft model (`draft="model"`).
        """
        p_tok, p_att, d_seq, d_ctx, p_seq = (
            _as_number(x)
            for x in (
                prefill_tokens,
                prefill_attended_tokens,
                decode_seqs,
                decode_context_tokens,
                prefill_seqs,
            )
        )
        out = self._breakdown(p_tok, p_att, d_seq, d_ctx, p_seq)
        out.pop("experts_s")
        return out

    def _breakdown(self, p_tok: Any, p_att: Any, d_seq: Any, d_ctx: Any, p_seq: Any) -> dict[str, Any]:
        """`iteration_breakdown` plus `experts_s`, the routed-expert GEMMs' share of the total (drafts
        included), which a data-parallel group runs on the whole group's tokens (`dp_group_time_s`)."""
        dep = self.deployment
        out = self._terms(p_tok, p_att, d_seq, d_ctx, p_seq, 1.0 + dep.speculative_tokens)
        out.pop("lm_head_s")
        if not dep.speculative_tokens:
            return out
        k = float(dep.speculative_tokens)
        if dep.draft == "model" and self._draft is not None:
            one = self._draft._breakdown(0.0, 0.0, d_seq, d_ctx, 1.0)
            draft = {key: k * one[key] for key in _SUMMED_KEYS}
            draft_experts = k * one["experts_s"]
        else:
            one = self._terms(0.0, 0.0, d_seq, d_ctx, 0.0, 1.0)
            share = 1.0 / self._s.layers
            host = self.engine.iteration_s
            draft = {key: k * one[key] * share for key in _SUMMED_KEYS}
            draft_experts = k * one["experts_s"] * share
            draft["overhead_s"] = k * (one["overhead_s"] - host) * share  # one layer's launches, no host step
            for key in ("gemm_s", "memory_s"):  # the LM head runs in full for every draft
                draft[key] = draft[key] + k * one["lm_head_s"] * (1.0 - share)
        draft["total_s"] = draft["compute_s"] + draft["memory_s"] + draft["network_s"] + draft["overhead_s"]
        draft = {key: v * (d_seq > 0) for key, v in draft.items()}
        for key, v in draft.items():
            out[key] = out[key] + v
        out["experts_s"] = out["experts_s"] + draft_experts * (d_seq > 0)
        out["draft_s"] = draft["total_s"]
        return out

    def dp_group_time_s(
        self,
        prefill_tokens: Any,
        prefill_attended_tokens: Any,
        decode_seqs: Any,
        decode_context_tokens: Any,
        prefill_seqs: Any,
    ) -> Any:
        """Seconds for one iteration of a data-parallel group whose ranks carry different batches: arrays
        with the `attention_dp` ranks on the last axis (each rank's prefill tokens, attended tokens, decode
        sequences, decode context, prefill sequences); a float, or an array over the leading axes.

        The ranks step in lock-step because every MoE layer is a collective over all of them: vLLM's
        `--data-parallel-size` with or without `--enable-expert-parallel` (expert layers form one EP, or by
        default one tensor-parallel group of DP x TP ranks; a rank with nothing to run executes a dummy
        batch: `DPEngineCoreProc`, `execute_dummy_batch`; vLLM docs "Data Parallel Deployment"), SGLang's
        `--enable-dp-attention` (idle ranks run `ForwardMode.IDLE` batches so the MoE all-gather and
        all-to-all stay whole). Per layer, each rank runs attention on its own batch, then the
        dispatch/combine and the experts on the group's tokens, so the step is

            max over ranks (its step without the routed experts) + routed experts on the group's total,

        each term this model's own (`iteration_breakdown`): a rank's terms are those of the balanced group
        whose every rank carries that rank's batch, and the experts' are those of the group's total. With
        equal batches on every rank this is `iteration_time_s` of the total exactly; one rank with long
        prompts slows every rank."""
        arrays = [
            np.asarray(x, dtype=np.float64)
            for x in (prefill_tokens, prefill_attended_tokens, decode_seqs, decode_context_tokens, prefill_seqs)
        ]
        adp = float(self.deployment.attention_dp)
        rank = self._breakdown(*(x * adp for x in arrays))
        group = self._breakdown(*(x.sum(axis=-1) for x in arrays))
        t = np.max(rank["total_s"] - rank["experts_s"], axis=-1) + group["experts_s"]
        return float(t) if np.ndim(t) == 0 else t

    def _terms(self, p_tok: Any, p_att: Any, d_seq: Any, d_ctx: Any, p_seq: Any, verify: float) -> dict[str, Any]:
        """`iteration_breakdown` without drafts, each decoding sequence verified over `verify` tokens; with
        two-batch overlap, as two micro-batches whose expert all-to-all hides behind the other's compute."""
        dep, s = self.deployment, self._s
        if not (dep.two_batch_overlap and s.n_moe and dep.attention_dp > 1 and dep.pp == 1):
            one = self._terms_serial(p_tok, p_att, d_seq, d_ctx, p_seq, verify)
            one.pop("a2a_s")
            return one
        half = self._terms_serial(p_tok / 2.0, p_att / 2.0, d_seq / 2.0, d_ctx / 2.0, p_seq / 2.0, verify)
        host = self.engine.iteration_s
        work = half["gemm_s"] + half["attention_decode_s"] + half["attention_prefill_s"]
        moe_work = work * (s.n_moe / s.layers)  # MoE layers' share of one micro-batch's compute
        a2a = half["a2a_s"]
        hidden = vmin(moe_work, a2a)
        exposed = 2.0 * (vmax(moe_work, a2a) - moe_work) + hidden / s.n_moe  # + one layer to fill the pipeline
        overlapped = {key: 2.0 * half[key] for key in ("gemm_s", "attention_decode_s", "attention_prefill_s")}
        overlapped.update(
            compute_s=2.0 * half["compute_s"],
            memory_s=2.0 * half["memory_s"],
            network_s=2.0 * (half["network_s"] - a2a) + exposed,
            overhead_s=2.0 * (half["overhead_s"] - host) + host,  # launches per micro-batch, one host step
            lm_head_s=2.0 * half["lm_head_s"],
            experts_s=2.0 * half["experts_s"],
        )
        overlapped["total_s"] = (
            overlapped["compute_s"] + overlapped["memory_s"] + overlapped["network_s"] + overlapped["overhead_s"]
        )
        # a micro-batch needs a token of its own on every attention-DP rank
        split = d_seq * verify + p_tok >= 2.0 * dep.attention_dp
        if np.all(split):  # the serial terms are needed only where a batch is too small to split
            return overlapped
        one = self._terms_serial(p_tok, p_att, d_seq, d_ctx, p_seq, verify)
        if isinstance(split, bool):
            return {k: v for k, v in one.items() if k != "a2a_s"}
        return {k: np.where(split, overlapped[k], one[k]) for k in overlapped}

    def _terms_serial(
        self, p_tok: Any, p_att: Any, d_seq: Any, d_ctx: Any, p_seq: Any, verify: float
    ) -> dict[str, Any]:
        """`_terms` with every term in series; `a2a_s` is the expert all-to-all's part of network_s."""
        dep, cal, s, eng = self.deployment, self.calibration, self._s, self.engine
        m = dep.model
        pp, adp = dep.pp, dep.attention_dp
        h = float(m.hidden_size)
        p_seq = vmax(p_seq, (p_tok > 0) * 1.0)

        # The batch runs as min(pp, sequences) micro-batches: a lone sequence cannot be split over stages,
        # so below pp sequences the pipeline idles (bubbles) rather than shrinking each micro-batch.
        micro = vmin(vmax(d_seq + p_seq * (p_tok > 0), 1.0), float(pp))
        tokens = (p_tok + d_seq * verify) / micro  # per micro-batch, whole replica
        t_rank = tokens / adp  # per attention-DP rank
        frac = 1.0 / pp  # each stage holds 1/pp of every layer kind
        prefill_share = safe_div(p_tok, p_tok + d_seq * verify)
        gw = self._gemm_w
        experts = p_tok * 0.0

        # --- GEMMs ------------------------------------------------------------------------------------
        gemm = gw.time_s(t_rank, s.mixer_n, h, s.n_mixer * frac, 2 * s.n_mixer * frac)
        if s.n_dense_ffn:
            gemm = gemm + gw.time_s(t_rank, s.ffn_n, h, s.n_dense_ffn * frac, 2 * s.n_dense_ffn * frac)
        if s.n_moe:
            # the busiest expert-parallel rank sets the layer's time (perf/moe.py)
            e, k = float(m.num_experts), float(m.experts_per_token)
            # a rank holding redundant copies reads (E + r) / ep expert slots at most (Deployment.redundant_experts)
            local = touched_experts_per_rank(tokens, e, k, dep.moe_ep) * dep.expert_copies_ratio
            per_expert = safe_div(busiest_rank_assignments(tokens, k, dep.moe_ep), local)
            experts = self._gemm_e.time_s(per_expert, s.expert_n, h, local * s.n_moe * frac, 2 * s.n_moe * frac, local)
            experts = experts * self._expert_format_ratio  # the whole GEMM sum is scaled by _format_scale below
            # grouped expert GEMMs with routing/permutation run below dense efficiency in prefill (fitted)
            experts = experts * (
                1.0
                + prefill_share * (eng.moe_prefill_eff_scale - 1.0)
                + (1.0 - prefill_share) * (eng.moe_decode_eff_scale - 1.0)
            )
            gemm = gemm + experts
            gemm = gemm + self._gemm_bf16.time_s(t_rank, s.router_n, h, s.n_moe * frac, s.n_moe * frac)
            if s.shared_n:
                gemm = gemm + gw.time_s(t_rank, s.shared_n, h, s.n_moe * frac, 2 * s.n_moe * frac)
        lm_head = self._gemm_bf16.time_s((d_seq * verify + p_seq) / adp / micro, s.lm_head_n, h, frac)
        scale = (
            1.0 + prefill_share * (eng.prefill_eff_scale - 1.0) + (1.0 - prefill_share) * (eng.decode_eff_scale - 1.0)
        ) * self._format_scale
        gemm = (gemm + lm_head) * scale

        # --- attention kernels ------------------------------------------------------------------------
        # Decode reads each sequence's cache (sliding windows, compressed entries and recurrent state as
        # ModelSpec.kv_bytes counts them); prefill runs the causal score/value FLOPs of its chunk.
        seqs_rank = d_seq / (adp * micro)
        work = seqs_rank * s.kv_heads_per_chip
        mean_ctx = safe_div(d_ctx, d_seq) + (verify - 1.0)
        kv_read = seqs_rank * self._kv_bytes(mean_ctx) / (s.kv_shards * pp)
        dec_attn = decode_attention_time_s(
            kv_read,
            work,
            0.0,
            self.deployment.system.chip,
            cal,
            layers=s.n_mixer * frac,
            launch_scale=eng.launch_scale,
            sram_bytes=self._sram_bytes if dep.kv_in_sram else 0.0,
            query_rows=seqs_rank * s.q_heads_per_chip * s.n_kv_layers * frac,
            kv_bytes_per_value=self._kv_value_bytes,
        )
        chunk = safe_div(p_tok, p_seq)
        mean_span = safe_div(p_att, p_tok)
        pre_flops = self._attn_flops(mean_span) * p_tok / (dep.tp * adp * micro)
        pre_attn = prefill_attention_time_s(
            pre_flops,
            chunk,
            self.deployment.system.chip,
            cal,
            layers=s.n_kv_layers * frac,
            launch_scale=eng.launch_scale,
            query_rows=p_tok / (adp * micro) * s.q_heads_per_chip * s.n_kv_layers * frac,
        )
        pre_attn = pre_attn * eng.prefill_eff_scale

        # --- collectives ------------------------------------------------------------------------------
        msg = t_rank * h * ACTIVATION_BYTES
        net = msg * 0.0
        if dep.tp > 1 and dep.tp_layout != "1d":
            net = net + self._pope_layout_comm_s(t_rank) * s.layers * frac
        elif dep.tp > 1:
            n_ar = s.n_mixer + s.n_dense_ffn
            if s.n_moe and adp == 1:
                n_ar += s.n_moe  # experts (TP or EP) see every token; their partial sums are all-reduced
            net = net + self._ar_tp.time_s(msg) * n_ar * frac
        a2a = msg * 0.0
        if s.n_moe and adp > 1:  # attention-DP ranks dispatch their own tokens to the experts and back
            fanout = min(float(m.experts_per_token), float(dep.chips_per_stage))
            a2a = 2.0 * self._a2a.time_s(msg * fanout) * s.n_moe * frac
            net = net + a2a
        if pp > 1:
            net = net + self._p2p.time_s(msg)

        # --- overheads --------------------------------------------------------------------------------
        overhead = eng.layer_s * s.layers * frac + eng.iteration_s / pp + msg * 0.0

        total = (gemm + dec_attn + pre_attn + net + overhead) * pp
        compute_share = t_rank / (t_rank + self._ridge)
        return {
            "gemm_s": gemm * pp,
            "attention_decode_s": dec_attn * pp,
            "attention_prefill_s": pre_attn * pp,
            "compute_s": (gemm * compute_share + pre_attn) * pp,
            "memory_s": (gemm * (1.0 - compute_share) + dec_attn) * pp,
            "network_s": net * pp,
            "overhead_s": overhead * pp,
            "total_s": total,
            "lm_head_s": lm_head * scale * pp,
            "experts_s": experts * scale * pp,
            "a2a_s": a2a * pp,
        }

    def _pope_layout_comm_s(self, tokens: Any) -> Any:
        """Per-layer communication of Pope et al.'s feed-forward layouts (sec. 3.2.1-3.2.3) on a TPU v4
        torus, for T = B x L tokens, E = d_model, F = d_ff, n chips in an x, y, z slice (`_pope_torus`).

        Volumes (elements of 2 bytes, bf16), per chip: the 2D weight-stationary layout all-gathers the
        input over yz and reduce-scatters the output over yz (2 T E / X), and reduce-scatters / all-gathers
        the hidden activations over x (2 T F / YZ) (sec. 3.2.2; at the optimal X = sqrt(n E / F) the sum is
        their 8 T E / sqrt(n)); the weight-gathered XYZ layout all-gathers weights over all n chips,
        4 E sqrt(T F) / sqrt(n) (sec. 3.2.3).

        Bandwidth: Pope's 270 GB/s per chip (chip.scaleup_bandwidth_gb_s) is six ICI links of 45 GB/s
        each way (+-x, +-y, +-z). A bidirectional ring collective over one torus axis uses only that axis'
        two links, so a collective over x moves at 2/6 of 270 GB/s and one over yz (y and z at once) at
        4/6; Pope's formulas, which divide by the full 270 GB/s, are the bound with every link busy.

        Latency: ring collectives go axis by axis on the torus, (d - 1) hops per axis of size d, each hop
        paying the collective step latency (the system's ICI latency x the engine's fitted
        allreduce_latency_scale); four collectives per layer in the 2D layout (two over x, two over yz),
        two (all-gather of the weights in and out) over xyz in the weight-gathered layout. This is what
        makes the fixed cost per layer grow with the slice: 18 hops at 64 chips (4 x 4x4), 10 at 16."""
        dep = self.deployment
        m = dep.model
        n = int(dep.tp)
        e = float(m.hidden_size)
        f = float(m.intermediate_size or m.moe_intermediate_size * max(m.experts_per_token, 1))
        link_bw = (dep.system.chip.scaleup_bandwidth_gb_s * 1e9 or dep.system.intra_node_bandwidth_bytes_per_s) / 6.0
        x, y, z = _pope_torus(n, e, f)

        def links(*axes: int) -> float:
            return 2.0 * sum(1 for d in axes if d > 1)

        def hops(*axes: int) -> int:
            return sum(d - 1 for d in axes)

        if dep.tp_layout == "2d":
            yz = n // x
            t_bw = 2.0 * tokens * f / yz / (links(x) * link_bw) + 2.0 * tokens * e / x / (links(y, z) * link_bw)
            n_hops = 2 * hops(x) + 2 * hops(y, z)
        else:
            t_bw = 4.0 * e * (tokens * f) ** 0.5 / (n**0.5 * links(x, y, z) * link_bw)
            n_hops = 2 * hops(x, y, z)
        return t_bw * ACTIVATION_BYTES + n_hops * self._ar_tp.alpha_s * (tokens > 0)

    def iteration_time_s(
        self,
        prefill_tokens: Any,
        prefill_attended_tokens: Any,
        decode_seqs: Any,
        decode_context_tokens: Any,
        prefill_seqs: Any = 1,
    ) -> Any:
        """Seconds for one iteration (see `iteration_breakdown`); scalar in, float out."""
        t = self.iteration_breakdown(
            prefill_tokens, prefill_attended_tokens, decode_seqs, decode_context_tokens, prefill_seqs
        )["total_s"]
        return float(t) if np.ndim(t) == 0 else t

    def prefill_time_s(self, n_tokens: Any, cached_tokens: Any = 0) -> Any:
        """One isolated prefill of `n_tokens` after `cached_tokens` already in the cache."""
        n = np.asarray(n_tokens, dtype=np.float64)
        c = np.asarray(cached_tokens, dtype=np.float64)
        attended = n * c + n * (n + 1.0) / 2.0
        return self.iteration_time_s(n, attended, 0.0, 0.0, 1.0)

    def decode_step_time_s(self, batch: Any, context_tokens: Any) -> Any:
        """One decode-only iteration for `batch` sequences of `context_tokens` each."""
        b = np.asarray(batch, dtype=np.float64)
        return self.iteration_time_s(0.0, 0.0, b, b * np.asarray(context_tokens, dtype=np.float64))
