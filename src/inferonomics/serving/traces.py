"""Readers of real request traces into a `StaticWorkload`; every malformed line is reported, none dropped.

Formats:
- Azure LLM inference trace (Patel et al., Splitwise, 2023): CSV `TIMESTAMP, ContextTokens, GeneratedTokens`.
- Mooncake / Kimi (Qin et al., 2024): JSONL `timestamp` (ms), `input_length`, `output_length`, `hash_ids`
  (ids of 512-token prefix blocks; equal ids = shared prefix).
- BurstGPT (Wang et al., 2024): CSV `Timestamp` (s), `Model`, `Request tokens`, `Response tokens`,
  `Total tokens`, `Log Type`. Rows with 0 response tokens are the trace's failed requests; they are
  kept and the simulator rejects them with that reason.
- vLLM `benchmark_serving` JSON: a saved result (`input_lens`, `output_lens`, optional `start_times`)
  or a list / JSONL of requests (`prompt_len` | `input_len`, `output_len` | `expected_output_len`,
  optional `timestamp` | `arrival_time` in seconds). Without times, every request arrives at 0
  unless a rate is given.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np

from inferonomics.errors import ConfigError, InvalidInputError, excerpt
from inferonomics.serving.workload import StaticWorkload, chain_keys, interarrival_s

TraceFormat = Literal["auto", "azure", "mooncake", "burstgpt", "vllm"]
TRACE_FORMATS: tuple[str, ...] = ("auto", "azure", "mooncake", "burstgpt", "vllm")
MOONCAKE_BLOCK_TOKENS = 512
MAX_TRACE_BYTES = 512 * 1024 * 1024
"""Largest trace file read (the largest public traces, BurstGPT's, are ~200 MB of CSV)."""
MAX_JSON_BYTES = 64 * 1024 * 1024
"""Largest whole-file JSON trace (parsed at once into Python objects, ~10x its size in memory)."""
MAX_LINE_BYTES = 1024 * 1024
"""Longest line of a JSONL trace (a Mooncake line with 128k tokens of hash ids is ~2 KB)."""


def _check_size(path: Path, limit: int, what: str = "trace") -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if size > limit:
        raise ConfigError(f"{path}: {size:,} bytes; a {what} file is read only up to {limit:,} bytes")


def _lines(path: Path) -> Any:
    """(line number, line) of a text file, each line at most MAX_LINE_BYTES (else an error naming it)."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        lineno = 0
        while True:
            lineno += 1
            try:
                line = fh.readline(MAX_LINE_BYTES + 1)
            except UnicodeDecodeError:
                raise ConfigError(f"{path}:{lineno}: not UTF-8 text") from None
            if not line:
                return
            if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
                raise ConfigError(f"{path}:{lineno}: line longer than {MAX_LINE_BYTES:,} characters")
            yield lineno, line


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ConfigError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise ConfigError(f"{where}: {excerpt(exc, 120)}") from None


def _read_csv(path: Path, required: list[str]) -> Any:
    import pandas as pd

    _check_size(path, MAX_TRACE_BYTES)
    try:
        df = pd.read_csv(path, skipinitialspace=True, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise ConfigError(f"{path}:{m.group(2)}: expected {m.group(1)} fields, saw {m.group(3)}") from None
        raise ConfigError(f"{path}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{path}: empty file, no requests") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {excerpt(exc, 120)}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        header = excerpt(", ".join(map(str, df.columns)), 120)
        raise ConfigError(f"{path}:1: missing column(s) {', '.join(missing)}; header is {header}")
    if df.empty:
        raise ConfigError(f"{path}: a header and no requests")
    return df


def _int_column(df: Any, col: str, path: Path, minimum: int) -> np.ndarray:
    import pandas as pd

    vals = pd.to_numeric(df[col], errors="coerce")
    arr = vals.to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < minimum) | (arr != np.floor(arr)))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"{path}:{int(df.index[i]) + 2}: {col} must be a whole number >= {minimum}, "
            f"got {excerpt(repr(df[col].iloc[i]), 60)}" + (f" ({bad.size} bad rows in all)" if bad.size > 1 else "")
        )
    return arr.astype(np.int64)


def _float_column(df: Any, col: str, path: Path) -> np.ndarray:
    import pandas as pd

    arr = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"{path}:{int(df.index[i]) + 2}: {col} must be a number, got {excerpt(repr(df[col].iloc[i]), 60)}"
        )
    return arr


def load_azure_csv(path: str | Path) -> StaticWorkload:
    import pandas as pd

    path = Path(path)
    df = _read_csv(path, ["TIMESTAMP", "ContextTokens", "GeneratedTokens"])
    ts = pd.to_datetime(df["TIMESTAMP"], errors="coerce", format="ISO8601")
    bad = np.flatnonzero(ts.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ConfigError(f"{path}:{i + 2}: TIMESTAMP is not a date-time: {excerpt(repr(df['TIMESTAMP'].iloc[i]), 60)}")
    t = (ts - ts.min()).dt.total_seconds().to_numpy()
    inp = _int_column(df, "ContextTokens", path, 0)
    out = _int_column(df, "GeneratedTokens", path, 0)
    return StaticWorkload(t, inp, out, None, MOONCAKE_BLOCK_TOKENS, f"Azure trace {path.name}")


def load_burstgpt_csv(path: str | Path, model: str | None = None) -> StaticWorkload:
    """BurstGPT rows (optionally only those of one `Model`, e.g. 'ChatGPT' or 'GPT-4')."""
    path = Path(path)
    df = _read_csv(path, ["Timestamp", "Request tokens", "Response tokens"])
    if model is not None:
        if "Model" not in df.columns:
            raise ConfigError(f"{path}:1: no Model column to filter on")
        df = df[df["Model"] == model]
        if df.empty:
            raise InvalidInputError(f"{path}: no rows with Model == {model!r}")
    t = _float_column(df, "Timestamp", path)
    inp = _int_column(df, "Request tokens", path, 0)
    out = _int_column(df, "Response tokens", path, 0)
    t = t - t.min() if t.size else t
    src = f"BurstGPT {path.name}" + (f" ({model})" if model else "")
    return StaticWorkload(t, inp, out, None, MOONCAKE_BLOCK_TOKENS, src)


def _need_int(obj: dict[str, Any], names: tuple[str, ...], where: str, minimum: int) -> int:
    for name in names:
        if name in obj:
            v = obj[name]
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not math.isfinite(v)
                or v != int(v)
                or v < minimum
            ):
                raise ConfigError(f"{where}: {name} must be a whole number >= {minimum}, got {excerpt(repr(v), 60)}")
            return int(v)
    raise ConfigError(f"{where}: missing {' or '.join(names)}")


def load_mooncake_jsonl(path: str | Path, block_tokens: int = MOONCAKE_BLOCK_TOKENS) -> StaticWorkload:
    path = Path(path)
    ts: list[float] = []
    inp: list[int] = []
    out: list[int] = []
    keys: list[tuple[int, ...]] = []
    _check_size(path, MAX_TRACE_BYTES)
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        obj = _json(line, where)
        if not isinstance(obj, dict):
            raise ConfigError(f"{where}: expected a JSON object")
        t = obj.get("timestamp")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise ConfigError(f"{where}: timestamp must be a number of milliseconds, got {excerpt(repr(t), 60)}")
        n_in = _need_int(obj, ("input_length",), where, 0)
        n_out = _need_int(obj, ("output_length",), where, 0)
        ids = obj.get("hash_ids", [])
        if not isinstance(ids, list) or not all(isinstance(h, int) and not isinstance(h, bool) for h in ids):
            raise ConfigError(f"{where}: hash_ids must be a list of integers")
        full = min(len(ids), n_in // block_tokens)
        ts.append(float(t) / 1e3)
        inp.append(n_in)
        out.append(n_out)
        keys.append(chain_keys(ids[:full]))
    if not ts:
        raise ConfigError(f"{path}: no requests")
    t_arr = np.asarray(ts)
    return StaticWorkload(
        t_arr - t_arr.min(), np.asarray(inp), np.asarray(out), tuple(keys), block_tokens, f"Mooncake trace {path.name}"
    )


_IN_NAMES = ("prompt_len", "input_len", "input_length", "prompt_tokens", "input_tokens")
_OUT_NAMES = ("output_len", "expected_output_len", "output_length", "output_tokens", "max_tokens")
_T_NAMES = ("timestamp", "arrival_time", "start_time")


def load_vllm_json(path: str | Path, rate_per_s: float | None = None, seed: int = 0) -> StaticWorkload:
    """vLLM benchmark JSON (a saved result or a list of requests) or JSONL of requests."""
    path = Path(path)
    _check_size(path, MAX_JSON_BYTES, "JSON trace")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    records: list[tuple[str, Any]]
    try:
        data = json.loads(text)
        if isinstance(data, dict) and "input_lens" in data:
            return _vllm_result(path, data, rate_per_s, seed)
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a list of requests or a result with input_lens/output_lens")
        records = [(f"{path}: entry {i}", r) for i, r in enumerate(data)]
    except RecursionError:
        raise ConfigError(f"{path}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        if exc.lineno == 1 and text.lstrip().startswith("["):
            raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        del text
        records = [(f"{path}:{n}", _json(line, f"{path}:{n}")) for n, line in _lines(path) if line.strip()]
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise ConfigError(f"{path}: {excerpt(exc, 120)}") from None
    inp, out, ts = [], [], []
    for where, r in records:
        if not isinstance(r, dict):
            raise ConfigError(f"{where}: expected a JSON object")
        inp.append(_need_int(r, _IN_NAMES, where, 0))
        out.append(_need_int(r, _OUT_NAMES, where, 0))
        t = next((r[k] for k in _T_NAMES if k in r), None)
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t)):
            raise ConfigError(f"{where}: {next(k for k in _T_NAMES if k in r)} must be a number of seconds")
        ts.append(t)
    if not records:
        raise ConfigError(f"{path}: no requests")
    return _timed(path, np.asarray(inp), np.asarray(out), ts, rate_per_s, seed)


def _vllm_result(path: Path, data: dict[str, Any], rate_per_s: float | None, seed: int) -> StaticWorkload:
    ins, outs = data.get("input_lens"), data.get("output_lens")
    if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs):
        raise ConfigError(f"{path}: input_lens and output_lens must be lists of the same length")
    for name, vals in (("input_lens", ins), ("output_lens", outs)):
        for i, v in enumerate(vals):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0 or v != int(v):
                raise ConfigError(f"{path}: {name}[{i}] must be a whole number >= 0, got {excerpt(repr(v), 60)}")
    starts = data.get("start_times")
    ts = list(starts) if isinstance(starts, list) and len(starts) == len(ins) else [None] * len(ins)
    return _timed(path, np.asarray(ins, dtype=np.int64), np.asarray(outs, dtype=np.int64), ts, rate_per_s, seed)


def _timed(
    path: Path, inp: np.ndarray, out: np.ndarray, ts: list[Any], rate_per_s: float | None, seed: int
) -> StaticWorkload:
    notes: tuple[str, ...] = ()
    if rate_per_s is not None:
        arr = np.cumsum(interarrival_s(np.random.default_rng(seed), rate_per_s, inp.size))
        arr -= arr[0]
        notes = (f"Poisson arrivals at {rate_per_s:g}/s",)
    elif all(t is not None for t in ts):
        arr = np.asarray(ts, dtype=np.float64)
        arr -= arr.min()
    else:
        arr = np.zeros(inp.size)
        notes = ("no arrival times: all requests at t=0",)
    return StaticWorkload(arr, inp, out, None, MOONCAKE_BLOCK_TOKENS, f"vLLM benchmark {path.name}", notes)


def detect_format(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as fh:
            head = fh.readline(64 * 1024)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (a trace is CSV, JSON or JSONL)") from None
    if not head.strip():
        raise ConfigError(f"{path}: empty file, no requests")
    if "ContextTokens" in head:
        return "azure"
    if "Request tokens" in head:
        return "burstgpt"
    if '"hash_ids"' in head or ('"input_length"' in head and '"timestamp"' in head):
        return "mooncake"
    if path.suffix in (".json", ".jsonl") or head.lstrip().startswith(("[", "{")):
        return "vllm"
    raise ConfigError(
        f"{path}: cannot tell the trace format from its first line; pass a format ({', '.join(TRACE_FORMATS[1:])})"
    )


def load_trace(
    path: str | Path, fmt: str = "auto", *, rate_per_s: float | None = None, seed: int = 0
) -> StaticWorkload:
    """Read a trace in any supported format (`auto` looks at the first line)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p.name for p in path.iterdir() if p.suffix in (".csv", ".json", ".jsonl"))[:3]
        hint = f" (in it: {', '.join(files)})" if files else ""
        raise InvalidInputError(f"trace {path} is a directory: give one trace file{hint}")
    if not path.is_file():
        raise InvalidInputError(f"trace file {path} not found")
    if fmt not in TRACE_FORMATS:
        raise InvalidInputError(f"trace format must be one of {', '.join(TRACE_FORMATS)}, got {fmt!r}")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "vllm":
        return load_vllm_json(path, rate_per_s, seed)
    wl = {"azure": load_azure_csv, "mooncake": load_mooncake_jsonl, "burstgpt": load_burstgpt_csv}[fmt](path)
    if rate_per_s is not None:
        arr = np.cumsum(interarrival_s(np.random.default_rng(seed), rate_per_s, len(wl)))
        wl = StaticWorkload(
            arr - arr[0],
            wl.input_tokens,
            wl.output_tokens,
            wl.prefix_keys,
            wl.prefix_block_tokens,
            wl.source,
            (*wl.notes, f"Poisson arrivals at {rate_per_s:g}/s"),
        )
    return wl
