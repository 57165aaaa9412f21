"""Request bodies of the JSON API: pydantic models with bounds, units in the field names.

Bounds keep every request cheap enough for one process (at most 20,000 simulated requests and 30 s of
simulation wall time, 4 systems per search); anything out of range is a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from inferonomics.perf.engines import EngineArgs

Name = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
Backend = Literal["vllm", "trtllm", "sglang"]

MAX_SIM_REQUESTS = 20_000
MAX_SIM_WALL_S = 30.0
MAX_SEARCH_SYSTEMS = 4
PRICE = "Rental price per chip-hour, USD; null = the catalog's."
MODEL = Field(description="Catalog model name or Hugging Face id (required).", examples=["Llama-3.1-70B"])


class Body(BaseModel):
    """Unknown fields, NaN/infinite numbers and values of the wrong JSON type (`"isl": "1024"`,
    `"isl": true`) are refused: strict types, except that a whole number is accepted where a float is."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, protected_namespaces=(), strict=True)


class Workload(Body):
    isl: int = Field(1024, ge=1, le=1_000_000, description="Input (prompt) tokens per request.")
    osl: int = Field(1024, ge=1, le=1_000_000, description="Output tokens per request.")


class DeploymentBody(Workload):
    """A model on a system with its parallelism and formats."""

    model: Name = MODEL
    hardware: Name = Field("h100_sxm", description="System or chip name.")
    tp: int | None = Field(
        None,
        ge=1,
        le=256,
        description="Tensor parallelism; null = auto, the cheapest deployment that fits and meets the targets.",
    )
    pp: int = Field(1, ge=1, le=64, description="Pipeline stages.")
    ep: int = Field(1, ge=1, le=256, description="Expert parallelism (MoE).")
    attention_dp: int = Field(1, ge=1, le=256, description="Attention data-parallel groups (MoE).")
    dp: int = Field(1, ge=1, le=256, description="Replicas.")
    precision: Name | None = Field(None, description="Weight format; null = the checkpoint's.")
    kv_precision: Name | None = Field(None, description="KV-cache format; null = by weight format.")
    expert_precision: Name | None = Field(None, description="MoE: routed experts' format; null = as the weights.")
    backend: Backend = "vllm"
    spec_tokens: int = Field(0, ge=0, le=16, description="Speculative decoding: draft tokens per step (MTP layers).")
    acceptance: list[float] = Field(
        default_factory=list,
        max_length=16,
        description="Draft acceptance per position (one value: the same at every position); needs spec_tokens.",
    )
    gpu_memory_utilization: float | None = Field(
        None, gt=0, le=1, description="Engine memory fraction (vLLM/SGLang/TensorRT-LLM); null = the engine's."
    )
    max_num_seqs: int | None = Field(None, ge=1, le=100_000, description="Most running requests; null = engine's.")
    max_num_batched_tokens: int | None = Field(
        None, ge=1, le=10_000_000, description="Tokens per iteration; null = the engine's."
    )
    block_size: int | None = Field(None, ge=1, le=1024, description="KV block size, tokens; null = the engine's.")

    def engine_args(self) -> EngineArgs:
        return EngineArgs(self.gpu_memory_utilization, self.max_num_seqs, self.max_num_batched_tokens, self.block_size)


class PoolBody(Body):
    """One pool of disaggregated serving: its instances and each instance's parallelism."""

    instances: int = Field(1, ge=1, le=256, description="Instances in the pool.")
    tp: int | None = Field(
        None, ge=1, le=256, description="Tensor parallelism of each instance; null = auto (the resolver's choice)."
    )
    pp: int | None = Field(None, ge=1, le=64, description="Pipeline stages of each instance; null = 1, or auto.")
    ep: int | None = Field(None, ge=1, le=256, description="Expert parallelism of each instance; null = 1, or auto.")
    attention_dp: int | None = Field(
        None, ge=1, le=256, description="Attention data-parallel groups of each instance; null = 1, or auto."
    )


class PredictBody(DeploymentBody):
    concurrency: float | None = Field(
        16.0, ge=1, le=100_000, description="Closed-loop clients over all replicas; null with max_throughput."
    )
    max_throughput: bool = Field(False, description="Pick the concurrency per replica that maximises throughput.")
    mode: Literal["agg", "disagg"] = Field("agg", description="Aggregated, or separate prefill and decode pools.")
    prefill: PoolBody | None = Field(None, description="disagg: the prefill pool (required with mode disagg).")
    decode: PoolBody | None = Field(None, description="disagg: the decode pool (required with mode disagg).")


class RooflineBody(DeploymentBody):
    batch_size: float = Field(16.0, ge=1, le=100_000, description="Sequences per decode step.")


class FloorBody(Body):
    model: Name = MODEL
    hardware: Name = "h100_sxm"
    context_tokens: int = Field(4096, ge=0, le=2_000_000)
    precision: Name | None = None
    kv_precision: Name | None = None
    usd_per_chip_hour: float | None = Field(None, ge=0.01, le=10_000, description=PRICE)


class FrontierBody(Workload):
    model: Name = MODEL
    hardware: Name = "h100_sxm"
    max_chips: int = Field(64, ge=1, le=256, description="Largest deployment swept (chips).")
    precision: Name | None = None
    kv_precision: Name | None = None
    backend: Backend = "vllm"
    speculative_tokens: int | None = Field(
        None, ge=0, le=16, description="None = sweep off and the model's MTP / EAGLE-3 default; 0 = off."
    )
    acceptance_rate: float = Field(0.0, ge=0, lt=1, description="Per-draft acceptance with speculative_tokens > 0.")
    acquisition: Literal["rent", "own"] = "rent"
    usd_per_chip_hour: float | None = Field(None, ge=0.01, le=10_000, description=PRICE)
    utilisation: float = Field(1.0, gt=0, le=1, description="Fraction of paid chip-hours in use.")
    disaggregation: bool = Field(True, description="Also sweep prefill/decode disaggregation (xPyD groups).")


