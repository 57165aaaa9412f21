"""The web API through FastAPI's test client: every endpoint answers, bad input is a 4xx naming the field."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from inferonomics.web import create_app

SMALL = {"model": "Llama-3.1-8B", "hardware": "h100_sxm"}
STATIC = Path(__file__).resolve().parents[1] / "src" / "inferonomics" / "web" / "static"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
    app.state.jobs.cancel_all()


def _wait(client: TestClient, job_id: str, timeout_s: float = 120.0) -> dict:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        job = client.get(f"/api/simulate/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout_s} s")


# ---------------------------------------------------------------------------------------------------
# Endpoints answer with data and charts
# ---------------------------------------------------------------------------------------------------


def test_health_and_catalog(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    cat = client.get("/api/catalog").json()
    assert "Llama-3.1-8B" in {m["name"] for m in cat["models"]}
    assert "h100_sxm" in {h["system"] for h in cat["hardware"]}
    assert "openai/gpt-4o" in {p["key"] for p in cat["price_sheets"]}
    assert cat["market_points"] and "bf16" in cat["precisions"]


def test_catalog_details_and_unknown_names(client: TestClient) -> None:
    assert client.get("/api/catalog/models/Llama-3.1-8B").json()["layers"] == 32
    assert client.get("/api/catalog/hardware/h100_sxm").json()["chip"]["hbm_gb"] == 80
    assert client.get("/api/catalog/prices/openai/gpt-4o").json()["output_usd_per_mtok"] > 0
    r = client.get("/api/catalog/models/Llama-3.1-8BB")
    assert r.status_code == 404 and "Llama-3.1-8B" in r.json()["error"]["message"]


DISAGG = {
    "model": "DeepSeek-R1",
    "hardware": "gb200",
    "precision": "fp4",
    "backend": "trtllm",
    "concurrency": 512,
    "mode": "disagg",
}


def test_predict_disaggregated_pools(client: TestClient) -> None:
    pools = {
        "prefill": {"instances": 2, "attention_dp": 4, "ep": 4},
        "decode": {"instances": 1, "attention_dp": 16, "ep": 16},
    }
    r = client.post("/api/predict", json={**DISAGG, **pools})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["mode"] == "disagg" and d["chips"] == 24 and d["breakdown"]["kv_transfer_ms"] > 0
    assert d["disagg"]["decode"]["attention_dp"] == 16 and "prefill: 2 x" in d["deployment"]
    assert d["charts"]["breakdown"] and d["ttft_ms"] > 0 and d["tpot_ms"] > 0


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"prefill": {"instances": 2, "tp": 8, "ep": 8}}, "decode", "needs both pools"),
        ({"mode": "agg", "prefill": {"tp": 8}, "decode": {"tp": 8}}, "mode", "only to mode 'disagg'"),
        ({"prefill": {"tp": 1}, "decode": {"tp": 8, "ep": 8}}, "prefill", "does not fit"),
    ],
)
def test_predict_disaggregated_bad_pools_are_400(client: TestClient, extra: dict, field: str, message: str) -> None:
    r = client.post("/api/predict", json={**DISAGG, **extra})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field and message in r.json()["error"]["message"]


def test_predict_auto_tp_with_charts(client: TestClient) -> None:
    r = client.post("/api/predict", json={**SMALL, "concurrency": 8})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["tp"] == 1 and p["chips"] == 1 and p["concurrency"] == 8
    assert 0 < p["ttft_ms"] < 10_000 and 0 < p["tpot_ms"] < 1_000
    assert p["memory"]["fits"] and p["memory_gb_per_gpu"] < 80
    assert {"breakdown", "memory"} <= set(p["charts"])
    bars = p["charts"]["breakdown"]["data"][0]
    assert bars["orientation"] == "h" and "memory" in bars["y"] and all(v >= 0 for v in bars["x"])


def test_predict_explicit_parallelism_and_max_throughput(client: TestClient) -> None:
    one = client.post("/api/predict", json={**SMALL, "tp": 2, "concurrency": 4}).json()
    assert one["tp"] == 2 and one["chips"] == 2
    best = client.post("/api/predict", json={**SMALL, "concurrency": None, "max_throughput": True})
    assert best.status_code == 200 and best.json()["concurrency"] > 8
    r = client.post("/api/predict", json={**SMALL, "concurrency": None})
    assert r.status_code == 400 and r.json()["error"]["field"] == "concurrency"


def test_roofline_places_operators(client: TestClient) -> None:
    r = client.post("/api/roofline", json={**SMALL, "batch_size": 16})
    assert r.status_code == 200, r.text
    roof = r.json()
    ops = {o["name"]: o for o in roof["operators"]}
    assert len(ops) >= 4
    assert ops["decode GEMMs, batch 1"]["bound"] == "memory"
    assert ops["prefill GEMMs, 1,024 tokens"]["bound"] == "compute"
    # bf16 weights: a decode GEMM at batch B does ~2B FLOPs per 2 bytes of weight, i.e. ~B FLOP/byte
    assert ops["decode GEMMs, batch 16"]["intensity_flops_per_byte"] == pytest.approx(16, rel=0.15)
    assert roof["ridge_flops_per_byte"] == pytest.approx(989e12 / 3.35e12, rel=0.05)
    assert [t["name"] for t in roof["charts"]["roofline"]["data"]][0].startswith("h100_sxm roof")


def test_floor(client: TestClient) -> None:
    f = client.post("/api/floor", json={**SMALL, "context_tokens": 2048}).json()
    assert f["latency_floor"]["tokens_per_s"] > 0 and f["cost_floor"]["usd_per_mtok"] > 0
    assert f["single_user_to_batched_cost_ratio"] > 1


def test_frontier_with_marks_and_market(client: TestClient) -> None:
    r = client.post("/api/frontier", json={**SMALL, "max_chips": 8})
    assert r.status_code == 200, r.text
    f = r.json()
    speeds = [p["tokens_per_s_per_user"] for p in f["points"]]
    assert len(speeds) > 5 and speeds == sorted(speeds, reverse=True)
    assert f["latency_floor"]["tokens_per_s_per_user"] >= f["single_user"]["tokens_per_s_per_user"] * 0.99
    assert f["cost_floor"]["usd_per_mtok_output"] <= min(p["usd_per_mtok_output"] for p in f["points"]) + 1e-12
    names = [t["name"] for t in f["charts"]["frontier"]["data"]]
    assert {"Pareto frontier", "latency floor (fastest)", "cost floor (cheapest)", "single user (batch 1)"} <= set(
        names
    )
    assert "market offers (blended price)" in names
    assert f["charts"]["frontier"]["layout"]["yaxis"]["type"] == "log"


def test_price_sheet_beside_provider(client: TestClient) -> None:
    r = client.post("/api/price-sheet", json={**SMALL, "provider_sheet": "openai/gpt-4o", "margin": 0.5})
    assert r.status_code == 200, r.text
    ps = r.json()
    d = ps["derived"]
    assert d["output_usd_per_mtok"] == pytest.approx(d["cost_usd_per_mtok"]["output"] * 1.5)
    assert ps["provider"]["key"] == "openai/gpt-4o" and "openai/gpt-4o" in ps["comparison"]["headline"]
    assert [t["name"] for t in ps["charts"]["price_sheet"]["data"]][-1] == "openai/gpt-4o price"


def test_read_prices(client: TestClient) -> None:
    r = client.post("/api/read-prices", json={"sheet": "anthropic/claude-sonnet-4.5"})
    assert r.status_code == 200, r.text
    assert r.json()["findings"][0]["topic"] == "output_input_ratio"


def test_search_pareto(client: TestClient) -> None:
    body = {**SMALL, "hardware": ["h100_sxm"], "isl": 1024, "osl": 256, "rate_per_s": 2, "tpot_ms": 50}
    r = client.post("/api/search", json=body)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["best"]["tpot_ms"] <= 50 and s["pareto"]
    assert "Pareto set" in [t["name"] for t in s["charts"]["pareto"]["data"]]
    r = client.post("/api/search", json={**body, "hardware": ["h100_sxm"] * 5})
    assert r.status_code == 422 and r.json()["error"]["field"] == "hardware"


def test_search_follows_the_weights_picker(client: TestClient) -> None:
    """The page sends its Weights choice: the search keeps to that format (bf16 here), not the cheapest."""
    body = {"model": "Llama-3.1-8B", "hardware": ["h100_sxm"], "isl": 512, "osl": 128, "rate_per_s": 2}
    free = client.post("/api/search", json=body).json()
    fixed = client.post("/api/search", json={**body, "precision": "bf16"}).json()
    assert {r["precision"] for r in fixed["pareto"]} == {"bf16"} and fixed["best"]["precision"] == "bf16"
    assert free["best"]["precision"] != "bf16"  # without it the search picks a narrower, cheaper format


# ---------------------------------------------------------------------------------------------------
# Simulation jobs
# ---------------------------------------------------------------------------------------------------


def test_simulation_job_reports_progress_and_result(client: TestClient) -> None:
    r = client.post("/api/simulate", json={**SMALL, "num_requests": 300, "rate_per_s": 5, "osl": 128})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0
    res = job["result"]
    assert res["summary"]["completed"] == 300
    cdf = res["cdf"]["ttft"]
    assert cdf["fraction"][0] == 0 and cdf["fraction"][-1] == 1 and cdf["ms"] == sorted(cdf["ms"])
    assert res["over_time"][0]["kv_occupancy"]["t_s"]
    assert {"latency_cdf", "kv_occupancy"} <= set(res["charts"])


def test_simulation_cancel_and_limits() -> None:
    app = create_app(max_running_jobs=1, queued_jobs=0)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        long = {**SMALL, "workload": "closed_loop", "concurrency": 64, "num_requests": 20000, "max_wall_s": 20}
        r = c.post("/api/simulate", json=long)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        busy = c.post("/api/simulate", json=long)
        assert busy.status_code == 429
        assert c.delete(f"/api/simulate/{job_id}").status_code == 200
        assert _wait(c, job_id, 20)["status"] == "cancelled"
        assert c.get("/api/simulate/no-such-job").status_code == 404
        assert c.delete("/api/simulate/no-such-job").status_code == 404
        for field, value in (("num_requests", 20_001), ("max_wall_s", 31), ("rate_per_s", 0)):
            r = c.post("/api/simulate", json={**SMALL, field: value})
            assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    app.state.jobs.cancel_all()


# ---------------------------------------------------------------------------------------------------
# Bad input: 4xx naming the field, never a 5xx
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"model": "Llama-3.1-8BB"}, 400, "model", "closest"),
        ({"hardware": "h100_sxmm"}, 400, "hardware", "h100_sxm"),
        ({"precision": "fp3"}, 400, "precision", "fp8"),
        ({"kv_precision": "int2"}, 400, "kv_precision", "unknown"),
        ({"isl": 0}, 422, "isl", "greater than or equal"),
        ({"isl": 200_000}, 400, "isl", "context window"),
        ({"tp": 0}, 422, "tp", "greater than"),
        ({"pp": 65}, 422, "pp", "less than"),
        ({"pp": 40}, 400, "pp", "layers"),
        ({"backend": "tgi"}, 422, "backend", "vllm"),
        ({"concurrency": -3}, 422, "concurrency", "greater than"),
        ({"colour": "blue"}, 422, "colour", "Extra inputs"),
        ({"model": ""}, 422, "model", "at least 1"),
        ({"model": "x" * 500}, 422, "model", "at most"),
    ],
)
def test_bad_input_names_the_field(client: TestClient, body: dict, status: int, field: str, words: str) -> None:
    r = client.post("/api/predict", json={**SMALL, **body})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(r.json()) == {"error"} and err["field"] == field
    assert field in err["message"] and words.lower() in json.dumps(err).lower()


def test_does_not_fit_says_how_much(client: TestClient) -> None:
    r = client.post("/api/predict", json={"model": "Llama-3.1-405B", "hardware": "h100_sxm", "tp": 1})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "DoesNotFitError" and err["required_gb"] > 80 and "GB" in err["message"]


def test_nan_malformed_json_and_wrong_types(client: TestClient) -> None:
    r = client.post(
        "/api/predict",
        content=b'{"model": "Llama-3.1-8B", "concurrency": NaN}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "concurrency"
    r = client.post("/api/predict", content=b'{"isl": 12', headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/api/frontier", json={**SMALL, "max_chips": "many"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "max_chips"


def test_names_never_read_files(client: TestClient, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    for field, path in (("model", str(config)), ("model", "/etc/passwd"), ("reference_model", str(config))):
        url = "/api/read-prices" if field == "reference_model" else "/api/predict"
        r = client.post(url, json={field: path})
        assert r.status_code == 400 and r.json()["error"]["field"] == field, r.text
        assert r.json()["error"]["code"] == "UnknownNameError"


def test_body_size_limit(client: TestClient) -> None:
    big = json.dumps({**SMALL, "model": "x" * 70_000}).encode()
    r = client.post("/api/predict", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b'{"model": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    r = client.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_missing_area_is_501_not_500(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "inferonomics.search", None)
    r = client.post("/api/search", json={"model": "Llama-3.1-8B", "rate_per_s": 3.5})
    assert r.status_code == 501 and "not available" in r.json()["error"]["message"]


def test_host_header_guard(client: TestClient) -> None:
    assert client.get("/api/health", headers={"host": "attacker.example"}).status_code == 400


# ---------------------------------------------------------------------------------------------------
# The page and its assets: nothing from the internet
# ---------------------------------------------------------------------------------------------------


def test_page_is_served_with_csp_and_local_assets_only(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC / name).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
    js = client.get("/static/plotly.min.js", headers={"accept-encoding": "identity"})
    assert js.status_code == 200 and js.headers["content-type"].startswith("application/javascript")
    assert len(js.content) > 1_000_000 and b"plotly" in js.content[:2000].lower()
    gz = client.get("/static/plotly.min.js", headers={"accept-encoding": "gzip"})
    assert gz.headers.get("content-encoding") == "gzip"
    assert client.get("/static/app.js").status_code == 200


def test_openapi_and_docs(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/catalog",
        "/api/predict",
        "/api/floor",
        "/api/frontier",
        "/api/price-sheet",
        "/api/read-prices",
        "/api/simulate",
        "/api/simulate/{job_id}",
        "/api/search",
        "/api/roofline",
    ):
        assert p in paths
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/frontier" in docs.text and "<script" not in docs.text
