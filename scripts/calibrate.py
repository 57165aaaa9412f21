#!/usr/bin/env python
"""Rebuild `src/inferonomics/perf/data/calibration.json` from the measured data in ../shared/data.

    python scripts/calibrate.py [--shared ../shared] [--systems h100_sxm h200_sxm]
                                [--exclude-model M] [--out FILE] [--disagg-only]

`--systems h100_sxm` fits on H100 only (the H100 -> H200 transfer check); `--exclude-model` leaves a
model out of stages 2 and 3 (leave-one-model-out); `--disagg-only` refits stage 3 (the disaggregated
constants) on top of the shipped file, which gives the same file as the full rebuild since stage 3 reads
only stages 1 and 2. Stage 4 fits the architecture model (power cap, vendor stack, FP4) on the
published tables (`--skip-architecture` keeps the shipped one; it reads stages 1 and 2 only, so
`--disagg-only` refits it too). See `inferonomics.calibrate` for what is fitted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from inferonomics.calibrate.architecture import fit_architecture, read_published
from inferonomics.calibrate.disagg import fit_disagg
from inferonomics.calibrate.engines import fit_engines
from inferonomics.calibrate.kernels import fit_kernels
from inferonomics.perf.calibration import CALIBRATION_FILE, load_calibration
from inferonomics.validate.serving import load_measured

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--systems", nargs="+", default=["h100_sxm", "h200_sxm"])
    ap.add_argument("--exclude-model", action="append", default=[])
    ap.add_argument("--out", default=str(CALIBRATION_FILE))
    ap.add_argument("--skip-engines", action="store_true")
    ap.add_argument("--disagg-only", action="store_true", help="refit stage 3 on top of the shipped file")
    ap.add_argument("--skip-architecture", action="store_true", help="keep the architecture model as it is")
    args = ap.parse_args()
    shared = Path(args.shared)
    if not (shared / "data").is_dir():
        print(f"no shared data at {shared}/data", file=sys.stderr)
        return 2
    measured = load_measured(shared / "data" / "measured" / "serving_h100_h200.csv")
    measured = measured[measured.system.isin(args.systems) & ~measured.model_path.isin(args.exclude_model)]
    disagg = load_measured(shared / "data" / "measured" / "serving_disagg_h100_h200.csv")
    disagg = disagg[disagg.system.isin(args.systems) & ~disagg.model_path.isin(args.exclude_model)]
    if args.disagg_only:
        cal = load_calibration(CALIBRATION_FILE)
    else:
        cal = fit_kernels(shared, args.systems)
        if not args.skip_engines:
            cal = replace(cal, engines=fit_engines(cal, measured, sorted(measured.backend.unique())))
    if not args.skip_engines:
        cal = replace(cal, engines=fit_disagg(cal, disagg))
    if not args.skip_architecture:
        trt, ml = read_published(shared)
        cal = replace(cal, architecture=fit_architecture(trt, ml, cal))
    cal = replace(
        cal,
        provenance={
            "built_by": "scripts/calibrate.py",
            "systems": args.systems,
            "excluded_models": args.exclude_model,
            "serving_rows": int(len(measured)),
            "disagg_rows": int(len(disagg)),
            "data": "shared/data/microbench (aiconfigurator, vLLM 0.19 kernels, NCCL), shared/data/measured and "
            "(architecture) shared/data/published",
        },
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(cal), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
