#!/usr/bin/env python
"""A bounded load test of the web API on loopback: requests/s and latency percentiles, no errors allowed.

Starts `inferonomics serve --no-open` on a free 127.0.0.1 port in its own process, then for each scenario
runs `--clients` threads sending requests back to back for `--duration` seconds (or `--max-requests`):

- predict: POST /api/predict, varied model and concurrency (nothing memoised);
- frontier (cold): POST /api/frontier, a different ISL each request (every one computes the sweep);
- frontier (repeat): POST /api/frontier, the same body (what the page sends when a view is reloaded).

Exit code 1 if any request fails (non-200 or a transport error).

With `--saturate`, one more scenario: `--clients` threads keep the heavy endpoints busy (cold frontier
sweeps, simulations polled to the end, searches; 429 "busy" answers are expected and counted, not errors)
while one prober GETs /api/health every 50 ms; it reports the health p50/p99/max and the peak resident
memory of the server process (and, separately, of its worker processes).

    python benchmarks/web_load.py [--duration 8] [--clients 4] [--saturate] [--json]
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
"""The issue's simulation that peaked at 5.2 GB and ran 49 s in the server."""
HEAVY_SEARCH = {"model": "Llama-3.1-8B", "hardware": ["h100_sxm"], "rate_per_s": 1e6, "recheck": 1}
"""The issue's search that sized 1,256,046 replicas and ran 633 s."""
LONG_SIMULATE = {
    "model": "Llama-3.1-8B",
    "hardware": "h100_sxm",
    "tp": 1,
    "workload": "closed_loop",
    "concurrency": 256,
    "num_requests": 20000,
    "osl": 2048,
    "max_wall_s": 20,
}
"""An accepted simulation that keeps a worker busy for its whole 20 s budget."""


