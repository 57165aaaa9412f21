"""A request as the simulator tracks it: one mutable object per request, no per-token objects.

Token bookkeeping (vLLM's `num_computed_tokens` view): a prefill of `target` tokens leaves `target`
tokens in the KV cache and samples one token; each decode step writes the previous token's KV and
samples the next. So a request with `prompt` input and `output` output tokens computes `prompt`
prefill tokens and `output - 1` decode steps, and holds `prompt + output - 1` tokens of KV at its end.
"""

from __future__ import annotations

import math

PENDING, RUNNING, COMPLETED, REJECTED, INCOMPLETE = "pending", "running", "completed", "rejected", "incomplete"
NOT_ISSUED = "not_issued"
"""A partial run stopped before sending the request."""


class Request:
    __slots__ = (
        "rid",
        "arrival_s",
        "prompt",
        "output",
        "keys",
        "client",
        "session",
        "turn",
        "status",
        "reason",
        "replica",
        "decode_replica",
        # prefill progress
        "target",
        "computed",
        "n_shared",
        "pages",
        "hit_loaded",
        # decode (lazy: values at step t0, see Replica)
        "gen",
        "kv0",
        "t0",
        "gen0",
        "rate",
        "steps",
        "epoch",
        "in_decode",
        # metrics
        "enqueue_s",
        "first_sched_s",
        "first_token_s",
        "finish_s",
        "preemptions",
        "cached_tokens",
        "recomputed_tokens",
        "last_token_s",
        "resume_gaps",
        "swapped_kv",
    )

    def __init__(
        self,
        rid: int,
        arrival_s: float,
        prompt: int,
        output: int,
        keys: tuple[int, ...] | list[int] | None = None,
        client: int = -1,
        session: int = -1,
        turn: int = 0,
    ) -> None:
        self.rid = rid
        self.arrival_s = arrival_s
        self.prompt = prompt
        self.output = output
        self.keys = keys
        self.client = client
        self.session = session
        self.turn = turn
        self.status = PENDING
        self.reason = ""
        self.replica = -1
        self.decode_replica = -1
        self.target = prompt
        self.computed = 0
        self.n_shared = 0
        self.pages = 0
        self.hit_loaded = 0
        self.gen = 0
        self.kv0 = 0
        self.t0 = 0
        self.gen0 = 0
        self.rate = 1.0
        self.steps = 0
        self.epoch = 0
        self.in_decode = False
        self.enqueue_s = math.nan
        self.first_sched_s = math.nan
        self.first_token_s = math.nan
        self.finish_s = math.nan
        self.preemptions = 0
        self.cached_tokens = 0
        self.recomputed_tokens = 0
        self.last_token_s = math.nan
        self.resume_gaps: list[float] | None = None
        self.swapped_kv = 0

    def __repr__(self) -> str:
        return (
            f"Request({self.rid}, prompt={self.prompt}, output={self.output}, status={self.status}, "
            f"gen={self.gen}, computed={self.computed}/{self.target})"
        )
