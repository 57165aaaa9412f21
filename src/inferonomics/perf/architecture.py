"""How a chip's architecture moves its sustained kernel speed away from its spec sheet.

The kernel tables are measured on H100/H200 SXM (700 W); their efficiencies are fractions of those
chips' rated peaks. Two physical causes stop those fractions carrying to other chips unchanged:

1. Power. Tensor-core throughput is capped by the energy a chip may spend per second: sustained FLOP/s
   <= (TDP - P_static) / (energy per FLOP). Energy per FLOP scales with the operand width (a vendor
   doubles the rated FLOP/s per halving of the format at the same TDP) and with the process node
   (`NODE_ENERGY`). A chip whose rated peak per watt is above Hopper SXM's (H100 NVL / PCIe on the same
   die at 350-400 W, B200's FP4, MI300X's FP8) throttles its clock in long GEMMs. With rho = (TDP -
   P_static) / (TDP_ref - P_static) x peak_ref / peak / node energy, the sustained compute relative to
   the kernel tables is min(1, k rho) / min(1, k rho_ref), k being the reference's power headroom
   (k < 1: Hopper SXM itself is power-limited, so a 1,000 W H200 runs faster than the tables).
2. Software stack of a vendor (`ArchitectureFit.vendor_scales`): the fraction of peak its kernel
   libraries reach (ROCm's hipBLASLt / CK attention on the chiplet CDNA parts vs cuBLAS / TensorRT-LLM),
   a multiplier on GEMM and attention efficiencies. With one AMD chip in the data it cannot be told
   apart from that chip's own design (`calibrate.architecture` says so).

and one of format: `format_scales` multiplies the compute efficiency of a kernel class the tables do
not hold (native FP4 with block scaling on Blackwell runs the FP8 tables' efficiency times this).
Memory bandwidth is not power-capped here (HBM has its own power budget).
"""

from __future__ import annotations

from inferonomics.catalog.hardware import Chip
from inferonomics.perf.calibration import Calibration

REFERENCE_TDP_W = 700.0
REFERENCE_TFLOPS = {16.0: 989.0, 8.0: 1979.0, 4.0: 2.0 * 1979.0}
"""H100 SXM, the chip the kernel tables' efficiencies describe (H200 SXM: same compute and TDP): rated
dense TFLOP/s per operand width, FP4 (which Hopper lacks) at twice FP8 for the same energy."""

NODE_ENERGY = {
    "N7": 1.0 / 0.7,
    "4N": 1.0,
    "N5": 1.0,
    "4NP": 1.0,
    "N3P": 0.7,
}
"""Energy per operation of a process node relative to TSMC N5 / 4N (NVIDIA's N5-class node): TSMC quotes
N5 at -30% power iso-speed against N7, and N3E/N3P at -30-35% against N5 (TSMC technology pages)."""

CHIP_NODE = (
    ("a100", "N7"),
    ("h100", "4N"),
    ("h200", "4N"),
    ("gh200", "4N"),
    ("h800", "4N"),
    ("h20", "4N"),
    ("l40s", "4N"),
    ("rtx_4090", "4N"),
    ("b200", "4NP"),
    ("b300", "4NP"),
    ("gb200", "4NP"),
    ("gb300", "4NP"),
    ("rtx_pro_6000", "4NP"),
    ("rtx_5090", "4NP"),
    ("mi300x", "N5"),
    ("mi325x", "N5"),
    ("mi350x", "N3P"),
    ("mi355x", "N3P"),
)
"""Process node of each GPU family's compute die (vendors' product pages; MI300/MI325: N5 XCDs, MI350/355:
N3P XCDs). A chip not listed is taken as N5-class."""

FORMAT_BITS = {"bf16": 16.0, "w4_dequant": 16.0, "w8_dequant": 16.0, "fp8": 8.0, "fp8_block": 8.0, "fp4": 4.0}


def process_node(chip: Chip) -> str:
    name = chip.name.lower()
    for prefix, node in CHIP_NODE:
        if name.startswith(prefix):
            return node
    return "N5"


def _rated_flops(chip: Chip, kernel_class: str) -> float:
    """The chip's rated dense FLOP/s in the format a kernel class multiplies in."""
    if kernel_class == "fp4":
        return chip.peak_flops_per_s("fp4") or chip.peak_flops_per_s("bf16")
    if kernel_class in ("fp8", "fp8_block"):
        return chip.peak_flops_per_s("fp8") or chip.peak_flops_per_s("bf16")
    return chip.peak_flops_per_s("bf16")


def power_compute_scale(chip: Chip, kernel_class: str, cal: Calibration) -> float:
    """Sustained tensor-core FLOP/s of `chip` relative to what the kernel tables' efficiency gives at its
    rated peak, from the power cap (module docstring, point 1); 1 without a fitted power model."""
    fit = cal.architecture
    if fit.power_headroom <= 0 or chip.tdp_w <= 0 or chip.vendor not in ("NVIDIA", "AMD"):
        return 1.0
    bits = FORMAT_BITS.get(kernel_class, 16.0)
    ref_flops = REFERENCE_TFLOPS[bits] * 1e12
    rated = _rated_flops(chip, kernel_class)
    budget = max(chip.tdp_w - fit.static_power_w, 1.0) / (REFERENCE_TDP_W - fit.static_power_w)
    rho = budget * ref_flops / rated / NODE_ENERGY[process_node(chip)]
    k = fit.power_headroom
    return min(1.0, k * rho) / min(1.0, k)


def vendor_scale(chip: Chip, cal: Calibration) -> float:
    """Efficiency of the vendor's kernel stack relative to the kernel tables' (1 for NVIDIA)."""
    return cal.architecture.vendor_scales.get(chip.vendor, 1.0)


def format_scale(kernel_class: str, cal: Calibration) -> float:
    """Compute efficiency of a kernel class the tables do not hold, relative to the class it follows."""
    return cal.architecture.format_scales.get(kernel_class, 1.0)
