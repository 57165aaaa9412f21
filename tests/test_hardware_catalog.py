"""Hardware catalog: built-in figures, look-ups, what-if overrides and users' hardware files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferonomics.catalog.hardware import CHIP_FIELDS, SYSTEM_FIELDS, Chip, System, parse_overrides
from inferonomics.catalog.hardware_catalog import (
    ENV_VAR,
    get_chip,
    get_hardware,
    list_chips,
    list_hardware,
    load_catalog,
    load_hardware_file,
)
from inferonomics.catalog.names import normalise
from inferonomics.errors import ConfigError, InferonomicsError, InvalidInputError, UnknownNameError

MEASURED_SYSTEMS = ["h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm", "gb200", "gb300"]
CHIPS_IN_FACTS = [
    "a100_sxm",
    "h100_sxm",
    "h200_sxm",
    "b200_sxm",
    "gb200",
    "b300_sxm",
    "gb300",
    "mi300x",
    "mi325x",
    "mi355x",
    "tpu_v4",
    "tpu_v5e",
    "tpu_v5p",
    "tpu_v6e",
    "tpu7x",
    "tpu_8i",
    "tpu_8t",
    "trainium2",
]
GIB = 2**30


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


# --- built-in figures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MEASURED_SYSTEMS)
def test_measured_data_system_names_resolve_to_themselves(name: str) -> None:
    system = get_hardware(name)
    assert system.name == name
    assert get_hardware(name.upper()).name == name


@pytest.mark.parametrize(
    ("alias", "system"),
    [
        ("H100", "h100_sxm"),
        ("h100", "h100_sxm"),
        ("DGX H100", "h100_sxm"),
        ("H200", "h200_sxm"),
        ("B200", "b200_sxm"),
        ("B300", "b300_sxm"),
        ("GB200 NVL72", "gb200"),
        ("gb200-nvl72", "gb200"),
        ("GB300", "gb300"),
        ("tpu-v5e", "tpu_v5e"),
        ("v5e", "tpu_v5e"),
        ("TPU v4", "tpu_v4"),
        ("Ironwood", "tpu7x"),
        ("Trillium", "tpu_v6e"),
        ("MI300X", "mi300x"),
        ("trn2", "trainium2"),
        ("Trn2 UltraServer", "trainium2_ultra"),
        ("RTX 4090", "rtx_4090"),
        ("M3 Ultra", "m3_ultra"),
        ("M4 Max", "m4_max"),
        ("A100", "a100_sxm"),
    ],
)
def test_aliases(alias: str, system: str) -> None:
    assert get_hardware(alias).name == system


def test_all_chips_of_the_facts_sheet_are_present_with_a_default_system() -> None:
    catalog = load_catalog()
    for key in CHIPS_IN_FACTS:
        assert key in catalog.chips
        assert catalog.default_system[key].chip.name == key


def test_every_chip_and_system_has_source_and_date() -> None:
    catalog = load_catalog()
    for chip in catalog.chips.values():
        assert chip.source.strip() and chip.date.strip(), chip.name
        assert chip.full_name and chip.vendor, chip.name
        if chip.rental_usd_per_hour_low or chip.rental_1y_usd_per_hour:
            assert chip.rental_source and chip.rental_date, chip.name
    for system in catalog.systems.values():
        assert system.source.strip() and system.date.strip(), system.name


def test_secondary_figures_keep_their_mark() -> None:
    for key in ("tpu_8i", "tpu_8t"):
        chip = get_chip(key)
        assert {"fp4_tflops", "hbm_gb", "hbm_bandwidth_tb_s", "sram_mb", "bf16_tflops"} <= set(chip.unverified)
        assert "scaleup_domain_chips" in get_hardware(key).unverified
    assert "tdp_w" in get_chip("B300").unverified
    assert "scaleup_bandwidth_gb_s" in get_chip("MI355X").unverified
    assert "tdp_w" in get_chip("Ironwood").unverified
    assert "tdp_w" in get_chip("Trainium2").unverified
    assert get_chip("H100").unverified == ()


def test_figures_match_the_facts_sheet() -> None:
    h100 = get_chip("H100")
    assert (h100.bf16_tflops, h100.fp8_tflops, h100.hbm_gb, h100.hbm_bandwidth_tb_s) == (989, 1979, 80, 3.35)
    assert h100.peak_flops_per_s("bf16") == pytest.approx(989e12)
    assert get_chip("H200").hbm_gb == 141
    assert get_chip("GB300").fp4_tflops == 15000
    assert get_chip("tpu_v5e").hbm_bandwidth_bytes_per_s == pytest.approx(8.19e11)
    # GiB in the sheet are converted to GB (1e9 bytes).
    assert get_chip("tpu_v4").hbm_bytes == pytest.approx(32 * GIB, rel=1e-3)
    assert get_chip("Ironwood").hbm_bytes == pytest.approx(192 * GIB, rel=1e-3)
    assert get_chip("Trainium2").hbm_bytes == pytest.approx(96 * GIB, rel=1e-3)
    assert get_chip("M3 Ultra").hbm_bandwidth_tb_s == pytest.approx(0.819)
    assert get_chip("M4 Max").hbm_gb == 128


def test_network_figures_follow_the_published_models() -> None:
    h100 = get_hardware("h100_sxm")
    assert h100.intra_node_bandwidth_gb_s == h100.chip.scaleup_bandwidth_gb_s / 2 == 450
    assert 7 <= h100.intra_node_latency_us <= 10
    erdil_8 = 6.8 + 1.2 * (math.sqrt(8) - 1)
    assert h100.intra_node_latency_us == pytest.approx(erdil_8, abs=0.05)
    assert h100.inter_node_bandwidth_gb_s == 50  # 400 Gb/s NIC per GPU
    for name in ("gb200", "gb300"):
        s = get_hardware(name)
        assert (s.scaleup_domain_chips, s.chips_per_node, s.topology) == (72, 4, "switch")
    assert get_hardware("tpu_v4").scaleup_domain_chips == 4096
    assert (get_hardware("v5e").scaleup_domain_chips, get_hardware("v5e").topology) == (256, "torus")
    assert get_hardware("trainium2").scaleup_domain_chips == 16
    assert get_hardware("trainium2_ultra").scaleup_domain_chips == 64
    for s in load_catalog().systems.values():
        if s.topology in ("switch", "torus"):  # per direction = half the chip's bidirectional figure
            assert s.intra_node_bandwidth_gb_s == pytest.approx(s.chip.scaleup_bandwidth_gb_s / 2), s.name


def test_local_machines_are_single_chip_systems() -> None:
    for name in ("rtx_4090", "rtx_5090", "m4_max", "m3_ultra"):
        s = get_hardware(name)
        assert (s.chips_per_node, s.scaleup_domain_chips, s.topology) == (1, 1, "single")


def test_rental_defaults_to_the_midpoint_of_the_range() -> None:
    assert get_hardware("h100").rental_usd_per_hour == pytest.approx(2.5)
    assert get_hardware("v6e").chip.rental_3y_usd_per_hour == pytest.approx(1.22)


def test_no_name_is_used_by_two_entries_of_the_same_kind() -> None:
    catalog = load_catalog()
    for entries in (catalog.chips.values(), catalog.systems.values()):
        seen: dict[str, str] = {}
        for e in entries:
            for n in {normalise(x) for x in (e.name, *e.aliases)}:
                assert n not in seen, f"{n} used by {seen.get(n)} and {e.name}"
                seen[n] = e.name


def test_list_hardware_one_row_per_system() -> None:
    df = list_hardware()
    assert list(df["system"]) == list(load_catalog().systems)
    assert {"bf16_tflops", "hbm_gb", "hbm_bandwidth_tb_s", "unverified", "source", "date"} <= set(df.columns)
    assert df.loc[df["system"] == "tpu_8i", "unverified"].item().count("chip.") >= 5
    chips = list_chips()
    assert set(chips["name"]) == set(load_catalog().chips)


def test_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_hardware("H10")
    assert "H100" in info.value.suggestions
    assert get_chip("mi300").name == "mi300x"
    with pytest.raises(UnknownNameError) as info:
        get_chip("mi399x")
    assert info.value.suggestions and "closest" in str(info.value)


def test_chip_object_gives_its_default_system() -> None:
    assert get_hardware(get_chip("B200")).name == "b200_sxm"
    system = get_hardware("h100")
    assert get_hardware(system) is system


# --- overrides ----------------------------------------------------------------------------------------


def test_override_changes_the_figure_and_keeps_the_rest() -> None:
    base = get_hardware("h100")
    what_if = get_hardware("h100", {"hbm_bandwidth_tb_s": 10, "inter_node_latency_us": 2})
    assert what_if.chip.hbm_bandwidth_tb_s == 10
    assert what_if.inter_node_latency_us == 2
    assert what_if.chip.bf16_tflops == base.chip.bf16_tflops
    assert what_if.name.startswith("h100_sxm+")
    assert get_hardware("h100").chip.hbm_bandwidth_tb_s == 3.35  # the catalog is untouched


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"hbm_bandwith_tb_s": 3}, "hbm_bandwidth_tb_s"),
        ({"hbm_gb": -1}, "hbm_gb"),
        ({"intra_node_bandwidth_gb_s": 0}, "intra_node_bandwidth_gb_s"),
        ({"chips_per_node": 2.5}, "chips_per_node"),
        ({"hbm_gb": "lots"}, "hbm_gb"),
        ({"topology": "ring"}, "topology"),
    ],
)
def test_bad_overrides_are_rejected_by_name(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        get_hardware("h100", overrides)


def test_parse_overrides() -> None:
    assert parse_overrides(["hbm_gb=96", "topology=torus"]) == {"hbm_gb": 96.0, "topology": "torus"}
    with pytest.raises(InvalidInputError):
        parse_overrides(["hbm_gb"])


@settings(max_examples=40, deadline=None)
@given(
    key=st.sampled_from(
        ["hbm_bandwidth_tb_s", "hbm_gb", "bf16_tflops", "intra_node_bandwidth_gb_s", "inter_node_latency_us"]
    ),
    value=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
)
def test_any_positive_override_lands_where_it_belongs(key: str, value: float) -> None:
    s = get_hardware("gb200", {key: value})
    owner = s.chip if key in CHIP_FIELDS else s
    assert getattr(owner, key) == value
    assert key in CHIP_FIELDS or key in SYSTEM_FIELDS


# --- user files --------------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('[chips.x]\nvendor="me"\nbf16_tflops=100\nhbm_gb=10\nhbm_bandwidth_tb_s=-1\n', "hbm_bandwidth_tb_s"),
        ('[chips.x]\nvendor="me"\nbf16_tflops=100\nhbm_gb=10\nhbm_bandwidth_tb_s=0\n', "hbm_bandwidth_tb_s"),
        ('[chips.x]\nvendor="me"\nbf16_tflops=100\nhbm_gb=0\nhbm_bandwidth_tb_s=1\n', "hbm_gb"),
        ('[chips.x]\nvendor="me"\nbf16_tflops="fast"\nhbm_gb=1\nhbm_bandwidth_tb_s=1\n', "bf16_tflops"),
        (
            '[chips.x]\nvendor="me"\nbf16_tflops=1\nhbm_gb=1\nhbm_bandwidth_tb_s=1\nhbm_bandwidht=3\n',
            "hbm_bandwidht",
        ),
        ("[systems.h100_sxm]\nintra_node_bandwidth_gb_s=0\n", "intra_node_bandwidth_gb_s"),
        ("[systems.h100_sxm]\ninter_node_bandwidth_gb_s=-50\n", "inter_node_bandwidth_gb_s"),
        ('[systems.s]\nchip="h100"\nchips_per_node=8\nscaleup_domain_chips=8\ntopology="ring"\n', "topology"),
        ('[systems.s]\nchip="h100"\nchips_per_node=8.5\nscaleup_domain_chips=8\n', "chips_per_node"),
        (
            '[chips.x]\nvendor="me"\nbf16_tflops=1\nhbm_gb=1\nhbm_bandwidth_tb_s=1\nunverified=["hbm"]\n',
            "hbm",
        ),
    ],
)
def test_bad_user_file_names_file_entry_and_field(tmp_path: Path, body: str, field: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_hardware_file(path)
    message = str(info.value)
    assert "mine.toml" in message and field in message
    assert "[chips.x]" in message or "[systems." in message


def test_user_file_with_unknown_chip_reference_suggests(tmp_path: Path) -> None:
    path = _write(tmp_path, '[systems.s]\nchip="H1000"\nchips_per_node=1\nscaleup_domain_chips=1\n')
    with pytest.raises(ConfigError, match=r"\[systems\.s\] chip: .*H100"):
        load_hardware_file(path)


def test_user_file_not_toml_or_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_hardware_file(_write(tmp_path, "[chips.x\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_hardware_file(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="unknown section"):
        load_hardware_file(_write(tmp_path, "[gpus.x]\na=1\n", "sec.toml"))


def test_user_file_adds_chips_and_systems_and_changes_built_ins(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[chips.h100_sxm]
hbm_bandwidth_tb_s = 4.0

[chips.my_chip]
vendor = "Acme"
bf16_tflops = 500
hbm_gb = 64
hbm_bandwidth_tb_s = 2.5
aliases = ["Acme 1"]

[chips.fast_h200]
base = "H200"
hbm_bandwidth_tb_s = 6.0

[systems.my_box]
chip = "Acme 1"
chips_per_node = 4
scaleup_domain_chips = 4
intra_node_bandwidth_gb_s = 100
""",
    )
    chips, systems = load_hardware_file(path)
    assert set(chips) == {"h100_sxm", "my_chip", "fast_h200"} and set(systems) == {"my_box"}
    assert chips["fast_h200"].hbm_gb == 141 and chips["fast_h200"].hbm_bandwidth_tb_s == 6.0
    assert chips["fast_h200"].aliases == ()  # a base lends figures, not names
    assert "mine.toml" in chips["my_chip"].source and chips["my_chip"].date
    assert "mine.toml" in chips["h100_sxm"].source and "datasheet" in chips["h100_sxm"].source
    # The built-in system on the changed chip sees the change; the user's system resolves its chip by alias.
    assert get_hardware("h100_sxm", extra_file=path).chip.hbm_bandwidth_tb_s == 4.0
    assert get_hardware("my_box", extra_file=path).chip.name == "my_chip"
    assert get_hardware("my_chip", extra_file=path).name == "my_box"  # the chip's default system
    assert get_hardware("fast_h200", extra_file=path).topology == "single"  # no system: a single-chip one
    assert get_hardware("h100_sxm").chip.hbm_bandwidth_tb_s == 3.35  # without the file, nothing changed


def test_env_var_file_and_cache_refresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "[chips.h100_sxm]\nhbm_gb = 90\n")
    monkeypatch.setenv(ENV_VAR, str(path))
    assert get_hardware("h100").chip.hbm_gb == 90
    path.write_text("[chips.h100_sxm]\nhbm_gb = 95\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert get_hardware("h100").chip.hbm_gb == 95


def test_every_error_is_a_product_error(tmp_path: Path) -> None:
    for call in (
        lambda: get_hardware("nope"),
        lambda: get_hardware("h100", {"x": 1}),
        lambda: load_hardware_file(_write(tmp_path, "[chips.x]\nvendor=1\n")),
    ):
        with pytest.raises(InferonomicsError):
            call()


def test_dataclasses_are_frozen() -> None:
    chip = get_chip("h100")
    with pytest.raises(AttributeError):
        chip.hbm_gb = 1  # type: ignore[misc]
    assert isinstance(chip, Chip) and isinstance(get_hardware("h100"), System)
