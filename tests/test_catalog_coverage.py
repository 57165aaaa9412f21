"""Catalog coverage: the chips and models that measured runs and published tables name (issue 15, item 7).

Published figures, each with its source:
- Llama 2 70B: 70B parameters (Touvron et al. 2023, arXiv:2307.09288, table 1).
- Mistral 7B: 7.3B (Mistral AI's announcement and Jiang et al. 2023, arXiv:2310.06825).
- Mixtral 8x7B: 46.7B total, 12.9B active (Mistral AI, "Mixtral of experts", 2023-12-11).
- Qwen3-30B-A3B-Instruct-2507: 30.5B total, 3.3B activated (Qwen model card).
- GLM-5: 744B total (Z.ai's GLM-5 release notes).
- GPT-J 6B: 6,053,381,344 parameters (EleutherAI model card).
- Llama 3.1 405B: 405B (Meta model card).
- gpt-oss-120b / -20b: 5.13B / 3.61B active, OpenAI counting the unembedding but not the embedding
  table (gpt-oss model card, 2025-08-05).
"""

from __future__ import annotations

import pytest

from inferonomics.catalog.hardware_catalog import get_chip, get_hardware, load_catalog
from inferonomics.catalog.model_catalog import get_model
from inferonomics.errors import UnknownNameError

PUBLISHED_TOTALS = [
    ("meta-llama/Llama-2-70b-hf", 70e9),
    ("mistralai/Mistral-7B-v0.1", 7.3e9),
    ("mistralai/Mistral-7B-Instruct-v0.3", 7.3e9),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7e9),
    ("Qwen/Qwen3-30B-A3B-Instruct-2507", 30.5e9),
    ("zhipuai/GLM-5", 744e9),
    ("zai-org/GLM-5", 744e9),
    ("EleutherAI/gpt-j-6b", 6.053e9),
    ("meta-llama/Llama-3.1-405B-Instruct", 405e9),
]


@pytest.mark.parametrize(("name", "published"), PUBLISHED_TOTALS)
def test_new_models_match_published_parameter_counts(name: str, published: float) -> None:
    assert get_model(name).total_params == pytest.approx(published, rel=0.02)


def test_gpt_oss_active_parameters_follow_openai_counting() -> None:
    """The catalog used to count the input embedding table (579M lookups, not multiplies) as active."""
    big, small = get_model("openai/gpt-oss-120b"), get_model("openai/gpt-oss-20b")
    assert big.active_params == pytest.approx(5.13e9, rel=0.02)
    assert small.active_params == pytest.approx(3.61e9, rel=0.02)
    # the old figure (both embedding tables) is 0.58B higher: outside the tolerance
    assert big.active_params + big.params["embedding"] == pytest.approx(5.71e9, rel=0.01)


def test_mixtral_and_qwen_active_counts_include_the_input_table() -> None:
    mixtral = get_model("mixtral-8x7b")
    qwen = get_model("Qwen/Qwen3-30B-A3B-Instruct-2507")
    assert mixtral.active_params + mixtral.params["embedding"] == pytest.approx(12.9e9, rel=0.02)
    assert qwen.active_params + qwen.params["embedding"] == pytest.approx(3.3e9, rel=0.02)
    assert qwen.max_context_tokens == 262144


@pytest.mark.parametrize(
    ("name", "base", "precision", "kv"),
    [
        ("nvidia/DeepSeek-R1-NVFP4", "deepseek-r1", "nvfp4", "fp8"),
        ("nvidia/DeepSeek-R1-FP4", "deepseek-r1", "nvfp4", "fp8"),
        ("nvidia/Qwen3-32B-NVFP4", "qwen3-32b", "nvfp4", "fp8"),
        ("nvidia/Llama-3.3-70B-Instruct-FP4", "llama-3.3-70b", "nvfp4", "fp8"),  # by rule, not listed
        ("nvidia/Qwen3-30B-A3B-FP4", "qwen3-30b-a3b", "nvfp4", "fp8"),
        ("RedHatAI/Llama-3.1-8B-Instruct-FP8-dynamic", "llama-3.1-8b", "fp8", "bf16"),
    ],
)
def test_quantised_checkpoints_resolve_to_their_base_network(name: str, base: str, precision: str, kv: str) -> None:
    m, b = get_model(name), get_model(base)
    assert m.total_params == b.total_params and m.num_experts == b.num_experts
    assert (m.native_precision, m.native_kv_precision) == (precision, kv)
    assert m.weight_bytes() == b.weight_bytes()  # same network; formats are chosen per deployment
    assert m.weight_bytes(precision) < 0.6 * b.weight_bytes("bf16")  # embeddings stay in bf16


def test_renamed_organisation_and_unknown_checkpoint() -> None:
    assert get_model("zhipuai/GLM-5.1").total_params == get_model("zai-org/GLM-5.1").total_params
    assert "renamed" in get_model("THUDM/GLM-5-FP8").notes
    with pytest.raises(UnknownNameError):
        get_model("nvidia/NoSuchModel-NVFP4")


