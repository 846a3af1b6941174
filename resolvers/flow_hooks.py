"""Where the rest of PyTake tells flows what happened: inbound messages stored, a conversation's
labels or status changed, an agent replied or took the conversation. Kept apart from the runtime
(resolvers/flow_executions.py, which sends through resolvers/messages.py and changes conversations
through resolvers/lifecycle.py), so those modules can call in here without an import circle.

Everything but the hand-off is a task sent after the caller's commit; the hand-off pauses the bot
at once, so no bot step can slip in after the agent's reply."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from core import tasks
from core.events import committed
from core.sql import in_transaction
from resolvers.activities import record_activity

ACTIVE = ("running", "waiting")


def inbound_stored(channel_id: int, platform_message_ids: Iterable[str | None]) -> None:
    """Customer messages were stored: feed waiting runs, fire keyword triggers (jobs/flows.py)."""
    ids = sorted({i for i in platform_message_ids if i})
    if ids:
        tasks.FLOW_INBOUND.send(channel_id, ids)


def conversation_event(conversation_id: int, event: str, detail: list[str] | None = None) -> None:
    """label_added (detail: the labels) or conversation_resolved. The key is made here, once, so a
    redelivered job starts nothing twice while the same event happening again is a new one."""
    tasks.FLOW_EVENT.send(conversation_id, event, list(detail or ()), uuid.uuid4().hex)


async def hand_off(conversation_id: int, user_id: int | None, why: str) -> int:
    """An agent replied (`agent_replied`) or took the conversation (`agent_took`): its running
    bots pause, each recorded as a `flow_handed_off` activity on the timeline (metrics stop the
    bot's clock at `handed_off_at`). Returns how many paused."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "UPDATE flow_executions e SET status = 'paused', handed_off_at = now(), wake_at = NULL, "
            "reason = $2, updated_at = now() FROM flows f "
            "WHERE e.conversation_id = $1 AND e.status IN ('running', 'waiting') AND f.id = e.flow_id "
            "RETURNING e.id, e.flow_id, e.node, f.name",
            [conversation_id, why],
        )
        for row in rows:
            await record_activity(
                conn,
                conversation_id,
                user_id,
                "flow_handed_off",
                {
                    "execution_id": row["id"],
                    "flow_id": row["flow_id"],
                    "flow": row["name"],
                    "node": row["node"],
                    "why": why,
                },
            )
    if rows:
        committed()
    return len(rows)
