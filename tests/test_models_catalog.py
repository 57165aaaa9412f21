"""The built-in model catalog and user catalogs: look-up, listing, the TOML format."""

from __future__ import annotations

import csv
import json
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferonomics.catalog.model_catalog import (
    builtin_catalog,
    compress_pattern,
    expand_pattern,
    get_model,
    list_models,
    load_model_catalog,
)
from inferonomics.errors import ConfigError, UnknownNameError

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
MEASURED = SHARED / "data" / "measured" / "serving_h100_h200.csv"
CONFIGS = SHARED / "data" / "model_configs"

REQUIRED = [
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B",
    "meta-llama/Llama-3.1-405B",
    "meta-llama/Llama-3.3-70B-Instruct",
    "llama-4-scout",
    "llama-4-maverick",
    "Qwen/Qwen3-8B",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-235B-A22B",
    "Qwen/Qwen3.5-397B-A17B",
    "deepseek-ai/DeepSeek-V3",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-V3.2",
    "moonshotai/Kimi-K2-Instruct",
    "moonshotai/Kimi-K2.5",
    "zai-org/GLM-5",
    "MiniMaxAI/MiniMax-M2.5",
    "openai/gpt-oss-20b",
    "openai/gpt-oss-120b",
    "mistralai/Mixtral-8x7B-v0.1",
    "mistralai/Mixtral-8x22B-v0.1",
    "mistral-large-2",
    "gemma-3-27b",
    "gemma-4-31b",
    "palm-62b",
    "palm-540b",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_models_are_in_the_catalog(name: str) -> None:
    m = get_model(name)
    assert m.source and m.date, f"{m.name} needs a source and a date"
    assert m.total_params > 0


def test_catalog_entries_are_sourced_and_self_contained() -> None:
    cat = builtin_catalog()
    assert len(cat) >= 60
    for m in cat.models:
        assert m.source.startswith(("https://", "Chowdhery")), m.name
        assert not m.source.startswith("/"), "the package must not point at local files"
        assert m.date[:4].isdigit(), m.name
    assert builtin_catalog() is cat  # parsed once


def test_lookup_is_case_and_separator_insensitive() -> None:
    m = get_model("meta-llama/Llama-3.1-70B")
    for name in (
        "llama-3.1-70b",
        "LLAMA3.1-70B",
        "llama3-70b",
        "Llama 3.1 70B",
        "Llama-3.1-70B",
        "meta-llama/Meta-Llama-3.1-70B-Instruct",
    ):
        assert get_model(name) is m
    assert get_model("ds-v3").name == "DeepSeek-V3"
    assert get_model(m) is m


def test_unknown_model_lists_close_names() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_model("llama-3.1-7b")
    assert err.value.kind == "model"
    assert any("Llama-3.1" in s for s in err.value.suggestions)
    with pytest.raises(ConfigError):
        get_model("   ")


@pytest.mark.shared_data
def test_measured_model_paths_resolve() -> None:
    if not MEASURED.is_file():
        pytest.skip(f"measured data not found at {MEASURED}")
    with MEASURED.open() as f:
        paths = {row["model_path"] for row in csv.DictReader(f)}
    assert paths
    for path in paths:
        m = get_model(path)
        if "FP8" in path.upper():
            assert m.native_precision == "fp8", path
    assert get_model("nvidia/Llama-3.1-8B-Instruct-FP8").extra["variant_of"] == "Llama-3.1-8B"
    assert get_model("Qwen/Qwen3-235B-A22B-FP8").total_params == get_model("Qwen/Qwen3-235B-A22B").total_params


def test_get_model_from_a_config_path(tmp_path: Path) -> None:
    cfg = {
        "model_type": "llama",
        "hidden_size": 512,
        "num_attention_heads": 8,
        "num_hidden_layers": 2,
        "intermediate_size": 1024,
        "vocab_size": 1000,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    assert get_model(str(path)).num_layers == 2
    assert get_model(str(tmp_path)).hidden_size == 512
    with pytest.raises(ConfigError, match="no such config file"):
        get_model(str(tmp_path / "nope" / "config.json"))


def test_list_models_frame() -> None:
    df = list_models()
    for col in (
        "name",
        "hf_id",
        "family",
        "total_params",
        "active_params",
        "layers",
        "attention",
        "moe",
        "kv_bytes_per_token_bf16",
        "native_precision",
    ):
        assert col in df.columns
    assert len(df) == len(builtin_catalog())
    base = list_models(include_variants=False)
    assert 0 < len(base) < len(df) and base["variant_of"].isna().all()
    row = df.set_index("name").loc["DeepSeek-V3"]
    assert row["attention"] == "MLA" and bool(row["moe"]) and row["native_precision"] == "fp8"
    assert (df["active_params"] <= df["total_params"]).all()


@pytest.mark.shared_data
def test_committed_toml_matches_the_build_script() -> None:
    if not CONFIGS.is_dir():
        pytest.skip(f"shared model configs not found at {CONFIGS}")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_model_catalog", ROOT / "scripts" / "build_model_catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    text, _ = module.build(CONFIGS)
    committed = (ROOT / "src" / "inferonomics" / "catalog" / "data" / "models.toml").read_text()
    assert text == committed, "models.toml is out of date: run scripts/build_model_catalog.py"


# ---------------------------------------------------------------------------------------------------
# User catalogs
# ---------------------------------------------------------------------------------------------------

USER = """
[models.tiny]
name = "Tiny-1B"
hf_id = "me/tiny-1b"
aliases = ["tiny1"]
source = "my notes"
date = "2026-01-01"
hidden_size = 2048
num_layers = 16
vocab_size = 32000
num_heads = 16
num_kv_heads = 4
head_dim = 128
intermediate_size = 8192
layer_kinds = "(sliding*3 full)*4"
sliding_window = 4096

[models.tiny.variants.tiny-fp8]
name = "Tiny-1B-FP8"
hf_id = "me/tiny-1b-fp8"
native_precision = "fp8"
"""


def test_load_user_catalog(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(USER)
    cat = load_model_catalog(path)
    tiny = cat.get("TINY1")
    assert tiny.kinds == ("sliding", "sliding", "sliding", "full") * 4
    assert get_model("tiny-fp8", catalog=cat).native_precision == "fp8"
    assert cat.get("me/tiny-1b-fp8").extra["variant_of"] == "Tiny-1B"
    merged = builtin_catalog().merged(cat)
    assert merged.get("tiny") is tiny and merged.get("ds-v3").name == "DeepSeek-V3"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("hidden_size = 2048", "hiden_size = 2048"), "hiden_size.*did you mean hidden_size"),
        (("num_layers = 16", 'num_layers = "16"'), "num_layers"),
        (('"(sliding*3 full)*4"', '"(sliding*3 full)*3"'), "layer_kinds"),
        (('"(sliding*3 full)*4"', '"(sliding*3 full*4"'), "layer_kinds"),
        (("vocab_size = 32000\n", ""), "vocab_size"),
        (("num_kv_heads = 4", "num_kv_heads = 32"), "num_kv_heads"),
        (('native_precision = "fp8"', 'native_precision = "fp3"'), "native_precision"),
        (("[models.tiny]", "[modles.tiny]"), "top-level"),
        (('date = "2026-01-01"', "date = "), "not valid TOML"),
    ],
)
def test_bad_user_catalog_names_the_problem(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(USER.replace(*edit, 1))
    with pytest.raises(ConfigError, match=message):
        load_model_catalog(path)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(
        USER
        + USER.replace("[models.tiny]", "[models.other]").replace(
            "[models.tiny.variants.tiny-fp8]", "[models.other.variants.other-fp8]"
        )
    )
    with pytest.raises(ConfigError, match="used twice"):
        load_model_catalog(path)


def test_builtin_toml_parses_with_tomllib() -> None:
    text = (ROOT / "src" / "inferonomics" / "catalog" / "data" / "models.toml").read_text()
    data = tomllib.loads(text)
    assert "llama-3.1-70b" in data["models"]


kinds = st.sampled_from(["full", "sliding", "linear", "none", "4", "128", "0", "1"])


@given(st.lists(kinds, min_size=1, max_size=120))
def test_pattern_round_trip(values: list[str]) -> None:
    pattern = compress_pattern(values)
    assert expand_pattern(pattern) == values
    assert len(pattern) <= len(" ".join(values))


def test_pattern_examples() -> None:
    assert expand_pattern("(sliding*2 full)*2 full") == ["sliding", "sliding", "full"] * 2 + ["full"]
    assert compress_pattern([False] * 3 + [True] * 5) == "0*3 1*5"
    with pytest.raises(ValueError):
        expand_pattern("(full")
    with pytest.raises(ValueError):
        expand_pattern("full*x")
