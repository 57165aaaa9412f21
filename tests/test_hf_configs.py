"""Hugging Face config.json -> ModelSpec: every shared config loads or is refused with a reason,
malformed configs name the bad field, families map their keys correctly, precision is detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferonomics.catalog.hf_config import (
    QUANT_DESCRIPTION_REASON,
    REFUSED,
    detect_precision,
    load_hf_config,
    model_from_hf_config,
    quant_description_path,
)
from inferonomics.catalog.model_figures import kv_bytes, kv_bytes_per_token, state_bytes_per_sequence
from inferonomics.errors import ConfigError

SHARED = Path(__file__).resolve().parents[2] / "shared"
CONFIGS = SHARED / "data" / "model_configs"
CONFIG_FILES = sorted(CONFIGS.glob("*_config.json")) if CONFIGS.is_dir() else []
needs_configs = pytest.mark.skipif(not CONFIG_FILES, reason=f"shared model configs not found at {CONFIGS}")


def load(repo_file: str):
    path = CONFIGS / repo_file
    if not path.is_file():
        pytest.skip(f"shared config {path} not found")
    return load_hf_config(path)


# ---------------------------------------------------------------------------------------------------
# Every shared config
# ---------------------------------------------------------------------------------------------------


@needs_configs
@pytest.mark.shared_data
@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name.removesuffix("_config.json"))
def test_every_shared_config_loads_or_is_refused_with_a_reason(path: Path) -> None:
    try:
        m = load_hf_config(path)
    except ConfigError as exc:
        assert "refused" in str(exc), f"{path.name}: error without a refusal reason: {exc}"
        # Only quantisation descriptions are refused in this collection; an architecture refused
        # here would be a regression.
        assert path.name.endswith("_hf_quant_config.json"), f"{path.name} refused: {exc}"
        assert QUANT_DESCRIPTION_REASON in str(exc)
        return
    assert not path.name.endswith("_hf_quant_config.json")
    assert 0 < m.active_params <= m.total_params
    assert m.hf_id and "/" in m.hf_id
    summary = m.summary()
    json.dumps(summary)  # JSON-ready for `inferonomics model NAME --json`
    assert summary["kv_bytes_per_token"]["bf16"] >= 0
    assert float(kv_bytes(m, 4096)) > 0


@needs_configs
@pytest.mark.shared_data
def test_refused_configs_report() -> None:
    """The list of refused configs (printed with -s) and their reasons."""
    refused = {}
    for path in CONFIG_FILES:
        try:
            load_hf_config(path)
        except ConfigError as exc:
            refused[path.name] = str(exc).split("refused: ", 1)[1]
    print("\nrefused configs:\n" + "\n".join(f"  {k}: {v}" for k, v in refused.items()))
    assert len(refused) == sum(1 for p in CONFIG_FILES if p.name.endswith("_hf_quant_config.json"))
    assert len(CONFIG_FILES) - len(refused) >= 80


# ---------------------------------------------------------------------------------------------------
# Malformed configs name the field
# ---------------------------------------------------------------------------------------------------

LLAMA = {
    "model_type": "llama",
    "hidden_size": 512,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "num_hidden_layers": 4,
    "intermediate_size": 1024,
    "vocab_size": 1000,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hidden_size": None}, "hidden_size"),
        ({"num_attention_heads": -4}, "num_attention_heads"),
        ({"num_hidden_layers": 2.5}, "num_hidden_layers"),
        ({"num_key_value_heads": 16}, "num_key_value_heads"),
        ({"vocab_size": "many"}, "vocab_size"),
        ({"intermediate_size": None}, "intermediate_size"),
        ({"layer_types": ["full_attention"] * 3}, "layer_types"),
        ({"layer_types": ["full_attention"] * 3 + ["mystery_attention"]}, "mystery_attention"),
        ({"model_type": None}, "model_type"),
    ],
)
def test_malformed_config_names_the_field(change: dict, field: str) -> None:
    cfg = {**LLAMA, **change}
    cfg = {k: v for k, v in cfg.items() if v is not None}
    with pytest.raises(ConfigError, match=field):
        model_from_hf_config(cfg)


def test_moe_config_with_too_many_active_experts_is_refused() -> None:
    cfg = {**LLAMA, "model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 8}
    with pytest.raises(ConfigError, match="num_experts_per_tok"):
        model_from_hf_config(cfg)


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "llama", "hidden_size": ')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_hf_config(bad)
    with pytest.raises(ConfigError, match="no such config file"):
        load_hf_config(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_hf_config(tmp_path / "list.json")


def test_unknown_and_refused_model_types() -> None:
    with pytest.raises(ConfigError, match="not supported"):
        model_from_hf_config({**LLAMA, "model_type": "mystery_lm"})
    refused_type = next(iter(REFUSED))
    with pytest.raises(ConfigError, match="refused"):
        model_from_hf_config({**LLAMA, "model_type": refused_type})
    with pytest.raises(ConfigError, match=QUANT_DESCRIPTION_REASON):
        model_from_hf_config({"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "FP8"}})


def test_directory_and_sibling_quant_description(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA))
    assert load_hf_config(tmp_path).native_precision == "bf16"
    (tmp_path / "hf_quant_config.json").write_text(
        json.dumps({"quantization": {"quant_algo": "NVFP4", "kv_cache_quant_algo": "FP8"}})
    )
    m = load_hf_config(tmp_path)
    assert (m.native_precision, m.native_kv_precision) == ("nvfp4", "fp8")
    assert quant_description_path(tmp_path / "a--b_config.json").name == "a--b_hf_quant_config.json"


# ---------------------------------------------------------------------------------------------------
# Precision detection
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ({"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}, ("fp8", None)),
        ({"quant_method": "mxfp4"}, ("mxfp4", None)),
        (
            {
                "quant_method": "modelopt",
                "quant_algo": "NVFP4",
                "kv_cache_scheme": {"num_bits": 8, "type": "float"},
            },
            ("nvfp4", "fp8"),
        ),
        ({"quant_algo": "FP8", "kv_cache_scheme": "FP8"}, ("fp8", "fp8")),
        (
            {
                "quant_algo": "MIXED_PRECISION",
                "quantized_layers": {
                    "layers.0.linear_attn.out_proj": {"quant_algo": "FP8"},
                    "layers.0.linear_attn.in_proj": {"quant_algo": "FP8"},
                    "layers.0.mlp.gate_proj": {"quant_algo": "W4A16_NVFP4"},
                },
            },
            ("nvfp4", None),
        ),
        (
            {"quant_method": "fp8", "quant_algo": "MIXED_PRECISION", "moe_quant_algo": "NVFP4"},
            ("nvfp4", None),
        ),
        (
            {
                "quant_method": "compressed-tensors",
                "config_groups": {
                    "g": {"weights": {"num_bits": 4, "type": "int", "group_size": 32}, "targets": ["Linear"]}
                },
            },
            ("int4", None),
        ),
        (
            {
                "quant_method": "compressed-tensors",
                "format": "mxfp4-pack-quantized",
                "config_groups": {
                    "g": {
                        "weights": {"num_bits": 4, "type": "float", "group_size": 32},
                        "targets": ["Linear"],
                    }
                },
            },
            ("mxfp4", None),
        ),
        ({}, (None, None)),
    ],
)
def test_detect_precision(q: dict, expected: tuple) -> None:
    assert detect_precision(q) == expected


@needs_configs
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "weights", "kv"),
    [
        ("Qwen--Qwen3-235B-A22B-FP8_config.json", "fp8", "bf16"),
        ("openai--gpt-oss-120b_config.json", "mxfp4", "bf16"),
        ("moonshotai--Kimi-K2.5_config.json", "int4", "bf16"),
        ("nvidia--GLM-5.1-NVFP4_config.json", "nvfp4", "fp8"),
        ("nvidia--Llama-3.1-70B-Instruct-FP8_config.json", "fp8", "fp8"),  # from hf_quant_config.json
        ("nvidia--Qwen3-235B-A22B-NVFP4_config.json", "nvfp4", "fp8"),  # idem
        ("nvidia--Qwen3.6-27B-NVFP4_config.json", "nvfp4", "fp8"),  # mixed: FP8 attention, NVFP4 MLP
        ("nvidia--DeepSeek-V4-Flash-NVFP4_config.json", "nvfp4", "bf16"),
        ("deepseek-ai--DeepSeek-V4-Flash_config.json", "mxfp4", "bf16"),  # expert_dtype fp4
        ("meta-llama--Meta-Llama-3.1-8B_config.json", "bf16", "bf16"),
    ],
)
def test_native_precision_of_shared_configs(name: str, weights: str, kv: str) -> None:
    m = load(name)
    assert (m.native_precision, m.native_kv_precision) == (weights, kv)


# ---------------------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------------------


@needs_configs
@pytest.mark.shared_data
def test_llama4_interleaved_moe_and_chunked_attention() -> None:
    scout = load("meta-llama--Llama-4-Scout-17B-16E-Instruct_config.json")
    maverick = load("meta-llama--Llama-4-Maverick-17B-128E-Instruct_config.json")
    assert scout.num_moe_layers == 48 and maverick.num_moe_layers == 24
    assert maverick.moe_mask[:4] == (False, True, False, True)
    for m in (scout, maverick):
        # every 4th layer is global NoPE attention, the others chunked (window = chunk)
        assert [i for i, k in enumerate(m.kinds) if k == "full"] == list(range(3, 48, 4))
        assert m.sliding_window == 8192 and m.num_shared_experts == 1
        # Meta: 17B active, counting the input embedding table; Maverick 400B total (Scout's 109B
        # includes its vision encoder)
        assert m.active_params + m.params["embedding"] == pytest.approx(17e9, abs=0.5e9)
    assert maverick.total_params == pytest.approx(400e9, abs=4e9)
    # chunked layers stop growing at the chunk: KV per token beyond 8k comes from 12 global layers
    per_token_full = 12 * 8 * 128 * 2 * 2
    grow = kv_bytes(scout, 200_000) - kv_bytes(scout, 100_000)
    assert grow == pytest.approx(100_000 * per_token_full)


@needs_configs
@pytest.mark.shared_data
def test_gemma4_global_layers_have_their_own_geometry() -> None:
    m = load("nvidia--Gemma-4-31B-IT-NVFP4_config.json")
    assert m.attention_geometry("sliding") == (32, 16, 256, 256)
    assert m.attention_geometry("full") == (32, 4, 512, 512)
    assert m.full_k_eq_v and m.tie_embeddings
    sliding_values = 50 * 16 * 256 * 2
    full_values = 10 * 4 * 512 * 2  # K=V share a projection, but both are cached
    assert kv_bytes_per_token(m, "bf16") == 2 * (sliding_values + full_values)
    assert m.total_params == pytest.approx(30.7e9, rel=0.01)
    moe = load("google--gemma-4-26B-A4B_config.json")
    # Google: 25.2B total, 3.8B active; the dense MLP beside the experts counts as a shared expert
    assert moe.total_params == pytest.approx(25.2e9, abs=0.05e9)
    assert moe.active_params == pytest.approx(3.8e9, abs=0.05e9)


@needs_configs
@pytest.mark.shared_data
def test_deepseek_v4_compressed_attention() -> None:
    m = load("deepseek-ai--DeepSeek-V4-Flash_config.json")
    assert m.kinds[:2] == ("sliding", "sliding") and m.count_layers("compressed") == 41
    c4 = sum(1 for r in m.kv_compress_ratios if r == 4)
    c128 = sum(1 for r in m.kv_compress_ratios if r == 128)
    assert (c4, c128) == (21, 20)
    # beyond the 128-token windows each token adds (512 + 128 index) / 4 on C4 and 512 / 128 on C128 layers
    per_token = (c4 * (512 + 128) / 4 + c128 * 512 / 128) * 2
    assert kv_bytes(m, 1_000_000) - kv_bytes(m, 500_000) == pytest.approx(500_000 * per_token)
    windows = 43 * 512 * 128 * 2
    assert kv_bytes(m, 1_000_000) == pytest.approx(windows + 1_000_000 * per_token)
    v3 = load("deepseek-ai--DeepSeek-V3_config.json")
    assert kv_bytes(m, 131072) < kv_bytes(v3, 131072) / 5  # V4's point: a fraction of V3's cache
    # DeepSeek: 284B total, 13B active
    assert m.total_params == pytest.approx(284e9, abs=2.84e9)
    assert m.active_params == pytest.approx(13e9, abs=0.5e9)
    # sparse C4 layers attend at most index_topk compressed entries: decode FLOPs grow sub-linearly
    f1, f2 = m.decode_flops_per_token(200_000), m.decode_flops_per_token(400_000)
    g1, g2 = v3.decode_flops_per_token(200_000), v3.decode_flops_per_token(400_000)
    assert (f2 - f1) / f1 < (g2 - g1) / g1


@needs_configs
@pytest.mark.shared_data
def test_nemotron_h_mamba_layers_hold_constant_state() -> None:
    m = load("nvidia--Nemotron-H-56B-Base-8K_config.json")
    assert (m.count_layers("mamba"), m.count_layers("full"), m.num_dense_layers) == (54, 10, 54)
    assert not m.ffn_gated
    assert kv_bytes_per_token(m, "bf16") == 10 * 8 * 128 * 2 * 2
    state = state_bytes_per_sequence(m)
    assert state > 0
    assert kv_bytes(m, 1000) - 1000 * kv_bytes_per_token(m) == pytest.approx(state)
    assert m.total_params == pytest.approx(56e9, abs=0.5e9)
    nano = load("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16_config.json")
    # NVIDIA: 31.6B total, 3.6B active with embeddings, 3.2B without (the input table, as OpenAI counts)
    assert nano.total_params == pytest.approx(31.6e9, abs=0.05e9)
    assert nano.active_params + nano.params["embedding"] == pytest.approx(3.6e9, abs=0.05e9)
    assert nano.active_params == pytest.approx(3.2e9, abs=0.05e9)
    super_ = load("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8_config.json")
    assert super_.moe_latent_size == 1024
    assert super_.total_params == pytest.approx(120e9, rel=0.01)


@needs_configs
@pytest.mark.shared_data
def test_nemotron_nas_per_layer_blocks() -> None:
    m = load("nvidia--Llama-3_3-Nemotron-Super-49B-v1_config.json")
    assert m.count_layers("none") == 31 and m.count_layers("full") == 49
    assert m.num_kv_heads == 8 and len(set(m.ffn_widths)) > 3
    assert 28672 in m.ffn_widths  # ffn_mult 5.25 on hidden 8192 = Llama 70B's width
    assert m.total_params == pytest.approx(49.9e9, abs=0.05e9)


@needs_configs
@pytest.mark.shared_data
def test_mimo_v2_step_and_minimax() -> None:
    mimo = load("XiaomiMiMo--MiMo-V2-Flash_config.json")
    assert mimo.attention_geometry("sliding") == (64, 8, 192, 128)
    assert mimo.attention_geometry("full") == (64, 4, 192, 128)
    assert mimo.total_params == pytest.approx(309e9, abs=0.5e9)  # Xiaomi: 309B total, 15B active
    assert mimo.active_params == pytest.approx(15e9, abs=0.5e9)
    step = load("stepfun-ai--Step-3.7-Flash_config.json")
    assert step.num_dense_layers == 3 and step.count_layers("sliding") == 33
    m25 = load("MiniMaxAI--MiniMax-M2.5_config.json")
    assert m25.total_params == pytest.approx(229e9, abs=0.5e9)  # MiniMax: 229B total
    m3 = load("MiniMaxAI--MiniMax-M3_config.json")
    assert m3.sparse_topk_tokens == 16 * 128 and sum(m3.sparse_mask) == 57 and m3.index_num_heads == 4


@needs_configs
@pytest.mark.shared_data
def test_glm_5_2_shared_indexers_and_kimi_linear() -> None:
    glm5 = load("zai-org--GLM-5_config.json")
    glm52 = load("zai-org--GLM-5.2_config.json")
    own = sum(glm52.indexer_mask)
    assert 0 < own < 78 and all(glm52.sparse_mask)
    # layers sharing another's indexer hold no index keys
    assert kv_bytes_per_token(glm5) - kv_bytes_per_token(glm52) == (78 - own) * 128 * 2
    k3 = load("moonshotai--Kimi-K3_config.json")
    assert k3.count_layers("full") == 24 and k3.count_layers("linear") == 69
    assert k3.linear_attention_kind == "kda" and k3.moe_latent_size == 3584


def test_mistral_window_applies_without_a_flag_but_qwen_needs_one() -> None:
    mistral = model_from_hf_config({**LLAMA, "model_type": "mistral", "sliding_window": 256})
    assert mistral.kinds == ("sliding",) * 4 and mistral.sliding_window == 256
    qwen_cfg = {**LLAMA, "model_type": "qwen3", "sliding_window": 256, "use_sliding_window": False}
    qwen = model_from_hf_config(qwen_cfg)
    assert qwen.kinds == ("full",) * 4 and qwen.sliding_window is None
