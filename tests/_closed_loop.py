"""The steady part of a simulated closed loop, as the steady-state tests measure it against the closed form."""

from __future__ import annotations

from typing import Any

import pandas as pd


def steady_window(res: Any, clients: int) -> tuple[pd.DataFrame, float]:
    """(requests sent and finished between the warm-up and the drain, requests/s in that window): the warm-up
    ends at the 2C-th completion, the drain starts at the C-th from last."""
    done = res.requests[res.requests.status == "completed"].sort_values("finish_s")
    warm, drain = done.finish_s.iloc[2 * clients - 1], done.finish_s.iloc[len(done) - clients]
    window = done[(done.finish_s > warm) & (done.finish_s <= drain)]
    rps = (len(window) - 1) / (window.finish_s.iloc[-1] - window.finish_s.iloc[0])
    return done[(done.arrival_s >= warm) & (done.finish_s <= drain)], float(rps)
