"""`inferonomics predict`, `floor` and `validate serving` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_predict_json(run_cli) -> None:
    r = run_cli(
        "predict",
        "--model",
        "llama-3.1-70b",
        "--hardware",
        "h100_sxm",
        "--tp",
        "4",
        "--precision",
        "fp8",
        "--isl",
        "1024",
        "--osl",
        "256",
        "--concurrency",
        "16",
        "--json",
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["fits"] is True and d["tp"] == 4 and d["concurrency"] == 16
    assert 0 < d["tpot_ms"] < d["ttft_ms"] * 100
    assert d["output_tokens_per_s_per_gpu"] == pytest.approx(d["output_tokens_per_s"] / 4)


def test_predict_max_throughput_and_table(run_cli) -> None:
    r = run_cli(
        "predict",
        "-m",
        "qwen3-32b",
        "-H",
        "h200",
        "--tp",
        "2",
        "--isl",
        "2048",
        "--osl",
        "512",
        "--max-throughput",
    )
    assert r.exit_code == 0, r.output
    assert "TPOT" in r.stdout and "memory" in r.stdout


def test_predict_disagg(run_cli) -> None:
    r = run_cli(
        "predict",
        "-m",
        "llama-3.1-70b",
        "-H",
        "h200_sxm",
        "--precision",
        "fp8",
        "--mode",
        "disagg",
        "--prefill-tp",
        "4",
        "--decode-tp",
        "4",
        "--prefill-instances",
        "1",
        "--decode-instances",
        "2",
        "--isl",
        "4096",
        "--osl",
        "512",
        "-c",
        "32",
        "--json",
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["mode"] == "disagg" and d["chips"] == 12 and d["breakdown"]["kv_transfer_ms"] > 0


BASE_DISAGG = "predict -m DeepSeek-R1 -H gb200 --precision fp4 --backend trtllm --isl 1024 --osl 1024 -c 512"
POOLS = "--mode disagg --prefill-instances 2 --decode-instances 1"


def _disagg_args(*pools: str) -> list[str]:
    return " ".join([BASE_DISAGG, POOLS, *pools, "--json"]).split()


def test_predict_disagg_pools_have_their_own_parallelism(run_cli) -> None:
    r = run_cli(
        *_disagg_args(
            "--prefill-tp 1 --prefill-attention-dp 4 --prefill-ep 4",
            "--decode-tp 1 --decode-attention-dp 16 --decode-ep 16",
        )
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["chips"] == 2 * 4 + 16
    assert d["disagg"]["prefill"] == {"tp": 1, "pp": 1, "ep": 4, "attention_dp": 4}
    assert d["disagg"]["decode"] == {"tp": 1, "pp": 1, "ep": 16, "attention_dp": 16}
    # the prefill instance holds the weights over 4 chips, the decode instance over 16
    assert d["disagg"]["prefill_memory_gb_per_gpu"] > d["memory"]["weights_gb"] * 3


def test_predict_disagg_prefill_pool_that_cannot_hold_the_weights_exits_2(run_cli) -> None:
    r = run_cli(*_disagg_args("--prefill-tp 1", "--decode-tp 8 --decode-ep 8"))
    assert r.exit_code == 2
    assert "prefill pool" in r.output and "does not fit" in r.output and "Traceback" not in r.output


def test_pool_options_without_disagg_exit_2(run_cli) -> None:
    r = run_cli(*"predict -m llama-3.1-8b -H h100_sxm --isl 128 --osl 128 -c 4 --prefill-tp 2".split())  # noqa: SIM905
    assert r.exit_code == 2 and "--mode disagg" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "llama-9000"], "unknown model"),
        (["--hardware", "h900"], "unknown"),
        (["--tp", "1", "--precision", "bf16"], "does not fit"),
        (["--isl", "0"], "isl"),
        (["--backend", "tgi"], "backend"),
    ],
)
def test_predict_bad_input_exits_2(run_cli, args: list[str], message: str) -> None:
    base = {
        "--model": "llama-3.1-70b",
        "--hardware": "h100_sxm",
        "--tp": "4",
        "--isl": "128",
        "--osl": "128",
        "--concurrency": "4",
    }
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    flat = [x for kv in base.items() for x in kv]
    r = run_cli("predict", *flat)
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.output


def test_predict_needs_exactly_one_load(run_cli) -> None:
    r = run_cli("predict", "-m", "llama-3.1-8b", "-H", "h100", "--isl", "10", "--osl", "10")
    assert r.exit_code == 2 and "--concurrency" in r.stderr


def test_floor_json_and_what_if(run_cli) -> None:
    r = run_cli("floor", "-m", "llama-3.1-70b", "-H", "h100_sxm", "--json")
    assert r.exit_code == 0, r.output
    base = json.loads(r.stdout)
    r2 = run_cli("floor", "-m", "llama-3.1-70b", "-H", "h100_sxm", "--set", "hbm_bandwidth_tb_s=6.7", "--json")
    fast = json.loads(r2.stdout)
    assert fast["latency_floor"]["ms_per_token"] < base["latency_floor"]["ms_per_token"]
    assert base["single_user_to_batched_cost_ratio"] > 1
    bad = run_cli("floor", "-m", "llama-3.1-70b", "-H", "h100_sxm", "--set", "hbm_bandwidth_tb_s=0")
    assert bad.exit_code == 2 and "hbm_bandwidth_tb_s" in bad.stderr


def test_validate_serving_on_a_small_file(run_cli, shared_data: Path, tmp_path: Path) -> None:
    import pandas as pd

    df = pd.read_csv(shared_data / "measured" / "serving_h100_h200.csv").sample(40, random_state=0)
    bad = df.iloc[:1].copy()
    bad["model_path"] = "nobody/no-such-model"
    bad["id"] = "row-with-unknown-model"
    path = tmp_path / "runs.csv"
    pd.concat([df, bad]).to_csv(path, index=False)
    r = run_cli("validate", "serving", str(path), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["rows"] == 41
    assert any(s["id"] == "row-with-unknown-model" and "unknown model" in s["reason"] for s in d["skipped"])
    assert set(d["ttft"]) >= {"median_ape", "p90_ape"} and "system" in d["groups"]


def test_validate_serving_rejects_a_csv_without_the_schema(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    r = run_cli("validate", "serving", str(path))
    assert r.exit_code == 2 and "missing column" in r.stderr
    r = run_cli("validate", "serving", str(tmp_path / "nope.csv"))
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_validate_reads_models_missing_from_the_catalog_from_a_configs_folder(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    import pandas as pd

    df = pd.read_csv(shared_data / "measured" / "serving_h100_h200.csv")
    row = df[df.model_path == "Qwen/Qwen3-32B"].iloc[:1].copy()
    row["model_path"] = "Qwen/Qwen3-VL-8B-Instruct"  # a shared config the built-in catalog does not carry
    path = tmp_path / "runs.csv"
    row.to_csv(path, index=False)
    without = json.loads(run_cli("validate", "serving", str(path), "--json").stdout)
    assert without["predicted"] == 0 and "unknown model" in without["skipped"][0]["reason"]
    r = run_cli("validate", "serving", str(path), "--configs", str(shared_data / "model_configs"), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["predicted"] == 1
    bad = run_cli("validate", "serving", str(path), "--configs", str(tmp_path / "nope"))
    assert bad.exit_code == 2 and "no such folder" in bad.stderr


def test_floor_without_a_price_gives_no_usd_figure(run_cli) -> None:
    r = run_cli("floor", "-m", "llama-3.1-8b", "-H", "tpu7x", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["cost_floor"]["usd_per_mtok"] is None and d["cost_floor"]["chip_s_per_token"] > 0
    assert d["single_user_to_batched_cost_ratio"] > 1 and "no rental price" in d["notes"][0]
    priced = json.loads(
        run_cli("floor", "-m", "llama-3.1-8b", "-H", "tpu7x", "--usd-per-chip-hour", "1.2", "--json").stdout
    )
    assert priced["cost_floor"]["usd_per_mtok"] > 0 and priced["notes"] == []
    assert run_cli("floor", "-m", "llama-3.1-8b", "-H", "tpu7x").exit_code == 0
