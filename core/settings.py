"""Settings from the environment, read once.

Two ways to run (README): embedded (no DATABASE_URL/REDIS_URL: PostgreSQL from the pgserver wheel,
in-memory pub/sub, in-process Dramatiq) and production (both set). Secrets that embedded mode needs
are generated once and kept in the project-local data folder, so restarts keep sessions and can
still decrypt channel credentials.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_choice(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first is the default); anything else stops the process with the reason."""
    value = os.environ.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _env_role_rates(name: str) -> tuple[tuple[str, int], ...]:
    """`admin=1200,supervisor=900` → (("admin", 1200), ("supervisor", 900))."""
    pairs = (item.partition("=") for item in _env_list(name))
    return tuple((role.strip(), int(rate)) for role, _, rate in pairs)


def _persistent_secrets(data_dir: Path) -> dict[str, str]:
    """Secrets generated on first start for embedded mode (never used when the env provides them)."""
    path = data_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    generated = {
        "jwt_secret": secrets.token_urlsafe(48),
        "encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.write_text(json.dumps(generated))
    path.chmod(0o600)
    return generated


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    redis_url: str | None
    host: str
    port: int
    data_dir: Path
    public_url: str
    public_url_configured: bool  # PUBLIC_URL was given: webhooks trust it over the Host header
    jwt_secret: str
    encryption_keys: tuple[str, ...]  # first encrypts; all decrypt (key rotation)
    access_token_ttl: int
    refresh_token_ttl: int
    max_webhook_body: int
    max_graphql_body: int  # bytes: an HTTP body or one WebSocket message to /graphql
    demo: bool
    log_level: str
    graphql_max_depth: int
    graphql_max_aliases: int
    graphql_max_tokens: int
    login_rate_per_minute: int
    graphql_rate_per_minute: int  # per client address, HTTP requests to /graphql
    inprocess_worker: bool  # run Dramatiq jobs inside the API process (embedded mode, tests)
    worker_stop_timeout: float  # seconds a stopping `pytake worker` process lives at most
    worker_max_rss_mb: int  # a worker process holding more is renewed (core/worker_supervisor.py); 0: never
    # "jemalloc" (when installed) or "glibc": the malloc worker processes use (core/memory.py)
    worker_allocator: str
    shutdown_timeout: float  # seconds a stopping `pytake serve` waits for open connections
    worker_heartbeat_timeout: float  # seconds of silence after which a worker counts as dead
    event_retention_days: float
    namespace: str  # prefixes Redis keys, pub/sub channels and queues: deployments can share a Redis
    # Abuse limits (core/ratelimit.py, schema/http.py, schema/cost.py, resolvers/login_limits.py)
    user_rate_per_minute: int  # GraphQL requests per signed-in user
    role_rate_per_minute: tuple[tuple[str, int], ...]  # per-role overrides of the above
    api_key_rate_per_minute: int  # GraphQL requests per API key
    webhook_rate_per_minute: int  # per channel: platforms retry a 429, so it is generous
    graphql_max_cost: int  # one operation's computed cost
    graphql_cost_per_minute: int  # cost budget per user, per key (and per address, anonymous)
    login_free_failures: int  # per account, before it is locked
    login_free_failures_per_address: int
    login_lockout_seconds: int  # the first lock; doubles with each further failure
    login_lockout_max_seconds: int
    graphql_allowlist: bool  # browser sessions may send only the web app's registered documents
    cors_origins: tuple[str, ...]  # origins allowed to call /graphql from a browser ("*": any)
    trusted_proxies: tuple[str, ...]  # addresses/CIDRs whose X-Forwarded-For/-Proto are believed
    hsts_max_age: int  # sent on HTTPS responses (directly or via a trusted proxy)
    # Reports (resolvers/reports.py): files on a directory every API and worker process shares.
    reports_dir: Path | None = None  # default: DATA_DIR/reports
    report_max_days: int = 400  # the longest range one report may cover
    report_smtp_url: str | None = None  # smtp://user:pass@host:587 or smtps://…: scheduled reports
    report_mail_from: str = "reports@localhost"
    report_ttl: int = 7 * 86400  # seconds a built report's files are kept (and its links work)
    privacy_upkeep_interval: float = 3600.0  # seconds between retention runs (one per period, any workers)
    export_retention_days: float = 7.0  # built customer exports are kept this long
    download_link_ttl: int = 900  # seconds a signed download link works
    send_lease: float = 6.0  # seconds a send attempt's claim lasts unless renewed while in flight
    send_sweep_interval: float = 2.0  # seconds between the workers' sweeps for sends to take back
    worker_metrics_port: int = 9191  # `pytake worker` serves Prometheus /metrics here (0: off)
    webhook_allow_private_urls: bool = (
        False  # outgoing webhooks may reach private addresses (closed networks)
    )
    smtp_url: str | None = None  # invitations and password resets: smtp[s]://user:pass@host:port
    mail_from: str = "PyTake <no-reply@pytake.local>"
    # Alerts and notifications (resolvers/alerts.py, resolvers/notifications.py)
    alert_evaluation_seconds: float = 60.0  # each rule is evaluated once per this period
    notify_smtp_host: str | None = None  # notification e-mail; unset: e-mail deliveries fail
    notify_smtp_port: int = 587
    notify_smtp_username: str | None = None
    notify_smtp_password: str | None = None
    notify_smtp_starttls: bool = True
    notify_smtp_ssl: bool = False
    notify_mail_from: str = "pytake@localhost"
    # Integrators and compliance (core/crypto.py bodies, resolvers/webhook_delivery.py upkeep)
    encrypt_message_bodies: bool = False  # message bodies stored sealed with ENCRYPTION_KEYS
    webhook_delivery_retention_days: float = 30.0  # finished outgoing webhook deliveries are kept this long
    graphql_planner: bool = True  # HTTP queries over the hot types run their plan (schema/planner/)
    # After rotateWebhookSecret, webhooks signed with the rotated-out secret are still accepted this
    # long (platforms sign with the old one until reconfigured); 0: refused at once.
    webhook_secret_grace_hours: float = 24.0

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def bus_url(self) -> str:
        return self.redis_url or "memory://"


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("PYTAKE_DATA_DIR", ROOT / ".pytake")).resolve()
    host = os.environ.get("HOST", "127.0.0.1")
    port = _env_int("PORT", 8000)
    jwt_secret = os.environ.get("JWT_SECRET")
    enc_keys = os.environ.get("ENCRYPTION_KEYS")
    if not jwt_secret or not enc_keys:
        generated = _persistent_secrets(data_dir)
        jwt_secret = jwt_secret or generated["jwt_secret"]
        enc_keys = enc_keys or generated["encryption_key"]
    database_url = os.environ.get("DATABASE_URL") or None
    return Settings(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        host=host,
        port=port,
        data_dir=data_dir,
        public_url=os.environ.get("PUBLIC_URL", f"http://{host}:{port}").rstrip("/"),
        public_url_configured=bool(os.environ.get("PUBLIC_URL")),
        jwt_secret=jwt_secret,
        encryption_keys=tuple(k.strip() for k in enc_keys.split(",") if k.strip()),
        access_token_ttl=_env_int("ACCESS_TOKEN_TTL", 900),
        refresh_token_ttl=_env_int("REFRESH_TOKEN_TTL", 30 * 24 * 3600),
        max_webhook_body=_env_int("MAX_WEBHOOK_BODY", 2 * 1024 * 1024),
        max_graphql_body=_env_int("MAX_GRAPHQL_BODY", 1024 * 1024),
        demo=os.environ.get("PYTAKE_DEMO", "1" if database_url is None else "0") == "1",
        log_level=os.environ.get("LOG_LEVEL", "INFO"),
        graphql_max_depth=_env_int("GRAPHQL_MAX_DEPTH", 10),
        graphql_max_aliases=_env_int("GRAPHQL_MAX_ALIASES", 15),
        graphql_max_tokens=_env_int("GRAPHQL_MAX_TOKENS", 2000),
        login_rate_per_minute=_env_int("LOGIN_RATE_PER_MINUTE", 10),
        graphql_rate_per_minute=_env_int("GRAPHQL_RATE_PER_MINUTE", 1200),
        event_retention_days=float(os.environ.get("EVENT_RETENTION_DAYS", "7")),
        namespace=os.environ.get("PYTAKE_NAMESPACE", "pytake"),
        inprocess_worker=os.environ.get(
            "PYTAKE_INPROCESS_WORKER", "0" if os.environ.get("REDIS_URL") else "1"
        )
        == "1",
        worker_stop_timeout=float(os.environ.get("WORKER_STOP_TIMEOUT", "10")),
        worker_max_rss_mb=int(os.environ.get("WORKER_MAX_RSS_MB", "400")),
        worker_allocator=_env_choice("WORKER_ALLOCATOR", ("jemalloc", "glibc")),
        shutdown_timeout=float(os.environ.get("SHUTDOWN_TIMEOUT", "8")),
        worker_heartbeat_timeout=float(os.environ.get("WORKER_HEARTBEAT_TIMEOUT", "15")),
        privacy_upkeep_interval=float(os.environ.get("PRIVACY_UPKEEP_INTERVAL", "3600")),
        export_retention_days=float(os.environ.get("EXPORT_RETENTION_DAYS", "7")),
        download_link_ttl=_env_int("DOWNLOAD_LINK_TTL", 900),
        alert_evaluation_seconds=float(os.environ.get("ALERT_EVALUATION_SECONDS", "60")),
        notify_smtp_host=os.environ.get("NOTIFY_SMTP_HOST") or None,
        notify_smtp_port=_env_int("NOTIFY_SMTP_PORT", 587),
        notify_smtp_username=os.environ.get("NOTIFY_SMTP_USERNAME") or None,
        notify_smtp_password=os.environ.get("NOTIFY_SMTP_PASSWORD") or None,
        notify_smtp_starttls=os.environ.get("NOTIFY_SMTP_STARTTLS", "1") == "1",
        notify_smtp_ssl=os.environ.get("NOTIFY_SMTP_SSL", "0") == "1",
        notify_mail_from=os.environ.get("NOTIFY_MAIL_FROM", "pytake@localhost"),
        user_rate_per_minute=_env_int("USER_RATE_PER_MINUTE", 600),
        role_rate_per_minute=_env_role_rates("ROLE_RATE_PER_MINUTE"),
        api_key_rate_per_minute=_env_int("API_KEY_RATE_PER_MINUTE", 600),
        webhook_rate_per_minute=_env_int("WEBHOOK_RATE_PER_MINUTE", 6000),
        graphql_max_cost=_env_int("GRAPHQL_MAX_COST", 5000),
        graphql_cost_per_minute=_env_int("GRAPHQL_COST_PER_MINUTE", 50_000),
        login_free_failures=_env_int("LOGIN_FREE_FAILURES", 5),
        login_free_failures_per_address=_env_int("LOGIN_FREE_FAILURES_PER_ADDRESS", 20),
        login_lockout_seconds=_env_int("LOGIN_LOCKOUT_SECONDS", 30),
        login_lockout_max_seconds=_env_int("LOGIN_LOCKOUT_MAX_SECONDS", 3600),
        graphql_allowlist=os.environ.get("GRAPHQL_ALLOWLIST", "0") == "1",
        cors_origins=_env_list("CORS_ORIGINS"),
        trusted_proxies=_env_list("TRUSTED_PROXIES"),
        hsts_max_age=_env_int("HSTS_MAX_AGE", 31_536_000),
        reports_dir=Path(os.environ.get("REPORTS_DIR") or data_dir / "reports").resolve(),
        report_max_days=_env_int("REPORT_MAX_DAYS", 400),
        # The server people's mail goes through (SMTP_URL, MAIL_FROM) unless reports have their own.
        report_smtp_url=os.environ.get("REPORT_SMTP_URL") or os.environ.get("SMTP_URL") or None,
        report_mail_from=os.environ.get("REPORT_MAIL_FROM")
        or os.environ.get("MAIL_FROM")
        or "reports@localhost",
        report_ttl=_env_int("REPORT_TTL", 7 * 86400),
        send_lease=float(os.environ.get("SEND_LEASE", "6")),
        send_sweep_interval=float(os.environ.get("SEND_SWEEP_INTERVAL", "2")),
        worker_metrics_port=_env_int("WORKER_METRICS_PORT", 9191),
        webhook_allow_private_urls=os.environ.get("WEBHOOK_ALLOW_PRIVATE_URLS", "0") == "1",
        smtp_url=os.environ.get("SMTP_URL") or None,
        mail_from=os.environ.get("MAIL_FROM", "PyTake <no-reply@pytake.local>"),
        encrypt_message_bodies=os.environ.get("ENCRYPT_MESSAGE_BODIES", "0") == "1",
        webhook_delivery_retention_days=float(os.environ.get("WEBHOOK_DELIVERY_RETENTION_DAYS", "30")),
        graphql_planner=os.environ.get("GRAPHQL_PLANNER", "1") != "0",
        webhook_secret_grace_hours=float(os.environ.get("WEBHOOK_SECRET_GRACE_HOURS", "24")),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
