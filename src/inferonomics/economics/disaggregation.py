"""Prefill/decode disaggregation as a lever of the speed/cost frontier (and the resolver's prefill pool).

No formula of its own: an xPyD group is priced from the closed form the simulator checks,
`perf.steady_state.disaggregated` (prefill queue and batching, KV transfer, decode admission, a decode pool
that runs decode-only iterations), with its instance counts from the rate-matching planner
`perf.steady_state.plan_disaggregated_workers` (NVIDIA Dynamo's planner rule). The prefill pool is the
deployment of the same weight format that is cheapest per prompt token (`cheapest_prefill`, the rule
`DeploymentSpec` uses for an auto prefill pool); every frontier candidate is tried as the decode pool, at
a geometric grid of clients, in groups of at most `max_chips` chips.

Chip-time per token, as for an aggregated point (`cost.py`): the decode pool's chips over the output
tokens/s (`usd_per_mtok_output`), the prefill pool's chips over the input tokens/s (`usd_per_mtok_input`),
all chips over the output tokens/s (`usd_per_mtok_output_all_in`). Disaggregation wins where prefill chunks
slow the aggregated decode iterations: long prompts and tight TTFT/TPOT (DistServe, Zhong et al. 2024).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inferonomics.economics.cost import prefill_seconds_per_token, usd_per_mtok
from inferonomics.economics.ownership import ChipHourCost
from inferonomics.perf import Deployment, StepTimeModel, max_sequences
from inferonomics.perf.calibration import Calibration
from inferonomics.perf.steady_state import disaggregated, plan_disaggregated_workers

CLIENT_POINTS = 16
"""Clients per xPyD group swept, geometric from 1 to what the decode pool holds at the largest group."""


def cheapest_prefill(deps: list[Deployment], isl: int, calibration: Calibration | None = None) -> Deployment:
    """The deployment with the fewest chip-seconds per prompt token (`cost.prefill_seconds_per_token`)."""
    costs = [d.chips_per_replica * prefill_seconds_per_token(StepTimeModel(d, calibration), isl) for d in deps]
    return deps[int(np.argmin(costs))]


def disaggregated_points(
    decode_deps: list[Deployment],
    prefill: Deployment,
    isl: int,
    osl: int,
    price: ChipHourCost,
    utilisation: float,
    max_chips: int,
    calibration: Calibration | None = None,
) -> pd.DataFrame:
    """Every (decode deployment, clients) xPyD point within `max_chips`, with the frontier's columns plus
    `mode` ("disagg"), `prefill_instances`, `decode_instances` and `prefill_deployment`."""
    if isl + osl > 0 and max_sequences(prefill, isl, calibration) < 1:
        return pd.DataFrame()
    stm_p = StepTimeModel(prefill, calibration)
    p = price.usd_per_chip_hour
    frames = []
    for dep in decode_deps:
        if dep.chips_per_replica + prefill.chips_per_replica > max_chips:
            continue
        most = max_sequences(dep, isl + osl, calibration)
        if most < 1:
            continue
        stm_d = StepTimeModel(dep, calibration)
        top_groups = max((max_chips - prefill.chips_per_replica) // dep.chips_per_replica, 1)
        clients = np.unique(np.round(np.geomspace(1.0, float(most * top_groups), CLIENT_POINTS)))
        plans = [plan_disaggregated_workers(stm_p, stm_d, float(c), isl, osl) for c in clients]
        x = np.array([a for a, _ in plans], dtype=np.float64)
        y = np.array([b for _, b in plans], dtype=np.float64)
        chips = x * prefill.chips_per_replica + y * dep.chips_per_replica
        keep = (chips <= max_chips) & (clients <= y * most)
        if not keep.any():
            continue
        x, y, c, chips = x[keep], y[keep], clients[keep], chips[keep]
        ss = disaggregated(stm_p, stm_d, x, y, c, isl, osl)
        out_tps = np.asarray(ss.output_tokens_per_s, dtype=np.float64)
        rps = np.asarray(ss.requests_per_s, dtype=np.float64)
        tpot = np.asarray(ss.tpot_s, dtype=np.float64)
        s_out = y * dep.chips_per_replica / out_tps
        s_in = x * prefill.chips_per_replica / (rps * isl)
        frames.append(
            pd.DataFrame(
                {
                    "concurrency": c,
                    "batch_size": np.asarray(ss.decode_batch, dtype=np.float64),
                    "chips": chips,
                    "ttft_s": np.asarray(ss.ttft_s, dtype=np.float64),
                    "tpot_s": tpot,
                    "tokens_per_s_per_user": np.divide(1.0, tpot, out=np.full_like(tpot, np.inf), where=tpot > 0),
                    "output_tokens_per_s": out_tps,
                    "output_tokens_per_s_per_chip": out_tps / chips,
                    "chip_s_per_output_token": s_out,
                    "chip_s_per_input_token": s_in,
                    "chip_s_per_output_token_all_in": chips / out_tps,
                    "usd_per_mtok_output": usd_per_mtok(s_out, p, utilisation),
                    "usd_per_mtok_input": usd_per_mtok(s_in, p, utilisation),
                    "usd_per_mtok_output_all_in": usd_per_mtok(chips / out_tps, p, utilisation),
                    "tp": dep.tp,
                    "pp": dep.pp,
                    "attention_dp": dep.attention_dp,
                    "ep": dep.moe_ep,
                    "precision": dep.weight_precision,
                    "kv_precision": dep.kv_precision,
                    "speculative_tokens": dep.speculative_tokens,
                    "acceptance_rate": dep.acceptance_rate,
                    "mode": "disagg",
                    "prefill_instances": x.astype(int),
                    "decode_instances": y.astype(int),
                    "prefill_deployment": prefill.parallelism_label,
                    "deployment": [
                        f"{int(a)}P{int(b)}D: prefill {int(a)}x {prefill.parallelism_label}, decode {int(b)}x "
                        f"{dep.describe()}"
                        for a, b in zip(x, y, strict=True)
                    ],
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


__all__ = ["CLIENT_POINTS", "cheapest_prefill", "disaggregated_points"]
