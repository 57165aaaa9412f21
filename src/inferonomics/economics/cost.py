"""Cost per million input and output tokens of a deployment serving a workload.

Chip-time is attributed to prefill and decode from the step-time model (`perf.StepTimeModel`), not
by a fixed ratio:

    chip-s per input token  = chips x prefill iteration time / its tokens, at a saturating prefill
                              batch (prompts fill the engine's token budget; a longer prompt runs in
                              budget-sized chunks, each attending to the ones before)
    chip-s per output token = chips x decode step time (batch B, context ISL + OSL/2) / (B x tokens
                              per step), with B the decode batch of the closed-loop steady state
                              (`perf.steady_state.closed_loop`) at that concurrency

Both phases are costed as if run in their own iterations: engines that mix them share a weight read,
so this is slightly conservative. The closed loop gives the speed (TTFT, TPOT) and batch of each point.
USD per million tokens = chip-s per token x USD per chip-s / utilisation x 1e6: chips paid for but
idle a fraction 1 - utilisation of the time raise the cost of the tokens they do serve (Erdil 2025;
Epoch AI).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from inferonomics.economics.ownership import (
    Acquisition,
    ChipHourCost,
    OwnershipAssumptions,
    check_utilisation,
    chip_hour_cost,
)
from inferonomics.errors import DoesNotFitError, InvalidInputError
from inferonomics.frames import row_at
from inferonomics.perf import Deployment, StepTimeModel, check_fits, max_sequences
from inferonomics.perf.bounds import kv_read_cost_usd_per_mtok
from inferonomics.perf.calibration import Calibration
from inferonomics.perf.steady_state import closed_loop
from inferonomics.results import ResultMixin

OPERATING_POINT_COLUMNS = (
    "concurrency",
    "batch_size",
    "chips",
    "ttft_s",
    "tpot_s",
    "tokens_per_s_per_user",
    "client_output_tokens_per_s",
    "output_tokens_per_s",
    "output_tokens_per_s_per_chip",
    "prefill_share",
    "chip_s_per_input_token",
    "chip_s_per_output_token",
    "chip_s_per_output_token_all_in",
)


def check_workload(isl: int, osl: int) -> None:
    for name, v in (("isl", isl), ("osl", osl)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise InvalidInputError(f"{name} must be a whole number of tokens >= 1, got {v!r}")


def usd_per_mtok(chip_s_per_token: Any, usd_per_chip_hour: float, utilisation: float = 1.0) -> Any:
    """USD per million tokens from chip-seconds per token at a chip-hour price and a utilisation."""
    return np.asarray(chip_s_per_token) * usd_per_chip_hour / 3600.0 / utilisation * 1e6


def max_concurrency(dep: Deployment, isl: int, osl: int, calibration: Calibration | None = None) -> int:
    """Sequences of ISL + OSL tokens one replica holds at once; DoesNotFitError when none."""
    most = max_sequences(dep, isl + osl, calibration)
    if most < 1:
        check_fits(dep, 1, isl + osl, calibration)  # raises with the numbers
        raise DoesNotFitError(f"{dep.describe()}: no room for one sequence of {isl + osl} tokens", 0.0, 0.0)
    return int(most)


def prefill_seconds_per_token(stm: StepTimeModel, isl: int) -> float:
    """Replica-seconds per prompt token at a saturating prefill batch (see the module docstring)."""
    budget = float(stm.engine.prefill_token_budget * stm.deployment.attention_dp)
    if isl <= budget:
        n_p = float(np.floor(budget / isl))
        t = float(stm.iteration_time_s(n_p * isl, n_p * isl * (isl + 1.0) / 2.0, 0.0, 0.0, n_p))
        return t / (n_p * isl)
    k = int(np.ceil(isl / budget))
    cached = np.arange(k) * budget
    sizes = np.minimum(budget, isl - cached)
    return float(np.sum(stm.prefill_time_s(sizes, cached))) / isl


def operating_points(
    dep: Deployment,
    isl: int,
    osl: int,
    concurrency: Any = None,
    *,
    n: int = 40,
    calibration: Calibration | None = None,
    stm: StepTimeModel | None = None,
) -> pd.DataFrame:
    """Steady state and chip-time per token of one replica at each concurrency (clients per replica).

    `concurrency` None = `n` values spaced geometrically from 1 to the most sequences that fit. One
    vectorised call of the closed-loop model; see the module docstring for the prefill/decode split.
    """
    check_workload(isl, osl)
    stm = stm or StepTimeModel(dep, calibration)
    if concurrency is None:
        most = max_concurrency(dep, isl, osl, stm.calibration)
        c = np.unique(np.clip(np.round(np.geomspace(1, most, n)), 1, most))
    else:
        c = np.atleast_1d(np.asarray(concurrency, dtype=np.float64))
        if np.any(~np.isfinite(c)) or np.any(c < 1):
            raise InvalidInputError(f"concurrency must be >= 1, got {concurrency!r}")
    ss = closed_loop(stm, c, isl, osl)
    chips = dep.chips_per_replica
    chip_s_in = chips * prefill_seconds_per_token(stm, isl)
    batch = np.maximum(np.asarray(ss.decode_batch, dtype=np.float64) * np.ones_like(c), 1.0)
    step = np.asarray(stm.decode_step_time_s(batch, isl + osl / 2.0))
    chip_s_out = chips * step / (batch * dep.tokens_per_step)
    share = isl * chip_s_in / (isl * chip_s_in + osl * chip_s_out)
    out_tps = np.asarray(ss.output_tokens_per_s, dtype=np.float64)
    tpot = np.asarray(ss.tpot_s, dtype=np.float64)
    return pd.DataFrame(
        {
            "concurrency": c,
            "batch_size": np.asarray(ss.decode_batch, dtype=np.float64) * np.ones_like(c),
            "chips": np.full(c.shape, chips),
            "ttft_s": np.asarray(ss.ttft_s, dtype=np.float64) * np.ones_like(c),
            "tpot_s": tpot * np.ones_like(c),
            # osl = 1 has no decode step (TPOT 0): tokens/s per user is infinite, said where it is shown
            "tokens_per_s_per_user": np.divide(1.0, tpot, out=np.full_like(tpot, np.inf), where=tpot > 0)
            * np.ones_like(c),
            "client_output_tokens_per_s": out_tps / c,
            "output_tokens_per_s": out_tps * np.ones_like(c),
            "output_tokens_per_s_per_chip": out_tps / chips * np.ones_like(c),
            "prefill_share": share * np.ones_like(c),
            "chip_s_per_input_token": chip_s_in * np.ones_like(c),
            "chip_s_per_output_token": chip_s_out,
            "chip_s_per_output_token_all_in": chip_s_out + chip_s_in * isl / osl,
        },
        columns=list(OPERATING_POINT_COLUMNS),
    )


def pick_point(
    points: pd.DataFrame,
    *,
    min_tokens_per_s_per_user: float | None = None,
    max_ttft_s: float | None = None,
    min_client_tokens_per_s: float | None = None,
    cost_column: str = "chip_s_per_output_token_all_in",
) -> int | None:
    """Index of the cheapest row meeting the speed/TTFT targets (None when no row does)."""
    ok = np.ones(len(points), dtype=bool)
    if min_tokens_per_s_per_user is not None:
        ok &= points["tokens_per_s_per_user"].to_numpy() >= min_tokens_per_s_per_user
    if max_ttft_s is not None:
        ok &= points["ttft_s"].to_numpy() <= max_ttft_s
    if min_client_tokens_per_s is not None:
        ok &= points["client_output_tokens_per_s"].to_numpy() >= min_client_tokens_per_s
    if not ok.any():
        return None
    sub = points[ok]
    return int(cast(int, sub[cost_column].idxmin()))  # the swept frames have an integer index


@dataclass(frozen=True, repr=False)
class TokenCost(ResultMixin):
    """Cost of a deployment at one operating point, with the chip-hour price it rests on."""

    deployment: str
    isl: int
    osl: int
    concurrency: float
    chips: int
    utilisation: float
    chip_hour: ChipHourCost
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    all_in_usd_per_mtok_output: float
    """All chip-time (prefill included) per output token."""
    usd_per_request: float
    prefill_share: float
    tokens_per_s_per_user: float
    ttft_s: float
    output_tokens_per_s_per_chip: float
    batch_size: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def usd_per_hour(self) -> float:
        """Cost of the replica's chips per hour (paid whether busy or not)."""
        return self.chip_hour.usd_per_chip_hour * self.chips

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "isl": self.isl,
            "osl": self.osl,
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
            "chips": self.chips,
            "utilisation": self.utilisation,
            "usd_per_hour": self.usd_per_hour,
            "chip_hour": self.chip_hour.to_dict(),
            "input_usd_per_mtok": self.input_usd_per_mtok,
            "output_usd_per_mtok": self.output_usd_per_mtok,
            "all_in_usd_per_mtok_output": self.all_in_usd_per_mtok_output,
            "usd_per_request": self.usd_per_request,
            "prefill_share_of_chip_time": self.prefill_share,
            "tokens_per_s_per_user": self.tokens_per_s_per_user,
            "ttft_s": self.ttft_s,
            "output_tokens_per_s_per_chip": self.output_tokens_per_s_per_chip,
            "notes": list(self.notes),
        }


