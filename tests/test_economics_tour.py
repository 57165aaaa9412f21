"""The README's economics tour, with no flags beyond model and hardware, each answer checked against a
stated reference (none of these figures was used to fit anything).

References:
- market offers (Erdil 2025, Epoch AI; the price catalog): Llama 3 70B at ~150 tok/s per user for
  0.90 USD/M blended (3:1 input:output);
- DeepSeek's day-6 inference-system overview (2025-03-01): 87,072 USD a day for 168B output tokens, i.e.
  0.52 USD per M output tokens with every cost charged to output; DeepSeek-V3 list price 1.10 USD/M output;
- the model's weights: Llama-3.1-70B is 141 GB in bf16; on two 80 GiB H100s they leave room for about 11
  sequences of 2k tokens, so a batch worth serving needs TP4 (tensor parallelism must divide its 64
  attention heads), the shape vLLM and NVIDIA's guides run it in bf16 on H100.
"""

from __future__ import annotations

import json
from typing import Any

LLAMA = ["-m", "llama-3.1-70b", "-H", "h100_sxm"]
DAY6_COST_PER_M_OUTPUT = 87_072 / 168e9 * 1e6  # 0.518 USD


def _json(cli: Any, *args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_cost_picks_the_smallest_deployment_and_a_price_below_the_market(cli: Any) -> None:
    d = _json(cli, "cost", *LLAMA)
    assert "TP4" in d["deployment"] and d["chips"] == 4
    assert d["resolution_note"].startswith("auto: TP4") and "TTFT <= 2 s" in d["resolution_note"]
    assert d["ttft_s"] <= 2.0
    blended = 0.75 * d["input_usd_per_mtok"] + 0.25 * d["output_usd_per_mtok"]
    assert blended < 0.90


def test_predict_queues_past_the_kv_cache_instead_of_failing(cli: Any) -> None:
    d = _json(cli, "predict", *LLAMA, "--tp", "4", "--isl", "1024", "--osl", "1024", "-c", "5000")
    assert d["fits"] and d["queued_clients"] > 0 and d["ttft_ms"] > 10_000


def test_frontier_reaches_the_market_speed(cli: Any) -> None:
    d = _json(cli, "frontier", *LLAMA)
    assert d["latency_floor"]["tokens_per_s_per_user"] >= 150
    assert d["realistic_cost_floor"]["ttft_s"] <= 2.0
    at_market = [p for p in d["points"] if p["tokens_per_s_per_user"] >= 150]
    cheapest = min(at_market, key=lambda p: p["usd_per_mtok_output"])
    assert 0.75 * cheapest["usd_per_mtok_input"] + 0.25 * cheapest["usd_per_mtok_output"] < 0.90
    assert set(d["levers"]["precisions"]) == {"bf16", "fp8"}  # H100 has no fp4 tensor tier


def test_price_sheet_lies_between_the_labs_cost_and_twice_its_price(cli: Any) -> None:
    d = _json(cli, "price-sheet", "-m", "deepseek-v3", "-H", "h200_sxm")
    assert "auto" in d["resolution_note"]
    assert DAY6_COST_PER_M_OUTPUT < d["output_usd_per_mtok"] < 2 * 1.10


def test_lab_vs_provider_lab_cost_near_deepseeks_own(cli: Any) -> None:
    d = _json(cli, "compare", "lab-vs-provider")
    lab = d["rows"][-1]
    assert lab["model"] == "DeepSeek-V3"
    assert DAY6_COST_PER_M_OUTPUT / 2 < lab["output_usd_per_mtok"] < DAY6_COST_PER_M_OUTPUT * 2
    total = d["rows"][0]["usd_per_request"] / lab["usd_per_request"]
    assert 2 < total < 100  # was 3,156x when the provider was stuck at bf16 and batch 1


def test_capacity_agents_cheaper_than_the_market_price_of_their_tokens(cli: Any) -> None:
    d = _json(cli, "capacity", "agents", *LLAMA, "--agents", "100")
    best = d["options"][0]
    # an agent at 10 output tok/s with a 32k-token prompt per 500-token turn: 72 turns an hour
    tokens_per_hour = 72 * 32_000 + 36_000
    assert best["usd_per_agent_hour"] < tokens_per_hour * 0.90 / 1e6


def test_modes_self_hosted_resolves_the_deployment(cli: Any) -> None:
    code, out, _ = cli("modes", *LLAMA)
    assert code == 0 and "(TP4," in out


def test_frontier_levers_switch_in_the_api() -> None:
    from fastapi.testclient import TestClient

    from inferonomics.web.app import create_app

    api = TestClient(create_app(), base_url="http://127.0.0.1")
    body = {"model": "llama-3.1-8b", "hardware": "h100_sxm", "max_chips": 2}
    swept = api.post("/api/frontier", json=body).json()
    off = api.post(
        "/api/frontier", json={**body, "speculative_tokens": 0, "precision": "bf16", "disaggregation": False}
    ).json()
    assert [s["tokens"] for s in swept["levers"]["speculation"]] == [0, 3] and swept["levers"]["disaggregation"]
    assert off["levers"] == {
        "precisions": ["bf16"],
        "speculation": [{"tokens": 0, "acceptance_rate": 0.0}],
        "disaggregation": False,
    }
    fastest = swept["latency_floor"]["tokens_per_s_per_user"]
    assert fastest > 1.3 * off["latency_floor"]["tokens_per_s_per_user"]
