"""Budgets that hold: work is sized before it starts, runs in a worker process within wall time and memory,
and cancel frees it. Time and memory are asserted through the budgets (what was refused, killed or
noted), never through wall-clock measurements of the test itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from inferonomics.cli.common import run_app
from inferonomics.serving.sizing import size_simulation
from inferonomics.web import create_app
from inferonomics.web.jobs import Executor, TaskError, TooBusyError

HEAVY_SIMULATE = {
    "model": "Llama-3.1-8B",
    "hardware": "b200_sxm",
    "tp": 1,
    "workload": "closed_loop",
    "concurrency": 10000,
    "num_requests": 20000,
    "isl": 1,
    "osl": 130000,
    "max_batch_size": 4096,
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(max_running_jobs=1, queued_jobs=1)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead for our purpose
        return fh.read().split(")")[-1].split()[0] != "Z"


# ---------------------------------------------------------------------------------------------------
# Sizing before the work starts
# ---------------------------------------------------------------------------------------------------


def test_issue_simulation_is_refused_before_it_starts(client: TestClient) -> None:
    r = client.post("/api/simulate", json=HEAVY_SIMULATE)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "OverBudgetError" and err["field"] == "osl"
    assert "memory budget" in err["message"] and "lower num_requests, osl or concurrency" in err["message"]
    assert client.get("/api/health").json()["running_jobs"] == 0  # nothing was started


def test_issue_search_sizes_its_recheck(client: TestClient) -> None:
    """rate 1e6 needed 1,256,046 replicas in the re-check (633 s, 7 GB); the re-check is now sized first."""
    body = {"model": "Llama-3.1-8B", "hardware": ["h100_sxm"], "rate_per_s": 1e6, "recheck": 1, "osl": 256}
    r = client.post("/api/search", json=body)
    assert r.status_code == 200, r.text
    best = r.json()["best"]
    assert best["replicas"] > 1000
    assert "over the re-check budget of 1,000" in best["simulated"]["sim_note"]


def test_sizing_grows_with_each_knob() -> None:
    base = dict(replicas=1, requests=1000, mean_isl=1024, mean_osl=256, max_batch=256, chunk_tokens=8192)
    ref = size_simulation(**base, kv_tokens_per_replica=1e6, clients=64)
    for knob, value in (("replicas", 1000), ("requests", 10_000), ("mean_osl", 2560)):
        bigger = size_simulation(**{**base, knob: value}, kv_tokens_per_replica=1e6, clients=64)
        assert bigger.wall_s > ref.wall_s and bigger.memory_bytes > ref.memory_bytes, knob
    tight_kv = size_simulation(**base, kv_tokens_per_replica=2e4, clients=64)
    assert tight_kv.batch < ref.batch and tight_kv.iterations > ref.iterations


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["-r", "200000", "--rate", "10", "--num-requests", "100", "--max-wall-s", "5"], "--max-wall-s 5"),
        (
            [
                "-H",
                "b200_sxm",
                "--tp",
                "1",
                "--concurrency",
                "10000",
                "--num-requests",
                "20000",
                "--isl-dist",
                "fixed:1",
            ]
            + ["--osl-dist", "fixed:130000", "--max-batch-size", "4096"],
            "--force",
        ),
    ],
)
def test_cli_refuses_oversized_runs_up_front(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    args = ["simulate", "-m", "llama-3.1-8b", *(["-H", "h100_sxm"] if "-H" not in argv else []), *argv]
    code = run_app(args)
    err = capsys.readouterr().err
    assert code == 2 and words in err, err


# ---------------------------------------------------------------------------------------------------
# The executor: a bounded queue, budgets enforced in the worker process, cancel kills it
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    ex = Executor(workers=1, queue_size=1, memory_bytes=400 * 1024**2, poll_s=0.05)
    yield ex
    ex.shutdown()


def test_executor_runs_tasks_and_returns_product_errors(executor: Executor) -> None:
    assert executor.run("echo", "_executor_tasks:echo", {"a": 1}, 60) == {"echo": {"a": 1}}
    with pytest.raises(TaskError) as info:
        executor.run("fail", "_executor_tasks:fail", None, 60)
    assert info.value.code == "InvalidInputError" and "isl" in info.value.message


def test_executor_memory_budget_kills_the_worker(executor: Executor) -> None:
    task = executor.submit("hog", "_executor_tasks:hog_memory", {"mb": 1200}, 120)
    with pytest.raises(TaskError) as info:
        task.wait(120)
    assert info.value.code in ("OverBudget", "WorkerDied"), info.value.message
    assert task.peak_rss_bytes <= 1200 * 1024**2  # stopped before it held what it asked for
    assert executor.run("echo", "_executor_tasks:echo", 2, 60) == {"echo": 2}  # a fresh worker takes over


def test_executor_wall_budget_covers_the_whole_task(executor: Executor) -> None:
    task = executor.submit("slow", "_executor_tasks:sleep", {"s": 60}, 1.0)
    with pytest.raises(TaskError) as info:
        task.wait(60)
    assert info.value.code == "OverBudget" and "wall-time budget of 1 s" in info.value.message


def test_executor_queue_is_bounded_and_cancel_frees_the_worker(executor: Executor) -> None:
    running = executor.submit("slow", "_executor_tasks:sleep", {"s": 60}, 120)
    queued = executor.submit("slow", "_executor_tasks:sleep", {"s": 60}, 120)
    with pytest.raises(TooBusyError) as busy:
        executor.submit("slow", "_executor_tasks:sleep", {"s": 60}, 120)
    assert busy.value.retry_after_s >= 1
    deadline = time.monotonic() + 60
    while running.status != "running" or running.progress == 0:  # the worker has started the task
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker = executor._procs[0]
    assert worker is not None
    pid = worker.proc.pid
    assert pid is not None and _alive(pid)
    executor.cancel(queued.id)
    executor.cancel(running.id)
    running.done.wait(30)
    assert queued.status == "cancelled" and running.status == "cancelled"
    assert not _alive(pid)  # killed: its memory is the system's again


def test_api_429_says_when_to_retry() -> None:
    app = create_app(max_running_jobs=1, queued_jobs=0)
    body = {"model": "Llama-3.1-8B", "workload": "closed_loop", "concurrency": 64, "num_requests": 20000}
    with TestClient(app, base_url="http://127.0.0.1") as c:
        first = c.post("/api/simulate", json={**body, "max_wall_s": 20})
        assert first.status_code == 202, first.text
        r = c.post("/api/simulate", json=body)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["code"] == "TooBusy"
        assert c.get("/api/health").json()["running_jobs"] + c.get("/api/health").json()["queued_jobs"] == 1
        assert c.delete(f"/api/simulate/{first.json()['id']}").status_code == 200
