"""Price catalog: every row of shared/facts/prices.md, look-ups and users' price files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferonomics.catalog.prices import (
    ENV_VAR,
    PriceSheet,
    commitment_discounts,
    get_commitment_discount,
    get_price_sheet,
    list_market_points,
    list_prices,
    load_price_catalog,
    load_price_file,
    market_points,
    price_sheets,
    validate_price_sheet,
)
from inferonomics.errors import ConfigError, InvalidInputError, UnknownNameError

# (key, input, cached input, output) as printed in shared/facts/prices.md (None = "-").
ROWS = [
    ("openai/gpt-4o", 2.50, 1.25, 10.00),
    ("openai/gpt-4.1", 2.00, 0.50, 8.00),
    ("openai/gpt-5", 1.25, 0.125, 10.00),
    ("openai/gpt-5-mini", 0.25, 0.025, 2.00),
    ("openai/gpt-5-nano", 0.05, None, 0.40),
    ("openai/gpt-5.2", 1.75, 0.175, 14.00),
    ("openai/o3", 2.00, 0.50, 8.00),
    ("openai/gpt-5-pro", 15, None, 120),
    ("anthropic/claude-opus-4", 15, 1.50, 75),
    ("anthropic/claude-opus-4.1", 15, 1.50, 75),
    ("anthropic/claude-opus-4.5", 5, 0.50, 25),
    ("anthropic/claude-sonnet-4", 3, 0.30, 15),
    ("anthropic/claude-sonnet-4.5", 3, 0.30, 15),
    ("anthropic/claude-haiku-4.5", 1, 0.10, 5),
    ("google/gemini-2.5-pro", 1.25, 0.125, 10),
    ("google/gemini-2.5-flash", 0.30, None, 2.50),
    ("google/gemini-2.5-flash-lite", 0.10, None, 0.40),
    ("google/gemini-3-pro-preview", 2, 0.20, 12),
    ("deepseek/deepseek-v3", 0.27, 0.07, 1.10),
    ("deepseek/deepseek-r1", 0.55, 0.14, 2.19),
    ("deepseek/deepseek-v3.1", 0.56, 0.07, 1.68),
    ("deepseek/deepseek-v3.2", 0.28, 0.028, 0.42),
]


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.mark.parametrize(("key", "inp", "cached", "out"), ROWS)
def test_every_row_of_the_facts_sheet(key: str, inp: float, cached: float | None, out: float) -> None:
    sheet = get_price_sheet(key)
    assert sheet.input_usd_per_mtok == pytest.approx(inp)
    assert sheet.output_usd_per_mtok == pytest.approx(out)
    if cached is None:
        assert sheet.cached_input_usd_per_mtok is None
    else:
        assert sheet.cached_input_usd_per_mtok == pytest.approx(cached)


def test_every_sheet_has_source_and_date() -> None:
    for sheet in price_sheets():
        assert sheet.source.strip() and sheet.date.strip(), sheet.key
        assert validate_price_sheet(sheet) is sheet
    for point in market_points():
        assert point.source and point.date
    for c in commitment_discounts().values():
        assert c.source and c.date


def test_anthropic_cache_prices_follow_the_documented_multipliers() -> None:
    sheets = price_sheets("anthropic")
    assert len(sheets) >= 5
    for s in sheets:
        assert s.cache_write_5m_usd_per_mtok == pytest.approx(1.25 * s.input_usd_per_mtok), s.key
        assert s.cache_write_1h_usd_per_mtok == pytest.approx(2.0 * s.input_usd_per_mtok), s.key
        assert s.cached_input_usd_per_mtok == pytest.approx(0.1 * s.input_usd_per_mtok), s.key
        assert s.batch_discount == 0.5


def test_long_context_tiers_reproduce_the_printed_prices() -> None:
    sonnet = get_price_sheet("anthropic/claude-sonnet-4.5")
    assert sonnet.long_context_threshold_tokens == 200_000
    assert sonnet.input_usd_per_mtok * sonnet.long_context_input_multiplier == pytest.approx(6.0)
    assert sonnet.output_usd_per_mtok * sonnet.long_context_output_multiplier == pytest.approx(22.5)
    pro = get_price_sheet("google/gemini-2.5-pro")
    assert (
        pro.input_usd_per_mtok * pro.long_context_input_multiplier,
        pro.output_usd_per_mtok * pro.long_context_output_multiplier,
    ) == pytest.approx((2.5, 15.0))
    assert pro.cached_input_usd_per_mtok * pro.long_context_input_multiplier == pytest.approx(0.25)
    assert pro.cache_storage_usd_per_mtok_hour == 4.5
    g3 = get_price_sheet("gemini-3-pro-preview")
    assert (
        g3.input_usd_per_mtok * g3.long_context_input_multiplier,
        g3.output_usd_per_mtok * g3.long_context_output_multiplier,
    ) == pytest.approx((4.0, 18.0))


def test_tiers_and_modes() -> None:
    gpt5 = get_price_sheet("openai/gpt-5")
    assert gpt5.priority_multiplier == 2.0 and gpt5.batch_discount == 0.5 and gpt5.flex_discount == 0.5
    assert gpt5.priority_multiplier * gpt5.output_usd_per_mtok == 20
    opus46 = get_price_sheet("anthropic/claude-opus-4.6")
    assert opus46.fast_multiplier * opus46.input_usd_per_mtok == 30
    assert opus46.fast_multiplier * opus46.output_usd_per_mtok == 150
    assert get_price_sheet("google/gemini-2.5-flash").audio_input_usd_per_mtok == 1.0


def test_deepseek_periods_and_off_peak() -> None:
    v3, r1 = get_price_sheet("deepseek/deepseek-v3"), get_price_sheet("deepseek/deepseek-r1")
    assert v3.valid_until == r1.valid_until == "2025-09-05"
    assert (v3.off_peak_discount, r1.off_peak_discount) == (0.5, 0.75)
    assert v3.off_peak_window_utc == "16:30-00:30"
    assert get_price_sheet("deepseek-v3.1").valid_from == "2025-09-05"
    assert get_price_sheet("deepseek-v3.1").off_peak_discount == 0


def test_market_points() -> None:
    points = {(p.model, p.precision): p for p in market_points()}
    assert points[("Llama 3 8B", "")].output_tokens_per_s == 400
    assert points[("Llama 3 70B", "")].blended_usd_per_mtok == 0.90
    assert points[("Llama 3 70B", "8-bit")].output_tokens_per_s == 158
    assert points[("Mixtral 8x22B", "")].blended_usd_per_mtok == 1.2
    assert points[("GPT-4", "")].output_tokens_per_s == 21
    df = list_market_points()
    assert list(df.columns[:3]) == ["model", "output_tokens_per_s", "blended_usd_per_mtok"] and len(df) == 5


def test_commitment_discounts() -> None:
    assert get_commitment_discount("AWS").one_year_discount == 0.41
    assert get_commitment_discount("gcp").three_year_discount == 0.56
    assert get_commitment_discount("azure").three_year_discount == 0.49


@pytest.mark.parametrize("name", ["openai/gpt-5", "OpenAI/GPT-5", "gpt-5", "openai/GPT 5", " OPENAI/gpt_5 "])
def test_lookup_is_case_and_separator_insensitive(name: str) -> None:
    assert get_price_sheet(name).key == "openai/gpt-5"


def test_unknown_sheet_and_provider_suggest() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_price_sheet("openai/gpt-6")
    assert "openai/gpt-5" in info.value.suggestions
    with pytest.raises(UnknownNameError) as info:
        list_prices("anthropik")
    assert "anthropic" in info.value.suggestions


def test_list_prices() -> None:
    df = list_prices()
    assert len(df) == len(price_sheets()) >= 20
    assert list(df.columns[:3]) == ["key", "provider", "model"]
    assert set(list_prices("deepseek")["provider"]) == {"deepseek"}


# --- user files --------------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_prices.toml"
    path.write_text(text)
    return path


def test_user_sheets_add_and_change(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[[sheets]]
provider = "mycloud"
model = "llama-70b"
input_usd_per_mtok = 0.6
output_usd_per_mtok = 0.8

[[sheets]]
provider = "openai"
model = "gpt-5"
output_usd_per_mtok = 9

[[market_points]]
model = "my offer"
output_tokens_per_s = 100
blended_usd_per_mtok = 0.5
""",
    )
    own = load_price_file(path)
    assert set(own) == {"mycloud/llama-70b", "openai/gpt-5"}
    mine = own["mycloud/llama-70b"]
    assert "my_prices.toml" in mine.source and mine.date
    gpt5 = get_price_sheet("openai/gpt-5", extra_file=path)
    assert gpt5.output_usd_per_mtok == 9 and gpt5.input_usd_per_mtok == 1.25
    assert "my_prices.toml" in gpt5.source and "openai.com" in gpt5.source
    assert len(market_points(path)) == 6 and isinstance(market_points(path)[-1].output_tokens_per_s, float)
    assert get_price_sheet("openai/gpt-5").output_usd_per_mtok == 10  # untouched without the file


