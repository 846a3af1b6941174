"""A conversation's life: status, priority, labels, transfers, escalations, internal notes, and
the same change on many conversations at once (rules in resolvers/lifecycle.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import lifecycle
from schema.common import ConversationStatus, Priority
from schema.conversations import Conversation, conversation_pk
from schema.messages import Message
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id


@strawberry.input
class BulkUpdateInput:
    conversation_ids: list[strawberry.ID]
    status: ConversationStatus | None = strawberry.field(default=None, description="Any status but SNOOZED.")
    assignee_id: strawberry.ID | None = None
    unassign: bool = False
    add_labels: list[str] | None = None
    remove_labels: list[str] | None = None
    priority: Priority | None = None


@strawberry.type
class BulkError:
    conversation_id: strawberry.ID
    code: str
    message: str


@strawberry.type
class BulkUpdateResult:
    updated: list[Conversation]
    errors: list[BulkError]


@strawberry.type
class LifecycleMutations:
    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Change a conversation's status (open/pending/snoozed/resolved/closed). SNOOZED "
        "needs snoozedUntil; the conversation reopens itself then, or when the customer writes.",
    )
    async def set_conversation_status(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        status: ConversationStatus,
        snoozed_until: datetime | None = None,
        reason: str | None = None,
    ) -> Conversation:
        view = await lifecycle.set_status(
            actor_of(info),
            conversation_pk(conversation_id),
            status,
            snoozed_until=snoozed_until,
            reason=reason,
        )
        return Conversation.from_view(view)

    @strawberry.mutation(extensions=[SIGNED_IN])
    async def set_conversation_priority(
        self, info: strawberry.Info, conversation_id: strawberry.ID, priority: Priority
    ) -> Conversation:
        return Conversation.from_view(
            await lifecycle.set_priority(actor_of(info), conversation_pk(conversation_id), priority)
        )

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Add and/or remove labels (case-insensitive, at most 20 per conversation).",
    )
    async def change_conversation_labels(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> Conversation:
        view = await lifecycle.change_labels(
            actor_of(info), conversation_pk(conversation_id), add=add or [], remove=remove or []
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Hand the conversation to another agent, with a reason (in the timeline).",
    )
    async def transfer_conversation(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        reason: str,
        to_user_id: strawberry.ID | None = None,
        to_team_id: strawberry.ID | None = None,
    ) -> Conversation:
        view = await lifecycle.transfer(
            actor_of(info),
            conversation_pk(conversation_id),
            reason=reason,
            to_user_id=decode_optional_id(to_user_id, "User", "toUserId"),
            to_team_id=decode_optional_id(to_team_id, "Team", "toTeamId"),
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Escalate a tier with a reason: priority at least HIGH, to the given supervisor or "
        "unassigned into the escalated queue (filter escalated: true).",
    )
    async def escalate_conversation(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        reason: str,
        to_user_id: strawberry.ID | None = None,
    ) -> Conversation:
        view = await lifecycle.escalate(
            actor_of(info),
            conversation_pk(conversation_id),
            reason=reason,
            to_user_id=decode_optional_id(to_user_id, "User", "toUserId"),
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        description="An internal note for agents; never sent to the customer.", extensions=[SIGNED_IN]
    )
    async def add_note(
        self, info: strawberry.Info, conversation_id: strawberry.ID, client_message_id: str, text: str
    ) -> Message:
        view = await lifecycle.add_note(
            actor_of(info), conversation_pk(conversation_id), text=text, client_message_id=client_message_id
        )
        return Message.from_view(view)

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="The same change on up to 500 conversations; failures are listed, not fatal.",
    )
    async def bulk_update_conversations(
        self, info: strawberry.Info, input: BulkUpdateInput
    ) -> BulkUpdateResult:
        result = await lifecycle.bulk_update(
            actor_of(info),
            [decode_id(i, "Conversation", "conversationIds") for i in input.conversation_ids],
            status=input.status,
            assignee_id=decode_optional_id(input.assignee_id, "User", "assigneeId"),
            unassign=input.unassign,
            add_labels=input.add_labels or [],
            remove_labels=input.remove_labels or [],
            priority=input.priority,
        )
        return BulkUpdateResult(
            updated=[Conversation.from_view(v) for v in result.updated],
            errors=[
                BulkError(
                    conversation_id=to_global_id("Conversation", cid), code=exc.code, message=exc.message
                )
                for cid, exc in result.errors
            ],
        )
