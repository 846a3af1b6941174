"""Flows: the graph as the builder edits it (nodes with a type, a position and a config; edges
from, to, port, condition), its versions, publishing, and `simulateFlow`, the builder's test
button. Rules in resolvers/flows.py; node configs in resolvers/flow_validation.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from connectors.base import Platform as _Platform
from resolvers import flows as flow_rules
from schema.common import Platform
from schema.permissions import SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id


@strawberry.type
class FlowPosition:
    x: float
    y: float


@strawberry.type
class FlowNode:
    id: str
    type: str = strawberry.field(
        description="trigger, send_message, ask, buttons, condition, set, http_request, wait, "
        "transfer, escalate, close or end."
    )
    position: FlowPosition
    config: JSON


@strawberry.type
class FlowEdge:
    from_: str = strawberry.field(name="from")
    to: str
    port: str = strawberry.field(
        description="Which way out of `from`: next, invalid, error, timeout, else, a branch or a button id."
    )
    condition: JSON | None = strawberry.field(
        description="Taken only when this holds; an edge without one is the default."
    )


@strawberry.type
class FlowVersion:
    version: int
    note: str | None
    created_at: datetime
    created_by_id: strawberry.ID | None
    nodes: list[FlowNode]
    edges: list[FlowEdge]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> FlowVersion:
        definition = v["definition"]
        return cls(
            version=v["version"],
            note=v["note"],
            created_at=v["created_at"],
            created_by_id=to_global_id("User", v["created_by_id"]) if v["created_by_id"] else None,
            nodes=[
                FlowNode(
                    id=n["id"], type=n["type"], position=FlowPosition(**n["position"]), config=n["config"]
                )
                for n in definition["nodes"]
            ],
            edges=[
                FlowEdge(from_=e["from"], to=e["to"], port=e["port"], condition=e["condition"])
                for e in definition["edges"]
            ],
        )


@strawberry.type
class Flow:
    id: strawberry.ID
    name: str
    version: int = strawberry.field(description="The latest saved version.")
    published_version: int | None = strawberry.field(description="What triggers run; null: unpublished.")
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Flow:
        return cls(
            id=to_global_id("Flow", row["id"]),
            name=row["name"],
            version=row["version"],
            published_version=row["published_version"],
            published_at=row["published_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            pk=row["id"],
        )

    @strawberry.field(description="One version's graph; the latest when `version` is left out.")
    async def definition(self, info: strawberry.Info, version: int | None = None) -> FlowVersion:
        return FlowVersion.from_view(await flow_rules.get_version(actor_of(info), self.pk, version))

    @strawberry.field(description="Every saved version, newest first. Versions never change.")
    async def versions(self, info: strawberry.Info) -> list[FlowVersion]:
        return [FlowVersion.from_view(v) for v in await flow_rules.list_versions(actor_of(info), self.pk)]


@strawberry.input
class FlowPositionInput:
    x: float = 0
    y: float = 0


@strawberry.input
class FlowNodeInput:
    id: str
    type: str
    position: FlowPositionInput | None = None
    config: JSON | None = strawberry.field(
        default=None, description="The node type's settings (README: Flows)."
    )


@strawberry.input
class FlowEdgeInput:
    from_: str = strawberry.field(name="from")
    to: str
    port: str | None = strawberry.field(default=None, description="Null: next.")
    condition: JSON | None = None


@strawberry.input
class FlowDefinitionInput:
    nodes: list[FlowNodeInput]
    edges: list[FlowEdgeInput]

    def to_definition(self) -> dict[str, Any]:
        return {
            "nodes": [
                {
                    "id": n.id,
                    "type": n.type,
                    "position": {"x": n.position.x, "y": n.position.y} if n.position else None,
                    "config": n.config,
                }
                for n in self.nodes
            ],
            "edges": [
                {"from": e.from_, "to": e.to, "port": e.port, "condition": e.condition} for e in self.edges
            ],
        }


@strawberry.input
class SaveFlowInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Null creates a flow.")
    name: str
    definition: FlowDefinitionInput
    note: str | None = strawberry.field(default=None, description="Kept with the version.")


@strawberry.input
class HttpAnswerInput:
    status: int = 200
    body: JSON | None = None
    error: str | None = strawberry.field(
        default=None, description="The call failed (timeout, refused): the error branch."
    )


@strawberry.type
class FlowSimulationStep:
    event: JSON = strawberry.field(
        description="What was fed in: a customer message, an HTTP answer or a timer."
    )
    actions: JSON = strawberry.field(
        description="What the flow did: send_text, send_buttons, http_request, transfer, …"
    )
    node: str | None
    status: str
    variables: JSON = strawberry.field(description="The variables after this step.")


@strawberry.type
class FlowTranscriptEntry:
    from_: str = strawberry.field(name="from", description="customer, bot or system.")
    text: str | None
    node: str | None
    details: JSON = strawberry.field(
        description="The whole entry: buttons, the HTTP request, the transfer, …"
    )


@strawberry.type
class FlowSimulation:
    status: str = strawberry.field(description="idle (never triggered), waiting, ended or failed.")
    node: str | None
    variables: JSON
    transcript: list[FlowTranscriptEntry]
    steps: list[FlowSimulationStep]
    unused_messages: int = strawberry.field(description="Script messages left when the flow stopped.")


@strawberry.type
class FlowQueries:
    @strawberry.field(extensions=[SIGNED_IN], description="Every flow, by name.")
    async def flows(self, info: strawberry.Info, published_only: bool = False) -> list[Flow]:
        return [
            Flow.from_row(r)
            for r in await flow_rules.list_flows(actor_of(info), published_only=published_only)
        ]

    @strawberry.field(extensions=[SIGNED_IN])
    async def flow(self, info: strawberry.Info, id: strawberry.ID) -> Flow:
        return Flow.from_row(await flow_rules.get_flow(actor_of(info), decode_id(id, "Flow")))


@strawberry.type
class FlowMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: create a flow, or save a new version of it (validated; audited). A problem "
        "is BAD_USER_INPUT with extensions.node and extensions.problems.",
    )
    async def save_flow(self, info: strawberry.Info, input: SaveFlowInput) -> Flow:
        row = await flow_rules.save_flow(
            actor_of(info),
            flow_id=decode_optional_id(input.id, "Flow", "id"),
            name=input.name,
            definition=input.definition.to_definition(),
            note=input.note,
        )
        return Flow.from_row(row)

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: triggers run this version (the latest by default).",
    )
    async def publish_flow(
        self, info: strawberry.Info, id: strawberry.ID, version: int | None = None
    ) -> Flow:
        return Flow.from_row(await flow_rules.publish_flow(actor_of(info), decode_id(id, "Flow"), version))

    @strawberry.mutation(
        extensions=[SUPERVISORS], description="Supervisors: triggers stop starting this flow."
    )
    async def unpublish_flow(self, info: strawberry.Info, id: strawberry.ID) -> Flow:
        return Flow.from_row(await flow_rules.unpublish_flow(actor_of(info), decode_id(id, "Flow")))

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: run a saved flow (flowId, version) or an unsaved definition against scripted "
        "customer messages, HTTP nodes answered from httpAnswers in order. Stores and sends nothing.",
    )
    async def simulate_flow(
        self,
        info: strawberry.Info,
        script: list[str],
        flow_id: strawberry.ID | None = None,
        version: int | None = None,
        definition: FlowDefinitionInput | None = None,
        http_answers: list[HttpAnswerInput] | None = None,
        platform: Platform = _Platform.WHATSAPP,
        customer: JSON | None = strawberry.field(
            default=None, description="The customer's attributes: {name, …}."
        ),
        labels: list[str] | None = None,
        at: datetime | None = strawberry.field(
            default=None, description="The time the script runs at (business hours); now."
        ),
    ) -> FlowSimulation:
        simulation = await flow_rules.simulate(
            actor_of(info),
            flow_id=decode_optional_id(flow_id, "Flow", "flowId"),
            version=version,
            definition=definition.to_definition() if definition else None,
            script=script,
            http_answers=[{"status": a.status, "body": a.body, "error": a.error} for a in http_answers or ()],
            platform=_Platform(platform).value,
            customer=customer if isinstance(customer, dict) else {},
            labels=list(labels or ()),
            at=at or datetime.now(UTC),
        )
        state = simulation.state
        return FlowSimulation(
            status=state["status"],
            node=state["node"],
            variables=state["variables"],
            transcript=[
                FlowTranscriptEntry(from_=e["from"], text=e.get("text"), node=e.get("node"), details=e)
                for e in simulation.transcript
            ],
            steps=[
                FlowSimulationStep(
                    event=s.event, actions=s.actions, node=s.node, status=s.status, variables=s.variables
                )
                for s in simulation.steps
            ],
            unused_messages=simulation.unused_messages,
        )
