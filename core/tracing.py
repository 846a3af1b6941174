"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (README "Tracing").

When on, every process exports its spans over OTLP/HTTP, and one trace follows a message from the
webhook that brought it, through the Dramatiq job it asked for (the trace context rides in the
message's options: `job_options` on enqueue, `_JobSpans` on the worker), to the platform API call
that job made; SQL statements (asyncpg) and HTTP calls (httpx) are spans of it. Log lines written
inside a span carry its `trace_id` and `span_id`.

When off, nothing here is imported beyond this module, no middleware wraps the app, and the only
cost is `job_options` returning an empty dict on enqueue.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dramatiq.middleware import Middleware

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

ENDPOINT_VAR = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_VAR = "OTEL_SERVICE_NAME"
MESSAGE_OPTION = "trace_context"  # the key in a Dramatiq message's options
# Probes and scrapes: a span every few seconds per pod that says nothing.
EXCLUDED_PATHS = "healthz,readyz,metrics"

log = logging.getLogger(__name__)
_lock = threading.Lock()
_state: _Tracing | None = None


def enabled() -> bool:
    return _state is not None


def configure(exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on in this process, once; returns whether it is on. Without `exporter` (tests
    pass an in-memory one) it is on only when OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    global _state
    if exporter is None and not os.environ.get(ENDPOINT_VAR):
        return _state is not None
    with _lock:
        if _state is None:
            _state = _Tracing(exporter)
    return True


def shutdown() -> None:
    """Turn tracing off again (tests): instrumentation removed, pending spans exported."""
    global _state
    with _lock:
        state, _state = _state, None
    if state is not None:
        state.close()


def asgi(app: Any) -> Any:
    """`app` with a server span per HTTP request and WebSocket connection, when tracing is on."""
    if _state is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app,
        excluded_urls=EXCLUDED_PATHS,
        exclude_spans=["receive", "send"],  # not one span per WebSocket frame of a subscription
        server_request_hook=_redact_server_url,
        tracer_provider=_state.provider,
    )


def job_options() -> dict[str, Any]:
    """Options for a Dramatiq message enqueued now: the current trace context, when on."""
    if _state is None:
        return {}
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {MESSAGE_OPTION: carrier} if carrier else {}


# ---- the parts that exist only while tracing is on ------------------------------------------------


class _Tracing:
    def __init__(self, exporter: SpanExporter | None) -> None:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        from core.broker import broker

        service = os.environ.get(SERVICE_VAR) or "pytake"
        # What OTEL_TRACES_SAMPLER asks for (parent-based, always on, by default).
        configured = TracerProvider(shutdown_on_exit=False).sampler
        self.provider: TracerProvider = TracerProvider(
            resource=Resource.create({"service.name": service}), sampler=_sql_in_context(configured)
        )
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # Batched, off the request path; the exporter reads the endpoint and headers from OTEL_*.
            self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        else:
            self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        self.instrumentors = [AsyncPGInstrumentor(), HTTPXClientInstrumentor()]
        self.instrumentors[0].instrument(tracer_provider=self.provider)
        self.instrumentors[1].instrument(tracer_provider=self.provider, async_request_hook=_redact_client_url)
        self.jobs = _JobSpans(self.provider.get_tracer("pytake.jobs"))
        broker.add_middleware(self.jobs)
        self.broker = broker
        self.previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_with_trace_ids(self.previous_factory))
        log.info("tracing on", extra={"service": service, "endpoint": os.environ.get(ENDPOINT_VAR)})

    def close(self) -> None:
        logging.setLogRecordFactory(self.previous_factory)
        if self.jobs in self.broker.middleware:
            self.broker.middleware.remove(self.jobs)
        for instrumentor in self.instrumentors:
            instrumentor.uninstrument()
        self.provider.shutdown()


def _job_span_context(message: Any) -> Any:
    from opentelemetry import propagate

    return propagate.extract(message.options.get(MESSAGE_OPTION) or {})


class _JobSpans(Middleware):
    """A CONSUMER span per job run, child of the span that enqueued it. Made current in the worker
    thread: an async actor's coroutine is scheduled from there, and its task copies that context
    (asyncio copies the calling thread's context in call_soon_threadsafe)."""

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self.local = threading.local()

    def before_process_message(self, broker: Any, message: Any) -> None:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind

        span = self.tracer.start_span(
            f"job {message.actor_name}",
            context=_job_span_context(message),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "dramatiq",
                "messaging.destination.name": message.queue_name,
                "messaging.message.id": message.message_id,
                "messaging.dramatiq.retries": message.options.get("retries", 0),
            },
        )
        token = context.attach(trace.set_span_in_context(span))
        self.local.current = (span, token)

    def after_process_message(self, broker: Any, message: Any, *, result=None, exception=None) -> None:  # type: ignore[no-untyped-def]
        self._finish(exception)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self._finish(None)

    def _finish(self, exception: BaseException | None) -> None:
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        current = getattr(self.local, "current", None)
        if current is None:
            return
        self.local.current = None
        span, token = current
        if exception is not None:
            span.record_exception(exception)
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()
        context.detach(token)


def _sql_in_context(configured: Any) -> Any:
    """The configured sampler, except that a SQL statement outside any request or job (the event
    sequencer, presence heartbeats, the gateway's lease polls) starts no trace of its own: those
    would be most of the traces, and say nothing."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class SqlInContext(Sampler):
        def should_sample(
            self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None
        ):  # type: ignore[no-untyped-def]
            orphan = not trace.get_current_span(parent_context).get_span_context().is_valid
            if orphan and attributes and ("db.system" in attributes or "db.system.name" in attributes):
                return SamplingResult(Decision.DROP)
            return configured.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"SqlInContext({configured.get_description()})"

    return SqlInContext()


def _with_trace_ids(factory: Any) -> Any:
    """A log record factory that adds the current span's ids (core/logging.py prints them)."""
    from opentelemetry import trace

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        ids = trace.get_current_span().get_span_context()
        if ids.is_valid:
            record.trace_id = format(ids.trace_id, "032x")
            record.span_id = format(ids.span_id, "016x")
        return record

    return make


# URLs carry secrets (Telegram's bot token in the path, WeChat's access token and the webhook
# verify token in the query): spans keep only the scheme, host and, for our own routes, the path.
_URL_ATTRIBUTES = ("url.full", "http.url", "http.target", "url.query")


async def _redact_client_url(span: Any, request: Any) -> None:
    url = request.url  # an httpx.URL
    _overwrite(span, f"{url.scheme}://{url.netloc.decode()}/")


def _redact_server_url(span: Any, scope: dict[str, Any]) -> None:
    if span is None or not span.is_recording():
        return
    _overwrite(span, scope.get("path", ""), server=True)


def _overwrite(span: Any, safe: str, *, server: bool = False) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        if key in attributes:
            if key == "url.query":
                span.set_attribute(key, "")
            elif server and key == "http.url":
                parts = urlsplit(str(attributes[key]))
                span.set_attribute(key, f"{parts.scheme}://{parts.netloc}{safe}")
            else:
                span.set_attribute(key, safe)