def issue_requests(base: str) -> dict[str, Any]:
    """The issue's two oversized requests, once each: status, wall time and the answer's first words."""
    out = {}
    with httpx.Client(base_url=base, timeout=900) as c:
        for name, path, body in (
            ("search rate 1e6", "/api/search", HEAVY_SEARCH),
            ("simulate 5.2 GB", "/api/simulate", HEAVY_SIMULATE),
        ):
            t0 = time.perf_counter()
            r = c.post(path, json=body)
            text = (
                r.json().get("error", {}).get("message")
                if r.status_code >= 400
                else "; ".join(r.json().get("notes", []))
            )
            out[name] = {"status": r.status_code, "wall_s": time.perf_counter() - t0, "says": (text or "")[:160]}
    return out


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for t in tasks:  # a child belongs to the thread that started it
        try:
            with open(f"/proc/{pid}/task/{t}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return kids + [g for k in kids for g in _children(k)]


def probe_idle(base: str, duration_s: float) -> dict[str, Any]:
    """/api/health every 50 ms with nothing else running: the machine's own latency floor."""
    lat = []
    stop = time.monotonic() + duration_s
    with httpx.Client(base_url=base, timeout=30) as c:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            c.get("/api/health")
            lat.append(time.perf_counter() - t0)
            time.sleep(0.05)
    a = np.array(lat) * 1e3
    return {"probes": int(a.size), "p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99))}


def saturate(base: str, server_pid: int, clients: int, duration_s: float) -> dict[str, Any]:
    """Heavy requests from `clients` threads; /api/health probed every 50 ms; server and worker memory."""
    stop = time.monotonic() + duration_s
    counts: dict[str, int] = {}
    lock = threading.Lock()
    health: list[float] = []
    health_errors: list[str] = []
    peak = {"server_kib": 0, "workers_kib": 0}

    def count(key: str) -> None:
        with lock:
            counts[key] = counts.get(key, 0) + 1

    def heavy(k: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as c:
            i = 0
            while time.monotonic() < stop:
                i += 1
                kind = ("frontier", "simulate", "search")[(k + i) % 3]
                try:
                    if kind == "frontier":
                        body = {"model": "Llama-3.1-70B", "hardware": "h100_sxm", "isl": 100 + 7 * i + k, "osl": 300}
                        r = c.post("/api/frontier", json=body)
                    elif kind == "search":
                        body = {"model": "Llama-3.1-8B", "rate_per_s": 1 + i + k / 10, "recheck": 1, "osl": 256}
                        r = c.post("/api/search", json=body)
                    else:
                        r = c.post("/api/simulate", json=LONG_SIMULATE)
                        if r.status_code == 202:
                            job = r.json()["id"]
                            while time.monotonic() < stop:
                                st = c.get(f"/api/simulate/{job}").json()
                                if st["status"] != "running" and st["status"] != "queued":
                                    break
                                time.sleep(0.5)
                            else:
                                c.delete(f"/api/simulate/{job}")
                    count(f"{kind} {r.status_code}")
                    if r.status_code == 429:
                        time.sleep(min(float(r.headers.get("retry-after", "1")), 2.0))
                except httpx.HTTPError as exc:
                    count(f"{kind} {type(exc).__name__}")

    def probe() -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    r = c.get("/api/health")
                    if r.status_code != 200:
                        health_errors.append(str(r.status_code))
                except httpx.HTTPError as exc:
                    health_errors.append(type(exc).__name__)
                health.append(time.perf_counter() - t0)
                peak["server_kib"] = max(peak["server_kib"], _rss_kib(server_pid))
                peak["workers_kib"] = max(peak["workers_kib"], sum(_rss_kib(p) for p in _children(server_pid)))
                time.sleep(0.05)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=heavy, args=(k,)) for k in range(clients)] + [threading.Thread(target=probe)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = np.array(health) * 1e3
    return {
        "wall_s": time.perf_counter() - t0,
        "heavy_requests": dict(sorted(counts.items())),
        "health_requests": int(lat.size),
        "health_errors": len(health_errors),
        "health_p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
        "health_p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
        "health_max_ms": float(lat.max()) if lat.size else None,
        "server_peak_rss_mb": peak["server_kib"] / 1024,
        "server_hwm_mb": _rss_kib(server_pid, "VmHWM") / 1024,
        "workers_peak_rss_mb": peak["workers_kib"] / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per scenario (default 8)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    ap.add_argument("--max-requests", type=int, default=20_000, help="cap per scenario")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--saturate", action="store_true", help="also: heavy endpoints saturated, health probed")
    ap.add_argument("--only-saturate", action="store_true", help="only the saturation scenario")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.duration > 300 or args.clients < 1 or args.clients > 64:
        ap.error("--duration must be in (0, 300] s and --clients in [1, 64]")

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
    sat: dict[str, Any] | None = None
    try:
        with httpx.Client(base_url=base, timeout=60) as c:  # warm up imports and catalogs
            c.get("/api/catalog")
            c.post("/api/predict", json=scenarios["predict"][1](0))
            c.post("/api/frontier", json={"model": "Llama-3.1-8B", "hardware": "h100_sxm", "max_chips": 8})
        for name, (path, bodies) in scenarios.items():
            if not args.only_saturate:
                results[name] = run_scenario(base, path, bodies, args.clients, args.duration, args.max_requests)
        if args.saturate or args.only_saturate:
            idle = probe_idle(base, min(args.duration, 10.0))
            issue = issue_requests(base)
            sat = saturate(base, proc.pid, args.clients, args.duration)
            sat["idle_health"] = idle
            sat["issue_requests"] = issue
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    failed = sum(r["errors"] for r in results.values()) + (sat["health_errors"] if sat else 0)
    out = {
        "clients": args.clients,
        "duration_s": args.duration,
        "cpu_count": os.cpu_count(),
        "scenarios": results,
        "saturated": sat,
    }
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
        if sat:
            print(
                f"saturated ({sat['wall_s']:.0f} s): health p50 {sat['health_p50_ms']:.1f} ms, p99 "
                f"{sat['health_p99_ms']:.1f} ms, max {sat['health_max_ms']:.1f} ms "
                f"over {sat['health_requests']} probes "
                f"({sat['health_errors']} errors); server peak RSS {sat['server_peak_rss_mb']:.0f} MB "
                f"(high-water {sat['server_hwm_mb']:.0f} MB), workers {sat['workers_peak_rss_mb']:.0f} MB"
            )
            idle = sat["idle_health"]
            print(f"    idle server first: health p50 {idle['p50_ms']:.1f} ms, p99 {idle['p99_ms']:.1f} ms")
            for name, r in sat["issue_requests"].items():
                print(f"    {name}: {r['status']} in {r['wall_s']:.1f} s: {r['says']}")
            print("    heavy requests: " + ", ".join(f"{k}: {v}" for k, v in sat["heavy_requests"].items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
