"""The levers providers pull, with their defaults and sources: weight/KV formats the chip runs natively,
speculative decoding (a draft head, or the model's own multi-token-prediction heads) at a stated
acceptance, and the realistic service level a cost figure is quoted at.

Acceptance figures (per draft token, independent per position, as `Deployment.tokens_per_step` reads them):

- models that ship MTP heads (DeepSeek-V3/R1): one draft token accepted 85-90% of the time
  (DeepSeek-V3 technical report, arXiv 2412.19437, sec. 5.4.3); 0.85, the low end, is used.
- other models: an EAGLE-3 draft head. The public EAGLE-3 speculator for Llama-3.3-70B-Instruct
  (RedHatAI/Llama-3.3-70B-Instruct-speculator.eagle3) has an average acceptance length of 2.88 tokens
  per step on MT-bench at 7 drafts and temperature 1 (as measured on the nebius/EAGLE3-Llama-3.3-70B-Instruct
  model card, 2025); 1 + a(1 - a^7)/(1 - a) = 2.88 gives a = 0.66 per draft token. Three drafts are used
  (tokens per step 2.38), the depth engines default to for chat.

The draft head's own forward passes are not charged (a one-layer head beside an 80-layer model: a few %
of a decode step); the verification of the drafts is (`perf/step.py` counts 1 + k tokens per sequence).
"""

from __future__ import annotations

from dataclasses import dataclass

from inferonomics.catalog.hardware import System
from inferonomics.catalog.models import ModelSpec
from inferonomics.catalog.precision import get_precision

REALISTIC_TTFT_S = 2.0
"""Time to first token a chat service is quoted at: the "realistic" cost floor is the cheapest point under it."""

REALISTIC_TOKENS_PER_S_PER_USER = 20.0
"""Per-user speed a cost is quoted at when the load is left open: DeepSeek's production average (20-22 tok/s,
day-6 inference-system overview, 2025-03-01) and the price sheets' standard tier."""

FORMAT_QUALITY_NOTE = (
    "narrower formats trade quality for cost: fp8 weights and KV are what model makers ship for serving "
    "(DeepSeek-V3 is trained in fp8; Meta publishes Llama 3.1 405B in fp8), fp4 loses more and should be "
    "checked on your evals; pass --precision to sweep one format"
)


@dataclass(frozen=True)
class Speculation:
    """Draft tokens per decode step and their acceptance, with where the acceptance comes from."""

    tokens: int
    acceptance_rate: float
    method: str
    source: str

    def describe(self) -> str:
        return f"{self.method}, {self.tokens} draft token(s) at {self.acceptance_rate:.0%} acceptance ({self.source})"


MTP_SPECULATION = Speculation(1, 0.85, "MTP heads", "DeepSeek-V3 technical report, sec. 5.4.3: 85-90%")
EAGLE3_SPECULATION = Speculation(
    3,
    0.66,
    "EAGLE-3 draft head",
    "RedHatAI Llama-3.3-70B EAGLE-3 speculator: 2.88 tokens/step on MT-bench, i.e. 0.66 per draft",
)


def default_speculation(model: ModelSpec) -> Speculation:
    """The model's MTP heads if it ships any (one draft per head), else an EAGLE-3 draft head."""
    if model.mtp_layers > 0:
        return Speculation(
            model.mtp_layers, MTP_SPECULATION.acceptance_rate, MTP_SPECULATION.method, MTP_SPECULATION.source
        )
    return EAGLE3_SPECULATION


def native_formats(model: ModelSpec, system: System) -> list[str]:
    """Weight formats to sweep: one per tensor tier (bf16, 8-bit, fp4) that `system`'s chip multiplies
    natively, no wider than the checkpoint's (weight-only formats left out: they multiply in bf16), and the
    checkpoint's own format, as shipped (gpt-oss's mxfp4 on an H100 or MI300X, which run it weight-only): the
    deployment the resolver takes by default is always among the swept ones."""
    from inferonomics.search.space import SearchSpace, weight_formats

    out = [p for p in weight_formats(model, system, SearchSpace()) if not get_precision(p).weight_only]
    return out if model.native_precision in out else [*out, model.native_precision]


__all__ = [
    "REALISTIC_TOKENS_PER_S_PER_USER",
    "EAGLE3_SPECULATION",
    "FORMAT_QUALITY_NOTE",
    "MTP_SPECULATION",
    "REALISTIC_TTFT_S",
    "Speculation",
    "default_speculation",
    "native_formats",
]
