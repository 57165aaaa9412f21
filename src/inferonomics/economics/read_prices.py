"""Read a real price sheet: what its ratios, tiers and discounts imply about how the model is served.

Every finding assumes prices are proportional to cost (one markup on every line) unless it says
otherwise, shows its arithmetic, and gives a low-high range where the sheet only bounds the answer.
Where a finding needs a concrete deployment, it uses a reference one (the catalog model of the same
name if there is one, else an open stand-in, on H100 by default) and says so.

- output/input ratio r: decode per token costs r x prefill per token. Prefill is compute-bound (MFU
  0.4-0.8); decode at batch B runs at about B / B* of peak below the ridge B* = peak x (bytes per
  weight / 2) / HBM bandwidth, so B ~ B* x MFU_prefill / r (more if KV reads add to decode);
- long-context threshold T and multipliers: with cost per output token a + k x L (L = context), a
  multiplier m between long (mean L_l) and short (mean L_s) requests gives kT/a = (m - 1) /
  (L_l/T - m L_s/T): how large KV reads are at T next to the rest of a decode step;
- cache write premium over a TTL, or an explicit storage price: the capacity budget per token-hour;
  HBM-resident KV fits it only below a KV size per token; a read discount d needs a load bandwidth of
  at least KV bytes x chip USD/s / (d x input price / (1 + margin)) per chip;
- fast/priority multiplier f: cost per output token at batch B; the batch whose cost is f x the
  standard batch's (memory-bound decode: B_fast ~ B_std / f);
- off-peak discount d over a fraction w of the day: at equal revenue per chip-hour, off-peak load
  without the discount was at most (1 - d) x peak, so daily utilisation <= u_peak x (1 - w d);
- batch discount b: if batch work ran on the same batches, interactive utilisation <= (1 - b) x the
  batch tier's.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inferonomics.catalog.hardware import System
from inferonomics.catalog.precision import get_precision
from inferonomics.catalog.prices import PriceSheet, get_price_sheet
from inferonomics.economics.cost import operating_points
from inferonomics.economics.ownership import ChipHourCost, OwnershipAssumptions, own_cost, rent_cost
from inferonomics.economics.price_sheet import storage_tiers
from inferonomics.errors import InvalidInputError, UnknownNameError
from inferonomics.perf import Deployment
from inferonomics.results import ResultMixin

KV_RANGE_BYTES_PER_TOKEN = (35e3, 330e3)
"""Span of KV bytes per token of frontier-scale models: MLA in fp8 (DeepSeek-V3 ~35 kB) to GQA 70B in bf16
(~330 kB); used where the sheet's model is closed."""
MARGIN_RANGE = (0.0, 3.0)
"""Markups considered when a finding needs cost from price: break-even to 4x cost."""
PREFILL_MFU_RANGE = (0.4, 0.8)


@dataclass(frozen=True)
class Finding:
    topic: str
    statement: str
    reasoning: str
    assumptions: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    value: float | None = None
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "statement": self.statement,
            "reasoning": self.reasoning,
            "assumptions": list(self.assumptions),
            "low": self.low,
            "high": self.high,
            "value": self.value,
            "unit": self.unit,
        }


@dataclass(frozen=True, repr=False)
class PriceReading(ResultMixin):
    sheet: PriceSheet
    reference: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def finding(self, topic: str) -> Finding:
        for f in self.findings:
            if f.topic == topic:
                return f
        raise UnknownNameError("finding", topic, [f.topic for f in self.findings])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([f.to_dict() for f in self.findings])

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet.to_dict(),
            "reference": self.reference,
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------------


def reference_deployment(
    sheet: PriceSheet, model: str | None = None, hardware: str | System = "h100_sxm"
) -> tuple[Deployment, str]:
    """A deployment to turn ratios into batch sizes: the sheet's own model if the catalog has it."""
    from inferonomics.catalog.model_catalog import get_model
    from inferonomics.economics.spec import DeploymentSpec, Workload

    why = "given"
    name = model
    if name is None:
        try:
            get_model(sheet.model)
            name, why = sheet.model, "the catalog model of the same name"
        except UnknownNameError:
            name, why = "llama-3.1-70b", "an open stand-in (the sheet's model is not in the catalog)"

    r = DeploymentSpec(get_model(name), hardware).resolve(Workload(1024, 512))
    return r.deployment, f"{r.deployment.describe()} ({why}; {r.note})"


