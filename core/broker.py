"""The Dramatiq broker: Redis in production, in-memory (StubBroker) in embedded mode and tests.

Set at import, before any actor is declared, because `@dramatiq.actor` binds to the global broker
when its module loads. Work is sent through `core/tasks.py`; the actors live in `jobs/`.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.settings import get_settings

# A dead or silent Redis must cost a short, bounded wait, never a hang: every broker command (an
# enqueue inside a request, which blocks that process's event loop; a worker's fetch, ack or
# heartbeat) is a short script, so a reply slower than SOCKET_TIMEOUT means the server is gone.
# Set here rather than left to redis-py's defaults (5 s today, none in older releases; up to ten
# retries with backoff on connection errors): one immediate retry after a connection error is
# enough to replace a socket killed by a Redis restart, and a timeout is not retried at all. An idle pooled socket is PINGed before reuse (HEALTH_CHECK_INTERVAL).
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 2.0
HEALTH_CHECK_INTERVAL = 10


def redis_broker(url: str, namespace: str, heartbeat_timeout: float) -> RedisBroker:
    """The namespace keeps separate deployments (and test runs) on one Redis apart. A worker
    silent for heartbeat_timeout seconds is dead: the jobs it held go back on their queues."""
    pool = redis.ConnectionPool.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )
    return RedisBroker(
        client=redis.Redis(connection_pool=pool),
        namespace=namespace,
        heartbeat_timeout=int(heartbeat_timeout * 1000),
    )


def _build() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis_url:
        return redis_broker(settings.redis_url, settings.namespace, settings.worker_heartbeat_timeout)
    return StubBroker()


broker = _build()
dramatiq.set_broker(broker)
