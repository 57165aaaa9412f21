"""The heavy endpoints' work, as functions a worker process runs: `fn(body as a dict, progress) -> JSON dict`.

Each re-validates its body with the same pydantic model the endpoint used, so a worker never trusts
what it is sent, and builds the answer exactly as the endpoint would have in-process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inferonomics.web import schemas as S

Progress = Callable[[float], None]


def simulate(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from inferonomics.web.app import _simulation

    return _simulation(S.SimulateBody.model_validate(payload))(progress)


def search(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from inferonomics.web.app import _search

    return _search(S.SearchBody.model_validate(payload))


def frontier(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from inferonomics.web.app import _frontier

    return _frontier(S.FrontierBody.model_validate(payload))


__all__ = ["frontier", "search", "simulate"]
