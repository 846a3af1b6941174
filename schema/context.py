"""The per-request (or per-WebSocket) context: who is asking, and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from core.auth import Actor
from core.events import EventLog
from core.ratelimit import RateLimiter, RequestLimits
from core.settings import Settings
from resolvers import loaders


def _loader(fn: Any) -> DataLoader[Any, Any]:
    return DataLoader(load_fn=fn, max_batch_size=500)


@dataclass
class Loaders:
    customers: DataLoader[int, Any] = field(default_factory=lambda: _loader(loaders.customers_by_id))
    identities: DataLoader[int, Any] = field(default_factory=lambda: _loader(loaders.identities_by_customer))
    attributes: DataLoader[int, Any] = field(default_factory=lambda: _loader(loaders.attributes_by_customer))
    users: DataLoader[int, Any] = field(default_factory=lambda: _loader(loaders.users_by_id))
    messages: DataLoader[int, Any] = field(default_factory=lambda: _loader(loaders.messages_by_id))
    channels: DataLoader[int, Any] = field(default_factory=lambda: _loader(loaders.channels_by_id))


@dataclass
class Context:
    request: Any
    event_log: EventLog
    rate_limiter: RateLimiter
    settings: Settings
    response: Any = None
    actor: Actor | None = None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None  # set by strawberry on WebSocket connection_init
    auth_problem: str | None = None
    ip: str | None = None
    limits: RequestLimits | None = None  # HTTP: the request limits, counted with the cost (cost.py)
    standing_checked: bool = False  # HTTP: the token's user was found active this request (permissions.py)

    def fresh_loaders(self) -> None:
        """Subscriptions live for hours: each event is resolved with fresh loaders, not stale caches."""
        self.loaders = Loaders()
