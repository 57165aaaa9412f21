"""CLI catalog commands, run exactly as `inferonomics.cli.main` runs them (`run_app()`), so that product
errors show as one red line with exit code 2 and no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import inferonomics.cli  # noqa: F401  (registers every command on the app)


def _model_catalog_ready() -> bool:
    try:
        from inferonomics.catalog.model_catalog import list_models

        list_models()
    except (ImportError, FileNotFoundError):
        return False
    return True


needs_models = pytest.mark.skipif(not _model_catalog_ready(), reason="model catalog (models.toml) not there yet")


# --- hardware ------------------------------------------------------------------------------------------


def test_hardware_list_json(cli: Any) -> None:
    code, out, _ = cli("hardware", "--json")
    rows = json.loads(out)
    assert code == 0
    names = {r["system"] for r in rows}
    assert {"h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm", "gb200", "gb300", "tpu_v5e", "m3_ultra"} <= names
    assert all(r["source"] and r["date"] for r in rows)


def test_hardware_list_table(cli: Any) -> None:
    code, out, _ = cli("hardware")
    assert code == 0 and "gb200" in out and "HBM TB/s" in out


def test_hardware_one_json_with_override(cli: Any) -> None:
    code, out, _ = cli(
        "hardware", "H100", "--set", "hbm_bandwidth_tb_s=5", "--set", "intra_node_latency_us=3", "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert data["chip"]["hbm_bandwidth_tb_s"] == 5.0 and data["intra_node_latency_us"] == 3.0
    assert data["chip"]["source"] and data["source"]


def test_hardware_one_table_shows_sources_and_marks(cli: Any) -> None:
    code, out, _ = cli("hardware", "tpu 8i")
    assert code == 0
    assert "(?) unverified" in out and "Sources" in out and "2026-04" in out


def test_unknown_hardware_is_one_line_exit_2_with_suggestions(cli: Any) -> None:
    code, out, err = cli("hardware", "H10")
    assert code == 2
    assert "unknown hardware 'H10'" in err and "H100" in err
    assert "Traceback" not in err + out and len(err.strip().splitlines()) <= 2


def test_bad_set_key_is_rejected(cli: Any) -> None:
    code, _, err = cli("hardware", "h100", "--set", "hbm_bandwith=3")
    assert code == 2 and "hbm_bandwidth_tb_s" in err
    code, _, err = cli("hardware", "h100", "--set", "hbm_gb")
    assert code == 2 and "key=value" in err
    code, _, err = cli("hardware", "--set", "hbm_gb=3")
    assert code == 2 and "NAME" in err


def test_hardware_file_option(cli: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[chips.mybox]\nvendor="me"\nbf16_tflops=10\nhbm_gb=64\nhbm_bandwidth_tb_s=0.4\n')
    code, out, _ = cli("hardware", "mybox", "--file", str(good), "--json")
    assert code == 0 and json.loads(out)["chip"]["hbm_gb"] == 64
    bad = tmp_path / "bad.toml"
    bad.write_text("[systems.h100_sxm]\ninter_node_bandwidth_gb_s = 0\n")
    code, out, err = cli("hardware", "--file", str(bad))
    assert code == 2 and "bad.toml" in err and "inter_node_bandwidth_gb_s" in err and "Traceback" not in err


def test_usage_errors_exit_2(cli: Any) -> None:
    code, _, _ = cli("hardware", "--no-such-option")
    assert code == 2


# --- prices -------------------------------------------------------------------------------------------


def test_prices_json(cli: Any) -> None:
    code, out, _ = cli("prices", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 20 and all(r["source"] and r["date"] for r in rows)
    code, out, _ = cli("prices", "anthropic", "--json")
    assert {r["provider"] for r in json.loads(out)} == {"anthropic"}
    code, out, _ = cli("prices", "OpenAI/GPT-5", "--json")
    assert json.loads(out)["output_usd_per_mtok"] == 10.0
    code, out, _ = cli("prices", "gpt-5-mini", "--json")
    assert [r["key"] for r in json.loads(out)] == ["openai/gpt-5-mini"]
    code, out, _ = cli("prices", "--market", "--json")
    assert code == 0 and len(json.loads(out)) == 5


def test_prices_tables(cli: Any) -> None:
    code, out, _ = cli("prices")
    assert code == 0 and "deepseek/deepseek-v3.2" in out
    code, out, _ = cli("prices", "google/gemini-2.5-pro")
    assert code == 0 and "cache_storage_usd_per_mtok_hour" in out
    code, out, _ = cli("prices", "--market")
    assert code == 0 and "Mixtral" in out


def test_unknown_price_names(cli: Any) -> None:
    code, _, err = cli("prices", "opnai")
    assert code == 2 and "openai" in err
    code, _, err = cli("prices", "openai/gpt-6")
    assert code == 2 and "openai/gpt-5" in err


# --- models, model, summary (need the model catalog) ------------------------------------------------------


@needs_models
def test_models_json(cli: Any) -> None:
    code, out, _ = cli("models", "--json")
    assert code == 0 and len(json.loads(out)) > 5
    code, out, _ = cli("models")
    assert code == 0


@needs_models
def test_model_json_has_the_promised_keys(cli: Any) -> None:
    from inferonomics.catalog.model_catalog import list_models

    name = str(list_models().iloc[0, 0])
    code, out, _ = cli("model", name, "--json")
    data = json.loads(out)
    assert code == 0
    assert {"name", "total_params", "active_params", "layers", "kv_bytes_per_token", "weight_bytes"} <= set(data)
    assert "bf16" in data["kv_bytes_per_token"] and "bf16" in data["weight_bytes"]
    code, out, _ = cli("model", name)
    assert code == 0 and "Weight bytes" in out


@needs_models
def test_unknown_model_exit_2(cli: Any) -> None:
    code, out, err = cli("model", "no-such-model-xyz")
    assert code == 2 and "Traceback" not in err + out


@needs_models
def test_summary_json_and_table(cli: Any) -> None:
    from inferonomics.catalog.model_catalog import list_models

    name = str(list_models().iloc[0, 0])
    code, out, _ = cli("summary", "--model", name, "--hardware", "H100", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["naive_decode_tokens_per_s"] > 0 and data["chips_to_hold_weights"] >= 1
    code, out, _ = cli("summary", "-m", name, "-H", "gb200")
    assert code == 0 and "NAIVE" in out
    code, _, err = cli("summary", "-m", name, "-H", "H10")
    assert code == 2 and "H100" in err
