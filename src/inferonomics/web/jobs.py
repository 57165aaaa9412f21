"""One bounded executor for the web app's heavy work: worker processes with wall and memory budgets.

Every request that starts real work (simulate, search, uncached frontier) becomes a task run in a
worker *process* (spawn context: a fresh interpreter, never a fork of the threaded server), so the
server's own threads keep answering (`/api/health`) and its memory stays that of the server alone.

- At most `workers` tasks run at once and `queue` more wait; past that, `submit` raises
  `TooBusyError` with a Retry-After estimate (the API's 429).
- Each worker sets RLIMIT_AS on itself (`memory_bytes` + headroom for the interpreter's mappings) and
  the parent watches its resident memory every `poll_s`: above `memory_bytes` the worker is killed and
  the task fails with "over the memory budget". A task's `wall_s` covers the whole job (set-up, run,
  results): past it the worker is killed. Cancelling a running task kills its worker too, which frees
  its memory at once; a new worker is started for the next task.
- A task is `fn(payload, progress)` named by "module:function" (importable in the worker);
  `progress(fraction)` is sent back to the parent. Product errors (`InferonomicsError`) come back as
  `TaskError` with their class name, message and, where known, the field.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

log = logging.getLogger("inferonomics.web")

TaskStatus = Literal["queued", "running", "done", "failed", "cancelled"]
PRELOAD = ("inferonomics.web.work", "inferonomics.report.views", "inferonomics.report.charts", "inferonomics.serving")
"""Modules a worker imports as it starts (the tasks' own imports: seconds on a loaded machine)."""
AS_HEADROOM_BYTES = 3 * 1024**3
"""Address space past the memory budget: an interpreter with NumPy and pandas maps ~1-2 GB it never touches."""


class TooBusyError(Exception):
    """Too many tasks running and queued; `retry_after_s` is when to try again (the 429's Retry-After)."""

    def __init__(self, message: str, retry_after_s: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TaskError(Exception):
    """A task that ended without a result: its error class (`code`), message, and the field if known."""

    def __init__(self, code: str, message: str, field: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra or {}


@dataclass
class Task:
    id: str
    kind: str
    fn: str
    payload: Any
    wall_s: float
    created_s: float = field(default_factory=time.time)
    status: TaskStatus = "queued"
    progress: float = 0.0
    result: Any = None
    error: TaskError | None = None
    started_s: float | None = None
    finished_s: float | None = None
    peak_rss_bytes: int = 0
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    cancel_requested: bool = False

    def wait(self, timeout: float | None = None) -> Any:
        """The result (blocking); raises `TaskError` if the task failed or was cancelled."""
        self.done.wait(timeout)
        if self.status == "done":
            return self.result
        raise self.error or TaskError("Cancelled", f"{self.kind} was cancelled")

    def to_dict(self) -> dict[str, Any]:
        end = self.finished_s or time.time()
        err = self.error
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 4),
            "elapsed_s": end - self.created_s,
            "error": None if err is None else {"code": err.code, "message": err.message, "field": err.field},
            "result": self.result if self.status == "done" else None,
        }


# ---------------------------------------------------------------------------------------------------
# The worker process
# ---------------------------------------------------------------------------------------------------


def _worker_main(conn: Connection, memory_bytes: int) -> None:
    """Loop: receive (fn, payload), run it, send ("progress", f) ... then ("ok", result) or ("err", ...)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # the server's own threads (health, light endpoints) come first for the CPU
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        limit = int(memory_bytes + AS_HEADROOM_BYTES)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import importlib

    for module in PRELOAD:  # before the first task, so a task's wall budget is not spent on imports
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        fn_name, payload = msg
        try:
            module, _, name = fn_name.partition(":")
            fn = getattr(importlib.import_module(module), name)
            result = fn(payload, _Throttled(conn))
            conn.send(("ok", result))
        except MemoryError:
            conn.send(("err", ("OverBudget", f"over the memory budget of {memory_bytes / 1e9:.1f} GB", None, {})))
        except Exception as exc:  # noqa: BLE001 - every error goes back to the parent as data
            conn.send(("err", _describe(exc)))


class _Throttled:
    """A progress callback that sends at most 5 messages a second to the parent."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.last = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last >= 0.2:
            self.last = now
            self.conn.send(("progress", float(fraction)))


def _describe(exc: Exception) -> tuple[str, str, str | None, dict[str, Any]]:
    from inferonomics.errors import DoesNotFitError, InferonomicsError

    if isinstance(exc, TaskError):
        return exc.code, exc.message, exc.field, exc.extra
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("inferonomics"):
        return "NotImplemented", f"not available in this build ({exc.name} is missing)", None, {}
    if isinstance(exc, InferonomicsError):
        extra: dict[str, Any] = {}
        if isinstance(exc, DoesNotFitError):
            extra = {"required_gb": exc.required_bytes / 1e9, "available_gb": exc.available_bytes / 1e9}
        return type(exc).__name__, str(exc), getattr(exc, "field", None), extra
    import traceback

    traceback.print_exc()  # the worker's stderr is the server's log
    return "InternalError", f"internal error ({type(exc).__name__}); see the server log", None, {"internal": True}


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Worker:
    """One spawned process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, memory_bytes: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main, args=(child, memory_bytes), daemon=True, name="inferonomics-worker"
        )
        self.proc.start()
        child.close()

    def alive(self) -> bool:
        return bool(self.proc.is_alive())

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


# ---------------------------------------------------------------------------------------------------
# The executor
# ---------------------------------------------------------------------------------------------------


class Executor:
    """`workers` worker processes fed from one bounded queue (see the module docstring)."""

    def __init__(
        self,
        workers: int = 2,
        queue_size: int = 4,
        memory_bytes: int = 2 * 1024**3,
        max_kept: int = 64,
        poll_s: float = 0.1,
        typical_task_s: float = 10.0,
    ) -> None:
        self.workers = max(1, workers)
        self.queue_size = max(0, queue_size)
        self.memory_bytes = int(memory_bytes)
        self.max_kept = max_kept
        self.poll_s = poll_s
        self.typical_task_s = typical_task_s
        self._ctx = multiprocessing.get_context("spawn")
        self._queue: queue.Queue[Task | None] = queue.Queue()
        self._tasks: dict[str, Task] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        self._procs: list[_Worker | None] = [None] * self.workers
        self._threads: list[threading.Thread] = []
        self._closed = False

    # -- bookkeeping ---------------------------------------------------------------------------------
    def _active(self) -> int:
        return sum(1 for t in self._tasks.values() if t.status in ("queued", "running"))

    def running(self) -> int:
        with self._lock:
            return sum(1 for t in self._tasks.values() if t.status == "running")

    def queued(self) -> int:
        with self._lock:
            return sum(1 for t in self._tasks.values() if t.status == "queued")

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def _trim(self) -> None:
        finished = [k for k in self._order if self._tasks[k].status not in ("queued", "running")]
        while len(self._order) > self.max_kept and finished:
            k = finished.pop(0)
            self._order.remove(k)
            del self._tasks[k]

    def _start_threads(self) -> None:
        if self._threads:
            return
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, args=(i,), name=f"executor-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    # -- API -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start every worker now (they import what tasks need while the server starts), not at the first task."""
        with self._lock:
            self._start_threads()
            for slot in range(self.workers):
                self._worker(slot)

    def submit(self, kind: str, fn: str, payload: Any, wall_s: float) -> Task:
        """Queue `fn(payload, progress)`; raises TooBusyError when `workers + queue_size` tasks are active."""
        with self._lock:
            if self._closed:
                raise TooBusyError("the server is shutting down", 5.0)
            active = self._active()
            if active >= self.workers + self.queue_size:
                wait_s = self.typical_task_s * (1 + (active - self.workers + 1) / self.workers)
                raise TooBusyError(
                    f"{active} heavy tasks running or queued (limit {self.workers} running + {self.queue_size} "
                    f"queued); retry in about {wait_s:.0f} s",
                    wait_s,
                )
            task = Task(id=uuid.uuid4().hex[:16], kind=kind, fn=fn, payload=payload, wall_s=wall_s)
            self._tasks[task.id] = task
            self._order.append(task.id)
            self._trim()
            self._start_threads()
        self._queue.put(task)
        return task

    def run(self, kind: str, fn: str, payload: Any, wall_s: float) -> Any:
        """Submit and wait for the result (raises TooBusyError or TaskError)."""
        return self.submit(kind, fn, payload, wall_s).wait()

    def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued task, or kill the worker of a running one (its memory is freed at once)."""
        task = self.get(task_id)
        if task is None:
            return None
        with self._lock:
            if task.status == "queued":
                self._finish(task, "cancelled", None)
            elif task.status == "running":
                task.cancel_requested = True
        return task

    def cancel_all(self) -> None:
        with self._lock:
            ids = list(self._tasks)
        for k in ids:
            self.cancel(k)

    def shutdown(self) -> None:
        """Cancel everything and stop the workers."""
        self.cancel_all()
        with self._lock:
            self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(10)
        for i, w in enumerate(self._procs):
            if w is not None:
                w.kill()
                self._procs[i] = None

    # -- the dispatch loop (one thread per worker slot) ------------------------------------------------
    def _finish(self, task: Task, status: TaskStatus, error: TaskError | None, result: Any = None) -> None:
        if task.status in ("done", "failed", "cancelled"):
            return
        task.status = status
        task.error = error
        task.result = result
        if status == "done":
            task.progress = 1.0
        task.finished_s = time.time()
        task.done.set()

    def _worker(self, slot: int) -> _Worker:
        w = self._procs[slot]
        if w is None or not w.alive():
            if w is not None:
                w.kill()
            w = _Worker(self._ctx, self.memory_bytes)
            self._procs[slot] = w
        return w

    def _loop(self, slot: int) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            with self._lock:
                if task.status != "queued":
                    continue
                task.status = "running"
                task.started_s = time.time()
            try:
                self._run(slot, task)
            except Exception as exc:  # noqa: BLE001 - never lose a task: it fails with the reason
                log.exception("executor: task %s failed in the dispatcher", task.id)
                w = self._procs[slot]
                if w is not None:
                    w.kill()
                    self._procs[slot] = None
                with self._lock:
                    self._finish(task, "failed", TaskError("InternalError", f"internal error ({type(exc).__name__})"))

    def _run(self, slot: int, task: Task) -> None:
        w = self._worker(slot)
        w.conn.send((task.fn, task.payload))
        deadline = (task.started_s or time.time()) + task.wall_s
        outcome: tuple[TaskStatus, TaskError | None, Any] | None = None
        while outcome is None:
            try:
                ready = w.conn.poll(self.poll_s)
            except (EOFError, OSError):
                ready = False
            if ready:
                try:
                    kind, value = w.conn.recv()
                except (EOFError, OSError):
                    kind, value = "dead", None
                if kind == "progress":
                    task.progress = max(task.progress, min(float(value), 1.0))
                    continue
                if kind == "ok":
                    outcome = ("done", None, value)
                elif kind == "err":
                    code, message, fld, extra = value
                    outcome = ("failed", TaskError(code, message, fld, extra), None)
                else:
                    outcome = self._died(task, w)
                break
            rss = _rss_bytes(w.proc.pid) if w.proc.pid else 0
            task.peak_rss_bytes = max(task.peak_rss_bytes, rss)
            if task.cancel_requested:
                outcome = ("cancelled", None, None)
            elif rss > self.memory_bytes:
                outcome = (
                    "failed",
                    TaskError(
                        "OverBudget",
                        f"{task.kind} stopped: its worker used {rss / 1e9:.1f} GB, over this server's memory budget "
                        f"of {self.memory_bytes / 1e9:.1f} GB per task; ask for less work (fewer requests, replicas "
                        "or shorter outputs)",
                    ),
                    None,
                )
            elif time.time() > deadline:
                outcome = (
                    "failed",
                    TaskError(
                        "OverBudget",
                        f"{task.kind} stopped: over this server's wall-time budget of {task.wall_s:.0f} s per task "
                        "(set-up, run and results); ask for less work",
                    ),
                    None,
                )
            elif not w.alive():
                outcome = self._died(task, w)
        assert outcome is not None
        status, error, result = outcome
        if status == "cancelled" or (error is not None and error.code in ("OverBudget", "WorkerDied")) or not w.alive():
            w.kill()  # frees the worker's memory at once; the next task starts a fresh worker
            self._procs[slot] = None
        with self._lock:
            self._finish(task, status, error, result)

    def _died(self, task: Task, w: _Worker) -> tuple[TaskStatus, TaskError, None]:
        code = w.proc.exitcode
        what = "killed (out of memory?)" if code is not None and code < 0 else f"exited with code {code}"
        return "failed", TaskError("WorkerDied", f"{task.kind}: the worker process {what}"), None


__all__ = ["Executor", "Task", "TaskError", "TooBusyError"]
