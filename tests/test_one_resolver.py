"""Every command, endpoint and notebook call that is not given a parallelism takes its deployment from the
one resolver (`economics.spec.DeploymentSpec(tp="auto").resolve()`) and says what it chose. Each test here
fails on the old behaviour (a TP1 default: Llama-3.1-70B does not fit one H100, exit 2 / an error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import inferonomics as inf
import inferonomics.cli  # noqa: F401  (registers every command on the app)
from inferonomics.economics.spec import DeploymentSpec, Workload

BIG = "meta-llama/Llama-3.1-70B-Instruct"  # 141 GB of bf16 weights: TP1 on an 80 GB H100 cannot hold it
SIM = ["--no-progress", "--num-requests", "60", "--isl-dist", "1024", "--osl-dist", "128", "--json"]


def _json(out: str) -> dict[str, Any]:
    return json.loads(out)


def test_simulate_without_tp_runs_the_resolvers_deployment(cli: Any) -> None:
    code, out, err = cli("simulate", "-m", BIG, "-H", "h100_sxm", "--concurrency", "32", *SIM)
    assert code == 0, err
    s = _json(out)
    assert s["resolution_note"].startswith("auto:") and "1 chip(s) cannot hold it" in s["resolution_note"]
    # the same deployment `predict` resolves for the same lengths and clients (one resolver, CLI agreement)
    code, out, err = cli("predict", "-m", BIG, "-H", "h100_sxm", "--isl", "1024", "--osl", "128", "-c", "32", "--json")
    assert code == 0, err
    p = _json(out)
    d = DeploymentSpec(BIG, "h100_sxm").resolve(Workload(1024, 128, 32)).deployment
    assert s["deployment"] == d.describe() and (p["tp"], p["pp"], p["chips"]) == (d.tp, d.pp, d.chips_per_replica)
    assert s["completed"] == 60


def test_simulate_open_loop_is_resolved_at_its_rate(cli: Any) -> None:
    """An open loop is resolved at the rate it offers (Little's law), not at the cost-optimal full batch."""
    code, out, err = cli("simulate", "-m", BIG, "-H", "h100_sxm", "--rate", "2", *SIM)
    assert code == 0, err
    s = _json(out)
    assert "requests/s served" in s["resolution_note"]
    r = DeploymentSpec(BIG, "h100_sxm").resolve(Workload(1024, 128, rate_per_s=2.0))
    assert r.deployment.describe() == s["deployment"]
    # a rate-blind resolution picks its own, larger load: the open loop's in-flight clients are far fewer
    assert (
        r.concurrency is not None
        and r.concurrency < DeploymentSpec(BIG, "h100_sxm").resolve(Workload(1024, 128)).concurrency
    )


def test_simulate_rate_beyond_one_replica_says_how_many(cli: Any) -> None:
    code, out, err = cli("simulate", "-m", BIG, "-H", "h100_sxm", "--rate", "500", *SIM[:-1], "--max-wall-s", "60")
    assert code == 0, err
    assert "replicas carry the rate" in out.replace("\n", " ")


def test_simulate_given_tp_that_does_not_fit_names_one_that_does(cli: Any) -> None:
    code, _, err = cli("simulate", "-m", BIG, "-H", "h100_sxm", "--tp", "1", "--rate", "2", *SIM)
    assert code == 2 and "a deployment that fits: TP" in err and "Traceback" not in err


def test_simulate_slo_targets_reach_the_resolver(cli: Any) -> None:
    code, out, err = cli("simulate", "-m", BIG, "-H", "h100_sxm", "--concurrency", "16", "--slo-ttft-ms", "400", *SIM)
    assert code == 0, err
    assert "TTFT <= 0.4 s" in _json(out)["resolution_note"]


def test_notebook_calls_resolve_as_the_cli_does(cli: Any) -> None:
    c = inf.cost(BIG, "h100_sxm", isl=1024, osl=1024)
    code, out, _ = cli("cost", "-m", BIG, "-H", "h100_sxm", "--json")
    assert code == 0 and c.deployment == _json(out)["deployment"] and c.notes[0].startswith("auto:")
    p = inf.predict(BIG, "h100_sxm", isl=1024, osl=1024, concurrency=32)
    code, out, _ = cli("predict", "-m", BIG, "-H", "h100_sxm", "--isl", "1024", "--osl", "1024", "-c", "32", "--json")
    q = _json(out)
    assert (p.deployment.tp, p.deployment.pp, p.chips) == (q["tp"], q["pp"], q["chips"]) and p.chips > 1
    assert p.resolution_note.startswith("auto:")
    sheet = inf.price_sheet(BIG, "h100_sxm")
    code, out, _ = cli("price-sheet", "-m", BIG, "-H", "h100_sxm", "--json")
    assert sheet.deployment == _json(out)["deployment"]
    sim = inf.simulate(BIG, "h100_sxm", rate_per_s=2, num_requests=30, isl=512, osl=64)
    assert sim.summary["resolution_note"].startswith("auto:") and sim.summary["completed"] == 30
    assert inf.cost(BIG, "h100_sxm", tp=8, isl=1024, osl=1024).chips == 8  # a given TP is used as given


def test_web_disaggregated_pools_default_to_auto() -> None:
    from fastapi.testclient import TestClient

    from inferonomics.web.app import create_app

    body = {
        "model": BIG,
        "hardware": "h100_sxm",
        "mode": "disagg",
        "concurrency": 32,
        "prefill": {"instances": 1},
        "decode": {"instances": 1},
    }
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        r = client.post("/api/predict", json=body)
    assert r.status_code == 200, r.text  # was 400: both pools TP1, which cannot hold the weights
    assert "auto prefill pool" in r.json()["resolution_note"]


def test_validate_vllm_bench_without_tp_resolves_and_says_so(tmp_path: Path, cli: Any) -> None:
    n = 30
    f = tmp_path / "bench.json"
    f.write_text(
        json.dumps(
            {
                "request_rate": 2.0,
                "max_concurrency": None,
                "input_lens": [512] * n,
                "output_lens": [64] * n,
                "ttfts": [0.1] * n,
                "itls": [[0.02] * 63] * n,
            }
        )
    )
    code, out, err = cli("validate", "vllm-bench", str(f), "-m", BIG, "-H", "h100_sxm", "--json")
    assert code == 0, err
    d = _json(out)
    assert any("does not record the server's parallelism" in n for n in d["notes"]) and "TP1," not in d["deployment"]


@pytest.mark.parametrize("tp", ["0", "x"])
def test_bad_tp_is_one_line(cli: Any, tp: str) -> None:
    code, _, err = cli("simulate", "-m", BIG, "-H", "h100_sxm", "--tp", tp, "--rate", "1")
    assert code == 2 and "Traceback" not in err
