"""Tasks for the executor tests, importable by a spawned worker (the tests folder is on its sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def echo(payload: Any, progress: Callable[[float], None]) -> Any:
    progress(0.5)
    return {"echo": payload}


def hog_memory(payload: dict[str, Any], progress: Callable[[float], None]) -> int:
    """Touch `mb` megabytes, slowly enough for the parent's watchdog to see them, and hold them."""
    chunks = []
    for _ in range(int(payload["mb"]) // 16):
        chunks.append(bytearray(16 * 1024 * 1024))
        time.sleep(0.01)
    time.sleep(30)
    return len(chunks)


def sleep(payload: dict[str, Any], progress: Callable[[float], None]) -> float:
    end = time.monotonic() + float(payload["s"])
    while time.monotonic() < end:
        progress(0.1)
        time.sleep(0.05)
    return float(payload["s"])


def fail(payload: Any, progress: Callable[[float], None]) -> None:
    from inferonomics.errors import InvalidInputError

    raise InvalidInputError("isl: must be >= 1 (a product error from the worker)")
