"""Prometheus metrics, exposed at /metrics."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("pytake_http_requests_total", "HTTP requests", ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "pytake_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
MESSAGES_IN = Counter("pytake_messages_in_total", "Inbound messages stored", ["platform"])
MESSAGES_DUPLICATE = Counter(
    "pytake_messages_duplicate_total", "Redelivered inbound messages ignored", ["platform"]
)
STATUSES_IN = Counter("pytake_statuses_in_total", "Delivery statuses that changed a message", ["platform"])
MESSAGES_OUT = Counter("pytake_messages_out_total", "Messages the platform accepted from us", ["platform"])
WEBHOOKS_REJECTED = Counter("pytake_webhooks_rejected_total", "Webhooks refused", ["platform", "reason"])
JOB_OUTCOMES = Counter("pytake_job_outcomes_total", "Dramatiq job outcomes", ["actor", "outcome"])
# Worker processes (`pytake worker` serves these on WORKER_METRICS_PORT, summed over its processes).
SENDS = Counter("pytake_sends_total", "Send attempts by platform and outcome", ["platform", "outcome"])
SENDS_TAKEN_BACK = Counter(
    "pytake_sends_taken_back_total", "Queued sends the stale-send sweep enqueued again"
)
WORKER_JOBS = Counter("pytake_worker_jobs_total", "Jobs run by worker processes", ["actor", "outcome"])
WORKER_JOB_SECONDS = Histogram(
    "pytake_worker_job_seconds",
    "Time a worker spent on one job",
    ["actor"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Operational counters for the Grafana dashboard (deploy/grafana/pytake.json). Counters are summed
# over a worker's processes; a gauge needs its own rule for that (multiprocess_mode).
WEBHOOKS_ACCEPTED = Counter(
    "pytake_webhooks_accepted_total",
    "Webhooks verified and ingested (rejections: webhooks_rejected)",
    ["platform"],
)
SLA_EVENTS = Counter("pytake_sla_events_total", "SLA timers warned or breached", ["kind", "event"])
# Set by the alert evaluator to the number of open alerts per severity; among processes the last
# value written wins (its evaluation is the latest).
ALERTS_OPEN = Gauge("pytake_alerts_open", "Alerts open now", ["severity"], multiprocess_mode="mostrecent")
# Set on every /readyz probe: 1 while the process reaches that server (database, bus, broker), 0 not.
# The lowest value among live processes counts: one process cut off is an outage to look at.
DEPENDENCY_UP = Gauge(
    "pytake_dependency_up",
    "Whether this process reaches the server at its last readiness probe",
    ["server"],
    multiprocess_mode="livemin",
)