def _token_cost_from_row(
    dep: Deployment,
    isl: int,
    osl: int,
    row: pd.Series,
    price: ChipHourCost,
    utilisation: float,
    notes: tuple[str, ...] = (),
) -> TokenCost:
    p = price.usd_per_chip_hour
    return TokenCost(
        deployment=dep.describe(),
        isl=isl,
        osl=osl,
        concurrency=float(row["concurrency"]),
        chips=int(row["chips"]),
        utilisation=utilisation,
        chip_hour=price,
        input_usd_per_mtok=float(usd_per_mtok(row["chip_s_per_input_token"], p, utilisation)),
        output_usd_per_mtok=float(usd_per_mtok(row["chip_s_per_output_token"], p, utilisation)),
        all_in_usd_per_mtok_output=float(usd_per_mtok(row["chip_s_per_output_token_all_in"], p, utilisation)),
        usd_per_request=float(row["chip_s_per_output_token_all_in"]) * osl * price.usd_per_chip_s / utilisation,
        prefill_share=float(row["prefill_share"]),
        tokens_per_s_per_user=float(row["tokens_per_s_per_user"]),
        ttft_s=float(row["ttft_s"]),
        output_tokens_per_s_per_chip=float(row["output_tokens_per_s_per_chip"]),
        batch_size=float(row["batch_size"]),
        notes=notes,
    )