def _ratio_curve(dep: Deployment, isl: int, osl: int) -> pd.DataFrame:
    pts = operating_points(dep, isl, osl, n=48)
    pts["out_over_in"] = pts["chip_s_per_output_token"] / pts["chip_s_per_input_token"]
    return pts


def _batch_for_ratio(pts: pd.DataFrame, column: str, target: float) -> tuple[float, str]:
    """Batch where `column` (decreasing in batch) crosses `target`, log-interpolated; with a bound flag."""
    x = np.log(pts["batch_size"].to_numpy())
    y = np.log(pts[column].to_numpy())
    order = np.argsort(x)
    x, y = x[order], y[order]
    t = np.log(target)
    if t >= y[0]:
        return float(np.exp(x[0])), "at most"
    if t <= y[-1]:
        return float(np.exp(x[-1])), "at least"
    i = int(np.argmax(y <= t))
    f = (t - y[i - 1]) / (y[i] - y[i - 1])
    return float(np.exp(x[i - 1] + f * (x[i] - x[i - 1]))), "about"


def _ridge_batch(dep: Deployment) -> float:
    chip = dep.system.chip
    b = get_precision(dep.weight_precision).bytes_per_value
    return chip.gemm_flops_per_s(dep.weight_precision) * b / 2.0 / chip.hbm_bandwidth_bytes_per_s


def _output_input(sheet: PriceSheet, dep: Deployment, ref: str) -> Finding:
    r = sheet.output_usd_per_mtok / sheet.input_usd_per_mtok
    ridge = _ridge_batch(dep)
    lo, hi = ridge * PREFILL_MFU_RANGE[0] / r, ridge * PREFILL_MFU_RANGE[1] / r
    model_b = []
    for isl in (1024, 8192):
        if dep.model.max_context_tokens and isl + 512 > dep.model.max_context_tokens:
            continue
        b, how = _batch_for_ratio(_ratio_curve(dep, isl, 512), "out_over_in", r)
        model_b.append((isl, b, how))
    model_txt = "; ".join(f"{how} {b:.0f} at {isl}-token prompts" for isl, b, how in model_b)
    return Finding(
        topic="output_input_ratio",
        statement=(
            f"Output costs {r:.1f}x input: decode per token is priced as {r:.1f}x prefill, i.e. decode runs "
            f"at about 1/{r:.1f} of prefill's efficiency, as with decode batches of roughly "
            f"{lo:.0f}-{hi:.0f} sequences on the reference chip (the performance model: {model_txt})."
        ),
        reasoning=(
            f"ratio r = {sheet.output_usd_per_mtok:g} / {sheet.input_usd_per_mtok:g} = {r:.2f}. Prefill is "
            f"compute-bound at MFU {PREFILL_MFU_RANGE[0]:g}-{PREFILL_MFU_RANGE[1]:g}; decode at batch B "
            "reaches "
            f"~B/B* of peak below the ridge B* = peak x bytes per weight / 2 / HBM bandwidth = {ridge:.0f} "
            f"({dep.system.chip.name}, {dep.weight_precision}); equal markup => B ~ B* x MFU / r. KV reads "
            "make decode dearer, so a longer context needs a larger batch for the same ratio."
        ),
        assumptions=(
            "one markup on input and output",
            f"reference: {ref}",
            "decode cost per token ~ weight reads / batch (memory-bound), prefill ~ FLOPs",
        ),
        low=lo,
        high=max([hi, *(b for _, b, _ in model_b)]),
        value=model_b[0][1] if model_b else None,
        unit="sequences per decode batch",
    )


