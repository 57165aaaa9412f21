"""Numeric formats: bytes per element, which compute tier they use, and their aliases.

Block-scaled formats carry their scale factors in the byte count: NVFP4 stores one FP8 scale per 16
values (4.5 bits/value), MXFP4 one 8-bit scale per 32 values (4.25 bits/value), per the OCP MX spec
(2023) and NVIDIA's NVFP4 description (2025). FP8 with 128x128 block scales adds < 0.1%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inferonomics.catalog.names import build_index, lookup

ComputeTier = Literal["bf16", "fp8", "int8", "fp4"]


@dataclass(frozen=True)
class Precision:
    name: str
    bits_per_value: float
    compute_tier: ComputeTier
    """The tensor-core tier a GEMM in this format runs at when the chip supports it natively."""
    weight_only: bool = False
    """Weights stored in this format but multiplied in bf16 after dequantisation (e.g. int4 w4a16)."""
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def bytes_per_value(self) -> float:
        return self.bits_per_value / 8.0


PRECISIONS: tuple[Precision, ...] = (
    Precision("fp32", 32, "bf16", aliases=("float32",), description="single precision (state of linear attention)"),
    Precision("bf16", 16, "bf16", aliases=("bfloat16",), description="bfloat16"),
    Precision("fp16", 16, "bf16", aliases=("float16", "half"), description="IEEE half; same tensor rate as bf16"),
    Precision(
        "fp8",
        8,
        "fp8",
        aliases=(
            "fp8_e4m3",
            "e4m3",
            "float8",
            "w8a8_fp8",
            "fp8_static",
            "fp8_per_tensor",
            "fp8_pc",
            "fp8_per_channel",
            "mxfp8",
            "fp8_e4m3fn",
            "fp8_ootb",
        ),
        description="8-bit float (E4M3) with per-tensor scales",
    ),
    Precision(
        "fp8_block",
        8.0 + 32 / (128 * 128),
        "fp8",
        aliases=("fp8_blockwise", "fp8_128x128"),
        description="8-bit float (E4M3) with one fp32 scale per 128x128 block (DeepSeek-V3 style)",
    ),
    Precision(
        "int8", 8, "int8", aliases=("w8a8", "int8_sq", "sq"), description="8-bit integer weights and activations"
    ),
    Precision(
        "int4",
        4,
        "bf16",
        weight_only=True,
        aliases=("w4a16", "int4_awq", "int4_wo", "awq", "gptq", "w4a16_awq", "w4a16_gptq"),
        description="4-bit integer weights, bf16 activations (weight-only; dequantised in the GEMM)",
    ),
    Precision(
        "nvfp4",
        4.5,
        "fp4",
        aliases=("fp4", "nvfp4_awq", "w4a4_nvfp4"),
        description="NVIDIA FP4 (E2M1) with an FP8 scale per 16 values",
    ),
    Precision(
        "mxfp4",
        4.25,
        "fp4",
        aliases=("mx_fp4", "w4a16_mxfp4", "w4a8_mxfp4_fp8", "w4a8_mxfp4_mxfp8"),
        description="OCP MX FP4 (E2M1) with an 8-bit scale per 32 values",
    ),
)

_INDEX = build_index((p, (p.name, *p.aliases)) for p in PRECISIONS)


def get_precision(name: str | Precision) -> Precision:
    """Precision by name or alias ('fp4' -> nvfp4, 'w4a16' -> int4)."""
    if isinstance(name, Precision):
        return name
    return lookup(_INDEX, "precision", name, [p.name for p in PRECISIONS])


def precision_names() -> list[str]:
    return [p.name for p in PRECISIONS]