class PriceSheetBody(DeploymentBody):
    utilisation: float = Field(0.6, gt=0, le=1)
    margin: float = Field(0.3, ge=-0.99, le=100, description="price = cost x (1 + margin).")
    min_tokens_per_s_per_user: float = Field(20.0, gt=0, le=100_000)
    acquisition: Literal["rent", "own"] = "rent"
    usd_per_chip_hour: float | None = Field(None, ge=0.01, le=10_000, description=PRICE)
    provider_sheet: Name | None = Field(None, description="A real sheet to compare with, e.g. openai/gpt-4o.")


class FleetPoolBody(Body):
    """One fleet pool's serving unit (attention TP x attention-DP chips, experts over `ep`)."""

    tp: int = Field(1, ge=1, le=64)
    attention_dp: int = Field(8, ge=1, le=1024)
    ep: int = Field(8, ge=1, le=1024)
    redundant_experts: int = Field(0, ge=0, le=1024)


class FleetBody(Body):
    """A lab's fleet: daily token volume -> nodes, cost per day, cost per M tokens, margin."""

    model: Name = "deepseek-v3"
    hardware: Name = "h800"
    prefill: FleetPoolBody = FleetPoolBody(tp=1, attention_dp=32, ep=32, redundant_experts=32)
    decode: FleetPoolBody = FleetPoolBody(tp=1, attention_dp=144, ep=144, redundant_experts=32)
    input_tokens_per_day: float = Field(608e9, gt=0, le=1e16)
    output_tokens_per_day: float = Field(168e9, gt=0, le=1e16)
    cache_hit_rate: float = Field(0.563, ge=0, lt=1)
    tokens_per_s_per_user: float = Field(20.0, gt=0, le=100_000)
    isl: int = Field(4400, ge=1, le=10_000_000, description="Mean prompt, cached prefix included.")
    osl: int = Field(1200, ge=1, le=10_000_000)
    usd_per_chip_hour: float | None = Field(None, ge=0.01, le=10_000, description=PRICE)
    list_price: Name | None = Field("deepseek/deepseek-r1", description="Price sheet for the margin.")


class ReadPricesBody(Body):
    sheet: Name = Field("anthropic/claude-sonnet-4.5", description="PROVIDER/MODEL.")
    reference_model: Name | None = None
    hardware: Name = "h100_sxm"


class SimulateBody(DeploymentBody):
    """A synthetic workload through the discrete-event simulator, as a background job."""

    workload: Literal["poisson", "closed_loop"] = "poisson"
    rate_per_s: float = Field(4.0, gt=0, le=100_000, description="Open loop: requests per second.")
    concurrency: int = Field(16, ge=1, le=10_000, description="Closed loop: clients.")
    num_requests: int = Field(1000, ge=1, le=MAX_SIM_REQUESTS)
    isl_cv: float = Field(0.0, ge=0, le=4, description="0 = fixed prompt length; else log-normal with this CV.")
    osl_cv: float = Field(0.0, ge=0, le=4, description="0 = fixed output length; else log-normal with this CV.")
    burstiness: float = Field(1.0, gt=0.01, le=100, description="Gamma shape of inter-arrivals (1 = Poisson).")
    scheduler: Literal["vllm", "orca", "sarathi", "sglang"] = "vllm"
    router: Literal["round_robin", "least_outstanding", "least_kv", "prefix_aware"] = "round_robin"
    max_batch_size: int | None = Field(None, ge=1, le=4096)
    slo_ttft_ms: float | None = Field(None, gt=0, le=1e7)
    slo_tpot_ms: float | None = Field(None, gt=0, le=1e6)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    max_wall_s: float = Field(MAX_SIM_WALL_S, gt=0, le=MAX_SIM_WALL_S, description="Stop (partial result) after.")


class SearchBody(Workload):
    model: Name = MODEL
    hardware: list[Name] = Field(default_factory=lambda: ["h100_sxm"], min_length=1, max_length=MAX_SEARCH_SYSTEMS)
    rate_per_s: float = Field(2.0, gt=0, le=1e6, description="Requests per second to serve.")
    ttft_ms: float | None = Field(None, gt=0, le=1e7)
    tpot_ms: float | None = Field(None, gt=0, le=1e6)
    percentile: float | None = Field(None, ge=50, le=99.99, description="Targets apply at this percentile.")
    objective: Literal["usd", "throughput"] = "usd"
    max_chips: int | None = Field(None, ge=1, le=100_000)
    max_chips_per_instance: int = Field(16, ge=1, le=64)
    precision: Name | None = Field(None, description="Weight format to search; null = the formats each chip runs.")
    modes: list[Literal["agg", "disagg"]] = Field(default=["agg"], min_length=1, max_length=2)
    recheck: int = Field(0, ge=0, le=3, description="Leaders to re-check in the simulator.")
    recheck_requests: int = Field(200, ge=50, le=1000)


__all__ = [
    "DeploymentBody",
    "FloorBody",
    "FrontierBody",
    "MAX_SIM_REQUESTS",
    "MAX_SIM_WALL_S",
    "PredictBody",
    "PriceSheetBody",
    "ReadPricesBody",
    "RooflineBody",
    "SearchBody",
    "SimulateBody",
]
