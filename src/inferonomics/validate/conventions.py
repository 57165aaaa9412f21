"""How engines and benchmark tables write an instance's parallelism, mapped to one `Deployment` layout.

`Deployment` counts chips as tp x attention_dp (attention tensor-parallel inside each data-parallel
attention group; MoE experts over moe_tp x moe_ep of the same chips). Tables write it three ways:

- aiconfigurator / TensorRT-LLM: `tp_size` is the attention TP of one attention-DP rank, so the instance
  has tp_size x attention_dp_size GPUs and moe_tp x moe_ep = tp x attention_dp (tp 1, dp 8, ep 8).
- SGLang with `--enable-dp-attention`: `--tp-size` is every GPU of the instance and `--dp-size` splits it
  into attention-DP groups, each attention-TP over tp_size / dp_size GPUs (SGLang
  `python/sglang/srt/layers/dp_attention.py`, `compute_dp_attention_world_info`: attn_tp_size =
  tp_size // dp_size). DeepSeek-R1 at `--tp 48 --dp 48 --ep 48` is 48 GPUs with attention TP 1,
  although 48 does not divide its 128 heads. Such a row is read as attention TP = tp_size / dp_size when
  the experts span tp_size GPUs (moe_tp x moe_ep = tp_size, not tp_size x dp_size), or, with no expert
  columns, when the backend is SGLang and tp_size does not divide the heads.
- An empty `attention_dp_size` with experts over more GPUs than `tp_size` (moe_tp x moe_ep > tp) means
  attention runs data-parallel over the rest: attention DP = moe_tp x moe_ep / tp.

An expert-parallel size that does not divide the expert count is kept: engines then place redundant
experts (vLLM EPLB `num_redundant_experts`, SGLang `ep_num_redundant_experts`, TensorRT-LLM's online
load balancer `num_slots`), which `Deployment.redundant_experts` models (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Parallelism:
    """One instance's layout in `Deployment`'s terms, and what was assumed to get it."""

    tp: int
    pp: int
    attention_dp: int
    moe_ep: int
    moe_tp: int
    notes: tuple[str, ...] = ()


def read_parallelism(
    tp_size: int,
    pp_size: int,
    attention_dp_size: int | None,
    moe_tp_size: int,
    moe_ep_size: int,
    *,
    backend: str,
    num_heads: int,
    is_moe: bool,
) -> Parallelism:
    """The instance's parallelism from a table row's columns (`moe_tp_size` 0 = not given)."""
    tp, pp = max(tp_size, 1), max(pp_size, 1)
    ep = max(moe_ep_size, 1) if is_moe else 1
    moe_tp = moe_tp_size if is_moe else 0
    adp = int(attention_dp_size or 1)
    notes: list[str] = []
    experts_chips = max(moe_tp, 1) * ep
    if adp > 1 and tp >= adp and tp % adp == 0:
        experts_on_tp = is_moe and experts_chips == tp and experts_chips != tp * adp
        no_expert_columns = not is_moe or (moe_tp == 0 and ep == 1)
        heads_misfit = num_heads % tp != 0
        if experts_on_tp or (no_expert_columns and backend == "sglang" and heads_misfit):
            notes.append(
                f"tp_size {tp} with attention_dp_size {adp} read as SGLang's DP-attention convention: "
                f"{tp} GPUs, attention TP {tp // adp} in each of {adp} DP groups (attn_tp = tp / dp)"
            )
            tp = tp // adp
    elif attention_dp_size is None and experts_chips > tp and experts_chips % tp == 0:
        adp = experts_chips // tp
        notes.append(f"attention_dp_size empty: experts span {experts_chips} GPUs, so attention DP = {adp}")
    if moe_tp and moe_tp * ep != tp * adp:
        moe_tp = 0
    return Parallelism(tp=tp, pp=pp, attention_dp=adp, moe_ep=ep, moe_tp=moe_tp, notes=tuple(notes))


def _int(row: Any, key: str, default: int) -> int:
    v = row.get(key) if hasattr(row, "get") else None
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return default if f != f else int(f)


def row_parallelism(row: Any, prefix: str, model: Any, backend: str) -> Parallelism:
    """`read_parallelism` on the `<prefix>tp_size`, ... columns of a measured-serving row."""
    adp_raw = row.get(f"{prefix}attention_dp_size") if hasattr(row, "get") else None
    try:
        adp: int | None = int(float(adp_raw)) if adp_raw is not None and float(adp_raw) == float(adp_raw) else None
    except (TypeError, ValueError):
        adp = None
    return read_parallelism(
        _int(row, f"{prefix}tp_size", 1),
        _int(row, f"{prefix}pp_size", 1),
        adp,
        _int(row, f"{prefix}moe_tp_size", 0),
        _int(row, f"{prefix}moe_ep_size", 1),
        backend=backend,
        num_heads=model.num_heads,
        is_moe=model.is_moe,
    )


__all__ = ["Parallelism", "read_parallelism", "row_parallelism"]
