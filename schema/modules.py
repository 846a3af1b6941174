"""Modules (admins): the installed extension packages, enabling, disabling and configuring them
(rules in resolvers/modules.py; the extension point in core/extensions.py; README "Modules")."""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers import modules as rules
from schema.permissions import ADMINS, SIGNED_IN, actor_of


@strawberry.enum(description="FAILED: it failed to load, or a handler failed; enabling it again retries.")
class ModuleStatus(enum.Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    FAILED = "FAILED"


@strawberry.type
class PytakeModule:
    name: str
    title: str
    description: str
    version: str | None
    enabled: bool
    status: ModuleStatus
    failed_reason: str | None
    config_schema: JSON | None = strawberry.field(description="The JSON Schema its configuration must match.")
    config: JSON = strawberry.field(
        description="Its configuration; values the schema marks writeOnly read ***."
    )
    node_types: list[str] = strawberry.field(description="Flow node types it adds while enabled.")
    event_types: list[str] = strawberry.field(description='Events its handlers receive ("*": all).')

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> PytakeModule:
        return cls(**{**v, "status": ModuleStatus(v["status"])})


@strawberry.type(description="A flow node type an enabled module adds (the flow builder's palette).")
class FlowNodeType:
    name: str = strawberry.field(description="The node's `type` in a flow definition.")
    module: str
    module_title: str
    description: str
    config_schema: JSON = strawberry.field(description="The JSON Schema its `config` must match.")
    ports: list[str] = strawberry.field(description="The ports its edges leave by (next first).")


def _named(views: list[dict[str, Any]], name: str) -> PytakeModule:
    return PytakeModule.from_view(next(v for v in views if v["name"] == name))


@strawberry.type
class ModuleQueries:
    @strawberry.field(extensions=[ADMINS], description="Admins: the installed modules and their state.")
    async def modules(self, info: strawberry.Info) -> list[PytakeModule]:
        return [PytakeModule.from_view(v) for v in await rules.list_modules(actor_of(info))]

    @strawberry.field(
        extensions=[SIGNED_IN],
        description="The flow node types the enabled modules add, for whoever reads flows (no secrets: "
        "the node types' own schemas, not the modules' configuration).",
    )
    async def flow_node_types(self, info: strawberry.Info) -> list[FlowNodeType]:
        return [FlowNodeType(**v) for v in await rules.flow_node_types(actor_of(info))]


@strawberry.type
class ModuleMutations:
    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: enable a module (its stored configuration must be valid); audited.",
    )
    async def enable_module(self, info: strawberry.Info, name: str) -> PytakeModule:
        return _named(await rules.enable(actor_of(info), name), name)

    @strawberry.mutation(extensions=[ADMINS], description="Admins: disable a module; audited.")
    async def disable_module(self, info: strawberry.Info, name: str) -> PytakeModule:
        return _named(await rules.disable(actor_of(info), name), name)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: store a module's configuration, checked against its JSON Schema; audited.",
    )
    async def configure_module(self, info: strawberry.Info, name: str, config: JSON) -> PytakeModule:
        return _named(await rules.configure(actor_of(info), name, config), name)
