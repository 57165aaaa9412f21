"""A tiny stand-in for `inferonomics.perf.StepTimeModel` (same methods) so serving tests run fast and
do not move when the calibrated model is re-fitted. Linear in its inputs, NumPy-broadcasting."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class FakeStepTimeModel:
    def __init__(
        self,
        kv_capacity_tokens: int = 200_000,
        max_context_tokens: int = 32_768,
        speculative_tokens: int = 0,
        acceptance_rate: float = 0.0,
        replicas: int = 1,
        kv_bytes_per_token: float = 160_000.0,
        overhead_s: float = 0.004,
    ) -> None:
        self.kv_capacity_tokens = kv_capacity_tokens
        self.kv_bytes_per_token = kv_bytes_per_token
        self.overhead_s = overhead_s
        system = SimpleNamespace(
            name="fake_sxm", rental_usd_per_hour=2.0, inter_node_bandwidth_bytes_per_s=50e9, inter_node_latency_s=5e-6
        )
        self.deployment = SimpleNamespace(
            model=SimpleNamespace(name="fake-8b", max_context_tokens=max_context_tokens),
            system=system,
            chips_per_replica=1,
            replicas=replicas,
            speculative_tokens=speculative_tokens,
            acceptance_rate=acceptance_rate,
        )
        self.calls = 0

    def iteration_time_s(
        self, prefill_tokens: Any, prefill_attended_tokens: Any, decode_seqs: Any, decode_context_tokens: Any
    ) -> Any:
        self.calls += 1
        k = self.deployment.speculative_tokens
        return (
            self.overhead_s
            + 5e-5 * prefill_tokens
            + 2e-10 * prefill_attended_tokens
            + 1e-4 * decode_seqs * (1 + 0.5 * k)
            + 2e-8 * decode_context_tokens
        )

    def prefill_time_s(self, n_tokens: Any, cached_tokens: Any = 0) -> Any:
        return self.iteration_time_s(n_tokens, n_tokens * cached_tokens + n_tokens * (n_tokens + 1) / 2, 0, 0)
