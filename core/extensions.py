"""The extension point for modules: what a module may declare, and the registry of what the
enabled ones contribute in this process.

A module is a Python package registered under the `pytake.modules` entry-point group whose entry
point is a `Module`. Admins enable and configure it through GraphQL (resolvers/modules.py keeps
the state in the database and loads each process's registry from it); the rest of the app asks
the registry only:

- flow validation and the flow engine: `registry.node_type(name)` (a `NodeType`: its config check,
  its ports, the variables it sets, and how it runs);
- the module event dispatcher: `registry.handlers()` (each `EventHandler` gets the outgoing
  webhook events it names, e.g. "conversation.created", with the module's configuration);
- connectors: `registry.connector(platform)` (connectors/registry.get_connector asks it first: an
  enabled module's connector takes its platform over from the built-in one).

Nothing here touches the database or the network, so any floor may consult it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Config = Mapping[str, Any]


class ConfigProblem(ValueError):
    """A node's config is not valid; the message says why (flow validation reports it on the node)."""


@dataclass(frozen=True)
class NodeResult:
    port: str = "next"
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeType:
    """A flow node type. `validate(config)` returns the cleaned config or raises ConfigProblem;
    `ports(config)` the ports edges may leave from; `sets(config, port)` the variables set when
    leaving through `port`; `run(config, context, module_config)` performs it when a flow execution
    reaches it (context: variables, customer, conversation id, platform). `config_schema` is the
    JSON Schema of its config: flow validation checks it before `validate`, and the web app's flow
    builder draws the node's form from it (strings, numbers, booleans, enums, lists)."""

    name: str
    description: str
    validate: Callable[[Config], dict[str, Any]]
    run: Callable[[Config, Config, Config], Awaitable[NodeResult]]
    ports: Callable[[Config], set[str]] = lambda config: {"next"}
    sets: Callable[[Config, str], set[str]] = lambda config, port: set()
    config_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})


@dataclass(frozen=True)
class EventHandler:
    """Called with each event named in `events` (outgoing webhook names, README "Outgoing webhooks")
    as `handle(event, module_config)`; event: {event_id, type, created_at, conversation_id, data}."""

    events: tuple[str, ...]
    handle: Callable[[Config, Config], Awaitable[None]]


@dataclass(frozen=True)
class Module:
    name: str  # stable identifier; equal to the entry point's name
    title: str
    description: str
    version: str = "0"
    config_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})  # JSON Schema
    node_types: tuple[NodeType, ...] = ()
    event_handlers: tuple[EventHandler, ...] = ()
    # platform name (core/vocabulary.Platform) -> connector class or instance (connectors/base.Connector)
    connectors: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Active:
    module: Module
    config: Mapping[str, Any]


class Registry:
    """What the enabled modules contribute in this process. Replaced whole on every change, under a
    lock, so readers (any thread: the flow validation runs in requests, handlers in workers) always
    see one consistent set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, Active] = {}

    def replace(self, active: Mapping[str, Active]) -> None:
        with self._lock:
            self._active = dict(active)

    def active(self) -> dict[str, Active]:
        return dict(self._active)

    def node_type(self, name: str) -> tuple[NodeType, Active] | None:
        for entry in self._active.values():
            for node_type in entry.module.node_types:
                if node_type.name == name:
                    return node_type, entry
        return None

    def node_type_names(self) -> list[str]:
        return sorted(n.name for e in self._active.values() for n in e.module.node_types)

    def handlers(self) -> list[tuple[EventHandler, Active]]:
        return [(h, e) for e in self._active.values() for h in e.module.event_handlers]

    def connector(self, platform: str) -> Any | None:
        for entry in self._active.values():
            if platform in entry.module.connectors:
                return entry.module.connectors[platform]
        return None


registry = Registry()
