"""Trace readers: the real Azure and Mooncake traces in ../shared (skipped when absent), synthetic BurstGPT
and vLLM benchmark files written here, and malformed lines reported with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inferonomics.errors import ConfigError, InvalidInputError
from inferonomics.serving import load_trace

TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"


def need(name: str) -> Path:
    p = TRACES / name
    if not p.is_file():
        pytest.skip(f"shared trace {p} not available")
    return p


def test_azure_conversation_trace() -> None:
    wl = load_trace(need("AzureLLMInferenceTrace_conv.csv"))
    assert len(wl) == 19_366  # every row kept
    assert wl.input_tokens.mean() == pytest.approx(1155, abs=1) and wl.output_tokens.mean() == pytest.approx(211, abs=1)
    assert wl.arrival_s[0] == 0.0 and 3400 < wl.arrival_s[-1] < 3600 and np.all(np.diff(wl.arrival_s) >= 0)
    assert wl.prefix_keys is None


def test_mooncake_trace_keys_are_whole_512_token_blocks() -> None:
    path = need("mooncake_conversation_trace.jsonl")
    wl = load_trace(path)
    assert len(wl) == 12_031 and wl.prefix_block_tokens == 512
    first = json.loads(path.open().readline())
    assert len(wl.prefix_keys[0]) == first["input_length"] // 512  # the partial last block is not shareable
    assert wl.arrival_s[-1] == pytest.approx(3537.0, abs=1.0)
    # equal hash_ids = equal keys: the first block of the first two requests is shared
    assert wl.prefix_keys[0][0] == wl.prefix_keys[1][0] and wl.prefix_keys[0][1] != wl.prefix_keys[1][1]


def test_burstgpt_csv(tmp_path: Path) -> None:
    f = tmp_path / "BurstGPT_sample.csv"
    f.write_text(
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
        "5,ChatGPT,472,18,490,Conversation log\n"
        "45,ChatGPT,1087,0,1087,Conversation log\n"
        "118,GPT-4,417,276,693,API log\n"
    )
    wl = load_trace(f)
    assert list(wl.arrival_s) == [0.0, 40.0, 113.0] and list(wl.output_tokens) == [18, 0, 276]
    from inferonomics.serving import load_burstgpt_csv

    only = load_burstgpt_csv(f, model="GPT-4")
    assert len(only) == 1 and only.input_tokens[0] == 417
    f.write_text(f.read_text() + "200,GPT-4,abc,3,3,API log\n")
    with pytest.raises(ConfigError, match=r"BurstGPT_sample.csv:5: Request tokens"):
        load_trace(f)


def test_failed_burstgpt_requests_are_rejected_not_dropped(tmp_path: Path) -> None:
    from _serving_fakes import FakeStepTimeModel
    from inferonomics.serving import Simulation

    f = tmp_path / "b.csv"
    f.write_text(
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
        "0,ChatGPT,100,10,110,Conversation log\n1,ChatGPT,100,0,100,Conversation log\n"
    )
    res = Simulation(FakeStepTimeModel(), load_trace(f)).run()
    assert list(res.requests.status) == ["completed", "rejected"]
    assert "failed request" in res.requests.reason[1]


def test_vllm_benchmark_formats(tmp_path: Path) -> None:
    result = tmp_path / "vllm-result.json"
    result.write_text(
        json.dumps(
            {"duration": 10.0, "completed": 3, "input_lens": [10, 20, 30], "output_lens": [5, 6, 7], "ttfts": [0.1] * 3}
        )
    )
    wl = load_trace(result)
    assert list(wl.input_tokens) == [10, 20, 30] and list(wl.arrival_s) == [0, 0, 0]
    assert any("t=0" in n for n in wl.notes)
    timed = load_trace(result, rate_per_s=2.0, seed=1)
    assert timed.arrival_s[-1] > 0
    reqs = tmp_path / "requests.json"
    reqs.write_text(
        json.dumps(
            [
                {"prompt": "hi", "prompt_len": 7, "output_len": 3, "timestamp": 2.0},
                {"prompt": "yo", "input_len": 9, "expected_output_len": 4, "timestamp": 1.5},
            ]
        )
    )
    wl = load_trace(reqs)
    assert list(wl.input_tokens) == [9, 7] and list(wl.arrival_s) == [0.0, 0.5]
    jsonl = tmp_path / "requests.jsonl"
    jsonl.write_text('{"prompt_len": 5, "output_len": 2}\n\n{"prompt_len": 6, "output_len": 3}\n')
    assert len(load_trace(jsonl)) == 2


@pytest.mark.parametrize(
    ("name", "text", "fmt", "match"),
    [
        (
            "a.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,10,5\n2023-11-16 18:15:47,x,5\n",
            "auto",
            r"a.csv:3: ContextTokens",
        ),
        (
            "b.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,5\nnot-a-date,10,5\n",
            "auto",
            r"b.csv:3: TIMESTAMP",
        ),
        (
            "c.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,5\n2023-11-16 18:15:47,10,5,9\n",
            "azure",
            r"c.csv:3: expected 3 fields",
        ),
        ("d.csv", "TIMESTAMP,ContextTokens\n2023-11-16 18:15:46,10\n", "azure", r"d.csv:1: missing column"),
        (
            "e.jsonl",
            '{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [1, 2]}\n{"timestamp": 3,',
            "mooncake",
            r"e.jsonl:2: not valid JSON",
        ),
        (
            "f.jsonl",
            '{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [1, 2]}\n'
            '{"timestamp": 1, "input_length": -4, "output_length": 5}\n',
            "mooncake",
            r"f.jsonl:2: input_length",
        ),
        (
            "g.jsonl",
            '{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": ["a"]}\n',
            "mooncake",
            r"g.jsonl:1: hash_ids",
        ),
        ("h.json", '[{"prompt_len": 5, "output_len": 2}, {"prompt_len": 5}]', "vllm", r"h.json: entry 1: missing"),
        (
            "i.jsonl",
            '{"prompt_len": 5, "output_len": 2}\n{"prompt_len": 5, "output_len": 2.5}\n',
            "vllm",
            r"i.jsonl:2: output_len",
        ),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, name: str, text: str, fmt: str, match: str) -> None:
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_trace(f, fmt)


def test_unknown_trace_and_format(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        load_trace(tmp_path / "nope.csv")
    f = tmp_path / "x.txt"
    f.write_text("hello\n")
    with pytest.raises(ConfigError, match="cannot tell the trace format"):
        load_trace(f)
    with pytest.raises(InvalidInputError, match="trace format"):
        load_trace(f, "parquet")
