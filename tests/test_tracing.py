"""Tracing: one trace from a platform's webhook, through the Dramatiq job it asked for, to the
platform API call that job made, with SQL and HTTP spans, recorded by an in-memory exporter; log
lines carry the trace id; secrets in URLs stay out of spans; and with no endpoint set, tracing is
not even imported.

In-process, the traced app is the session's app (same ORM, bus and in-process worker, which consumes
the same broker as in production), served by a second uvicorn wrapped exactly as asgi.py wraps it.
Across processes, a real `pytake serve` and `pytake worker` export to a small OTLP collector."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from connectors.fakes.server import serve_app
from core import http as core_http
from core import tracing
from core.logging import JsonFormatter
from models import Message, Role
from schema.relay import to_global_id
from tests.conftest import REDIS_URL, free_port, requires_redis
from tests.helpers import SEND, eventually, gql, login, make_user, post_webhook, wa_text_payload
from tests.test_production import _wait_healthy
from tests.test_whatsapp_templates import ORDER_UPDATE, _catalogue_channel
from tests.test_worker_signals import started

ROOT = Path(__file__).resolve().parents[1]
SERVER, CLIENT = ProtoSpan.SpanKind.SPAN_KIND_SERVER, ProtoSpan.SpanKind.SPAN_KIND_CLIENT


@pytest_asyncio.fixture
async def traced(server: str) -> AsyncIterator[tuple[str, InMemorySpanExporter]]:
    """(base URL of the traced app, the spans it and the jobs recorded); tracing off afterwards."""
    import asgi

    exporter = InMemorySpanExporter()
    assert tracing.configure(exporter)
    # The loop's pooled client predates the instrumentation (in production tracing starts at import,
    # before any client exists): a new one is made on the next call, and again after the test.
    await core_http.close()
    try:
        app = tracing.asgi(asgi.app)
        assert app is not asgi.app
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        uv = uvicorn.Server(config)
        serving = asyncio.create_task(uv.serve())
        await eventually(lambda: _true(uv.started), timeout=20)
        try:
            yield f"http://127.0.0.1:{port}", exporter
        finally:
            uv.should_exit = True
            await asyncio.wait_for(serving, 15)
    finally:
        tracing.shutdown()
        await core_http.close()


async def _true(value: bool) -> bool:
    return value


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


def attribute_values(span: ReadableSpan) -> str:
    return " ".join(str(v) for v in (span.attributes or {}).values())


async def test_one_trace_from_the_webhook_through_the_job_to_the_platform_call(traced, fake_whatsapp):
    api, exporter = traced
    fake, fake_base = fake_whatsapp
    channel, secrets, waba_id = await _catalogue_channel(api, fake, fake_base)
    phone = channel.config["phone_number_id"]
    # A template the catalogue does not hold yet: its status webhook asks the workers for a sync,
    # which lists the business account's templates from the platform.
    fake.add_template(waba_id, "traced", status="PENDING", components=ORDER_UPDATE)
    exporter.clear()
    response = await fake.set_template_status(phone, "traced", "en_US", "APPROVED")
    assert response.status_code == 200

    path = f"/webhooks/whatsapp/{channel.id}"

    def webhooks(spans: list[ReadableSpan]) -> list[ReadableSpan]:
        return [
            s for s in spans if s.kind == SpanKind.SERVER and path in attribute_values(s) and "POST" in s.name
        ]

    def job_spans() -> list[ReadableSpan]:
        # The job the webhook asked for; the upkeep timer's own syncs may finish here too.
        spans = exporter.get_finished_spans()
        by_id = {s.context.span_id: s for s in spans}
        return [
            s
            for s in spans
            if s.kind == SpanKind.CONSUMER
            and s.name == "job sync_whatsapp_templates"
            and any(w in ancestors(s, by_id) for w in webhooks(spans))
        ]

    await eventually(lambda: _true(bool(job_spans())), timeout=30)
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    (webhook,) = webhooks(spans)
    (job,) = job_spans()
    assert job.attributes["messaging.destination.name"] == "maintenance"
    calls = [s for s in spans if s.kind == SpanKind.CLIENT and job in ancestors(s, by_id)]
    platform_calls = [s for s in calls if fake_base.rstrip("/") in attribute_values(s)]
    assert platform_calls, [(s.name, s.attributes) for s in calls]
    assert any(
        s.attributes.get("http.response.status_code", s.attributes.get("http.status_code")) == 200
        for s in platform_calls
    )
    # SQL under both halves: the webhook's ingest and the job's catalogue writes.
    sql = [
        s
        for s in spans
        if (s.attributes or {}).get("db.system", (s.attributes or {}).get("db.system.name")) == "postgresql"
    ]
    assert any(webhook in ancestors(s, by_id) for s in sql)
    assert any(job in ancestors(s, by_id) for s in sql)
    # One trace from end to end.
    assert {s.context.trace_id for s in (webhook, job, *platform_calls)} == {webhook.context.trace_id}
    # The platform call's URL is cut to its host: paths and queries carry ids and tokens.
    for span in spans:
        values = attribute_values(span)
        assert secrets["access_token"] not in values
        assert "message_templates" not in values, span.attributes


async def test_an_agents_reply_is_one_trace_from_graphql_through_the_send_job_to_the_platform(
    traced, fake_whatsapp
):
    api, exporter = traced
    fake, fake_base = fake_whatsapp
    channel, secrets, _ = await _catalogue_channel(api, fake, fake_base)
    wa_id = f"5541{uuid.uuid4().int % 10**9:09d}"
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "a question")
    assert (await post_webhook(api, channel, secrets["app_secret"], body)).status_code == 200
    question = await Message.get(channel_id=channel.id, text="a question")
    token = await login(api, await make_user(Role.AGENT))
    exporter.clear()
    reply = {
        "conversationId": to_global_id("Conversation", question.conversation_id),
        "clientMessageId": str(uuid.uuid4()),
        "text": "a traced answer",
    }
    answer = await gql(api, SEND, {"input": reply}, token)
    assert answer.get("errors") is None, answer

    def our_send_jobs() -> list[ReadableSpan]:
        # An earlier test's send may still finish in this process: only jobs under our mutation count.
        spans = exporter.get_finished_spans()
        by_id = {s.context.span_id: s for s in spans}
        mutations = [s for s in spans if s.kind == SpanKind.SERVER and "/graphql" in attribute_values(s)]
        return [
            s
            for s in spans
            if s.name == "job send_message" and any(m in ancestors(s, by_id) for m in mutations)
        ]

    await eventually(lambda: _true(bool(our_send_jobs())), timeout=30)
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    (mutation,) = [s for s in spans if s.kind == SpanKind.SERVER and "/graphql" in attribute_values(s)]
    (job,) = our_send_jobs()
    sends = [
        s
        for s in spans
        if s.kind == SpanKind.CLIENT
        and job in ancestors(s, by_id)
        and fake_base.rstrip("/") in attribute_values(s)
    ]
    assert len(sends) == 1 and sends[0].context.trace_id == mutation.context.trace_id
    assert [s for s in fake.sent if s.get("to") == wa_id]


async def test_log_lines_carry_the_trace_id(traced) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("pytake.tracing-test")
    logger.addHandler(handler)
    try:
        tracer = tracing._state.provider.get_tracer("test")  # type: ignore[union-attr]
        with tracer.start_as_current_span("work") as span:
            logger.warning("inside")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "trace_id" not in outside


def test_the_job_message_carries_the_trace_context_only_while_tracing_is_on() -> None:
    assert not tracing.enabled()
    assert tracing.job_options() == {}
    sentinel = object()
    assert tracing.asgi(sentinel) is sentinel


def _tracing_in_a_fresh_process(**env: str) -> dict[str, Any]:
    """What importing the app's task module does to tracing in a new process with `env`."""
    code = (
        "import json, sys, core.tasks, core.tracing; "
        "print(json.dumps({'on': core.tracing.enabled(), 'loaded': sorted(m for m in sys.modules if m.startswith(('opentelemetry.instrumentation', "
        "'opentelemetry.exporter'))), "
        "'middleware': [type(m).__name__ for m in core.tasks.broker.middleware]}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_tracing_is_off_and_not_imported_unless_an_endpoint_is_set() -> None:
    # (redis-py imports the OpenTelemetry SDK for its own optional metrics; the instrumentation
    # and the exporter are what tracing adds.)
    off = _tracing_in_a_fresh_process()
    assert not off["on"] and off["loaded"] == [] and "_JobSpans" not in off["middleware"]
    on = _tracing_in_a_fresh_process(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    assert on["on"] and "_JobSpans" in on["middleware"]
    assert {"opentelemetry.instrumentation.asyncpg", "opentelemetry.instrumentation.httpx"} <= set(
        on["loaded"]
    )
    assert any(m.startswith("opentelemetry.exporter.otlp") for m in on["loaded"])


class Collector:
    """An OTLP/HTTP trace receiver (POST /v1/traces, protobuf): every span exported to it, with the
    service that sent it."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            event = await receive()
            body, more = body + event.get("body", b""), event.get("more_body", False)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for batch in request.resource_spans:
            resource = {a.key: a.value.string_value for a in batch.resource.attributes}
            for scoped in batch.scope_spans:
                for span in scoped.spans:
                    attributes = {
                        a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes
                    }
                    self.spans.append(
                        {
                            "service": resource.get("service.name"),
                            "name": span.name,
                            "kind": span.kind,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_id": span.parent_span_id.hex(),
                            "attributes": attributes,
                        }
                    )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/x-protobuf")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


@requires_redis
async def test_real_processes_export_one_trace_across_the_api_and_a_worker(database, server, fake_whatsapp):
    """`pytake serve` and `pytake worker` as separate processes with only the endpoint set: the
    trace crosses Redis inside the job's message and reaches the collector from both processes."""
    fake, fake_base = fake_whatsapp
    collector = Collector()
    async with serve_app(collector) as collector_base:
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(
            DATABASE_URL=database,
            REDIS_URL=REDIS_URL or "",
            PYTAKE_NAMESPACE=f"{os.environ['PYTAKE_NAMESPACE']}-trace",
            PYTAKE_INPROCESS_WORKER="0",
            PUBLIC_URL=api,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector_base,
            OTEL_BSP_SCHEDULE_DELAY="200",  # ms between exports (5 s by default)
        )
        with (
            started(env, "serve", "--host", "127.0.0.1", "--port", str(port)) as (serve, _),
            started(env, "worker", "--processes", "1", "--threads", "2"),
        ):
            await _wait_healthy(api, serve)
            channel, _, waba_id = await _catalogue_channel(api, fake, fake_base)
            fake.add_template(waba_id, "across", status="PENDING", components=ORDER_UPDATE)
            response = await fake.set_template_status(
                channel.config["phone_number_id"], "across", "en_US", "APPROVED"
            )
            assert response.status_code == 200
            path = f"/webhooks/whatsapp/{channel.id}"

            def chain() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
                spans = list(collector.spans)
                webhooks = [
                    s
                    for s in spans
                    if s["service"] == "pytake-api"
                    and s["kind"] == SERVER
                    and path in str(s["attributes"].values())
                ]
                for webhook in webhooks:
                    trace = [s for s in spans if s["trace_id"] == webhook["trace_id"]]
                    jobs = [
                        s
                        for s in trace
                        if s["service"] == "pytake-worker" and s["name"] == "job sync_whatsapp_templates"
                    ]
                    calls = [
                        s
                        for s in trace
                        if s["service"] == "pytake-worker"
                        and s["kind"] == CLIENT
                        and fake_base.rstrip("/") in str(s["attributes"].values())
                    ]
                    if jobs and calls:
                        return webhook, jobs[0], calls[0]
                return None

            await eventually(lambda: _true(chain() is not None), timeout=60, interval=0.2)
    webhook, job, call = chain()  # type: ignore[misc]
    by_id = {s["span_id"]: s for s in collector.spans}
    lineage, span = [], call
    while span["parent_id"] in by_id:
        span = by_id[span["parent_id"]]
        lineage.append(span["span_id"])
    assert job["span_id"] in lineage and webhook["span_id"] in lineage  # call ← job ← … ← webhook


async def test_sql_outside_any_request_or_job_starts_no_trace(traced) -> None:
    from core.sql import fetchrow

    _, exporter = traced
    exporter.clear()
    await fetchrow("SELECT 1 AS orphan")
    tracer = tracing._state.provider.get_tracer("test")  # type: ignore[union-attr]
    with tracer.start_as_current_span("a job"):
        await fetchrow("SELECT 2 AS inside")
    statements = [
        s.attributes.get("db.statement", s.attributes.get("db.query.text"))
        for s in exporter.get_finished_spans()
        if "db.system" in s.attributes or "db.system.name" in s.attributes
    ]
    assert "SELECT 2 AS inside" in statements  # (jobs of other tests may add their own)
    assert "SELECT 1 AS orphan" not in statements
