#!/usr/bin/env python
"""A bounded load test of the web API on loopback: requests/s and latency percentiles, no errors allowed.

Starts `inferonomics serve --no-open` on a free 127.0.0.1 port in its own process, then for each scenario
runs `--clients` threads sending requests back to back for `--duration` seconds (or `--max-requests`):

- predict: POST /api/predict, varied model and concurrency (nothing memoised);
- frontier (cold): POST /api/frontier, a different ISL each request (every one computes the sweep);
- frontier (repeat): POST /api/frontier, the same body (what the page sends when a view is reloaded).

Exit code 1 if any request fails (non-200 or a transport error).

    python benchmarks/web_load.py [--duration 8] [--clients 4] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "inferonomics", "serve", "--no-open", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


def run_scenario(
    base: str, path: str, bodies: Callable[[int], dict[str, Any]], clients: int, duration_s: float, max_requests: int
) -> dict[str, Any]:
    """`clients` threads POST `bodies(i)` back to back until the time or request budget runs out."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()
    stop = time.monotonic() + duration_s

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            while time.monotonic() < stop:
                i = next(counter)
                if i >= max_requests:
                    return
                t0 = time.perf_counter()
                try:
                    r = c.post(path, json=bodies(i))
                    ok = r.status_code == 200
                    err = "" if ok else f"{r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, err = False, f"{type(exc).__name__}: {exc}"
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if not ok:
                        errors.append(err)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1e3
    return {
        "path": path,
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "wall_s": wall,
        "requests_per_s": len(latencies) / wall if wall > 0 else 0.0,
        "p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
        "p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
        "max_ms": float(lat.max()) if lat.size else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per scenario (default 8)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    ap.add_argument("--max-requests", type=int, default=20_000, help="cap per scenario")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.duration > 120 or args.clients < 1 or args.clients > 64:
        ap.error("--duration must be in (0, 120] s and --clients in [1, 64]")

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    models = ["Llama-3.1-8B", "Llama-3.1-70B", "Qwen3-32B"]
    concurrencies = [1, 2, 4, 8, 16, 32, 64, 128]
    scenarios: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
        "predict": (
            "/api/predict",
            lambda i: {
                "model": models[i % len(models)],
                "hardware": "h100_sxm",
                "tp": 4,
                "isl": 1024,
                "osl": 512,
                "concurrency": concurrencies[i % len(concurrencies)],
            },
        ),
        "frontier (cold)": (
            "/api/frontier",
            lambda i: {"model": "Llama-3.1-8B", "hardware": "h100_sxm", "isl": 512 + i, "osl": 256, "max_chips": 8},
        ),
        "frontier (repeat)": (
            "/api/frontier",
            lambda i: {"model": "Llama-3.1-70B", "hardware": "h100_sxm", "isl": 1024, "osl": 1024},
        ),
    }
    results: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=base, timeout=60) as c:  # warm up imports and catalogs
            c.get("/api/catalog")
            c.post("/api/predict", json=scenarios["predict"][1](0))
            c.post("/api/frontier", json={"model": "Llama-3.1-8B", "hardware": "h100_sxm", "max_chips": 8})
        for name, (path, bodies) in scenarios.items():
            results[name] = run_scenario(base, path, bodies, args.clients, args.duration, args.max_requests)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    failed = sum(r["errors"] for r in results.values())
    out = {"clients": args.clients, "duration_s": args.duration, "cpu_count": os.cpu_count(), "scenarios": results}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"loopback, {args.clients} clients, {args.duration:g} s per scenario, {os.cpu_count()} CPUs")
        head = ("requests", "req/s", "p50 ms", "p99 ms", "max ms")
        print(f"{'scenario':20s} " + " ".join(f"{h:>9s}" for h in head) + f" {'errors':>7s}")
        for name, r in results.items():
            print(
                f"{name:20s} {r['requests']:>9,d} {r['requests_per_s']:>9.1f} {r['p50_ms']:>9.1f} {r['p99_ms']:>9.1f} "
                f"{r['max_ms']:>9.1f} {r['errors']:>7d}"
            )
            for e in r["first_errors"]:
                print(f"    error: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