def _long_context(sheet: PriceSheet, dep: Deployment) -> Finding | None:
    t = sheet.long_context_threshold_tokens
    if not t:
        return None
    m_in, m_out = sheet.long_context_input_multiplier, sheet.long_context_output_multiplier
    cases = []
    for ls in (0.125, 0.5):  # mean short-request context / T
        for ll in (1.25, 2.0):  # mean long-request context / T
            denom = ll - m_out * ls
            if denom > 0:
                cases.append((m_out - 1.0) / denom)
    x_lo, x_hi = (min(cases), max(cases)) if cases else (float("nan"), float("nan"))
    in_cases = [(m_in - 1.0) / (ll - m_in * ls) for ls in (0.125, 0.5) for ll in (1.25, 2.0) if ll - m_in * ls > 0]
    kv_lo, kv_hi = (t * k / 1e9 for k in KV_RANGE_BYTES_PER_TOKEN)
    own_kv = float(dep.model.kv_bytes(t, dep.kv_precision)) / 1e9
    hbm = dep.system.chip.hbm_gb
    in_txt = f"{min(in_cases):.2f}-{max(in_cases):.2f}" if in_cases else "more than the whole rest"
    return Finding(
        topic="long_context",
        statement=(
            f"Above {t:,} input tokens output is {m_out:g}x and input {m_in:g}x: at the threshold, reading a "
            f"request's KV costs about {x_lo:.2f}-{x_hi:.2f}x the rest of its decode cost per token, and "
            f"attention is {in_txt}x the rest of prefill. One {t:,}-token request holds "
            f"{kv_lo:.0f}-{kv_hi:.0f} "
            f"GB of KV ({KV_RANGE_BYTES_PER_TOKEN[0] / 1e3:.0f}-{KV_RANGE_BYTES_PER_TOKEN[1] / 1e3:.0f} "
            "kB/token;"
            f" {own_kv:.1f} GB for {dep.model.name}), against {hbm:g} GB of HBM per {dep.system.chip.name}: "
            "past the threshold a few requests fill a replica's spare memory and the batch shrinks."
        ),
        reasoning=(
            "cost per output token a + k L; m = (a + k L_l) / (a + k L_s) => kT/a = (m - 1) / (L_l/T - m "
            "L_s/T)"
            f" for L_s/T in 0.125-0.5 and L_l/T in 1.25-2.0. Prefill per token 2N + c L likewise with "
            f"m_in = {m_in:g}."
        ),
        assumptions=(
            "the multipliers keep the same markup as short requests",
            "short requests average 1/8-1/2 of the threshold, long ones 1.25-2x it",
            f"KV bytes per token {KV_RANGE_BYTES_PER_TOKEN[0] / 1e3:.0f}-"
            f"{KV_RANGE_BYTES_PER_TOKEN[1] / 1e3:.0f} kB for a closed model",
        ),
        low=x_lo,
        high=x_hi,
        value=None,
        unit="KV-read cost / other decode cost per token at the threshold",
    )


def _chip_costs(dep: Deployment, ownership: OwnershipAssumptions | None) -> list[ChipHourCost]:
    out = []
    with contextlib.suppress(InvalidInputError):
        out.append(rent_cost(dep.system))
    with contextlib.suppress(InvalidInputError):
        out.append(own_cost(dep.system, ownership))
    if not out:
        raise InvalidInputError(f"no rental or purchase price for {dep.system.name}: pick another reference hardware")
    return out


