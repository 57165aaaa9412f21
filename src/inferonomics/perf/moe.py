"""Expert load on the busiest expert-parallel rank of a mixture-of-experts layer.

T tokens each choose k of E experts; the experts are split over `ep` ranks of E / ep each, and a layer
ends when its busiest rank does. With routing uniform and independent across tokens:

- an expert is touched with probability p = 1 - (1 - k/E)^T (Erdil 2025), so a rank streams the
  weights of (E / ep) p experts on average;
- the T k token-expert assignments fall on a rank ~ Binomial(T k, 1 / ep); the busiest of `ep` ranks
  sits about z_ep standard deviations above the mean, z_ep the expected maximum of ep standard normals
  (Blom 1958: Phi^-1((n - 0.375) / (n + 0.25))), capped at T k. This sets the expert FLOPs (prefill).

The touched-expert count is kept at its mean. Its busiest-rank maximum under uniform routing (a
Monte Carlo check agrees with the closed form within 5%) made the fit worse on the measured runs:
in-sample TPOT 9.9% -> 10.3%, leave-one-out TPOT on Qwen3-235B (EP 4/8) 42.6% -> 48.9%. Trained routers
touch fewer distinct experts than uniform routing does, so the uniform mean already errs high for
weight streaming and adding its spread compounds that; the skew itself is not in the model configs.
"""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np


@lru_cache(maxsize=64)
def expected_max_standard_normal(n: int) -> float:
    """E[max of n independent standard normals] (Blom's approximation; 0 for n <= 1)."""
    if n <= 1:
        return 0.0
    return NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def touched_experts_per_rank(tokens: Any, experts: float, top_k: float, ep: int) -> Any:
    """Mean distinct experts a rank holding E / ep of them serves for `tokens` routed tokens."""
    t = np.asarray(tokens, dtype=np.float64)
    return experts / ep * (1.0 - (1.0 - top_k / experts) ** t)


def busiest_rank_assignments(tokens: Any, top_k: float, ep: int) -> Any:
    """Token-expert assignments on the busiest of `ep` ranks (T k when ep = 1; arrays broadcast)."""
    assignments = np.asarray(tokens, dtype=np.float64) * top_k
    z = expected_max_standard_normal(int(ep))
    if z == 0.0:
        return assignments
    share = 1.0 / ep
    spread = z * np.sqrt(assignments * share * (1.0 - share))
    return np.minimum(assignments, assignments * share + spread)
