"""Routers: which replica of a pool gets a request (a registry, like Vidur's global schedulers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from inferonomics.serving.request import Request

if TYPE_CHECKING:
    from inferonomics.serving.replica import Replica


class Router:
    name = "base"

    def pick(self, replicas: Sequence[Replica], req: Request) -> Replica:
        raise NotImplementedError


class RoundRobin(Router):
    name = "round_robin"

    def __init__(self, balance_threshold: int = 0) -> None:
        self._next = 0

    def pick(self, replicas: Sequence[Replica], req: Request) -> Replica:
        r = replicas[self._next % len(replicas)]
        self._next += 1
        return r


def _least_outstanding(replicas: Sequence[Replica]) -> Replica:
    best = replicas[0]
    for r in replicas:
        if r.outstanding < best.outstanding:
            best = r
    return best


class LeastOutstanding(Router):
    """Fewest requests routed and not finished (queued or running); ties to the lowest index."""

    name = "least_outstanding"

    def __init__(self, balance_threshold: int = 0) -> None:
        pass

    def pick(self, replicas: Sequence[Replica], req: Request) -> Replica:
        return _least_outstanding(replicas)


class LeastKV(Router):
    """Lowest KV load: pages held by running requests plus the prompts waiting, over capacity."""

    name = "least_kv"

    def __init__(self, balance_threshold: int = 0) -> None:
        pass

    def pick(self, replicas: Sequence[Replica], req: Request) -> Replica:
        return min(replicas, key=lambda r: r.kv_load)


class PrefixAware(Router):
    """Longest cached prefix wins unless that replica is overloaded (SGLang router cache-aware policy,
    Preble): if its outstanding requests exceed the least loaded replica's by more than the balance
    threshold, or nothing matches, fall back to least outstanding."""

    name = "prefix_aware"

    def __init__(self, balance_threshold: int = 8) -> None:
        self.threshold = balance_threshold

    def pick(self, replicas: Sequence[Replica], req: Request) -> Replica:
        least = _least_outstanding(replicas)
        if not req.keys:
            return least
        best, best_len = least, 0
        for r in replicas:
            n = r.pool.match(req.keys, len(req.keys))[0]
            if n > best_len or (n == best_len and n > 0 and r.outstanding < best.outstanding):
                best, best_len = r, n
        if best_len == 0 or best.outstanding > least.outstanding + self.threshold:
            return least
        return best


ROUTERS: dict[str, Callable[[int], Router]] = {
    "round_robin": RoundRobin,
    "least_outstanding": LeastOutstanding,
    "least_kv": LeastKV,
    "prefix_aware": PrefixAware,
}
