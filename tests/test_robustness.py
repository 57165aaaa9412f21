"""Issue 17's bad and careless inputs, kept fixed: one error shape, exit 2 (never a traceback), short quotes.

CLI cases run in-process through `run_app` (the console script's entry); API cases through the test client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from inferonomics.cli.common import run_app
from inferonomics.web import create_app

SMALL = {"model": "Llama-3.1-8B", "hardware": "h100_sxm"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(prestart_workers=False)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
    app.state.jobs.cancel_all()


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_app(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------------
# API: one error shape, strict types, the Host and Allow headers, infinities said
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/api/predict", {"hardware": "h100_sxm"}, 422, "ValidationError"),
        ("post", "/api/predict", {**SMALL, "isl": True}, 422, "ValidationError"),
        ("post", "/api/predict", {**SMALL, "isl": "1024"}, 422, "ValidationError"),
        ("post", "/api/predict", {**SMALL, "tp": 1, "concurrency": None}, 400, "InvalidInputError"),
        ("post", "/api/predict", {**SMALL, "model": "Llama-3.1-8BB"}, 400, "UnknownNameError"),
        ("get", "/api/predict", None, 405, "MethodNotAllowed"),
        ("get", "/api/nothing-here", None, 404, "NotFound"),
    ],
)
def test_every_error_has_one_shape(
    client: TestClient, method: str, path: str, body: dict | None, status: int, code: str
) -> None:
    r = client.request(method.upper(), path, json=body)
    assert r.status_code == status, r.text
    data = r.json()
    assert set(data) == {"error"} and {"code", "message", "field"} <= set(data["error"])
    assert data["error"]["code"] == code and data["error"]["message"]


def test_missing_model_and_wrong_types_name_the_field(client: TestClient) -> None:
    err = client.post("/api/predict", json={"hardware": "h100_sxm"}).json()["error"]
    assert err["field"] == "model" and "required" in err["message"]
    for value in (True, "1024", 1024.5):
        err = client.post("/api/predict", json={**SMALL, "isl": value}).json()["error"]
        assert err["field"] == "isl"
    assert client.post("/api/predict", json={**SMALL, "tp": 1, "concurrency": 4}).status_code == 200


def test_405_keeps_allow_and_ipv6_host_is_accepted(client: TestClient) -> None:
    r = client.get("/api/predict")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert client.get("/api/health", headers={"host": "[::1]:8000"}).status_code == 200
    assert client.get("/api/health", headers={"host": "[::1]"}).status_code == 200
    assert client.get("/api/health", headers={"host": "[::2]:8000"}).status_code == 400
    assert client.get("/api/health", headers={"host": "localhost.attacker.example"}).status_code == 400


def test_infinite_results_are_named_with_their_reason(client: TestClient) -> None:
    r = client.post("/api/predict", json={**SMALL, "tp": 1, "osl": 1, "concurrency": 4})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["tokens_per_s_per_user"] is None
    assert "osl = 1" in d["undefined"]["tokens_per_s_per_user"]
    finite = client.post("/api/predict", json={**SMALL, "tp": 1, "osl": 64, "concurrency": 4}).json()
    assert finite["tokens_per_s_per_user"] > 0 and "undefined" not in finite


def test_error_quotes_only_an_excerpt(client: TestClient) -> None:
    r = client.post("/api/predict", json={**SMALL, "precision": "q" * 110})
    assert r.status_code == 400 and len(r.json()["error"]["message"]) <= 400


# ---------------------------------------------------------------------------------------------------
# CLI: exit 2 with one line (and JSON on stdout with --json), never a traceback
# ---------------------------------------------------------------------------------------------------


def test_cli_json_error_shape_and_flag_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(
        capsys,
        "predict",
        "-m",
        "qwen3-32b",
        "-H",
        "h100_sxm",
        "--ep",
        "3",
        "--isl",
        "64",
        "--osl",
        "64",
        "-c",
        "4",
        "--json",
    )
    assert code == 2 and "moe_ep" not in err and "--ep" in err
    e = json.loads(out)["error"]
    assert e["code"] == "InvalidInputError" and e["field"] == "--ep" and "--ep" in e["message"]
    code, out, _ = _cli(capsys, "predict", "-m", "qwen3-32b", "-H", "h100_sxm", "--tp", "abc", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "--tp"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["frontier", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--usd-per-chip-hour", "0"], "--usd-per-chip-hour"),
        (["price-sheet", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--usd-per-chip-hour", "0"], "--usd-per-chip-hour"),
        (
            [
                "predict",
                "-m",
                "llama-3.1-8b",
                "-H",
                "h100_sxm",
                "--set",
                "hbm_gb=1e308",
                "--isl",
                "64",
                "--osl",
                "64",
                "-c",
                "1",
            ],
            "hbm_gb",
        ),
    ],
)
def test_cli_bad_numbers_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    code, _, err = _cli(capsys, *argv)
    assert code == 2 and words in err and "Traceback" not in err


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("header.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n", "no requests"),
        ("empty.jsonl", "", "no requests"),
        ("deep.json", "[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ("field.json", json.dumps([{"prompt_len": "x" * 2_000_000, "output_len": 1}]), "characters"),
        ("line.jsonl", '{"timestamp": 0, "hash_ids": [' + "1," * 600_000 + "1]}\n", "line longer"),
        ("inf.jsonl", '{"timestamp": 0, "input_length": 1e400, "output_length": 1}\n', "input_length"),
        ("binary.csv", bytes(range(256)) * 8, "UTF-8"),
    ],
)
def test_bad_traces_exit_2_with_a_short_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str | bytes, words: str
) -> None:
    path = _write(tmp_path / name, content)
    code, _, err = _cli(capsys, "simulate", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--trace", str(path))
    assert code == 2 and words in err and "Traceback" not in err
    assert len(err) < 600


def test_bad_model_config_and_length_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    deep = _write(tmp_path / "config.json", "[" * 50_000 + "]" * 50_000)
    code, _, err = _cli(capsys, "model", str(deep))
    assert code == 2 and "nested too deeply" in err
    for name, content in (("empty.csv", ""), ("binary.csv", bytes(range(256)) * 8), ("header.csv", "len\n")):
        path = _write(tmp_path / name, content)
        code, _, err = _cli(
            capsys, "simulate", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--rate", "1", "--isl-dist", f"empirical:{path}"
        )
        assert code == 2 and str(path) in err and "Traceback" not in err, err


def test_search_out_never_deletes_what_it_did_not_create(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "sweep.parquet"
    parts = tmp_path / "sweep.parquet.parts"
    parts.mkdir()
    keep = _write(parts / "notes.txt", "mine")
    base = ["search", "-m", "llama-3.1-8b", "-H", "h100_sxm", "--isl", "512", "--osl", "128", "--rate", "2"]
    code, _, err = _cli(capsys, *base, "--recheck", "0", "--out", str(out))
    assert code == 2 and "not made by a search" in err and keep.read_text() == "mine"
    other = _write(tmp_path / "other.parquet", "not a sweep")
    code, _, err = _cli(capsys, *base, "--recheck", "0", "--out", str(other))
    assert code == 2 and "not a search sweep" in err and other.read_text() == "not a sweep"
    fresh = tmp_path / "fresh.parquet"
    code, _, _ = _cli(capsys, *base, "--recheck", "0", "--out", str(fresh))
    assert code == 0 and fresh.is_file() and not (tmp_path / "fresh.parquet.parts").exists()
    code, _, _ = _cli(capsys, *base, "--recheck", "0", "--out", str(fresh))  # its own sweep: replaced
    assert code == 0
