"""Write `src/inferonomics/catalog/data/models.toml`, the built-in model catalog.

Architectures come from the public Hugging Face `config.json` files in `../shared/data/model_configs`
(read here, at build time, through `inferonomics.catalog.hf_config`; the package never reads them) and
from hand-written entries for models whose config is not in that collection (PaLM, Mistral Large 2,
Gemma 3, Llama 3.3). The TOML is committed; rerun this script after changing an entry:

    /work/venv/bin/python scripts/build_model_catalog.py [--configs DIR] [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from inferonomics.catalog.hf_config import load_hf_config
from inferonomics.catalog.model_catalog import PER_LAYER_FIELDS, compress_pattern, parse_model_catalog
from inferonomics.catalog.models import ModelSpec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIGS = ROOT.parent / "shared" / "data" / "model_configs"
DEFAULT_OUT = ROOT / "src" / "inferonomics" / "catalog" / "data" / "models.toml"
APPROX = "release date approximate (month)"
NV_FP4 = (
    "NVIDIA ModelOpt NVFP4 checkpoint: the transformer blocks' linear weights in NVFP4 (E2M1 values in 16-value "
    "blocks with FP8 scales) and an FP8 KV cache; modules its hf_quant_config excludes (attention projections "
    "of the DeepSeek exports, lm_head) stay in bf16; "
)


@dataclass
class Variant:
    key: str
    name: str
    hf_id: str
    config: str | None = None
    """Config file whose quantisation sets the variant's precision (architecture must equal the base)."""
    aliases: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    date: str = ""
    notes: str = ""


@dataclass
class Entry:
    key: str
    name: str
    hf_id: str | None
    date: str
    config: str | None = None
    aliases: tuple[str, ...] = ()
    spec: dict[str, Any] | None = None
    """Hand-written architecture (when there is no config)."""
    like: str | None = None
    """Copy the architecture of another entry (same network, other weights)."""
    source: str | None = None
    notes: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)


def hf_url(repo: str) -> str:
    return f"https://huggingface.co/{repo}/blob/main/config.json"


def cfg(repo: str) -> str:
    return repo.replace("/", "--", 1) + "_config.json"


PALM = "Chowdhery et al. 2022, PaLM, arXiv:2204.02311, table 1; Pope et al. 2022, arXiv:2211.05102"

