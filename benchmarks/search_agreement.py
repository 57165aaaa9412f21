#!/usr/bin/env python
"""The analytic screen against the simulator re-check on the search's leaders.

    python benchmarks/search_agreement.py [--rate R] [--recheck N]

Llama-3.1-70B on H100 and H200, ISL 2000 / OSL 500 at `--rate` requests/s, TTFT <= 1 s, TPOT <= 50 ms,
aggregated serving; the leaders re-checked in the simulator (Poisson arrivals at the rate). For each: the
screen's TTFT/TPOT at the offered load (what the search ranks by), at a full batch (what it ranked by
before), and the simulator's mean, with the ratio screen / simulator. Needs no shared data.
"""

from __future__ import annotations

import argparse

from inferonomics.search import SearchRequest, SearchSpace, search


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=5.0)
    ap.add_argument("--recheck", type=int, default=4)
    args = ap.parse_args()
    space = SearchSpace(hardware=("h100_sxm", "h200_sxm"), modes=("agg",))
    req = SearchRequest(
        "Llama-3.1-70B",
        isl=2000,
        osl=500,
        rate_per_s=args.rate,
        ttft_s=1.0,
        tpot_s=0.05,
        space=space,
        recheck=args.recheck,
        recheck_requests=400,
    )
    res = search(req, workers=1, recheck_workers=1)
    rc = res.rechecked
    print(
        f"{'leader':52s} {'TTFT screen':>11s} {'full batch':>10s} {'sim':>7s} {'ratio':>6s}   "
        f"{'TPOT screen':>11s} {'full':>6s} {'sim':>6s} {'ratio':>6s}"
    )
    for _, r in rc.iterrows():
        name = f"{r['hardware']} TP{r['tp']} {r['precision']} {r['engine']} b{r['batch_size']} x{r['replicas']}"
        print(
            f"{name:52s} {r['ttft_ms']:11.0f} {r['ttft_full_batch_ms']:10.0f} {r['sim_ttft_ms']:7.0f} "
            f"{r['ttft_ms'] / r['sim_ttft_ms']:6.2f}   {r['tpot_ms']:11.1f} {r['tpot_full_batch_ms']:6.1f} "
            f"{r['sim_tpot_ms']:6.1f} {r['tpot_ms'] / r['sim_tpot_ms']:6.2f}"
        )
    full = (rc["ttft_full_batch_ms"] / rc["sim_ttft_ms"]).max()
    now = rc["ttft_ms"] / rc["sim_ttft_ms"]
    print(
        f"\nTTFT screen / simulator: at the offered load {now.min():.2f}-{now.max():.2f}; "
        f"at a full batch up to {full:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