def _cache(sheet: PriceSheet, dep: Deployment, ownership: OwnershipAssumptions | None) -> list[Finding]:
    out: list[Finding] = []
    costs = _chip_costs(dep, ownership)
    hbm_usd_gb_h = [c.usd_per_chip_hour / dep.system.chip.hbm_gb for c in costs]
    tiers = storage_tiers(costs[0], dep.system.chip.hbm_gb, ownership)
    budgets: list[tuple[str, float]] = []  # (what, USD per M token-hours)
    if sheet.cache_storage_usd_per_mtok_hour:
        budgets.append(("explicit storage price", sheet.cache_storage_usd_per_mtok_hour))
    if sheet.cache_write_5m_usd_per_mtok:
        budgets.append(
            (
                "5-minute write premium",
                (sheet.cache_write_5m_usd_per_mtok - sheet.input_usd_per_mtok) / (5 / 60),
            )
        )
    if sheet.cache_write_1h_usd_per_mtok:
        budgets.append(("1-hour write premium", sheet.cache_write_1h_usd_per_mtok - sheet.input_usd_per_mtok))
    hbm_txt = ", ".join(f"{h:.3f} {c.acquisition}ed" for h, c in zip(hbm_usd_gb_h, costs, strict=True))
    for what, b in budgets:
        kv_max = [b / 1e6 / (h / 1e9) for h in hbm_usd_gb_h]  # bytes per token HBM can hold for that budget
        dram = tiers["dram"].usd_per_gb_hour
        out.append(
            Finding(
                topic=f"cache_storage ({what})",
                statement=(
                    f"The {what} buys {b:.2f} USD per million token-hours of cache capacity. In HBM "
                    f"({hbm_txt} USD "
                    f"per GB-hour on {dep.system.chip.name}) "
                    f"that pays for at most {min(kv_max) / 1e3:.0f}-{max(kv_max) / 1e3:.0f} kB of KV per "
                    "token; "
                    f"host DRAM (~{dram:.1e} USD per GB-hour) would hold "
                    f"{b / 1e6 / (dram / 1e9) / 1e6:.0f} MB "
                    "per token for it. " + _tier_verdict(min(kv_max), max(kv_max))
                ),
                reasoning=(
                    "budget per token-hour = storage price, or (write - input) / TTL; HBM cost per GB-hour = "
                    "chip USD per hour / HBM GB; KV that fits = budget / HBM cost"
                ),
                assumptions=(
                    "the write premium pays only for capacity over the TTL",
                    "HBM's cost is the chip's whole hourly cost (KV held displaces batch)",
                    "DRAM and SSD prices are assumptions (see economics.price_sheet)",
                ),
                low=min(kv_max),
                high=max(kv_max),
                unit="bytes of KV per token affordable in HBM",
            )
        )
    if sheet.cached_input_usd_per_mtok is not None:
        d = sheet.cached_input_usd_per_mtok / sheet.input_usd_per_mtok
        read = sheet.cached_input_usd_per_mtok / 1e6
        bws = []
        for c in costs:
            for kv in KV_RANGE_BYTES_PER_TOKEN:
                for mk in MARGIN_RANGE:
                    bws.append(kv * c.usd_per_chip_s / (read / (1 + mk)))
        lo, hi = min(bws), max(bws)
        fits = [n for n, t in tiers.items() if t.load_gb_s_per_chip * 1e9 >= hi]
        some = sorted({n for n, t in tiers.items() if t.load_gb_s_per_chip * 1e9 >= lo} - set(fits))
        if len(fits) == len(tiers):
            which = "every tier (HBM, host DRAM, SSD) is fast enough"
        else:
            which = (
                f"{', '.join(fits) or 'no tier'} always suffice{'s' if len(fits) == 1 else ''}, "
                f"{', '.join(some) or 'no other'} only for small KV or large markups"
            )
        free_storage = ""
        if not (
            sheet.cache_storage_usd_per_mtok_hour
            or sheet.cache_write_5m_usd_per_mtok
            or sheet.cache_write_1h_usd_per_mtok
        ):
            hbm_h = [k * tiers["hbm"].usd_per_gb_hour / 1e9 * 1e6 for k in KV_RANGE_BYTES_PER_TOKEN]
            ssd_h = [k * tiers["ssd"].usd_per_gb_hour / 1e9 * 1e6 for k in KV_RANGE_BYTES_PER_TOKEN]
            free_storage = (
                f" There is no write premium or storage charge: holding a prefix in HBM for an hour "
                f"would cost {hbm_h[0]:.2f}-{hbm_h[1]:.1f} USD per M tokens "
                f"({hbm_h[0] / sheet.input_usd_per_mtok:.1f}-{hbm_h[1] / sheet.input_usd_per_mtok:.0f}x "
                f"the input price), on SSD {ssd_h[0]:.0e}-{ssd_h[1]:.0e}: a cache kept for more than "
                "minutes is affordable only below HBM (host DRAM or disk)."
            )
        out.append(
            Finding(
                topic="cache_read",
                statement=(
                    f"Cache reads at {d:.0%} of input ({sheet.cached_input_usd_per_mtok:g} USD/M) cover "
                    "loading "
                    f"a prefix's KV at {lo / 1e9:.2f}-{hi / 1e9:.1f} GB/s per chip or more: {which}. "
                    "A price this far below input leaves no room to recompute the prefix: it is stored." + free_storage
                ),
                reasoning=(
                    "read price / (1 + markup) >= KV bytes per token / load bandwidth x chip USD per "
                    "second => "
                    "bandwidth >= KV bytes x chip USD/s x (1 + markup) / read price"
                ),
                assumptions=(
                    f"KV {KV_RANGE_BYTES_PER_TOKEN[0] / 1e3:.0f}-{KV_RANGE_BYTES_PER_TOKEN[1] / 1e3:.0f} kB per token",
                    f"markup {MARGIN_RANGE[0]:.0%}-{MARGIN_RANGE[1]:.0%}",
                    "the chip waits for the load (no overlap)",
                    f"chip cost {', '.join(f'{c.usd_per_chip_hour:.2f}' for c in costs)} USD/h "
                    f"({', '.join(c.acquisition for c in costs)})",
                ),
                low=lo,
                high=hi,
                unit="bytes/s per chip of load bandwidth needed",
            )
        )
    return out


