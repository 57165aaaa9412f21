"""Speed of the deployment search: configurations screened per second and the wall time of a full search.

    python benchmarks/search_speed.py [--quick] [--repeat N] [--workers N]

The full search: Llama-3.1-70B over every system in the catalog, ISL 2000 / OSL 500 at 5 req/s, TTFT
<= 1 s and TPOT <= 50 ms, default search space (aggregated and disaggregated), then the simulator
re-check of the 5 leaders. Target: under 10 s on one core. Reference points: NVIDIA's aiconfigurator
searches in under 30 s on average; Vidur-Search takes about an hour on a CPU machine for one model.

CPU seconds are printed beside wall seconds because the machine may be shared. Needs no shared data.
`--quick`: three systems only.
"""

from __future__ import annotations

import argparse
import time

from inferonomics.search import SearchRequest, SearchSpace, search

TARGET_S = 10.0


def run(label: str, req: SearchRequest, repeat: int, workers: int) -> None:
    best_wall = best_cpu = float("inf")
    res = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        res = search(req, workers=workers, recheck_workers=workers)
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    assert res is not None
    t = res.timings_s
    print(f"\n== {label}")
    print(f"configurations screened   {res.evaluated:>10,}  ({res.deployments:,} deployments)")
    print(
        f"screen (stage 1)          {t['screen_s']:>10.2f} s wall  "
        f"(aggregated {t['screen_agg_s']:.2f} s, disaggregated {t['screen_disagg_s']:.2f} s)"
    )
    per_cpu = f", {res.evaluated / t['screen_cpu_s']:,.0f} per CPU second" if workers == 1 else ""
    print(f"configurations per second {res.configs_per_s:>10,.0f}  (stage 1 wall{per_cpu})")
    print(f"simulator re-check        {t['recheck_s']:>10.2f} s wall  ({len(res.rechecked)} configurations)")
    print(
        f"full search               {best_wall:>10.2f} s wall, {best_cpu:.2f} s CPU in this process "
        f"(best of {repeat}; target {TARGET_S:g} s on one core: {'met' if best_cpu < TARGET_S else 'MISSED'})"
    )
    if res.best:
        print(
            f"recommended               {res.best['description']}: {res.best['usd_per_mtok']:.3f} USD/Mtok, "
            f"TTFT {res.best['ttft_ms']:.0f} ms, TPOT {res.best['tpot_ms']:.1f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="three systems only")
    ap.add_argument("--repeat", type=int, default=1, help="runs; the best is reported")
    ap.add_argument("--workers", type=int, default=1, help="local processes (default 1: one core)")
    args = ap.parse_args()
    hw = ("h100_sxm", "h200_sxm", "b200_sxm") if args.quick else ()
    req = SearchRequest(
        "Llama-3.1-70B", isl=2000, osl=500, rate_per_s=5.0, ttft_s=1.0, tpot_s=0.05, space=SearchSpace(hardware=hw)
    )
    where = "3 systems" if args.quick else "every catalog system"
    run(f"Llama-3.1-70B over {where}, full search (screen + simulator re-check)", req, args.repeat, args.workers)


if __name__ == "__main__":
    main()
