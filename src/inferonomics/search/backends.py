"""Where chunks of a sweep run: this process, a local process pool, or a Ray cluster.

Every backend calls the same pure function on the same chunks and hands results back in chunk
order, so the rows are identical whichever ran them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal, TypeVar

from inferonomics.errors import InvalidInputError
from inferonomics.search.screen import ChunkResult, ScreenInputs

BackendName = Literal["local", "ray"]
BACKENDS: tuple[str, ...] = ("local", "ray")
U = TypeVar("U")
ChunkFn = Callable[[ScreenInputs, list[Any]], ChunkResult]


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InvalidInputError(
            "the Ray backend needs Ray: pip install 'inferonomics[ray]' (or use --backend local)"
        ) from None
    return ray


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast (Ray itself retries for minutes) when `host:port` or `ray://host:port` does not answer."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InvalidInputError(f"cannot reach a Ray cluster at {address} ({exc.strerror or exc})") from None


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to the cluster at `address`, or start a local instance on loopback; True if this call
    started or connected (and should shut down), False if Ray was already initialised."""
    ray = _ray()
    if ray.is_initialized():
        return False
    if address:
        check_reachable(address)
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
            configure_logging=False,
        )
    return True


def run_chunks(
    fn: ChunkFn,
    inputs: ScreenInputs,
    chunks: Sequence[list[Any]],
    *,
    backend: BackendName = "local",
    address: str | None = None,
    workers: int = 1,
    on_result: Callable[[int, ChunkResult], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ChunkResult]:
    """Evaluate `fn(inputs, chunk)` for every chunk; results in chunk order.

    local: in this process when `workers` <= 1, else a process pool of `workers`. ray: one task per
    chunk on the cluster at `address` (or a local instance on loopback). `on_result(i, result)` is
    called in chunk order as results arrive (to persist them); `progress(n)` after each chunk.
    """
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    results: list[ChunkResult] = []

    def done(i: int, r: ChunkResult) -> None:
        results.append(r)
        if on_result is not None:
            on_result(i, r)
        if progress is not None:
            progress(1)

    if not chunks:
        return results
    if backend == "ray":
        ray = _ray()
        started = start_ray(address, num_cpus=workers if workers > 1 else None)
        try:
            remote = ray.remote(fn)
            ref = ray.put(inputs)
            futures = [remote.remote(ref, chunk) for chunk in chunks]
            for i, f in enumerate(futures):
                done(i, ray.get(f))
        finally:
            if started:
                ray.shutdown()
    elif workers <= 1 or len(chunks) == 1:
        for i, chunk in enumerate(chunks):
            done(i, fn(inputs, chunk))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
            for i, r in enumerate(pool.map(fn, [inputs] * len(chunks), chunks)):
                done(i, r)
    return results