ENTRIES: list[Entry] = [
    # --- Llama ----------------------------------------------------------------------------------
    Entry(
        "llama-3.1-8b",
        "Llama-3.1-8B",
        "meta-llama/Llama-3.1-8B",
        "2024-07-23",
        config=cfg("meta-llama/Meta-Llama-3.1-8B"),
        aliases=(
            "meta-llama/Meta-Llama-3.1-8B",
            "meta-llama/Llama-3.1-8B-Instruct",
            "meta-llama/Meta-Llama-3.1-8B-Instruct",
            "llama3.1-8b",
            "llama3-8b",
            "llama-3-8b",
        ),
        variants=[
            Variant(
                "llama-3.1-8b-fp8",
                "Llama-3.1-8B-Instruct-FP8",
                "nvidia/Llama-3.1-8B-Instruct-FP8",
                overrides={"native_precision": "fp8"},
                date="2024-08",
                notes="NVIDIA ModelOpt FP8 checkpoint; " + APPROX,
            )
        ],
    ),
    Entry(
        "llama-3.1-70b",
        "Llama-3.1-70B",
        "meta-llama/Llama-3.1-70B",
        "2024-07-23",
        config=cfg("meta-llama/Meta-Llama-3.1-70B"),
        aliases=(
            "meta-llama/Meta-Llama-3.1-70B",
            "meta-llama/Llama-3.1-70B-Instruct",
            "meta-llama/Meta-Llama-3.1-70B-Instruct",
            "llama3.1-70b",
            "llama3-70b",
            "llama-3-70b",
        ),
        variants=[
            Variant(
                "llama-3.1-70b-fp8",
                "Llama-3.1-70B-Instruct-FP8",
                "nvidia/Llama-3.1-70B-Instruct-FP8",
                config=cfg("nvidia/Llama-3.1-70B-Instruct-FP8"),
                date="2024-08",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "llama-3.1-405b",
        "Llama-3.1-405B",
        "meta-llama/Llama-3.1-405B",
        "2024-07-23",
        config=cfg("meta-llama/Meta-Llama-3.1-405B"),
        aliases=(
            "meta-llama/Meta-Llama-3.1-405B",
            "meta-llama/Llama-3.1-405B-Instruct",
            "llama3.1-405b",
            "llama3-405b",
        ),
    ),
    Entry(
        "llama-2-70b",
        "Llama-2-70B",
        "meta-llama/Llama-2-70b-hf",
        "2023-07-18",
        source=hf_url("meta-llama/Llama-2-70b-hf") + "; Touvron et al. 2023, Llama 2, arXiv:2307.09288, table 1",
        aliases=("meta-llama/Llama-2-70b-chat-hf", "llama2-70b", "llama-2-70b-chat", "meta-llama/Llama-2-70b"),
        notes="the MLPerf Inference llama2-70b benchmark model (chat weights)",
        spec=dict(
            family="Llama",
            hidden_size=8192,
            num_layers=80,
            vocab_size=32000,
            num_heads=64,
            num_kv_heads=8,
            head_dim=128,
            intermediate_size=28672,
            max_context_tokens=4096,
        ),
    ),
    Entry(
        "llama-3.3-70b",
        "Llama-3.3-70B-Instruct",
        "meta-llama/Llama-3.3-70B-Instruct",
        "2024-12-06",
        like="llama-3.1-70b",
        source=hf_url("meta-llama/Llama-3.3-70B-Instruct"),
        aliases=("llama3.3-70b", "llama-3.3-70b-instruct"),
        notes="same network as Llama 3.1 70B (new weights)",
    ),
    Entry(
        "llama-4-scout",
        "Llama-4-Scout-17B-16E",
        "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "2025-04-05",
        config=cfg("meta-llama/Llama-4-Scout-17B-16E-Instruct"),
        aliases=("meta-llama/Llama-4-Scout-17B-16E", "llama4-scout", "scout"),
        notes="text model only (vision encoder not counted); chunked attention as a sliding window",
    ),
    Entry(
        "llama-4-maverick",
        "Llama-4-Maverick-17B-128E",
        "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
        "2025-04-05",
        config=cfg("meta-llama/Llama-4-Maverick-17B-128E-Instruct"),
        aliases=("meta-llama/Llama-4-Maverick-17B-128E", "llama4-maverick", "maverick"),
        notes="text model only (vision encoder not counted); chunked attention as a sliding window",
    ),
    # --- Qwen -----------------------------------------------------------------------------------
    Entry("qwen3-0.6b", "Qwen3-0.6B", "Qwen/Qwen3-0.6B", "2025-04-29", config=cfg("Qwen/Qwen3-0.6B")),
    Entry("qwen3-1.7b", "Qwen3-1.7B", "Qwen/Qwen3-1.7B", "2025-04-29", config=cfg("Qwen/Qwen3-1.7B")),
    Entry("qwen3-8b", "Qwen3-8B", "Qwen/Qwen3-8B", "2025-04-29", config=cfg("Qwen/Qwen3-8B")),
    Entry(
        "qwen3-32b",
        "Qwen3-32B",
        "Qwen/Qwen3-32B",
        "2025-04-29",
        config=cfg("Qwen/Qwen3-32B"),
        variants=[
            Variant(
                "qwen3-32b-fp8",
                "Qwen3-32B-FP8",
                "Qwen/Qwen3-32B-FP8",
                config=cfg("Qwen/Qwen3-32B-FP8"),
                date="2025-04-29",
            ),
            Variant(
                "qwen3-32b-fp8-static",
                "Qwen3-32B-FP8-Static-PerTensor",
                "Qwen/Qwen3-32B-FP8-Static-PerTensor",
                config=cfg("Qwen/Qwen3-32B-FP8-Static-PerTensor"),
                date="2025-05",
                notes=APPROX,
            ),
            Variant(
                "qwen3-32b-nvfp4",
                "Qwen3-32B-NVFP4",
                "nvidia/Qwen3-32B-FP4",
                aliases=("nvidia/Qwen3-32B-NVFP4",),
                overrides={"native_precision": "nvfp4", "native_kv_precision": "fp8"},
                date="2025-06",
                notes=NV_FP4 + APPROX,
            ),
        ],
    ),
    Entry(
        "qwen3-30b-a3b",
        "Qwen3-30B-A3B",
        "Qwen/Qwen3-30B-A3B",
        "2025-04-29",
        config=cfg("Qwen/Qwen3-30B-A3B"),
        aliases=("qwen3-30b",),
        variants=[
            Variant(
                "qwen3-30b-a3b-fp8",
                "Qwen3-30B-A3B-FP8",
                "Qwen/Qwen3-30B-A3B-FP8",
                config=cfg("Qwen/Qwen3-30B-A3B-FP8"),
                date="2025-04-29",
            )
        ],
    ),
    Entry(
        "qwen3-30b-a3b-instruct-2507",
        "Qwen3-30B-A3B-Instruct-2507",
        "Qwen/Qwen3-30B-A3B-Instruct-2507",
        "2025-07-29",
        like="qwen3-30b-a3b",
        source="https://huggingface.co/Qwen/Qwen3-30B-A3B-Instruct-2507/blob/main/config.json",
        aliases=("Qwen/Qwen3-30B-A3B-Thinking-2507", "qwen3-30b-a3b-2507"),
        overrides={"max_context_tokens": 262144},
        notes="same network as Qwen3-30B-A3B (48 layers, 128 experts, 8 active) with new weights and a native "
        "262,144-token context (model card: 30.5B total, 3.3B activated)",
        variants=[
            Variant(
                "qwen3-30b-a3b-instruct-2507-fp8",
                "Qwen3-30B-A3B-Instruct-2507-FP8",
                "Qwen/Qwen3-30B-A3B-Instruct-2507-FP8",
                overrides={"native_precision": "fp8"},
                date="2025-07-29",
            )
        ],
    ),
    Entry(
        "qwen3-235b-a22b",
        "Qwen3-235B-A22B",
        "Qwen/Qwen3-235B-A22B",
        "2025-04-29",
        config=cfg("Qwen/Qwen3-235B-A22B"),
        aliases=("qwen3-235b",),
        variants=[
            Variant(
                "qwen3-235b-a22b-fp8",
                "Qwen3-235B-A22B-FP8",
                "Qwen/Qwen3-235B-A22B-FP8",
                config=cfg("Qwen/Qwen3-235B-A22B-FP8"),
                aliases=("qwen3-235b-fp8",),
                date="2025-04-29",
            ),
            Variant(
                "qwen3-235b-a22b-nvfp4",
                "Qwen3-235B-A22B-NVFP4",
                "nvidia/Qwen3-235B-A22B-NVFP4",
                config=cfg("nvidia/Qwen3-235B-A22B-NVFP4"),
                date="2025-08",
                notes=APPROX,
            ),
        ],
    ),
    Entry(
        "qwen3-coder-480b-a35b",
        "Qwen3-Coder-480B-A35B-Instruct",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        "2025-07-22",
        config=cfg("Qwen/Qwen3-Coder-480B-A35B-Instruct"),
        aliases=("qwen3-coder-480b",),
    ),
    Entry(
        "qwen3.5-27b",
        "Qwen3.5-27B",
        "Qwen/Qwen3.5-27B",
        "2026-02",
        config=cfg("Qwen/Qwen3.5-27B"),
        notes=APPROX,
    ),
    Entry(
        "qwen3.5-35b-a3b",
        "Qwen3.5-35B-A3B",
        "Qwen/Qwen3.5-35B-A3B",
        "2026-02",
        config=cfg("Qwen/Qwen3.5-35B-A3B"),
        notes=APPROX,
    ),
    Entry(
        "qwen3.5-122b-a10b",
        "Qwen3.5-122B-A10B",
        "Qwen/Qwen3.5-122B-A10B",
        "2026-02",
        config=cfg("Qwen/Qwen3.5-122B-A10B"),
        notes=APPROX,
        variants=[
            Variant(
                "qwen3.5-122b-a10b-nvfp4",
                "Qwen3.5-122B-A10B-NVFP4",
                "nvidia/Qwen3.5-122B-A10B-NVFP4",
                config=cfg("nvidia/Qwen3.5-122B-A10B-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "qwen3.5-397b-a17b",
        "Qwen3.5-397B-A17B",
        "Qwen/Qwen3.5-397B-A17B",
        "2026-02",
        config=cfg("Qwen/Qwen3.5-397B-A17B"),
        aliases=("qwen3.5-397b", "qwen3.5"),
        notes=APPROX,
        variants=[
            Variant(
                "qwen3.5-397b-a17b-nvfp4",
                "Qwen3.5-397B-A17B-NVFP4",
                "nvidia/Qwen3.5-397B-A17B-NVFP4",
                config=cfg("nvidia/Qwen3.5-397B-A17B-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    # --- DeepSeek -------------------------------------------------------------------------------
    Entry(
        "deepseek-v3",
        "DeepSeek-V3",
        "deepseek-ai/DeepSeek-V3",
        "2024-12-26",
        config=cfg("deepseek-ai/DeepSeek-V3"),
        aliases=("ds-v3", "dsv3", "deepseek-ai/DeepSeek-V3-0324", "deepseek-ai/DeepSeek-V3-Base"),
    ),
    Entry(
        "deepseek-r1",
        "DeepSeek-R1",
        "deepseek-ai/DeepSeek-R1",
        "2025-01-20",
        config=cfg("deepseek-ai/DeepSeek-R1"),
        aliases=("ds-r1", "r1", "deepseek-ai/DeepSeek-R1-0528"),
        variants=[
            Variant(
                "deepseek-r1-nvfp4",
                "DeepSeek-R1-NVFP4",
                "nvidia/DeepSeek-R1-FP4",
                aliases=(
                    "nvidia/DeepSeek-R1-NVFP4",
                    "nvidia/DeepSeek-R1-0528-FP4",
                    "nvidia/DeepSeek-R1-0528-NVFP4",
                    "nvidia/DeepSeek-R1-0528-FP4-v2",
                    "ds-r1-fp4",
                ),
                overrides={"native_precision": "nvfp4", "native_kv_precision": "fp8"},
                date="2025-02",
                notes=NV_FP4 + "routed and shared experts in NVFP4 as in nvidia/DeepSeek-V3.1-NVFP4's hf_quant_config "
                "(same exporter); " + APPROX,
            )
        ],
    ),
    Entry(
        "deepseek-v3.1",
        "DeepSeek-V3.1",
        "deepseek-ai/DeepSeek-V3.1",
        "2025-08-21",
        like="deepseek-v3",
        source=hf_url("deepseek-ai/DeepSeek-V3.1"),
        aliases=("ds-v3.1",),
        notes="same network as DeepSeek-V3 (new weights)",
        variants=[
            Variant(
                "deepseek-v3.1-nvfp4",
                "DeepSeek-V3.1-NVFP4",
                "nvidia/DeepSeek-V3.1-NVFP4",
                config=cfg("nvidia/DeepSeek-V3.1-NVFP4"),
                date="2025-09",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "deepseek-v3.2",
        "DeepSeek-V3.2",
        "deepseek-ai/DeepSeek-V3.2",
        "2025-12-01",
        config=cfg("deepseek-ai/DeepSeek-V3.2"),
        aliases=("ds-v3.2", "dsv3.2"),
        variants=[
            Variant(
                "deepseek-v3.2-nvfp4",
                "DeepSeek-V3.2-NVFP4",
                "nvidia/DeepSeek-V3.2-NVFP4",
                config=cfg("nvidia/DeepSeek-V3.2-NVFP4"),
                date="2025-12",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "deepseek-v4-flash",
        "DeepSeek-V4-Flash",
        "deepseek-ai/DeepSeek-V4-Flash",
        "2026-04",
        config=cfg("deepseek-ai/DeepSeek-V4-Flash"),
        aliases=("ds-v4-flash",),
        notes=APPROX,
        variants=[
            Variant(
                "deepseek-v4-flash-fp8",
                "DeepSeek-V4-Flash-FP8",
                "sgl-project/DeepSeek-V4-Flash-FP8",
                config=cfg("sgl-project/DeepSeek-V4-Flash-FP8"),
                date="2026",
                notes=APPROX,
            ),
            Variant(
                "deepseek-v4-flash-nvfp4",
                "DeepSeek-V4-Flash-NVFP4",
                "nvidia/DeepSeek-V4-Flash-NVFP4",
                config=cfg("nvidia/DeepSeek-V4-Flash-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
    Entry(
        "deepseek-v4-pro",
        "DeepSeek-V4-Pro",
        "deepseek-ai/DeepSeek-V4-Pro",
        "2026-04",
        config=cfg("deepseek-ai/DeepSeek-V4-Pro"),
        aliases=("ds-v4-pro", "ds-v4", "deepseek-v4"),
        notes=APPROX,
        variants=[
            Variant(
                "deepseek-v4-pro-fp8",
                "DeepSeek-V4-Pro-FP8",
                "sgl-project/DeepSeek-V4-Pro-FP8",
                config=cfg("sgl-project/DeepSeek-V4-Pro-FP8"),
                date="2026",
                notes=APPROX,
            ),
            Variant(
                "deepseek-v4-pro-nvfp4",
                "DeepSeek-V4-Pro-NVFP4",
                "nvidia/DeepSeek-V4-Pro-NVFP4",
                config=cfg("nvidia/DeepSeek-V4-Pro-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
    # --- Kimi, GLM, MiniMax, Step, MiMo ---------------------------------------------------------
    Entry(
        "kimi-k2",
        "Kimi-K2-Instruct",
        "moonshotai/Kimi-K2-Instruct",
        "2025-07-11",
        config=cfg("moonshotai/Kimi-K2-Instruct"),
        aliases=("k2", "kimi-k2-instruct", "moonshotai/Kimi-K2-Base"),
    ),
    Entry(
        "kimi-k2.5",
        "Kimi-K2.5",
        "moonshotai/Kimi-K2.5",
        "2026-01",
        config=cfg("moonshotai/Kimi-K2.5"),
        aliases=("k2.5",),
        notes="int4 (W4A16) experts; " + APPROX,
        variants=[
            Variant(
                "kimi-k2.5-nvfp4",
                "Kimi-K2.5-NVFP4",
                "nvidia/Kimi-K2.5-NVFP4",
                config=cfg("nvidia/Kimi-K2.5-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "kimi-k3",
        "Kimi-K3",
        "moonshotai/Kimi-K3",
        "2026",
        config=cfg("moonshotai/Kimi-K3"),
        notes="KDA output gate taken as full rank; attention-residual weights not counted; " + APPROX,
    ),
    Entry(
        "glm-5",
        "GLM-5",
        "zai-org/GLM-5",
        "2026-02",
        config=cfg("zai-org/GLM-5"),
        aliases=("zhipuai/GLM-5",),
        notes="Z.ai publishes under both organisation ids (zai-org, formerly zhipuai); " + APPROX,
        variants=[
            Variant(
                "glm-5-fp8",
                "GLM-5-FP8",
                "zai-org/GLM-5-FP8",
                config=cfg("zai-org/GLM-5-FP8"),
                aliases=("zhipuai/GLM-5-FP8",),
                date="2026-02",
                notes=APPROX,
            ),
            Variant(
                "glm-5-nvfp4",
                "GLM-5-NVFP4",
                "nvidia/GLM-5-NVFP4",
                config=cfg("nvidia/GLM-5-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
    Entry(
        "glm-5.1",
        "GLM-5.1",
        "zai-org/GLM-5.1",
        "2026",
        config=cfg("zai-org/GLM-5.1"),
        notes=APPROX,
        variants=[
            Variant(
                "glm-5.1-fp8",
                "GLM-5.1-FP8",
                "zai-org/GLM-5.1-FP8",
                config=cfg("zai-org/GLM-5.1-FP8"),
                date="2026",
                notes=APPROX,
            ),
            Variant(
                "glm-5.1-nvfp4",
                "GLM-5.1-NVFP4",
                "nvidia/GLM-5.1-NVFP4",
                config=cfg("nvidia/GLM-5.1-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
    Entry(
        "glm-5.2",
        "GLM-5.2",
        "zai-org/GLM-5.2",
        "2026",
        config=cfg("zai-org/GLM-5.2"),
        notes=APPROX,
        variants=[
            Variant(
                "glm-5.2-fp8",
                "GLM-5.2-FP8",
                "zai-org/GLM-5.2-FP8",
                config=cfg("zai-org/GLM-5.2-FP8"),
                date="2026",
                notes=APPROX,
            ),
            Variant(
                "glm-5.2-nvfp4",
                "GLM-5.2-NVFP4",
                "nvidia/GLM-5.2-NVFP4",
                config=cfg("nvidia/GLM-5.2-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
    Entry(
        "minimax-m2.5",
        "MiniMax-M2.5",
        "MiniMaxAI/MiniMax-M2.5",
        "2026-02",
        config=cfg("MiniMaxAI/MiniMax-M2.5"),
        aliases=("m2.5",),
        notes=APPROX,
        variants=[
            Variant(
                "minimax-m2.5-nvfp4",
                "MiniMax-M2.5-NVFP4",
                "nvidia/MiniMax-M2.5-NVFP4",
                config=cfg("nvidia/MiniMax-M2.5-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "minimax-m2.7",
        "MiniMax-M2.7",
        "MiniMaxAI/MiniMax-M2.7",
        "2026",
        config=cfg("MiniMaxAI/MiniMax-M2.7"),
        notes=APPROX,
        variants=[
            Variant(
                "minimax-m2.7-nvfp4",
                "MiniMax-M2.7-NVFP4",
                "nvidia/MiniMax-M2.7-NVFP4",
                config=cfg("nvidia/MiniMax-M2.7-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "minimax-m3",
        "MiniMax-M3",
        "MiniMaxAI/MiniMax-M3",
        "2026",
        config=cfg("MiniMaxAI/MiniMax-M3"),
        notes=APPROX,
    ),
    Entry(
        "step-3.7-flash",
        "Step-3.7-Flash",
        "stepfun-ai/Step-3.7-Flash",
        "2026",
        config=cfg("stepfun-ai/Step-3.7-Flash"),
        notes=APPROX,
        variants=[
            Variant(
                "step-3.7-flash-fp8",
                "Step-3.7-Flash-FP8",
                "stepfun-ai/Step-3.7-Flash-FP8",
                config=cfg("stepfun-ai/Step-3.7-Flash-FP8"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "mimo-7b",
        "MiMo-7B-Base",
        "XiaomiMiMo/MiMo-7B-Base",
        "2025-04-30",
        config=cfg("XiaomiMiMo/MiMo-7B-Base"),
    ),
    Entry(
        "mimo-v2-flash",
        "MiMo-V2-Flash",
        "XiaomiMiMo/MiMo-V2-Flash",
        "2025-12",
        config=cfg("XiaomiMiMo/MiMo-V2-Flash"),
        notes=APPROX,
    ),
    # --- OpenAI, Mistral, Google ------------------------------------------------------------------
    Entry("gpt-oss-20b", "gpt-oss-20b", "openai/gpt-oss-20b", "2025-08-05", config=cfg("openai/gpt-oss-20b")),
    Entry("gpt-oss-120b", "gpt-oss-120b", "openai/gpt-oss-120b", "2025-08-05", config=cfg("openai/gpt-oss-120b")),
    Entry(
        "mistral-7b",
        "Mistral-7B-v0.1",
        "mistralai/Mistral-7B-v0.1",
        "2023-09-27",
        source=hf_url("mistralai/Mistral-7B-v0.1") + "; Jiang et al. 2023, Mistral 7B, arXiv:2310.06825, table 1",
        aliases=("mistralai/Mistral-7B-Instruct-v0.1", "mistral-7b-v0.1", "mistral", "mistral7b"),
        notes="sliding-window attention (4,096 tokens) on every layer",
        spec=dict(
            family="Mistral",
            hidden_size=4096,
            num_layers=32,
            vocab_size=32000,
            num_heads=32,
            num_kv_heads=8,
            head_dim=128,
            intermediate_size=14336,
            sliding_window=4096,
            layer_kinds=("sliding",) * 32,
            max_context_tokens=32768,
        ),
    ),
    Entry(
        "mistral-7b-instruct-v0.2",
        "Mistral-7B-Instruct-v0.2",
        "mistralai/Mistral-7B-Instruct-v0.2",
        "2023-12-11",
        like="mistral-7b",
        source=hf_url("mistralai/Mistral-7B-Instruct-v0.2"),
        aliases=("mistral-7b-v0.2",),
        overrides={"sliding_window": None, "layer_kinds": ()},
        notes="v0.1's network without the sliding window (full attention, 32k context)",
    ),
    Entry(
        "mistral-7b-v0.3",
        "Mistral-7B-v0.3",
        "mistralai/Mistral-7B-v0.3",
        "2024-05-22",
        like="mistral-7b",
        source=hf_url("mistralai/Mistral-7B-v0.3"),
        aliases=("mistralai/Mistral-7B-Instruct-v0.3",),
        overrides={"sliding_window": None, "layer_kinds": (), "vocab_size": 32768},
        notes="v0.2's network with the vocabulary extended to 32,768 tokens",
    ),
    Entry(
        "mixtral-8x7b",
        "Mixtral-8x7B",
        "mistralai/Mixtral-8x7B-v0.1",
        "2023-12-11",
        config=cfg("mistralai/Mixtral-8x7B-v0.1"),
        aliases=("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral"),
    ),
    Entry(
        "mixtral-8x22b",
        "Mixtral-8x22B",
        "mistralai/Mixtral-8x22B-v0.1",
        "2024-04-17",
        config=cfg("mistralai/Mixtral-8x22B-v0.1"),
        aliases=("mistralai/Mixtral-8x22B-Instruct-v0.1",),
    ),
    Entry(
        "mistral-large-2",
        "Mistral-Large-2",
        "mistralai/Mistral-Large-Instruct-2407",
        "2024-07-24",
        source=hf_url("mistralai/Mistral-Large-Instruct-2407"),
        aliases=(
            "mistral-large",
            "mistral-large-2407",
            "mistral-large-123b",
            "mistralai/Mistral-Large-Instruct-2411",
        ),
        spec=dict(
            family="Mistral",
            hidden_size=12288,
            num_layers=88,
            vocab_size=32768,
            num_heads=96,
            num_kv_heads=8,
            head_dim=128,
            intermediate_size=28672,
            max_context_tokens=131072,
        ),
    ),
    Entry(
        "gemma-3-27b",
        "Gemma-3-27B",
        "google/gemma-3-27b-it",
        "2025-03-12",
        source=hf_url("google/gemma-3-27b-it"),
        aliases=("gemma3-27b", "google/gemma-3-27b-pt"),
        notes="text model only (vision encoder not counted)",
        spec=dict(
            family="Gemma",
            hidden_size=5376,
            num_layers=62,
            vocab_size=262208,
            num_heads=32,
            num_kv_heads=16,
            head_dim=128,
            intermediate_size=21504,
            tie_embeddings=True,
            sliding_window=1024,
            layer_kinds=tuple((["sliding"] * 5 + ["full"]) * 10 + ["sliding"] * 2),
            max_context_tokens=131072,
        ),
    ),
    Entry(
        "gemma-4-26b-a4b",
        "Gemma-4-26B-A4B",
        "google/gemma-4-26B-A4B",
        "2026-04",
        config=cfg("google/gemma-4-26B-A4B"),
        aliases=("gemma4-26b",),
        notes="text model only; " + APPROX,
        variants=[
            Variant(
                "gemma-4-26b-a4b-nvfp4",
                "Gemma-4-26B-A4B-NVFP4",
                "nvidia/Gemma-4-26B-A4B-NVFP4",
                config=cfg("nvidia/Gemma-4-26B-A4B-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "gemma-4-31b",
        "Gemma-4-31B-IT",
        "google/gemma-4-31B-it",
        "2026-04",
        config=cfg("nvidia/Gemma-4-31B-IT-NVFP4"),
        aliases=("gemma4-31b",),
        overrides={"native_precision": "bf16", "native_kv_precision": "bf16"},
        notes="architecture read from NVIDIA's NVFP4 export of the same network; text model only; " + APPROX,
        variants=[
            Variant(
                "gemma-4-31b-nvfp4",
                "Gemma-4-31B-IT-NVFP4",
                "nvidia/Gemma-4-31B-IT-NVFP4",
                config=cfg("nvidia/Gemma-4-31B-IT-NVFP4"),
                date="2026",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "gpt-j-6b",
        "GPT-J-6B",
        "EleutherAI/gpt-j-6b",
        "2021-06-04",
        source=hf_url("EleutherAI/gpt-j-6b") + "; EleutherAI model card: 6,053,381,344 parameters",
        aliases=("gpt-j", "gptj", "gpt-j-6B", "gptj-6b"),
        notes="the MLPerf Inference gptj benchmark model; parallel attention/FFN, GELU MLP, rotary on 64 of 256 "
        "head dims; MLP and lm_head biases (0.6M) not counted",
        spec=dict(
            family="GPT-J",
            hidden_size=4096,
            num_layers=28,
            vocab_size=50400,
            num_heads=16,
            num_kv_heads=16,
            head_dim=256,
            intermediate_size=16384,
            ffn_gated=False,
            parallel_layers=True,
            max_context_tokens=2048,
        ),
    ),
    Entry(
        "palm-62b",
        "PaLM-62B",
        None,
        "2022-04-05",
        source=PALM,
        aliases=("palm62b",),
        notes="SwiGLU, parallel attention/FFN, multi-query attention, no biases, tied embeddings",
        spec=dict(
            family="PaLM",
            hidden_size=8192,
            num_layers=64,
            vocab_size=256000,
            num_heads=32,
            num_kv_heads=1,
            head_dim=256,
            intermediate_size=32768,
            tie_embeddings=True,
            parallel_layers=True,
            max_context_tokens=2048,
        ),
    ),
    Entry(
        "palm-540b",
        "PaLM-540B",
        None,
        "2022-04-05",
        source=PALM,
        aliases=("palm", "palm540b"),
        notes="SwiGLU, parallel attention/FFN, multi-query attention, no biases, tied embeddings",
        spec=dict(
            family="PaLM",
            hidden_size=18432,
            num_layers=118,
            vocab_size=256000,
            num_heads=48,
            num_kv_heads=1,
            head_dim=256,
            intermediate_size=73728,
            tie_embeddings=True,
            parallel_layers=True,
            max_context_tokens=2048,
        ),
    ),
    # --- NVIDIA -------------------------------------------------------------------------------------
    Entry(
        "nemotron-super-49b",
        "Llama-3.3-Nemotron-Super-49B-v1",
        "nvidia/Llama-3_3-Nemotron-Super-49B-v1",
        "2025-03-18",
        config=cfg("nvidia/Llama-3_3-Nemotron-Super-49B-v1"),
        aliases=("nemotron-49b",),
    ),
    Entry(
        "nemotron-h-56b",
        "Nemotron-H-56B-Base-8K",
        "nvidia/Nemotron-H-56B-Base-8K",
        "2025-04",
        config=cfg("nvidia/Nemotron-H-56B-Base-8K"),
        notes=APPROX,
    ),
    Entry(
        "nemotron-3-nano-30b-a3b",
        "NVIDIA-Nemotron-3-Nano-30B-A3B",
        "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
        "2025-12",
        config=cfg("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"),
        aliases=("nemotron-3-nano",),
        notes=APPROX,
        variants=[
            Variant(
                "nemotron-3-nano-30b-a3b-nvfp4",
                "NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
                "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
                config=cfg("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4"),
                date="2025-12",
                notes=APPROX,
            )
        ],
    ),
    Entry(
        "nemotron-3-super-120b-a12b",
        "NVIDIA-Nemotron-3-Super-120B-A12B",
        "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16",
        "2026",
        config=cfg("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-FP8"),
        aliases=("nemotron-3-super",),
        overrides={"native_precision": "bf16", "native_kv_precision": "bf16"},
        notes="architecture read from the FP8 export of the same network; " + APPROX,
        variants=[
            Variant(
                "nemotron-3-super-120b-a12b-fp8",
                "NVIDIA-Nemotron-3-Super-120B-A12B-FP8",
                "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-FP8",
                config=cfg("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-FP8"),
                date="2026",
                notes=APPROX,
            ),
            Variant(
                "nemotron-3-super-120b-a12b-nvfp4",
                "NVIDIA-Nemotron-3-Super-120B-A12B-NVFP4",
                "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-NVFP4",
                config=cfg("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
    Entry(
        "nemotron-3-ultra-550b-a55b",
        "NVIDIA-Nemotron-3-Ultra-550B-A55B",
        "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16",
        "2026",
        config=cfg("nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16"),
        aliases=("nemotron-3-ultra",),
        notes=APPROX,
        variants=[
            Variant(
                "nemotron-3-ultra-550b-a55b-fp8",
                "NVIDIA-Nemotron-3-Ultra-550B-A55B-FP8",
                "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-FP8",
                config=cfg("nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-FP8"),
                date="2026",
                notes=APPROX,
            ),
            Variant(
                "nemotron-3-ultra-550b-a55b-nvfp4",
                "NVIDIA-Nemotron-3-Ultra-550B-A55B-NVFP4",
                "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-NVFP4",
                config=cfg("nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-NVFP4"),
                date="2026",
                notes=APPROX,
            ),
        ],
    ),
]

# ---------------------------------------------------------------------------------------------------

_SKIP = {"name", "hf_id", "aliases", "source", "date", "notes", "extra"}
_ORDER = [f.name for f in fields(ModelSpec)]
_DEFAULTS = {f.name: f.default for f in fields(ModelSpec)}
_ALWAYS = {
    "family",
    "hidden_size",
    "num_layers",
    "vocab_size",
    "num_heads",
    "num_kv_heads",
    "head_dim",
    "intermediate_size",
    "native_precision",
}
_VARIANT_FIELDS = ("native_precision", "native_kv_precision")


def _toml_value(key: str, value: Any) -> str:
    if key in PER_LAYER_FIELDS:
        return json.dumps(compress_pattern(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)


def _lines(spec: ModelSpec, meta: dict[str, Any], keys: list[str]) -> list[str]:
    out = [f"{k} = {_toml_value(k, v)}" for k, v in meta.items() if v]
    for k in keys:
        v = getattr(spec, k)
        out.append(f"{k} = {_toml_value(k, v)}")
    return out


def _spec_keys(spec: ModelSpec) -> list[str]:
    return [k for k in _ORDER if k not in _SKIP and (k in _ALWAYS or getattr(spec, k) != _DEFAULTS.get(k))]


def build(configs: Path) -> tuple[str, list[ModelSpec]]:
    specs: dict[str, ModelSpec] = {}
    chunks = [
        "# inferonomics built-in model catalog, generated by scripts/build_model_catalog.py (edit that).",
        "# One table per model: ModelSpec fields in Hugging Face units, with hf_id, aliases, source, date.",
        "# Per-layer fields are pattern strings: 'x*N' repeats a token, '(a b)*N' a group.",
        "# [models.<id>.variants.<id>] tables are checkpoints of the same network in another format.",
        "",
    ]
    built: list[ModelSpec] = []
    for e in ENTRIES:
        source = e.source
        if e.config:
            spec = load_hf_config(configs / e.config)
            source = source or hf_url(e.config.removesuffix("_config.json").replace("--", "/", 1))
        elif e.like:
            spec = specs[e.like]
        elif e.spec is not None:
            spec = ModelSpec(name=e.name, **e.spec)
        else:
            raise SystemExit(f"entry {e.key}: needs config, like or spec")
        notes = "; ".join(n for n in (spec.notes if e.config else "", e.notes) if n)
        spec = replace(
            spec,
            name=e.name,
            hf_id=e.hf_id,
            aliases=e.aliases,
            source=source or "",
            date=e.date,
            notes=notes,
            **e.overrides,
        )
        specs[e.key] = spec
        meta = {
            "name": e.name,
            "hf_id": e.hf_id,
            "aliases": list(e.aliases),
            "source": spec.source,
            "date": e.date,
            "notes": notes,
        }
        chunks.append(f"[models.{json.dumps(e.key)}]")
        chunks.extend(_lines(spec, meta, _spec_keys(spec)))
        chunks.append("")
        for v in e.variants:
            vspec = replace(spec, **v.overrides)
            vsource = hf_url(v.hf_id)
            if v.config:
                loaded = load_hf_config(configs / v.config)
                if loaded.total_params != spec.total_params:
                    raise SystemExit(f"variant {v.key}: architecture differs from {e.key}")
                vspec = replace(
                    vspec,
                    native_precision=loaded.native_precision,
                    native_kv_precision=loaded.native_kv_precision,
                )
                vsource = hf_url(v.config.removesuffix("_config.json").replace("--", "/", 1))
            changed = [k for k in _VARIANT_FIELDS if getattr(vspec, k) != getattr(spec, k)]
            vmeta = {
                "name": v.name,
                "hf_id": v.hf_id,
                "aliases": list(v.aliases),
                "source": vsource,
                "date": v.date,
                "notes": v.notes,
            }
            chunks.append(f"[models.{json.dumps(e.key)}.variants.{json.dumps(v.key)}]")
            chunks.extend(_lines(vspec, vmeta, changed))
            chunks.append("")
        built.append(spec)
    return "\n".join(chunks), built


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=Path, default=DEFAULT_CONFIGS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if the committed TOML is out of date")
    args = ap.parse_args(argv)
    text, _ = build(args.configs)
    import tomllib

    parse_model_catalog(tomllib.loads(text), "generated")  # round-trip: the output must load
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; rerun scripts/build_model_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} ({text.count('[models.')} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