def _tier_verdict(kv_lo: float, kv_hi: float) -> str:
    small, large = KV_RANGE_BYTES_PER_TOKEN
    if kv_hi < small:
        return "Too little for HBM even for compact KV: the prefix must wait in DRAM or on SSD."
    if kv_lo >= large:
        return "Even a large KV cache (330 kB/token) can wait in HBM for this price."
    return (
        f"HBM is affordable for KV up to {kv_lo / 1e3:.0f}-{kv_hi / 1e3:.0f} kB/token; a larger KV cache "
        "(up to 330 kB/token for GQA 70B in bf16) would have to wait in DRAM or the price is set below "
        "HBM cost."
    )


def _fast(sheet: PriceSheet, dep: Deployment, ref: str) -> Finding | None:
    f = sheet.fast_multiplier or sheet.priority_multiplier
    if not f:
        return None
    kind = "fast mode" if sheet.fast_multiplier else "priority processing"
    pts = operating_points(dep, 1024, 512, n=48)
    std_rows = pts[
        (pts["tokens_per_s_per_user"] >= 15) & (pts["tokens_per_s_per_user"] <= 60) & (pts["batch_size"] >= 2 * f)
    ]
    if std_rows.empty:
        std_rows = pts.iloc[[len(pts) // 2]]
    res = []
    for _, row in std_rows.iterrows():
        target = float(row["chip_s_per_output_token"]) * f
        b, how = _batch_for_ratio(pts, "chip_s_per_output_token", target)
        speed = float(np.interp(np.log(b), np.log(pts["batch_size"]), pts["tokens_per_s_per_user"]))
        res.append((float(row["batch_size"]), b, float(row["tokens_per_s_per_user"]), speed))
    b_lo, b_hi = min(r[1] for r in res), max(r[1] for r in res)
    return Finding(
        topic="fast_mode",
        statement=(
            f"{kind.capitalize()} at {f:g}x the price pays for about 1/{f:g} of the batch: on the reference, "
            f"standard batches of {min(r[0] for r in res):.0f}-{max(r[0] for r in res):.0f} "
            f"({min(r[2] for r in res):.0f}-{max(r[2] for r in res):.0f} tok/s per user) become "
            f"{b_lo:.0f}-{b_hi:.0f} sequences at {min(r[3] for r in res):.0f}-{max(r[3] for r in res):.0f} "
            "tok/s per user at the same markup."
        ),
        reasoning=(
            "cost per output token = chips x decode step time / batch; memory-bound steps barely shorten "
            f"with the batch, so cost ~ 1/batch and B_fast ~ B_standard / {f:g}; the performance model "
            "gives the batch whose cost is f x the standard one's"
        ),
        assumptions=(
            "same markup in both modes",
            "standard mode serves 15-60 tok/s per user",
            f"reference: {ref}",
            "same chips, no extra parallelism in fast mode",
        ),
        low=b_lo,
        high=b_hi,
        unit="sequences per decode batch in fast mode",
    )


def _off_peak(sheet: PriceSheet) -> Finding | None:
    d = sheet.off_peak_discount
    if not d:
        return None
    start, end = sheet.off_peak_window_utc.split("-")
    h0 = int(start[:2]) + int(start[3:]) / 60
    h1 = int(end[:2]) + int(end[3:]) / 60
    w = ((h1 - h0) % 24) / 24
    lo, hi = 0.6 * (1 - w * d), 1.0 * (1 - w * d)
    return Finding(
        topic="off_peak",
        statement=(
            f"A {d:.0%} off-peak discount over {w * 24:.0f} h a day says prices follow load: chips sized for "
            f"the peak sit idle off-peak. At equal revenue per chip-hour, off-peak load without the discount "
            f"was at most {1 - d:.0%} of the peak, so the day's average utilisation is at most "
            f"{1 - w * d:.0%} of the peak's ({lo:.0%}-{hi:.0%} for a peak of 60-100%)."
        ),
        reasoning=(
            f"revenue per chip-hour off-peak = (1 - d) x price x tokens; matching the peak's needs "
            f"1/(1 - d) = {1 / (1 - d):.1f}x the tokens, possible only if off-peak load was <= (1 - d) x "
            "peak; "
            f"window fraction w = {w:.2f}; mean utilisation <= u_peak x (1 - w d)"
        ),
        assumptions=(
            "the discount aims to keep revenue per chip-hour (hardware cost is sunk)",
            "peak utilisation 60-100%",
            "the discount is not a promotion",
        ),
        low=lo,
        high=hi,
        unit="daily-average utilisation (upper bound)",
    )


def _batch(sheet: PriceSheet) -> Finding | None:
    b = sheet.batch_discount or sheet.flex_discount
    if not b:
        return None
    return Finding(
        topic="batch_discount",
        statement=(
            f"A {b:.0%} batch discount: if batch work ran on the same batches as interactive work, "
            "interactive "
            f"traffic would keep chips at most {1 - b:.0%} as busy as batch work does; larger batches in "
            "batch "
            "mode (no latency target) explain the rest."
        ),
        reasoning="price ~ cost ~ 1 / (utilisation x tokens per chip-second); (1 - b) = (u_interactive / "
        "u_batch) x "
        "(cost at batch size of batch mode / cost at interactive batch size)",
        assumptions=("same markup in both tiers", "batch utilisation <= 100%"),
        low=0.0,
        high=1.0 - b,
        unit="interactive / batch utilisation at equal batch sizes (upper bound)",
    )


def read_price_sheet(
    sheet: PriceSheet | str,
    *,
    reference_model: str | None = None,
    hardware: str | System = "h100_sxm",
    ownership: OwnershipAssumptions | None = None,
    price_file: str | None = None,
) -> PriceReading:
    """What a provider's price sheet implies (see the module docstring), finding by finding."""
    s = get_price_sheet(sheet, price_file) if isinstance(sheet, str) else sheet
    if s.input_usd_per_mtok <= 0 or s.output_usd_per_mtok <= 0:
        raise InvalidInputError(f"price sheet {s.key} needs positive input and output prices to be read")
    dep, ref = reference_deployment(s, reference_model, hardware)
    findings: list[Finding] = [_output_input(s, dep, ref)]
    for f in (_long_context(s, dep), _fast(s, dep, ref), _off_peak(s), _batch(s)):
        if f is not None:
            findings.append(f)
    findings[1:1] = _cache(s, dep, ownership)
    notes = [f"reference deployment: {ref}"]
    if s.valid_until:
        notes.append(f"sheet valid until {s.valid_until}")
    return PriceReading(s, ref, tuple(findings), tuple(notes))


__all__ = ["Finding", "PriceReading", "read_price_sheet", "reference_deployment"]
