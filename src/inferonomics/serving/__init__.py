"""Discrete-event serving simulator: continuous batching, KV and prefix caches, disaggregation, routing.

    from inferonomics.serving import Simulation, EngineConfig, ClusterConfig, SLO, load_trace
    res = Simulation(deployment, load_trace("azure_conv.csv"), EngineConfig(scheduler="vllm")).run()
    res.summary["ttft_ms"]["p99"], res.requests, res.iterations

Layout (Vidur-like: entities, events, schedulers and routers kept apart):
`workload`/`traces` make requests, `replica` schedules one engine's iterations and asks the
performance model for each one's duration, `kv_cache` holds pages and prefix blocks, `router`
spreads requests over replicas, `simulator` runs the event loop, `metrics` summarises.
"""

from inferonomics.serving.config import (
    SLO,
    ClusterConfig,
    Disaggregation,
    EngineConfig,
    KVTier,
    RunLimits,
    host_dram_tier,
    ssd_tier,
)
from inferonomics.serving.distributions import Empirical, Fixed, LogNormal, Uniform, parse_distribution
from inferonomics.serving.metrics import SimResult, write_chrome_trace
from inferonomics.serving.replica import SCHEDULERS
from inferonomics.serving.router import ROUTERS
from inferonomics.serving.simulator import Simulation, StepTimeModelLike, simulate
from inferonomics.serving.traces import (
    load_azure_csv,
    load_burstgpt_csv,
    load_mooncake_jsonl,
    load_trace,
    load_vllm_json,
)
from inferonomics.serving.workload import ClosedLoop, Sessions, StaticWorkload, chain_keys, synthetic_workload

__all__ = [
    "SCHEDULERS",
    "ROUTERS",
    "SLO",
    "ClosedLoop",
    "ClusterConfig",
    "Disaggregation",
    "Empirical",
    "EngineConfig",
    "Fixed",
    "KVTier",
    "LogNormal",
    "RunLimits",
    "Sessions",
    "SimResult",
    "Simulation",
    "StaticWorkload",
    "StepTimeModelLike",
    "Uniform",
    "chain_keys",
    "host_dram_tier",
    "load_azure_csv",
    "load_burstgpt_csv",
    "load_mooncake_jsonl",
    "load_trace",
    "load_vllm_json",
    "parse_distribution",
    "simulate",
    "ssd_tier",
    "synthetic_workload",
    "write_chrome_trace",
]
