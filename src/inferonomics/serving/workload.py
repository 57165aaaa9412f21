"""Workloads: open-loop arrivals (Poisson, gamma-bursty, replayed traces), closed loops, multi-turn sessions.

Prefix identity travels as *chain keys*: key j of a request names its first (j+1) x `prefix_block_tokens`
tokens (hash of key j-1 and the content id of block j), so equal keys mean an equal prefix, as in
vLLM's block hashes and Mooncake's `hash_ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from inferonomics.errors import InvalidInputError
from inferonomics.serving.distributions import Fixed, LengthDistribution


def chain_keys(block_ids: Sequence[object]) -> tuple[int, ...]:
    """Chain content ids of consecutive blocks into prefix keys (deterministic: ints and tuples only)."""
    keys = []
    prev = 0
    for b in block_ids:
        prev = hash((prev, b))
        keys.append(prev)
    return tuple(keys)


@dataclass(frozen=True, eq=False)
class StaticWorkload:
    """Requests whose arrival times are known in advance (open loop: synthetic or a replayed trace)."""

    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    prefix_keys: tuple[tuple[int, ...], ...] | None = None
    prefix_block_tokens: int = 512
    source: str = "synthetic"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        arr = np.asarray(self.arrival_s, dtype=np.float64)
        inp = np.asarray(self.input_tokens, dtype=np.int64)
        out = np.asarray(self.output_tokens, dtype=np.int64)
        if not (arr.shape == inp.shape == out.shape) or arr.ndim != 1:
            raise InvalidInputError("arrival_s, input_tokens and output_tokens must be 1-D and the same length")
        if arr.size and (not np.all(np.isfinite(arr)) or (inp < 0).any() or (out < 0).any()):
            raise InvalidInputError("arrival times must be finite and token counts >= 0")
        if self.prefix_keys is not None and len(self.prefix_keys) != arr.size:
            raise InvalidInputError("prefix_keys must have one entry per request")
        if self.prefix_block_tokens < 1:
            raise InvalidInputError("prefix_block_tokens must be >= 1")
        if arr.size and np.any(np.diff(arr) < 0):
            order = np.argsort(arr, kind="stable")
            arr, inp, out = arr[order], inp[order], out[order]
            if self.prefix_keys is not None:
                object.__setattr__(self, "prefix_keys", tuple(self.prefix_keys[i] for i in order))
        object.__setattr__(self, "arrival_s", arr)
        object.__setattr__(self, "input_tokens", inp)
        object.__setattr__(self, "output_tokens", out)

    def __len__(self) -> int:
        return int(self.arrival_s.size)

    def head(self, n: int) -> StaticWorkload:
        """The first `n` requests (by arrival)."""
        keys = None if self.prefix_keys is None else self.prefix_keys[:n]
        return StaticWorkload(
            self.arrival_s[:n],
            self.input_tokens[:n],
            self.output_tokens[:n],
            keys,
            self.prefix_block_tokens,
            self.source,
            (*self.notes, f"first {n} requests"),
        )

    def time_scaled(self, rate_scale: float) -> StaticWorkload:
        """Arrivals `rate_scale` times faster (2.0 = twice the request rate), from time 0."""
        if rate_scale <= 0:
            raise InvalidInputError(f"rate_scale must be > 0, got {rate_scale}")
        t0 = self.arrival_s[0] if len(self) else 0.0
        return StaticWorkload(
            (self.arrival_s - t0) / rate_scale,
            self.input_tokens,
            self.output_tokens,
            self.prefix_keys,
            self.prefix_block_tokens,
            self.source,
            (*self.notes, f"rate x{rate_scale:g}"),
        )

    @property
    def duration_s(self) -> float:
        return float(self.arrival_s[-1] - self.arrival_s[0]) if len(self) else 0.0

    def describe(self) -> str:
        n = len(self)
        if not n:
            return f"{self.source}: empty"
        rate = n / self.duration_s if self.duration_s > 0 else float("inf")
        return (
            f"{self.source}: {n:,} requests over {self.duration_s:,.0f} s ({rate:.2f}/s), mean input "
            f"{self.input_tokens.mean():,.0f}, mean output {self.output_tokens.mean():,.0f} tokens"
        )


def interarrival_s(rng: np.random.Generator, rate_per_s: float, n: int, burstiness: float = 1.0) -> np.ndarray:
    """Gamma inter-arrival gaps with shape `burstiness` and mean 1/rate (vLLM `benchmark_serving`
    convention: 1 = Poisson, < 1 burstier, > 1 smoother)."""
    if rate_per_s <= 0:
        raise InvalidInputError(f"rate must be > 0 requests/s, got {rate_per_s}")
    if burstiness <= 0:
        raise InvalidInputError(f"burstiness must be > 0, got {burstiness}")
    return rng.gamma(burstiness, 1.0 / (rate_per_s * burstiness), size=n)


def synthetic_workload(
    rate_per_s: float,
    num_requests: int,
    isl: LengthDistribution,
    osl: LengthDistribution,
    *,
    burstiness: float = 1.0,
    seed: int = 0,
    shared_prefix_tokens: int = 0,
    prefix_block_tokens: int = 512,
) -> StaticWorkload:
    """Open-loop requests at `rate_per_s` (Poisson when burstiness = 1, gamma otherwise).

    `shared_prefix_tokens` puts a common system prompt of that length at the head of every prompt
    (whole blocks of it can be prefix-cache hits); the rest of each prompt is unique.
    """
    if num_requests < 1:
        raise InvalidInputError(f"num_requests must be >= 1, got {num_requests}")
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(interarrival_s(rng, rate_per_s, num_requests, burstiness))
    arrivals -= arrivals[0]
    inp = isl.sample(rng, num_requests)
    out = osl.sample(rng, num_requests)
    keys = None
    if shared_prefix_tokens > 0:
        inp = inp + shared_prefix_tokens
        n_shared = shared_prefix_tokens // prefix_block_tokens
        shared = [("system", j) for j in range(n_shared)]
        keys = tuple(
            chain_keys(shared + [(i, j) for j in range(n_shared, int(inp[i]) // prefix_block_tokens)])
            for i in range(num_requests)
        )
    src = f"synthetic rate {rate_per_s:g}/s" + (f", burstiness {burstiness:g}" if burstiness != 1 else "")
    return StaticWorkload(arrivals, inp, out, keys, prefix_block_tokens, src)


@dataclass(frozen=True)
class ClosedLoop:
    """`concurrency` clients, each sending its next request as soon as (plus think time) the previous ends.

    This is how `benchmark_serving --max-concurrency` and the measured data in ../shared drive engines.
    The run ends after `num_requests` requests in total.
    """

    concurrency: int
    isl: LengthDistribution = Fixed(1024)
    osl: LengthDistribution = Fixed(128)
    num_requests: int = 1000
    think_time_s: float = 0.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise InvalidInputError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.num_requests < 1:
            raise InvalidInputError(f"num_requests must be >= 1, got {self.num_requests}")
        if self.think_time_s < 0:
            raise InvalidInputError("think_time_s must be >= 0")

    def describe(self) -> str:
        return (
            f"closed loop of {self.concurrency} clients, {self.num_requests:,} requests, mean input "
            f"{self.isl.mean:,.0f}, mean output {self.osl.mean:,.0f} tokens"
        )


@dataclass(frozen=True)
class Sessions:
    """Multi-turn sessions (chat, coding agents) whose context grows turn by turn.

    Sessions start as a Poisson process; turn k's prompt is the system prompt, every earlier user
    message and answer, and the new user message; the next turn is sent `think_time` (exponential,
    mean `think_time_s`) after the answer ends. Keys cover the whole conversation so a turn can hit
    the blocks its predecessor left in the prefix cache (including blocks of generated tokens).
    """

    rate_sessions_per_s: float
    num_sessions: int
    turns: LengthDistribution = Fixed(4)
    user_tokens: LengthDistribution = Fixed(256)
    output_tokens: LengthDistribution = Fixed(256)
    think_time_s: float = 5.0
    system_prompt_tokens: int = 0
    prefix_block_tokens: int = 512
    burstiness: float = 1.0

    def __post_init__(self) -> None:
        if self.num_sessions < 1 or self.rate_sessions_per_s <= 0:
            raise InvalidInputError("sessions need num_sessions >= 1 and a rate > 0")
        if self.think_time_s < 0 or self.system_prompt_tokens < 0 or self.prefix_block_tokens < 1:
            raise InvalidInputError("think_time_s and system_prompt_tokens must be >= 0, prefix blocks >= 1")

    def describe(self) -> str:
        return (
            f"{self.num_sessions:,} sessions at {self.rate_sessions_per_s:g}/s, mean {self.turns.mean:.1f} "
            f"turns, system prompt {self.system_prompt_tokens} tokens"
        )

    def plan(self, seed: int) -> list[SessionPlan]:
        rng = np.random.default_rng(seed)
        starts = np.cumsum(interarrival_s(rng, self.rate_sessions_per_s, self.num_sessions, self.burstiness))
        starts -= starts[0]
        n_turns = self.turns.sample(rng, self.num_sessions)
        total = int(n_turns.sum())
        users = self.user_tokens.sample(rng, total).tolist()
        outs = self.output_tokens.sample(rng, total).tolist()
        thinks = (rng.exponential(self.think_time_s, total) if self.think_time_s > 0 else np.zeros(total)).tolist()
        plans = []
        pos = 0
        for s in range(self.num_sessions):
            k = int(n_turns[s])
            plans.append(
                SessionPlan(s, float(starts[s]), users[pos : pos + k], outs[pos : pos + k], thinks[pos : pos + k])
            )
            pos += k
        return plans

    def turn_request(self, plan: SessionPlan, turn: int) -> tuple[int, int, tuple[int, ...]]:
        """(prompt tokens, output tokens, prefix keys) of a session's turn."""
        sys_t = self.system_prompt_tokens
        prompt = sys_t + sum(plan.user[:turn]) + sum(plan.output[:turn]) + plan.user[turn]
        out = plan.output[turn]
        p = self.prefix_block_tokens
        n_blocks = (prompt + out) // p
        ids: list[object] = [("system", j) if (j + 1) * p <= sys_t else (plan.session, j) for j in range(n_blocks)]
        return prompt, out, chain_keys(ids)


@dataclass(frozen=True)
class SessionPlan:
    session: int
    start_s: float
    user: list[int]
    output: list[int]
    think_s: list[float]
