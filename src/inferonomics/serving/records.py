"""What a replica ran, iteration by iteration: the records the replica hands to the metrics.

The seam between the engine model and its measurement (as vLLM v1's `SchedulerOutput` and Vidur's
metrics store): `Replica` appends one record per event and `metrics.py` reads them by field name.
Records are immutable `NamedTuple`s: a frozen dataclass costs ~4 us to build against ~1 us (measured,
Python 3.11), and the Azure benchmark of `benchmarks/sim_speed.py` builds ~66,000 of them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class IterationRecord(NamedTuple):
    """One iteration: prefill chunks and/or one decode step of the running batch."""

    replica: int
    start_s: float
    duration_s: float
    prefill_tokens: int
    prefill_attended_tokens: float
    """Sum over prefill chunks of the tokens each new token attends to (causal: n*c + n(n+1)/2)."""
    decode_seqs: int
    decode_context_tokens: float
    running: int
    """Requests holding a seat (decoding or mid-prompt) when the iteration was formed."""
    kv_used_blocks: int
    waiting: int
    extra_s: float
    """Time beyond the model's step: swap and KV-tier transfers."""


class DecodeRunRecord(NamedTuple):
    """K decode-only iterations of the same batch, advanced as one event (see `Replica.start_step`)."""

    replica: int
    start_s: float
    durations_s: np.ndarray
    decode_seqs: int
    mean_context_tokens: float
    """Mean context per sequence at the first step."""
    mean_context_step_tokens: float
    """Growth of that mean per step."""
    running: int
    kv_used_blocks: int
    """KV blocks in use at the first step."""
    decode_step: int
    """The replica's decode-step counter at the first step."""
    joins_by_phase: tuple[int, ...] | None
    """Decoding requests by (KV tokens at join - step at join) mod block size: which of them open a new
    block at each step (None with speculative decoding, whose blocks are reserved up front)."""
    waiting: int


ITERATION_COLUMNS: list[str] = list(IterationRecord._fields)
