"""Readers of published throughput tables: TensorRT-LLM offline cells and MLPerf LLM results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from inferonomics.catalog.hardware_catalog import get_hardware
from inferonomics.errors import ConfigError
from inferonomics.validate.mlperf import (
    base_benchmark,
    engine_of,
    load_mlperf,
    output_tokens_of,
    precision_of,
    throughput_ratios,
)
from inferonomics.validate.offline import validate_offline

OFFLINE_ROW = {
    "model": "LLaMA v3.1 8B",
    "gpu": "H100 80GB HBM3",
    "parallelism": "TP1",
    "precision": "FP8",
    "isl_tokens": 128,
    "osl_tokens": 128,
    "value_tokens_per_s": 28836.77,
}


def _csv(tmp_path: Path, rows: list[dict], name: str = "t.csv") -> Path:
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_offline_cells_are_predicted_and_unknown_gpus_skipped_with_a_reason(tmp_path: Path) -> None:
    rows = [OFFLINE_ROW, {**OFFLINE_ROW, "gpu": "H200 141GB HBM3"}, {**OFFLINE_ROW, "gpu": "Gaudi 3"}]
    summary, res = validate_offline(_csv(tmp_path, rows))
    assert summary["rows"] == 3 and summary["predicted"] == 2
    assert summary["skipped"] == ["Gaudi 3 / LLaMA v3.1 8B: accelerator 'Gaudi 3' has no catalog entry"]
    h100, h200 = res["pred_tokens_per_s"].iloc[:2]
    assert h200 >= h100 > 0  # more HBM bandwidth and room for a larger batch
    assert res["pred_concurrency"].iloc[0] >= 1
    assert {g["system"] for g in summary["groups"]} == {"h100_sxm", "h200_sxm"}


def test_offline_reader_names_missing_columns(tmp_path: Path, cli) -> None:
    p = _csv(tmp_path, [{k: v for k, v in OFFLINE_ROW.items() if k != "gpu"}])
    with pytest.raises(ConfigError, match="missing column.*gpu"):
        validate_offline(p)
    code, _, err = cli("validate", "offline", str(p))
    assert code == 2 and "gpu" in err and "Traceback" not in err


def test_mlperf_duplicates_lengths_engines_and_formats(tmp_path: Path) -> None:
    base = {
        "submitter": "X",
        "system_name": "S",
        "platform_id": "P",
        "scenario": "Offline",
        "accelerator": "NVIDIA H100-SXM-80GB",
        "accelerators_per_node": 8,
        "total_accelerators": 8,
        "result_value": 24000.0,
        "result_per_accelerator_tokens_per_s": 3000.0,
        "weight_data_types": "fp16",
        "software": "TensorRT 10.2.0, CUDA 12.4",
        "log_samples_per_s": 100.0,
    }
    rows = [{**base, "benchmark": "llama2-70b-99"}, {**base, "benchmark": "llama2-70b-99.9"}]
    rows.append({**base, "benchmark": "llama2-70b-99.9", "result_value": 20000.0})
    df = load_mlperf(_csv(tmp_path, rows))
    assert len(df) == 2  # the -99.9 copy of the same run is dropped, a different result is kept
    assert base_benchmark("gptj-99.9") == "gptj"
    assert output_tokens_of(df.iloc[0]) == pytest.approx(240.0)  # tokens/s over samples/s
    assert engine_of("vLLM 0.4.3+rocm614, PyTorch 2.3.0") == "vllm" and engine_of("PyTorch") is None
    assert precision_of(base, get_hardware("b200_sxm"), "trtllm") == "nvfp4"
    assert precision_of(base, get_hardware("h100_sxm"), "trtllm") == "fp8"
    assert precision_of({"weight_data_types": "fp8"}, get_hardware("mi300x"), "vllm") == "fp8"


def test_throughput_ratio_is_taken_against_the_reference_chip() -> None:
    res = pd.DataFrame(
        {
            "scenario": ["Offline"] * 3,
            "base_benchmark": ["b"] * 3,
            "group_system": ["h100_sxm", "h100_sxm", "mi300x"],
            "result_per_accelerator_tokens_per_s": [100.0, 300.0, 160.0],
            "pred_per_gpu_tokens_per_s": [200.0, 200.0, 400.0],
        }
    )
    r = throughput_ratios(res, "h100_sxm")
    assert r.loc[0, "measured_ratio"] == pytest.approx(0.8) and r.loc[0, "predicted_ratio"] == pytest.approx(2.0)
    assert r.loc[0, "ratio_ape"] == pytest.approx(1.5)


def test_published_tables_are_read_and_predicted(shared_data: Path) -> None:
    """Regression guard (loose on purpose; the figures are printed by benchmarks/accuracy.py)."""
    summary, res = validate_offline(shared_data / "published" / "trtllm_offline_v0.17.csv")
    assert summary["predicted"] >= 250
    assert summary["median_ape"] < 0.3
    assert all(isinstance(s, str) and s for s in summary["skipped"])
    from inferonomics.validate.mlperf import validate_mlperf

    ml, _ = validate_mlperf(shared_data / "published" / "mlperf_v4.1_llm.csv")
    assert ml["offline"]["n"] >= 10 and ml["ratios"]
    assert all(isinstance(s, str) and s for s in ml["skipped"])


def test_cli_validate_mlperf_prints_groups_and_ratios(shared_data: Path, cli) -> None:
    code, out, _ = cli("validate", "mlperf", str(shared_data / "published" / "mlperf_v4.1_llm.csv"))
    assert code == 0
    assert "per-GPU Offline throughput ratio" in out and "mi300x" in out
    code, _, err = cli("validate", "mlperf", str(shared_data / "published" / "mlperf_v4.1_llm.csv"), "--isl", "x")
    assert code == 2 and "--isl" in err