def token_cost(
    dep: Deployment,
    isl: int,
    osl: int,
    concurrency: float | None = None,
    *,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    chip_hour: ChipHourCost | None = None,
    utilisation: float = 1.0,
    calibration: Calibration | None = None,
) -> TokenCost:
    """USD per million input and output tokens of `dep` with `concurrency` clients per replica.

    `concurrency` None = the concurrency that maximises output tokens/s within memory (the cheapest
    point). The chip-hour price is `chip_hour` if given, else rent/own via `chip_hour_cost`.
    """
    check_workload(isl, osl)
    u = check_utilisation(utilisation)
    price = chip_hour or chip_hour_cost(
        dep.system, acquisition, usd_per_chip_hour=usd_per_chip_hour, ownership=ownership
    )
    if concurrency is None:
        pts = operating_points(dep, isl, osl, calibration=calibration)
        row = row_at(pts, pts["output_tokens_per_s"].idxmax())
        notes: tuple[str, ...] = ("concurrency chosen for the highest throughput within memory",)
    else:
        if not np.isfinite(concurrency) or concurrency < 1:
            raise InvalidInputError(f"concurrency must be >= 1, got {concurrency!r}")
        most = max_concurrency(dep, isl, osl, calibration)  # raises when not even one sequence fits
        row = operating_points(dep, isl, osl, [concurrency], calibration=calibration).iloc[0]
        notes = ()
        if concurrency > most:
            notes = (
                f"{concurrency - most:g} of {concurrency:g} clients queue (the KV cache holds {most}); "
                "TTFT includes their wait",
            )
    return _token_cost_from_row(dep, isl, osl, row, price, u, notes)


