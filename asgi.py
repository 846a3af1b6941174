"""The Starlette app. Routes and start-up only; what each route does lives in its own module:
/graphql → schema/ (the agents' door); /webhooks/…, /webchat/… and the demo's fake WhatsApp →
ingress/ (the platforms' door, ingress/mounts.py); health, metrics and the web app below."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from core import db, http, memory, metrics, tasks, tracing
from core.broker import broker
from core.bus import EventBus
from core.events import EventLog
from core.logging import configure as configure_logging
from core.outage import ServiceUnavailable
from core.ratelimit import RateLimiter
from core.settings import ROOT, get_settings
from core.sql import fetchrow
from core.web_security import security_middleware
from ingress.mounts import ingress_routes, ingress_running
from jobs.inprocess import start_inprocess_worker, stop_inprocess_worker
from resolvers import modules as module_rules
from schema import build_schema
from schema.downloads import download_routes
from schema.fanout import ExposeSocket
from schema.http import GraphQLEndpoint

log = logging.getLogger("pytake")
FRONTEND_DIST = ROOT / "frontend" / "dist"
MAINTENANCE_INTERVAL = 30.0


class RequestLog:
    """One log line and one metric sample per HTTP request, with a request id."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            route = path.split("/")[1] or "root"
            metrics.HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
            if route not in ("healthz", "metrics"):
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    checks: dict[str, bool] = {}
    try:
        checks["database"] = (await asyncio.wait_for(fetchrow("SELECT 1 AS ok"), 2.0)) is not None
    except Exception:
        checks["database"] = False
    bus: EventBus = request.app.state.bus
    try:
        checks["bus"] = await asyncio.wait_for(bus.ping(), 2.0)
    except Exception:
        checks["bus"] = False
    if get_settings().redis_url:
        try:
            checks["broker"] = bool(await asyncio.to_thread(broker.client.ping))  # type: ignore[attr-defined]
        except Exception:
            checks["broker"] = False
    # Ready means "send me traffic": true while PostgreSQL answers. Without Redis this process still
    # serves reads and accepts webhooks (rate limits per process, tasks kept in the task outbox), so
    # a Redis outage is reported as degraded, not unready: a load balancer that dropped every pod
    # would answer the platforms itself, without PyTake's Retry-After and without storing anything.
    for server, ok in checks.items():
        metrics.DEPENDENCY_UP.labels(server).set(1 if ok else 0)
    ready = checks["database"]
    degraded = sorted(name for name, ok in checks.items() if not ok and name != "database")
    return JSONResponse(
        {"ready": ready, "degraded": degraded, "checks": checks}, status_code=200 if ready else 503
    )


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def spa(request: Request) -> Response:
    index = FRONTEND_DIST / "index.html"
    if index.exists():
        return FileResponse(index)
    return PlainTextResponse(
        "PyTake API is running. The web app is not built (run `make run`); GraphiQL is at /graphql.",
    )


async def _maintenance() -> None:
    """Enqueue upkeep on a timer. Every API process does it; the jobs are idempotent."""
    tick = 0
    while True:
        await asyncio.sleep(MAINTENANCE_INTERVAL)
        tick += 1
        try:
            for task in tasks.UPKEEP:
                task.send()
            if tick % 120 == 1:  # about hourly
                tasks.PRUNE_HISTORY.send()
        except Exception:
            log.warning("could not enqueue maintenance", exc_info=True)


def create_app() -> Starlette:
    settings = get_settings()
    configure_logging(settings.log_level)
    bus = EventBus(settings.bus_url)
    event_log = EventLog(bus, settings.namespace)
    rate_limiter = RateLimiter(settings.redis_url, settings.namespace)
    graphql = GraphQLEndpoint(
        build_schema(), event_log=event_log, rate_limiter=rate_limiter, settings=settings
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = await db.resolve_database_url(settings)
        await db.init_orm(url)
        await bus.connect()
        await event_log.start()
        worker = None
        if settings.inprocess_worker:
            worker = start_inprocess_worker(asyncio.get_running_loop())
        try:
            async with ingress_running(settings):  # the demo's fake numbers, gateways when embedded
                maintenance = asyncio.create_task(_maintenance())
                modules_in_step = asyncio.create_task(module_rules.keep_in_step())  # core/extensions.py
                # What start-up built (modules, the schema, pools) lives as long as the process:
                # out of the cyclic collector's sight, so a full collection under load scans only
                # what came since (bench/fanout's timeline: those pauses were its p99).
                gc.collect()
                gc.freeze()
                memory.tune_collector()
                log.info("PyTake ready", extra={"url": settings.public_url, "embedded": settings.embedded})
                try:
                    yield
                finally:
                    maintenance.cancel()
                    modules_in_step.cancel()
        finally:
            if worker is not None:
                await asyncio.to_thread(stop_inprocess_worker, worker)
            await event_log.stop()
            await bus.disconnect()
            await rate_limiter.close()
            await graphql.persisted.close()
            await http.close()
            await db.close_orm()

    routes = [
        Route("/graphql", graphql),  # every method: the endpoint answers the others with 405 and Allow
        WebSocketRoute("/graphql", graphql),
        *ingress_routes(),
        *download_routes(),  # signed links to exports (schema/downloads.py)
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ]
    if (FRONTEND_DIST / "assets").is_dir():
        routes.append(Mount("/assets", app=StaticFiles(directory=Path(FRONTEND_DIST / "assets"))))
    routes.append(Route("/{path:path}", spa))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            *security_middleware(settings),  # client address from trusted proxies, headers, CORS
            Middleware(RequestLog),
            Middleware(ServiceUnavailable),
        ],  # 503, not 500, while PostgreSQL is down
    )
    app.state.bus = bus
    app.state.event_log = event_log
    return app


# A span per request when tracing is on (core/tracing.py); outermost, each WebSocket's scope keeps
# the server's own send, so the live fan-out writes its frames to the socket itself (schema/fanout.py).
app = ExposeSocket(tracing.asgi(create_app()))
