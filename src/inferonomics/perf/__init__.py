"""Performance model: step time of one engine iteration, steady state of serving, memory, lower bounds."""

from inferonomics.perf.calibration import Calibration, default_calibration, load_calibration
from inferonomics.perf.deployment import BACKENDS, Deployment
from inferonomics.perf.memory import MemoryUse, check_fits, kv_capacity_tokens, max_sequences, memory_use
from inferonomics.perf.predict import (
    DisaggSpec,
    ServingPrediction,
    make_deployment,
    predict,
    predict_deployment,
    predict_disaggregated,
)
from inferonomics.perf.step import StepTimeModel

__all__ = [
    "BACKENDS",
    "Calibration",
    "Deployment",
    "DisaggSpec",
    "MemoryUse",
    "ServingPrediction",
    "StepTimeModel",
    "check_fits",
    "default_calibration",
    "kv_capacity_tokens",
    "load_calibration",
    "make_deployment",
    "max_sequences",
    "memory_use",
    "predict",
    "predict_deployment",
    "predict_disaggregated",
]
