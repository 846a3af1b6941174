"""What a flow step does for real: each action the engine (resolvers/flow_engine.py) asks for,
carried out inside the step's transaction (resolvers/flow_executions.py), with the same rules
agents go through: messages are stored by resolvers/messages.store_bot_reply after the target's
checks (resolvers/targets.py, the connector's limits), transfers, escalations, labels and closing
go through resolvers/lifecycle.py (activities, events, the assignment queue).

Each action runs in a savepoint: one that is refused (a team deleted since the flow was saved, a
text too long for the platform) is rolled back alone and recorded as failed in the history, and
the run goes on. What must wait for the commit (the send job, the assignment drain, the SLA sync)
is collected in `Effects`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import Button, Platform
from connectors.registry import get_connector
from core import tasks
from core.auth import Actor, Role
from core.events import committed
from core.sql import fetch, in_transaction
from models import ConversationStatus
from resolvers import customers, lifecycle, messages, sla, templates
from resolvers.assignment import request_drain
from resolvers.errors import BadInput, DomainError
from resolvers.flows import pk_of
from resolvers.shapes import CONVERSATION_COLUMNS
from resolvers.targets import resolve_target


def bot_actor(author_id: int | None = None) -> Actor:
    """Who a flow acts as in lifecycle rules: the system (activities show no user), with a
    supervisor's reach, since a published flow was approved by one. A response template is
    rendered as the flow's author ({{agent.name}})."""
    return Actor(user_id=author_id, role=Role.SUPERVISOR)  # type: ignore[arg-type]


@dataclass
class Effects:
    """Work for after the commit; `run` is idempotent, as every job it enqueues is."""

    messages: list[int] = field(default_factory=list)
    http: list[tuple[int, int]] = field(default_factory=list)  # (execution, step)
    modules: list[tuple[int, int]] = field(default_factory=list)  # (execution, step): module nodes
    wakes: list[tuple[int, int, int]] = field(default_factory=list)  # (execution, step, delay ms)
    conversations: set[int] = field(default_factory=set)  # changed: SLA timers may move
    drain: bool = False
    emitted: bool = False  # events were written: wake the sequencer (not for every message seen)

    def merge(self, other: Effects) -> None:
        self.messages += other.messages
        self.http += other.http
        self.modules += other.modules
        self.wakes += other.wakes
        self.conversations |= other.conversations
        self.drain = self.drain or other.drain
        self.emitted = self.emitted or other.emitted

    async def run(self) -> None:
        if self.emitted:
            committed()
        for message_id in self.messages:
            tasks.SEND_MESSAGE.send(message_id)
        for execution_id, step in self.http:
            tasks.FLOW_HTTP.send(execution_id, step)
        for execution_id, step in self.modules:
            tasks.FLOW_MODULE.send(execution_id, step)
        for execution_id, step, delay_ms in self.wakes:
            tasks.FLOW_WAKE.send(execution_id, step, delay_ms=delay_ms)
        if self.drain:
            request_drain()  # the lifecycle rules asked too, but before our commit
        if self.conversations:
            await sla.request_sync(sorted(self.conversations))


@dataclass
class Context:
    execution_id: int
    flow_id: int
    flow_name: str
    flow_version: int
    author_id: int | None
    conversation_id: int
    step: int
    effects: Effects


async def perform(context: Context, index: int, action: dict[str, Any]) -> str:
    """Carry out one action; returns the outcome for the history ("sent", "failed: …")."""
    kind = action["type"]
    if kind in ("schedule_wake", "http_request", "module_node"):
        return "scheduled"  # the runtime keeps these on the execution row
    try:
        async with in_transaction():  # a savepoint: a refused action leaves nothing behind
            outcome = await _ACTIONS[kind](context, index, action)
        context.effects.emitted = True  # messages and conversation changes come with events
        return outcome
    except DomainError as exc:
        return f"failed: {exc}"[:200]


def client_message_id(context: Context, index: int) -> str:
    """Deterministic per (execution, step, action): a step run again finds its message stored."""
    return f"flow:{context.execution_id}:{context.step}:{index}"