NEW_CHIPS = {
    "RTX PRO 6000 Blackwell Server Edition": ("rtx_pro_6000", 96.0),
    "GH200": ("gh200", 144.0),
    "GH200 480GB": ("gh200_96gb", 96.0),
    "H800": ("h800_sxm", 80.0),
    "H20": ("h20", 96.0),
    "H200 NVL": ("h200_nvl", 141.0),
    "MI350X": ("mi350x", 288.0),
}


@pytest.mark.parametrize("alias", sorted(NEW_CHIPS))
def test_new_chips_resolve_with_sources(alias: str) -> None:
    key, hbm_gb = NEW_CHIPS[alias]
    chip = get_chip(alias)
    assert chip.name == key and chip.hbm_gb == hbm_gb
    assert chip.source and chip.date and chip.hbm_gib == hbm_gb
    system = get_hardware(alias)
    assert system.chip.name == key and system.source and system.date


def test_every_chip_has_source_date_and_known_unverified_fields() -> None:
    catalog = load_catalog()
    expected = {
        "a100_sxm", "h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm", "gb200", "gb300", "l40s",
        "mi300x", "mi325x", "mi355x", "tpu_v5e", "tpu_v6e", "tpu7x",
    }  # fmt: skip
    assert expected | {k for k, _ in NEW_CHIPS.values()} <= set(catalog.chips)
    for chip in catalog.chips.values():
        assert chip.source and chip.date, chip.name


def test_h800_is_h100_with_a_narrower_nvlink() -> None:
    """DeepSeek-V3's report: H800 nodes reach ~160 GB/s over NVLink, 50 GB/s per GPU over InfiniBand."""
    h800, h100 = get_hardware("H800"), get_hardware("H100")
    assert h800.chip.bf16_tflops == h100.chip.bf16_tflops
    assert h800.intra_node_bandwidth_gb_s < h100.intra_node_bandwidth_gb_s / 2
    assert h800.inter_node_bandwidth_gb_s == 50.0


# --- rental prices (issue 16, item 4) -----------------------------------------------------------------


def test_every_system_has_a_dated_sourced_price_or_says_why_not() -> None:
    from inferonomics.catalog.rental import NO_PUBLIC_PRICE

    priced = 0
    for system in load_catalog().systems.values():
        r = system.rental
        if r.has_price:
            priced += 1
            assert r.reference_usd_per_chip_hour is not None and r.reference_usd_per_chip_hour > 0, system.name
            assert r.source and r.date and not r.no_public_price, system.name
        else:
            assert system.rental_usd_per_hour is None  # never 0
            assert r.no_public_price not in ("", NO_PUBLIC_PRICE), f"{system.name}: say where it was looked for"
            assert r.range_text() == NO_PUBLIC_PRICE
    assert priced >= 17  # 5 of 27 systems had a price before this change; 17 of 34 now


def test_reference_price_rule() -> None:
    """Midpoint of the market on-demand range, else of the hyperscaler range (module catalog.rental)."""
    h100 = get_hardware("h100_sxm").rental
    assert h100.reference_usd_per_chip_hour == pytest.approx((2.0 + 3.0) / 2)
    assert "market" in h100.rule and h100.hyperscaler_low_usd == 3.5
    v6e = get_hardware("tpu-v6e").rental  # Google is the only seller
    assert v6e.market_low_usd is None and v6e.reference_usd_per_chip_hour == pytest.approx(2.7)
    assert v6e.commit_1y_usd == pytest.approx(1.89) and "hyperscaler" in v6e.rule
    own = get_hardware("h100_sxm", {"rental_usd_per_chip_hour": 1.9})
    assert own.rental_usd_per_hour == pytest.approx(1.9) and "own figure" in own.rental.rule


def test_hardware_command_shows_a_missing_price_as_no_public_price(cli) -> None:
    import json

    code, out, _ = cli("hardware")
    assert code == 0 and "no public price" in out
    code, out, _ = cli("hardware", "--json")
    rows = {r["system"]: r for r in json.loads(out)}
    assert rows["h800_sxm"]["rental_usd_per_chip_hour"] is None
    assert rows["h800_sxm"]["rental_range_usd"] == "no public price" and rows["h800_sxm"]["rental_source"]
    assert rows["a100_sxm"]["rental_usd_per_chip_hour"] == pytest.approx(1.15)
    code, out, _ = cli("hardware", "gb300")
    assert code == 0 and "no public price:" in out


# --- the model catalog's sources file (design notes, item 5) -------------------------------------------


def _build_script():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "build_model_catalog.py"
    spec = importlib.util.spec_from_file_location("build_model_catalog", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def test_model_sources_are_validated(tmp_path) -> None:
    build = _build_script()
    sources = build.load_sources(build.DEFAULT_SOURCES)
    assert {"llama-2-70b", "gpt-j-6b", "qwen3-30b-a3b-instruct-2507"} <= set(sources.entries)
    bad = tmp_path / "sources.toml"
    bad.write_text('[entries.x]\nname = "X"\ndate = "2026"\nconfig = "a/b"\nconfgi = 1\n')
    with pytest.raises(SystemExit, match="entries.x.confgi"):
        build.load_sources(bad)
    bad.write_text('[entries.x]\nname = "X"\ndate = "2026"\nconfig = "a/b"\nlike = "y"\n')
    with pytest.raises(SystemExit, match="exactly one of config, like or spec"):
        build.load_sources(bad)
