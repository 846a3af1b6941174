"""Flows: the graph as the builder edits it (nodes with a type, a position and a config; edges
from, to, port, condition), its versions, publishing, and `simulateFlow`, the builder's test
button. Rules in resolvers/flows.py; node configs in resolvers/flow_validation.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from connectors.base import Platform as _Platform
from resolvers import flow_monitoring
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
    resume_within_minutes: int = strawberry.field(
        description="A customer who went quiet carries on an unfinished run within this long; after, it expires."
    )
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
            resume_within_minutes=row["resume_within_seconds"] // 60,
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
    resume_within_minutes: int | None = strawberry.field(
        default=None, description="1 to 43200; null keeps the flow's (a day for a new flow)."
    )


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
class FlowExecutionStep:
    step: int
    node: str | None
    action: str = strawberry.field(
        description="event:message / event:timer / event:http_response / event:start …, or the action: "
        "send_text, send_buttons, http_request, transfer, … , cancelled."
    )
    outcome: str = strawberry.field(description="received, sent, transferred, failed: <why>, …")
    detail: JSON
    at: datetime


@strawberry.type
class FlowExecution:
    id: strawberry.ID
    flow_id: strawberry.ID
    flow_version: int = strawberry.field(description="The version it started on and keeps.")
    conversation_id: strawberry.ID
    status: str = strawberry.field(
        description="running (an HTTP call out), waiting (for the customer or a timer), paused (handed off "
        "to an agent), completed, cancelled or failed."
    )
    current_node: str | None
    waiting_for: str | None = strawberry.field(
        description="reply, timer, reply_or_timer, http or module (a module's node running)."
    )
    variables: JSON
    state: JSON = strawberry.field(description="The engine's whole state.")
    wake_at: datetime | None
    trigger: str
    reason: str | None
    handed_off_at: datetime | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> FlowExecution:
        return cls(
            id=to_global_id("FlowExecution", v["id"]),
            flow_id=to_global_id("Flow", v["flow_id"]),
            flow_version=v["flow_version"],
            conversation_id=to_global_id("Conversation", v["conversation_id"]),
            status=v["status"],
            current_node=v["node"],
            waiting_for=v["waiting_for"],
            variables=v["variables"],
            state=v["state"],
            wake_at=v["wake_at"],
            trigger=v["trigger"],
            reason=v["reason"],
            handed_off_at=v["handed_off_at"],
            started_at=v["started_at"],
            updated_at=v["updated_at"],
            finished_at=v["finished_at"],
            pk=v["id"],
        )

    @strawberry.field(description="Every event fed in and every action taken, in order.")
    async def history(self) -> list[FlowExecutionStep]:
        return [FlowExecutionStep(**h) for h in await flow_monitoring.history(self.pk)]


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

    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Supervisors: flow runs, newest first, with their state and history.",
    )
    async def flow_executions(
        self,
        info: strawberry.Info,
        flow_id: strawberry.ID | None = None,
        conversation_id: strawberry.ID | None = None,
        status: Annotated[
            str | None,
            strawberry.argument(description="running, waiting, paused, completed, cancelled or failed."),
        ] = None,
        first: int = 50,
    ) -> list[FlowExecution]:
        rows = await flow_monitoring.list_executions(
            actor_of(info),
            flow_id=decode_optional_id(flow_id, "Flow", "flowId"),
            conversation_id=decode_optional_id(conversation_id, "Conversation", "conversationId"),
            status=status,
            limit=first,
        )
        return [FlowExecution.from_view(r) for r in rows]


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
            resume_within_seconds=None
            if input.resume_within_minutes is None
            else input.resume_within_minutes * 60,
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
        description="Supervisors: stop an unfinished run (audited); CONFLICT when it has finished already.",
    )
    async def cancel_flow_execution(self, info: strawberry.Info, id: strawberry.ID) -> FlowExecution:
        row = await flow_monitoring.cancel_execution(actor_of(info), decode_id(id, "FlowExecution"))
        return FlowExecution.from_view(row)

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
        customer: Annotated[
            JSON | None, strawberry.argument(description="The customer's attributes: {name, …}.")
        ] = None,
        labels: list[str] | None = None,
        at: Annotated[
            datetime | None,
            strawberry.argument(description="The time the script runs at (business hours); now."),
        ] = None,
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