def test_a_user_sheet_is_not_credited_to_the_providers_page(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[sheets]]\nprovider="openai"\nmodel="gpt-x"\ninput_usd_per_mtok=1\noutput_usd_per_mtok=2\n',
    )
    sheet = get_price_sheet("openai/gpt-x", extra_file=path)
    assert "my_prices.toml" in sheet.source and "openai.com" not in sheet.source
    assert sheet.batch_discount == 0.5  # provider defaults still apply


def test_env_var_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, '[[sheets]]\nprovider="x"\nmodel="y"\ninput_usd_per_mtok=1\noutput_usd_per_mtok=2\n')
    monkeypatch.setenv(ENV_VAR, str(path))
    assert get_price_sheet("x/y").output_usd_per_mtok == 2


PRICE_FIELDS = [
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "cache_write_5m_usd_per_mtok",
    "cache_write_1h_usd_per_mtok",
    "cache_storage_usd_per_mtok_hour",
]


@settings(max_examples=30, deadline=None)
@given(field=st.sampled_from(PRICE_FIELDS), value=st.floats(max_value=-1e-9, min_value=-1e6))
def test_a_negative_price_is_rejected_naming_the_field(
    tmp_path_factory: pytest.TempPathFactory, field: str, value: float
) -> None:
    values = {"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0, field: value}
    body = '[[sheets]]\nprovider="p"\nmodel="m"\n' + "".join(f"{k} = {v!r}\n" for k, v in values.items())
    path = tmp_path_factory.mktemp("prices") / "neg.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_price_file(path)
    assert field in str(info.value) and "neg.toml" in str(info.value) and "p/m" in str(info.value)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("batch_discount = 1.0", "batch_discount"),
        ("priority_multiplier = 0", "priority_multiplier"),
        ("input_usd_per_mtk = 1", "input_usd_per_mtk"),
        ('output_usd_per_mtok = "two"', "output_usd_per_mtok"),
        ('off_peak_discount = 0.5\noff_peak_window_utc = "late"', "off_peak_window_utc"),
        ("off_peak_discount = 0.5", "off_peak_window_utc"),
        ("long_context_input_multiplier = 2.0", "long_context_threshold_tokens"),
        (
            "long_context_threshold_tokens = 2.5\nlong_context_input_multiplier = 2.0",
            "long_context_threshold_tokens",
        ),
    ],
)
def test_bad_sheet_fields(tmp_path: Path, body: str, fragment: str) -> None:
    base = '[[sheets]]\nprovider="p"\nmodel="m"\ninput_usd_per_mtok=1\n'
    text = base + body + "\n" + ("" if "output_usd_per_mtok" in body else "output_usd_per_mtok=2\n")
    with pytest.raises(ConfigError, match=fragment):
        load_price_file(_write(tmp_path, text))


def test_bad_price_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing required"):
        load_price_file(_write(tmp_path, '[[sheets]]\nprovider="p"\nmodel="m"\ninput_usd_per_mtok=1\n'))
    with pytest.raises(ConfigError, match="unknown section"):
        load_price_file(_write(tmp_path, "[[prices]]\na=1\n"))
    with pytest.raises(ConfigError, match="output_tokens_per_s"):
        load_price_file(
            _write(tmp_path, '[[market_points]]\nmodel="m"\noutput_tokens_per_s=0\nblended_usd_per_mtok=1\n')
        )
    with pytest.raises(ConfigError, match="one_year_discount"):
        load_price_file(
            _write(
                tmp_path,
                '[[commitment_discounts]]\nprovider="c"\none_year_discount=1.5\nthree_year_discount=0.5\n',
            )
        )


def test_validate_price_sheet_directly() -> None:
    with pytest.raises(InvalidInputError, match="cached_input_usd_per_mtok"):
        validate_price_sheet(PriceSheet("p", "m", 1.0, 2.0, cached_input_usd_per_mtok=-0.1))
    assert load_price_catalog().provider_names["openai"] == "OpenAI"
