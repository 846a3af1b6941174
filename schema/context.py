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


# Each kind of row and the resolvers/loaders.py function that reads it in batches.
_LOAD_FNS = {
    "customers": "customers_by_id",
    "identities": "identities_by_customer",
    "attributes": "attributes_by_customer",
    "users": "users_by_id",
    "messages": "messages_by_id",
    "channels": "channels_by_id",
    "sla_timers": "timers_by_conversation",
}


class Loaders:
    """One DataLoader per kind of row, each made on first use: a live event rendered from its
    payload alone (the inbox's usual one) makes none, where six were built for every event."""

    customers: DataLoader[int, Any]
    identities: DataLoader[int, Any]
    attributes: DataLoader[int, Any]
    users: DataLoader[int, Any]
    messages: DataLoader[int, Any]
    channels: DataLoader[int, Any]
    sla_timers: DataLoader[int, Any]

    def __getattr__(self, name: str) -> DataLoader[Any, Any]:  # only for a loader not made yet
        fn = _LOAD_FNS.get(name)
        if fn is None:
            raise AttributeError(name)
        made = self.__dict__[name] = _loader(getattr(loaders, fn))
        return made


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
