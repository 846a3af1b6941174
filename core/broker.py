"""The Dramatiq broker: Redis in production, in-memory (StubBroker) in embedded mode and tests.

Set at import, before any actor is declared, because `@dramatiq.actor` binds to the global broker
when its module loads. Work is sent through `core/tasks.py`; the actors live in `jobs/`.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from core.settings import get_settings


def _build() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis_url:
        # The namespace keeps separate deployments (and test runs) on one Redis apart. A worker
        # silent for heartbeat_timeout is dead: the jobs it held go back on their queues.
        return RedisBroker(
            url=settings.redis_url,
            namespace=settings.namespace,
            heartbeat_timeout=int(settings.worker_heartbeat_timeout * 1000),
        )
    return StubBroker()


broker = _build()
dramatiq.set_broker(broker)
