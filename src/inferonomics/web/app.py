"""The FastAPI app: a JSON API under `/api` (OpenAPI at `/docs`) and the single page at `/`.

Presentation only: each endpoint validates its body (pydantic, `schemas.py`), resolves names in the
built-in catalog (never a path), calls the Python API through `inferonomics.report.views` and returns
JSON with Plotly figure dicts under `charts`. Product errors become 4xx naming the field; bodies over
64 KiB get 413. Heavy work (simulate, search, uncached frontier) is sized first (`budget.py`: refused
with a 400 naming the limit and the knob) and runs in worker processes with wall-time and memory
budgets (`jobs.Executor`); a full queue is a 429 with Retry-After.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inferonomics.errors import DoesNotFitError, InferonomicsError, UnknownNameError, excerpt
from inferonomics.report import charts, views
from inferonomics.web import budget
from inferonomics.web import schemas as S
from inferonomics.web.jobs import Executor, TaskError, TooBusyError

log = logging.getLogger("inferonomics.web")

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


# ---------------------------------------------------------------------------------------------------
# Responses and errors
# ---------------------------------------------------------------------------------------------------


def nonfinite_paths(obj: Any, path: str = "", limit: int = 20) -> dict[str, str]:
    """Where `obj` holds NaN or infinities, as {dotted path: "infinite" | "not a number"} (at most `limit`)."""
    found: dict[str, str] = {}

    def walk(o: Any, p: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(o, float | np.floating):
            if not math.isfinite(o):
                found[p or "."] = "not a number" if o != o else "infinite"
        elif isinstance(o, dict):
            for k, v in o.items():
                walk(v, f"{p}.{k}" if p else str(k))
        elif isinstance(o, list | tuple):
            for i, v in enumerate(o):
                walk(v, f"{p}[{i}]")

    walk(obj, path)
    return found


class CleanJSONResponse(JSONResponse):
    """JSON with NumPy values unwrapped (never a 500 on serialisation). A NaN or infinity becomes null and,
    in an object body, is named with what it was under `undefined` (`{"a.b": "infinite"}`) unless the
    producer already said why there."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, dict):
            bad = nonfinite_paths(content)
            if bad:
                said = content.get("undefined") or {}
                content = {**content, "undefined": {**{k: v for k, v in bad.items() if k not in said}, **said}}
        return json.dumps(views.plain(content), allow_nan=False, separators=(",", ":")).encode("utf-8")


class ErrorInfo(BaseModel):
    code: str
    """The error's kind, e.g. UnknownNameError, ValidationError, DoesNotFitError, TooBusy."""
    message: str
    """One line for people, naming the field (a bad value is quoted as a short excerpt)."""
    field: str | None = None
    """The request field at fault (dotted path), when there is one."""


class ErrorBody(BaseModel):
    """Every 4xx and 5xx body: `{"error": {"code", "message", "field", ...}}` (extra keys by code)."""

    error: ErrorInfo


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Product error (unknown name, inconsistent input, does not fit)."},
    413: {"model": ErrorBody, "description": "Request body over 64 KiB."},
    422: {"model": ErrorBody, "description": "A field missing, of the wrong type or out of range."},
}
BUSY: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "The work queue is full; retry after `Retry-After` seconds."}
}
MAX_MESSAGE_CHARS = 400

INTERNAL_NAMES = {"moe_ep": "ep", "usd_per_chip_hour": "usd_per_chip_hour"}
"""Library argument names in product errors -> the request field that sets them."""


class FieldError(Exception):
    """A product error attributed to one request field."""

    def __init__(self, field: str, error: InferonomicsError, status: int = 400) -> None:
        self.field = field
        self.error = error
        self.status = status
        super().__init__(f"{field}: {error}")