# ---------------------------------------------------------------------------------------------------
# Context length
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextCosts:
    """Cost per token against prompt length, and where a long-context surcharge becomes necessary."""

    table: pd.DataFrame
    surcharge_threshold_tokens: int | None
    """First context whose output cost exceeds `surcharge_factor` x the shortest context's (None: never)."""
    surcharge_factor: float
    chip_hour: ChipHourCost
    utilisation: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "surcharge_threshold_tokens": self.surcharge_threshold_tokens,
            "surcharge_factor": self.surcharge_factor,
            "utilisation": self.utilisation,
            "usd_per_chip_hour": self.chip_hour.usd_per_chip_hour,
            "acquisition": self.chip_hour.acquisition,
            "rows": self.table.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def context_costs(
    deployments: Deployment | Sequence[Deployment],
    contexts: Sequence[int],
    osl: int = 256,
    *,
    min_tokens_per_s_per_user: float | None = None,
    acquisition: Acquisition = "rent",
    usd_per_chip_hour: float | None = None,
    ownership: OwnershipAssumptions | None = None,
    chip_hour: ChipHourCost | None = None,
    utilisation: float = 1.0,
    surcharge_factor: float = 1.3,
    calibration: Calibration | None = None,
) -> ContextCosts:
    """Cost per output and input token as the prompt grows (KV reads per step, fewer sequences fit).

    For each context the cheapest operating point over `deployments` (meeting the per-user speed if
    given) is kept. A flat price set `surcharge_factor` x above the shortest context's cost (a price
    at margin `surcharge_factor - 1`) stops covering cost at `surcharge_threshold_tokens`: beyond it a
    long-context tier is needed. The KV-read floor (Erdil 2025) is shown for each context.
    """
    deps = [deployments] if isinstance(deployments, Deployment) else list(deployments)
    if not deps:
        raise InvalidInputError("context_costs needs at least one deployment")
    if not contexts or any(isinstance(c, bool) or int(c) != c or c < 1 for c in contexts):
        raise InvalidInputError(f"contexts must be whole numbers of tokens >= 1, got {list(contexts)!r}")
    if not surcharge_factor > 0:
        raise InvalidInputError(f"surcharge_factor must be > 0, got {surcharge_factor!r}")
    u = check_utilisation(utilisation)
    price = chip_hour or chip_hour_cost(
        deps[0].system, acquisition, usd_per_chip_hour=usd_per_chip_hour, ownership=ownership
    )
    p = price.usd_per_chip_hour
    model = deps[0].model
    stms = {id(d): StepTimeModel(d, calibration) for d in deps}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for ctx in sorted(int(c) for c in contexts):
        if model.max_context_tokens and ctx + osl > model.max_context_tokens:
            notes.append(f"{ctx} + {osl} tokens exceeds {model.name}'s window ({model.max_context_tokens}); stopped")
            break
        best: tuple[float, Deployment, pd.Series] | None = None
        for d in deps:
            try:
                pts = operating_points(d, ctx, osl, calibration=calibration, stm=stms[id(d)])
            except DoesNotFitError:
                continue
            i = pick_point(pts, min_tokens_per_s_per_user=min_tokens_per_s_per_user)
            if i is None:
                continue
            row = row_at(pts, i)
            cost = float(row["chip_s_per_output_token_all_in"])
            if best is None or cost < best[0]:
                best = (cost, d, row)
        if best is None:
            notes.append(
                f"no deployment serves {ctx} tokens"
                + (f" at {min_tokens_per_s_per_user:g} tok/s per user" if min_tokens_per_s_per_user else "")
            )
            break
        _, d, row = best
        rows.append(
            {
                "context_tokens": ctx,
                "deployment": d.describe(),
                "chips": int(row["chips"]),
                "batch_size": float(row["batch_size"]),
                "tokens_per_s_per_user": float(row["tokens_per_s_per_user"]),
                "input_usd_per_mtok": float(usd_per_mtok(row["chip_s_per_input_token"], p, u)),
                "output_usd_per_mtok": float(usd_per_mtok(row["chip_s_per_output_token"], p, u)),
                "all_in_usd_per_mtok_output": float(usd_per_mtok(row["chip_s_per_output_token_all_in"], p, u)),
                "kv_read_floor_usd_per_mtok": float(
                    kv_read_cost_usd_per_mtok(model, d.system, ctx + osl / 2.0, d.kv_precision, p)
                )
                / u,
            }
        )
    table = pd.DataFrame(rows)
    threshold = None
    if not table.empty:
        base = table["output_usd_per_mtok"].iloc[0]
        table["output_cost_vs_shortest"] = table["output_usd_per_mtok"] / base
        table["input_cost_vs_shortest"] = table["input_usd_per_mtok"] / table["input_usd_per_mtok"].iloc[0]
        over = table.index[table["output_cost_vs_shortest"] > surcharge_factor]
        if len(over):
            threshold = int(table.loc[over[0], "context_tokens"])
    return ContextCosts(table, threshold, float(surcharge_factor), price, u, tuple(notes))


__all__ = [
    "ContextCosts",
    "OPERATING_POINT_COLUMNS",
    "TokenCost",
    "check_workload",
    "context_costs",
    "max_concurrency",
    "operating_points",
    "pick_point",
    "token_cost",
    "usd_per_mtok",
]