async def _send(
    context: Context, index: int, node: str, text: str, buttons: list[Button], extra: dict[str, Any]
) -> str:
    client_id = client_message_id(context, index)
    stored = await fetch(
        "SELECT id FROM messages WHERE conversation_id = $1 AND client_message_id = $2 AND sender_id IS NULL",
        context.conversation_id,
        client_id,
    )
    if stored:
        return "already sent"
    conversation = (
        await fetch(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1", context.conversation_id
        )
    )[0]
    target = await resolve_target(context.conversation_id, None)
    connector = get_connector(Platform(target.platform))
    if buttons and not connector.capabilities.buttons:  # the conversation moved platforms
        text = text + "\n" + "\n".join(f"{i}. {b.title}" for i, b in enumerate(buttons, 1))
        buttons = []
    if len(text) > connector.max_text_length:
        raise BadInput(f"text is {len(text)} characters; {target.platform} takes {connector.max_text_length}")
    # The timeline shows which flow and node sent it.
    sent_by = {
        "id": context.flow_id,
        "name": context.flow_name,
        "version": context.flow_version,
        "execution_id": context.execution_id,
        "node": node,
    }
    message = await messages.store_bot_reply(
        conversation, target, client_id, text, buttons, {**extra, "flow": sent_by}
    )
    if message is not None:
        context.effects.messages.append(message["id"])
    return "sent"


async def _send_text(context: Context, index: int, action: dict[str, Any]) -> str:
    return await _send(context, index, action["node"], action["text"], [], {})


async def _send_buttons(context: Context, index: int, action: dict[str, Any]) -> str:
    buttons = [Button(id=b["id"], title=b["title"]) for b in action["buttons"]]
    return await _send(context, index, action["node"], action["text"], buttons, {})


async def _send_template(context: Context, index: int, action: dict[str, Any]) -> str:
    template_id = pk_of(action["template_id"], "ResponseTemplate")
    if template_id is None or context.author_id is None:
        raise BadInput("the response template (or the flow's author who renders it) is gone")
    target = await resolve_target(context.conversation_id, None)
    rendered = await templates.render_for_target(
        bot_actor(context.author_id), template_id, context.conversation_id, target, action["variables"]
    )
    templates.require_send_allowed(rendered)
    extra = {"response_template": rendered.metadata()}
    return await _send(context, index, action["node"], rendered.text, list(rendered.buttons), extra)


async def _set_attribute(context: Context, index: int, action: dict[str, Any]) -> str:
    await customers.set_attribute_by_flow(context.conversation_id, action["name"], str(action["value"]))
    return "set"


async def _add_label(context: Context, index: int, action: dict[str, Any]) -> str:
    await lifecycle.change_labels(bot_actor(), context.conversation_id, add=[action["label"]])
    context.effects.conversations.add(context.conversation_id)
    context.effects.drain = True  # a topic label may route it
    return "labelled"


async def _remove_label(context: Context, index: int, action: dict[str, Any]) -> str:
    await lifecycle.change_labels(bot_actor(), context.conversation_id, remove=[action["label"]])
    return "unlabelled"


async def _transfer(context: Context, index: int, action: dict[str, Any]) -> str:
    reason = f"flow {context.flow_name}"
    if action.get("team_id"):
        team = pk_of(action["team_id"], "Team")
        if team is None:
            raise BadInput("the team is not a Team id")
        await lifecycle.transfer(bot_actor(), context.conversation_id, reason=reason, to_team_id=team)
    else:
        agent = pk_of(action["agent_id"], "User")
        if agent is None:
            raise BadInput("the agent is not a User id")
        await lifecycle.transfer(bot_actor(), context.conversation_id, reason=reason, to_user_id=agent)
    context.effects.conversations.add(context.conversation_id)
    context.effects.drain = True
    return "transferred"


async def _escalate(context: Context, index: int, action: dict[str, Any]) -> str:
    reason = action.get("reason") or f"flow {context.flow_name}"
    await lifecycle.escalate(bot_actor(), context.conversation_id, reason=reason)
    context.effects.conversations.add(context.conversation_id)
    context.effects.drain = True
    return "escalated"


async def _close(context: Context, index: int, action: dict[str, Any]) -> str:
    """Resolved, not closed for good: the customer writing again reopens it (a closed conversation
    would make their next message a new one, and a supervisor may still want to close it)."""
    await lifecycle.set_status(
        bot_actor(), context.conversation_id, ConversationStatus.RESOLVED, reason=f"flow {context.flow_name}"
    )
    context.effects.conversations.add(context.conversation_id)
    context.effects.drain = True
    return "resolved"


_ACTIONS = {
    "send_text": _send_text,
    "send_buttons": _send_buttons,
    "send_template": _send_template,
    "set_attribute": _set_attribute,
    "add_label": _add_label,
    "remove_label": _remove_label,
    "transfer": _transfer,
    "escalate": _escalate,
    "close": _close,
}