def error_payload(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The one error shape of the API (and of the CLI's `--json`)."""
    return {"error": {"code": code, "message": excerpt(message, MAX_MESSAGE_CHARS), "field": field, **extra}}


def _error(
    status: int, message: str, field: str | None, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> CleanJSONResponse:
    return CleanJSONResponse(error_payload(code, message, field, **extra), status_code=status, headers=headers)


def _guess_field(message: str, names: Sequence[str]) -> str | None:
    """The first request field a product error's message names, if any."""
    for internal, name in INTERNAL_NAMES.items():
        if name in names and re.search(rf"(?<![\w.]){internal}(?![\w])", message):
            return name
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message):
            return name
    return None


def _product_error(exc: InferonomicsError, field: str | None, status: int = 400) -> CleanJSONResponse:
    extra: dict[str, Any] = {}
    if isinstance(exc, DoesNotFitError):
        extra = {"required_gb": exc.required_bytes / 1e9, "available_gb": exc.available_bytes / 1e9}
    msg = str(exc)
    for internal, name in INTERNAL_NAMES.items():
        msg = re.sub(rf"(?<![\w.-]){internal}(?![\w])", name, msg)
    return _error(
        status, f"{field}: {msg}" if field and not msg.startswith(field) else msg, field, type(exc).__name__, **extra
    )


def _validation_message(e: dict[str, Any]) -> tuple[str | None, str]:
    loc = [str(x) for x in e.get("loc", ())]
    where = [x for x in loc if x not in ("body", "query", "path")]
    field = ".".join(where) or None
    msg = str(e.get("msg", "invalid request"))
    if e.get("type") == "missing":
        msg = "required field missing"
    return field, f"{field}: {msg}" if field else msg


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        details = []
        for e in errors[:10]:
            f, m = _validation_message(e)
            details.append({"field": f, "message": excerpt(m, 200), "type": str(e.get("type", ""))})
        field, message = _validation_message(errors[0]) if errors else (None, "invalid request")
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        return _error(422, message, field, "ValidationError", details=details)

    @app.exception_handler(FieldError)
    async def _field(request: Request, exc: FieldError) -> Response:
        return _product_error(exc.error, exc.field, exc.status)

    @app.exception_handler(InferonomicsError)
    async def _product(request: Request, exc: InferonomicsError) -> Response:
        names = getattr(request.state, "field_names", ())
        return _product_error(exc, getattr(exc, "field", None) or _guess_field(str(exc), names))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "NotFound", 405: "MethodNotAllowed", 413: "TooLarge"}.get(exc.status_code, "HTTPError")
        return _error(exc.status_code, str(exc.detail), None, code, headers=dict(exc.headers or {}))

    @app.exception_handler(TaskError)
    async def _task(request: Request, exc: TaskError) -> Response:
        status = {"InternalError": 500, "WorkerDied": 503, "NotImplemented": 501}.get(exc.code, 400)
        field = exc.field or _guess_field(exc.message, getattr(request.state, "field_names", ()))
        return _error(status, exc.message, field, exc.code, **{k: v for k, v in exc.extra.items() if k != "internal"})

    @app.exception_handler(TooBusyError)
    async def _busy(request: Request, exc: TooBusyError) -> Response:
        retry = max(1, int(round(exc.retry_after_s)))
        return _error(429, str(exc), None, "TooBusy", headers={"Retry-After": str(retry)}, retry_after_s=retry)

    @app.exception_handler(ModuleNotFoundError)
    async def _missing(request: Request, exc: ModuleNotFoundError) -> Response:
        if (exc.name or "").startswith("inferonomics"):  # an area not in this build yet
            return _error(
                501, f"{request.url.path}: not available in this build ({exc.name} is missing)", None, "NotImplemented"
            )
        return await _internal(request, exc)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); see the server log", None, "InternalError")


# ---------------------------------------------------------------------------------------------------
# Middleware: body size, security headers
# ---------------------------------------------------------------------------------------------------


