"""Background jobs (simulations): one thread each, progress in [0, 1], cancellation, bounded in number.

A job's function receives `progress(fraction)`; once the job is cancelled that callback raises
`Cancelled`, which ends the run at its next progress report.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from inferonomics.errors import InferonomicsError

log = logging.getLogger("inferonomics.web")

Status = Literal["running", "done", "cancelled", "failed"]


class Cancelled(Exception):
    """Raised inside a job's progress callback after a cancel request."""


class TooBusyError(Exception):
    """Too many jobs running or queued; `retry_after_s` is when to try again (the 429's Retry-After)."""

    def __init__(self, message: str, retry_after_s: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class Job:
    id: str
    kind: str
    created_s: float = field(default_factory=time.time)
    status: Status = "running"
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: str | None = None
    finished_s: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        end = self.finished_s or time.time()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 4),
            "elapsed_s": end - self.created_s,
            "error": self.error,
            "result": self.result,
        }


class JobManager:
    """At most `max_running` jobs at once and `max_kept` remembered (oldest finished ones dropped)."""

    def __init__(self, max_running: int = 2, max_kept: int = 32) -> None:
        self.max_running = max_running
        self.max_kept = max_kept
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def running(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status == "running")

    def submit(self, kind: str, fn: Callable[[Callable[[float], None]], dict[str, Any]]) -> Job:
        """Start `fn(progress)` in a daemon thread; raises TooBusyError when `max_running` are running."""
        with self._lock:
            if sum(1 for j in self._jobs.values() if j.status == "running") >= self.max_running:
                raise TooBusyError(f"{self.max_running} jobs already running; wait for one or cancel it")
            job = Job(id=uuid.uuid4().hex[:16], kind=kind)
            self._jobs[job.id] = job
            self._trim()
        threading.Thread(target=self._run, args=(job, fn), name=f"job-{job.id}", daemon=True).start()
        return job

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status != "running"]
        while len(self._jobs) > self.max_kept and finished:
            self._jobs.pop(finished.pop(0), None)

    def _run(self, job: Job, fn: Callable[[Callable[[float], None]], dict[str, Any]]) -> None:
        def progress(fraction: float) -> None:
            if job.cancel_event.is_set():
                raise Cancelled
            job.progress = max(job.progress, min(float(fraction), 1.0))

        try:
            result = fn(progress)
            if job.cancel_event.is_set():
                raise Cancelled
        except Cancelled:
            job.status = "cancelled"
        except InferonomicsError as exc:
            job.error = str(exc)
            job.status = "failed"
        except Exception as exc:  # never a traceback to the client; keep it in the server log
            log.exception("job %s failed", job.id)
            job.error = f"internal error ({type(exc).__name__}); see the server log"
            job.status = "failed"
        else:
            job.result = result
            job.progress = 1.0
            job.status = "done"
        finally:
            job.finished_s = time.time()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None and job.status == "running":
            job.cancel_event.set()
        return job

    def cancel_all(self) -> None:
        with self._lock:
            for j in self._jobs.values():
                j.cancel_event.set()


__all__ = ["Cancelled", "Job", "JobManager", "TooBusyError"]