class _TooLarge(StarletteHTTPException):
    """Raised while reading a body past the limit (FastAPI passes HTTP exceptions through)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body over {max_bytes // 1024} KiB")


class BodySizeLimit:
    """413 for request bodies over `max_bytes`, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        body = json.dumps(error_payload("TooLarge", f"request body over {self.max_bytes // 1024} KiB")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    too_big = int(v) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(send)
                    return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                await self._reject(send)


class SecurityHeaders:
    """CSP (the page loads only from this origin), nosniff, no referrer, no framing."""

    HEADERS = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg = {**msg, "headers": [*msg.get("headers", []), *self.HEADERS]}
            await send(msg)

        await self.app(scope, receive, with_headers)


def host_of(header: str) -> str:
    """The host of a Host header without its port: `[::1]:8000` -> `::1`, `127.0.0.1:80` -> `127.0.0.1`."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class TrustedHosts:
    """400 unless the Host header names one of `allowed` (DNS-rebinding guard; IPv6 literals in brackets)."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = {h.strip("[]").lower() for h in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
        if host_of(host) in self.allowed:
            await self.app(scope, receive, send)
            return
        await CleanJSONResponse(
            error_payload("InvalidHost", f"invalid host header {excerpt(host, 60)!r}", "host"), status_code=400
        )(scope, receive, send)


# ---------------------------------------------------------------------------------------------------
# Name resolution (built-in catalog only: a request never names a file)
# ---------------------------------------------------------------------------------------------------


def _model(name: str, field: str = "model") -> Any:
    from inferonomics.catalog.model_catalog import builtin_catalog

    try:
        return builtin_catalog().get(name)
    except InferonomicsError as exc:
        raise FieldError(field, exc) from None


def _system(name: str, field: str = "hardware") -> Any:
    from inferonomics.catalog.hardware_catalog import get_hardware

    try:
        return get_hardware(name)
    except InferonomicsError as exc:
        raise FieldError(field, exc) from None


def _precision(name: str | None, field: str) -> str | None:
    if name is None:
        return None
    from inferonomics.catalog.precision import get_precision

    try:
        return get_precision(name).name
    except InferonomicsError as exc:
        raise FieldError(field, exc) from None


def _sheet(name: str, field: str) -> str:
    from inferonomics.catalog.prices import get_price_sheet

    try:
        return get_price_sheet(name).key
    except InferonomicsError as exc:
        raise FieldError(field, exc) from None


def _resolved(b: S.DeploymentBody, workload: Any = None) -> Any:
    """The body's deployment through the one resolver (`economics.spec`): `tp=None` = auto, the cheapest
    that fits and meets the body's targets; the result carries a `note` saying which and why. `workload`:
    the resolver's `Workload` when the body's own fields do not say it (a simulation's)."""
    from inferonomics.economics.spec import DeploymentSpec, Workload

    model = _model(b.model)
    system = _system(b.hardware)
    w = _precision(b.precision, "precision")
    kv = _precision(b.kv_precision, "kv_precision")
    experts = _precision(b.expert_precision, "expert_precision")
    auto = b.tp is None
    # the load the deployment must hold: the clients, or the roofline's batch
    concurrency = getattr(b, "concurrency", None) or getattr(b, "batch_size", None)
    if getattr(b, "max_throughput", False):
        concurrency = None
    spec = DeploymentSpec(
        model,
        system,
        tp="auto" if b.tp is None else b.tp,
        pp=None if auto and b.pp == 1 else b.pp,
        ep=None if auto and b.ep == 1 else b.ep,
        attention_dp=None if auto and b.attention_dp == 1 else b.attention_dp,
        dp=b.dp,
        precision=w,
        kv_precision=kv,
        expert_precision=experts,
        backend=b.backend,
        engine_args=b.engine_args(),
        **_speculative(b),
    )
    speed = getattr(b, "min_tokens_per_s_per_user", None)
    return spec.resolve(workload or Workload(b.isl, b.osl, concurrency, min_tokens_per_s_per_user=speed))


def _deployment(b: S.DeploymentBody) -> Any:
    return _resolved(b).deployment


def _speculative(b: S.DeploymentBody) -> dict[str, Any]:
    """The body's speculative decoding as `make_deployment` keywords (a 400 on the field when wrong)."""
    if b.acceptance and not b.spec_tokens:
        raise FieldError("acceptance", _invalid("acceptance needs spec_tokens >= 1"))
    if any(not 0.0 <= a < 1.0 for a in b.acceptance):
        raise FieldError("acceptance", _invalid(f"acceptance per position must be in [0, 1), got {b.acceptance}"))
    return {"speculative_tokens": b.spec_tokens, "acceptance": tuple(b.acceptance)}


def _disaggregated_prediction(b: S.PredictBody) -> dict[str, Any]:
    """Prefill and decode pools of the body (mode 'disagg'), each with its own parallelism."""
    if b.prefill is None or b.decode is None:
        raise FieldError("prefill" if b.prefill is None else "decode", _invalid("mode 'disagg' needs both pools"))
    if b.concurrency is None or b.max_throughput:
        raise FieldError("concurrency", _invalid("disaggregated prediction needs a concurrency"))
    from inferonomics.economics.spec import DeploymentSpec, Pool, Workload

    def pool(p: S.PoolBody) -> Pool:
        return Pool(p.instances, "auto" if p.tp is None else p.tp, p.pp, p.ep, p.attention_dp)

    resolved = DeploymentSpec(
        _model(b.model),
        _system(b.hardware),
        precision=_precision(b.precision, "precision"),
        kv_precision=_precision(b.kv_precision, "kv_precision"),
        expert_precision=_precision(b.expert_precision, "expert_precision"),
        backend=b.backend,
        **_speculative(b),
        mode="disagg",
        prefill=pool(b.prefill),
        decode=pool(b.decode),
        engine_args=b.engine_args(),
    ).resolve(Workload(b.isl, b.osl, b.concurrency))
    out = views.disaggregated_view(resolved.disagg, b.isl, b.osl, b.concurrency)
    out["resolution_note"] = resolved.note
    return out


class _LRU:
    """A small thread-safe memo of pure results (same body, same answer)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._d: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = compute()
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value


@lru_cache(maxsize=1)
def _plotly_js() -> tuple[bytes, bytes]:
    """plotly.min.js from the Python `plotly` package, plain and gzipped."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if path.is_file():
        raw = path.read_bytes()
    else:  # pragma: no cover - other plotly layouts
        from plotly.offline import get_plotlyjs

        raw = get_plotlyjs().encode("utf-8")
    return raw, gzip.compress(raw, 6)


# ---------------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------------


def create_app(
    *,
    trusted_hosts: Sequence[str] | None = LOOPBACK_HOSTS,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_running_jobs: int = 2,
    queued_jobs: int = 4,
    worker_memory_bytes: int = budget.WORKER_MEMORY_BYTES,
    prestart_workers: bool = True,
) -> FastAPI:
    """The web app. `trusted_hosts`: Host headers accepted (DNS-rebinding guard); None = any.
    `max_running_jobs` worker processes run heavy work, `queued_jobs` more wait, each task within
    `worker_memory_bytes` of resident memory and its own wall-time budget; `prestart_workers` starts
    them with the app (else at the first heavy request)."""
    from inferonomics import __version__

    jobs = Executor(workers=max_running_jobs, queue_size=queued_jobs, memory_bytes=worker_memory_bytes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if prestart_workers:
            jobs.start()
        yield
        jobs.shutdown()

    app = FastAPI(
        title="inferonomics",
        version=__version__,
        description="What it costs, in money and time, to serve a large language model.",
        default_response_class=CleanJSONResponse,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.jobs = jobs
    memo = _LRU(64)

    def cached(key: str, compute: Callable[[], Any]) -> Response:
        """The JSON of `compute()`, rendered once per distinct request and then served from memory."""
        body = memo.get(key, lambda: CleanJSONResponse(compute()).body)
        return Response(body, media_type="application/json")

    _install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]
    if trusted_hosts is not None:
        app.add_middleware(TrustedHosts, allowed=list(trusted_hosts))  # type: ignore[arg-type]

    def fields(request: Request, body: BaseModel) -> None:
        request.state.field_names = tuple(type(body).model_fields)

    # --- catalog --------------------------------------------------------------------------------------
    @app.get("/api/health", tags=["meta"])
    async def health() -> dict[str, Any]:
        """Liveness, version and the heavy-work executor's load (on the event loop: never queued behind work)."""
        return {
            "status": "ok",
            "version": __version__,
            "running_jobs": jobs.running(),
            "queued_jobs": jobs.queued(),
            "max_running_jobs": jobs.workers,
            "max_queued_jobs": jobs.queue_size,
        }

    @app.get("/api/catalog", tags=["catalog"])
    def catalog() -> Response:
        """Models, hardware, precisions, engines, price sheets and market points (for pickers)."""
        return cached("catalog", views.catalog_view)

    @app.get("/api/catalog/models/{name}", tags=["catalog"], responses={404: {"model": ErrorBody}})
    def model_summary(name: str) -> dict[str, Any]:
        """One model's architecture, parameters, weight and KV bytes."""
        try:
            from inferonomics.catalog.model_catalog import builtin_catalog

            return views.plain(builtin_catalog().get(name).summary())  # type: ignore[no-any-return]
        except UnknownNameError as exc:
            raise FieldError("name", exc, 404) from None

    @app.get("/api/catalog/hardware/{name}", tags=["catalog"], responses={404: {"model": ErrorBody}})
    def hardware_detail(name: str) -> dict[str, Any]:
        """One system with its chip's figures."""
        try:
            from inferonomics.catalog.hardware_catalog import get_hardware

            s = get_hardware(name)
        except UnknownNameError as exc:
            raise FieldError("name", exc, 404) from None
        return views.plain({**s.to_dict(), "rental_usd_per_chip_hour_effective": s.rental_usd_per_hour})  # type: ignore[no-any-return]

    @app.get("/api/catalog/prices/{key:path}", tags=["catalog"], responses={404: {"model": ErrorBody}})
    def price_sheet_detail(key: str) -> dict[str, Any]:
        """One provider's price sheet (PROVIDER/MODEL), USD per million tokens."""
        from inferonomics.catalog.prices import get_price_sheet

        try:
            return views.plain(get_price_sheet(key).to_dict())  # type: ignore[no-any-return]
        except UnknownNameError as exc:
            raise FieldError("key", exc, 404) from None

    # --- performance ----------------------------------------------------------------------------------
    @app.post("/api/predict", tags=["performance"], responses=ERRORS)
    def predict(body: S.PredictBody, request: Request) -> dict[str, Any]:
        """TTFT, TPOT, throughput, memory and step-time breakdown of a deployment (closed loop)."""
        fields(request, body)
        if body.concurrency is None and not body.max_throughput:
            raise FieldError("concurrency", _invalid("give a concurrency or set max_throughput"))
        if body.mode == "disagg":
            out = _disaggregated_prediction(body)
        else:
            if body.prefill is not None or body.decode is not None:
                raise FieldError("mode", _invalid("prefill and decode pools apply only to mode 'disagg'"))
            resolved = _resolved(body)
            conc = None if body.max_throughput else body.concurrency
            out = views.prediction_view(resolved.deployment, body.isl, body.osl, conc, body.max_throughput)
            out["resolution_note"] = resolved.note
        out["charts"] = {"breakdown": charts.breakdown_chart(out), "memory": charts.memory_chart(out)}
        return out

    @app.post("/api/roofline", tags=["performance"], responses=ERRORS)
    def roofline(body: S.RooflineBody, request: Request) -> Response:
        """The chip's roofline and the step's decode and prefill operators placed on it."""
        fields(request, body)
        dep = _deployment(body)

        def compute() -> dict[str, Any]:
            out = views.roofline_view(dep, body.isl, body.osl, body.batch_size)
            out["charts"] = {"roofline": charts.roofline_chart(out)}
            return out

        return cached("roofline" + body.model_dump_json(), compute)

    @app.post("/api/floor", tags=["performance"], responses=ERRORS)
    def floor(body: S.FloorBody, request: Request) -> dict[str, Any]:
        """Latency floor (batch 1, best chip count) and cost floor (full batch) of decoding."""
        fields(request, body)
        return views.floors_view(
            _model(body.model),
            _system(body.hardware),
            context_tokens=body.context_tokens,
            precision=_precision(body.precision, "precision"),
            kv_precision=_precision(body.kv_precision, "kv_precision"),
            usd_per_chip_hour=body.usd_per_chip_hour,
        )

    # --- economics ------------------------------------------------------------------------------------
    @app.post("/api/frontier", tags=["economics"], responses={**ERRORS, **BUSY})
    def frontier(body: S.FrontierBody, request: Request) -> Response:
        """Speed/cost Pareto frontier with floors, single-user point and market offers (uncached: a worker)."""
        fields(request, body)
        _model(body.model), _system(body.hardware)
        _precision(body.precision, "precision"), _precision(body.kv_precision, "kv_precision")
        payload = body.model_dump(mode="json")
        return cached(
            "frontier" + body.model_dump_json(),
            lambda: jobs.run("frontier", "inferonomics.web.work:frontier", payload, budget.FRONTIER_WALL_S),
        )

    @app.post("/api/price-sheet", tags=["economics"], responses=ERRORS)
    def price_sheet(body: S.PriceSheetBody, request: Request) -> Response:
        """A price sheet derived from cost at a utilisation and margin, beside a provider's real one."""
        fields(request, body)
        sheet = _sheet(body.provider_sheet, "provider_sheet") if body.provider_sheet else None
        dep = _deployment(body)

        def compute() -> dict[str, Any]:
            out = views.price_sheet_view(
                dep,
                sheet,
                isl=body.isl,
                osl=body.osl,
                utilisation=body.utilisation,
                margin=body.margin,
                min_tokens_per_s_per_user=body.min_tokens_per_s_per_user,
                acquisition=body.acquisition,
                usd_per_chip_hour=body.usd_per_chip_hour,
            )
            out["charts"] = {"price_sheet": charts.price_sheet_chart(out)}
            return out

        return cached("price" + body.model_dump_json(), compute)

    @app.post("/api/fleet", tags=["economics"], responses=ERRORS)
    def fleet_plan(body: S.FleetBody, request: Request) -> dict[str, Any]:
        """A lab's fleet end to end (`economics.fleet`): nodes, cost per day, cost per M tokens, margin."""
        from inferonomics.economics.fleet import FleetPool, fleet
        from inferonomics.economics.spec import Pricing

        fields(request, body)
        plan = fleet(
            _model(body.model),
            _system(body.hardware),
            prefill=FleetPool(**body.prefill.model_dump()),
            decode=FleetPool(**body.decode.model_dump()),
            input_tokens_per_day=body.input_tokens_per_day,
            output_tokens_per_day=body.output_tokens_per_day,
            cache_hit_rate=body.cache_hit_rate,
            tokens_per_s_per_user=body.tokens_per_s_per_user,
            isl=body.isl,
            osl=body.osl,
            pricing=Pricing(usd_per_chip_hour=body.usd_per_chip_hour),
            list_price=_sheet(body.list_price, "list_price") if body.list_price else None,
        )
        return views.plain(plan.to_dict())  # type: ignore[no-any-return]

    @app.post("/api/read-prices", tags=["economics"], responses=ERRORS)
    def read_prices(body: S.ReadPricesBody, request: Request) -> Response:
        """What a provider's price sheet implies about how its model is served."""
        fields(request, body)
        sheet = _sheet(body.sheet, "sheet")
        ref = _model(body.reference_model, "reference_model").name if body.reference_model else None
        hw = _system(body.hardware).name
        return cached("read" + body.model_dump_json(), lambda: views.read_prices_view(sheet, ref, hw))

    # --- simulation -----------------------------------------------------------------------------------
    @app.post("/api/simulate", tags=["simulation"], status_code=202, responses={**ERRORS, **BUSY})
    def simulate(body: S.SimulateBody, request: Request) -> dict[str, Any]:
        """Start a simulation job (sized first; at most 20,000 requests, 30 s of simulation plus set-up and
        results in a worker with a memory budget); poll GET /api/simulate/{id}."""
        fields(request, body)
        _simulation(body)  # builds, and so validates, the run here; the worker builds it again
        budget.check_simulation(body)
        job = jobs.submit(
            "simulate", "inferonomics.web.work:simulate", body.model_dump(mode="json"), budget.sim_wall_s(body)
        )
        return job.to_dict()

    @app.get("/api/simulate/{job_id}", tags=["simulation"], responses={404: {"model": ErrorBody}})
    def simulate_status(job_id: str) -> dict[str, Any]:
        """A job's status, progress in [0, 1] and, once done, its result with charts."""
        job = jobs.get(job_id)
        if job is None:
            return _error(
                404, f"job_id: no job {job_id!r} (finished jobs are forgotten after a while)", "job_id", "UnknownJob"
            )  # type: ignore[return-value]
        return job.to_dict()

    @app.delete("/api/simulate/{job_id}", tags=["simulation"], responses={404: {"model": ErrorBody}})
    def simulate_cancel(job_id: str) -> dict[str, Any]:
        """Cancel a job: a queued one is dropped, a running one's worker process is killed (memory freed)."""
        job = jobs.cancel(job_id)
        if job is None:
            return _error(404, f"job_id: no job {job_id!r}", "job_id", "UnknownJob")  # type: ignore[return-value]
        return job.to_dict()

    # --- search ---------------------------------------------------------------------------------------
    @app.post("/api/search", tags=["search"], responses={**ERRORS, **BUSY})
    def search(body: S.SearchBody, request: Request) -> Response:
        """The cheapest deployment meeting TTFT/TPOT targets, and the Pareto set (at most 4 systems; sized
        first, run in a worker within the search budget)."""
        fields(request, body)
        _model(body.model)
        for i, h in enumerate(body.hardware):
            _system(h, f"hardware[{i}]")
        budget.check_search(body)
        payload = body.model_dump(mode="json")
        return cached(
            "search" + body.model_dump_json(),
            lambda: jobs.run("search", "inferonomics.web.work:search", payload, budget.SEARCH_WALL_S),
        )

    # --- the page -------------------------------------------------------------------------------------
    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js(request: Request) -> Response:
        raw, gz = _plotly_js()
        headers = {"cache-control": "public, max-age=86400", "vary": "accept-encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(gz, media_type="application/javascript", headers={**headers, "content-encoding": "gzip"})
        return Response(raw, media_type="application/javascript", headers=headers)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        from inferonomics.web.docs import render_docs

        return HTMLResponse(memo.get("docs", lambda: render_docs(app.openapi())))

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    return app


def _invalid(message: str) -> InferonomicsError:
    from inferonomics.errors import InvalidInputError

    return InvalidInputError(message)


def _simulation_setup(body: S.SimulateBody) -> tuple[Any, Any, Any]:
    """(resolved deployment, workload, SLO) of a simulation body: the deployment through the one resolver,
    for the workload's mean lengths and load (`Workload.of_run`) and the SLO as its targets; the budget
    check sizes the same deployment the run uses."""
    from inferonomics.economics.spec import Workload
    from inferonomics.serving import SLO, ClosedLoop, Fixed, LogNormal, synthetic_workload

    def lengths(mean: int, cv: float) -> Any:
        return Fixed(mean) if cv == 0 else LogNormal(float(mean), cv, 1, max(mean * 20, 16))

    isl, osl = lengths(body.isl, body.isl_cv), lengths(body.osl, body.osl_cv)
    wl: Any
    if body.workload == "closed_loop":
        wl = ClosedLoop(body.concurrency, isl, osl, body.num_requests)
    else:
        wl = synthetic_workload(
            body.rate_per_s, body.num_requests, isl, osl, burstiness=body.burstiness, seed=body.seed
        )
    slo = SLO(
        None if body.slo_ttft_ms is None else body.slo_ttft_ms / 1e3,
        None if body.slo_tpot_ms is None else body.slo_tpot_ms / 1e3,
    )
    targets = Workload.of_run(
        wl, max_ttft_s=slo.ttft_s, min_tokens_per_s_per_user=None if slo.tpot_s is None else 1.0 / slo.tpot_s
    )
    return _resolved(body, targets), wl, slo


def _simulation(body: S.SimulateBody) -> Callable[[Callable[[float], None]], dict[str, Any]]:
    """Build (and so validate) the simulation now; return the function the job runs."""
    from inferonomics.serving import ClusterConfig, EngineConfig, RunLimits, Simulation

    resolved, wl, slo = _simulation_setup(body)
    dep = resolved.deployment
    sim = Simulation(
        dep,
        wl,
        EngineConfig(scheduler=body.scheduler, max_batch_size=body.max_batch_size),
        ClusterConfig(router=body.router),
        slo,
        RunLimits(
            max_wall_s=body.max_wall_s,
            max_memory_bytes=budget.WORKER_MEMORY_BYTES * budget.SIM_MEMORY_FRACTION,
            max_sim_time_s=7 * 24 * 3600.0,
        ),
        body.seed,
    )
    extra = {
        "workload": wl.describe(),
        "deployment": dep.describe(),
        "resolution_note": resolved.note,
        "scheduler": body.scheduler,
    }

    def run(progress: Callable[[float], None]) -> dict[str, Any]:
        res = sim.run(progress=progress)
        out = views.simulation_view(res, extra)
        out["charts"] = {"latency_cdf": charts.latency_cdf_chart(out), "kv_occupancy": charts.kv_occupancy_chart(out)}
        return out

    return run


def _frontier(body: S.FrontierBody) -> dict[str, Any]:
    out = views.frontier_view(
        _model(body.model),
        _system(body.hardware),
        isl=body.isl,
        osl=body.osl,
        max_chips=body.max_chips,
        precision=_precision(body.precision, "precision"),
        kv_precision=_precision(body.kv_precision, "kv_precision"),
        backend=body.backend,
        speculative_tokens=body.speculative_tokens,
        acceptance_rate=body.acceptance_rate,
        acquisition=body.acquisition,
        usd_per_chip_hour=body.usd_per_chip_hour,
        utilisation=body.utilisation,
        disaggregation=body.disaggregation,
    )
    out["charts"] = {"frontier": charts.frontier_chart(out)}
    return out


def _search(body: S.SearchBody) -> dict[str, Any]:
    from inferonomics.search import SearchRequest, SearchSpace, search

    model = _model(body.model)
    names = tuple(dict.fromkeys(_system(h, f"hardware[{i}]").name for i, h in enumerate(body.hardware)))
    req = SearchRequest(
        model=model,
        isl=body.isl,
        osl=body.osl,
        rate_per_s=body.rate_per_s,
        ttft_s=None if body.ttft_ms is None else body.ttft_ms / 1e3,
        tpot_s=None if body.tpot_ms is None else body.tpot_ms / 1e3,
        percentile=body.percentile,
        objective=body.objective,
        max_chips=body.max_chips,
        space=SearchSpace(
            hardware=names,
            max_chips_per_instance=body.max_chips_per_instance,
            modes=tuple(body.modes),
            weight_precisions=(body.precision,) if body.precision else (),
        ),
        recheck=body.recheck,
        recheck_requests=body.recheck_requests,
        recheck_max_replicas=budget.SEARCH_RECHECK_MAX_REPLICAS,
    )
    res = search(req)
    out = views.search_view(res)
    out["charts"] = {"pareto": charts.pareto_chart(out)}
    return out


__all__ = ["BodySizeLimit", "CleanJSONResponse", "create_app"]
