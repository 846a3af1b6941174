from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from connectors.base import Attachment as AttachmentValue
from connectors.base import Button as ButtonValue
from core import demo
from core.presence import Presence
from models import Presence as _Presence
from resolvers import auth as auth_rules
from resolvers import channels as channel_rules
from resolvers import conversations as conv
from resolvers import customers as customer_rules
from resolvers import lifecycle
from resolvers import messages as message_rules
from resolvers import search as search_rules
from resolvers import sla as sla_rules
from resolvers import teams as team_rules
from resolvers.errors import BadInput, RateLimited
from resolvers.shapes import user_view
from schema.inputs import (
    BulkUpdateInput,
    ConversationFilterInput,
    CreateChannelInput,
    CreateUserInput,
    SendMessageInput,
    UpdateChannelInput,
)
from schema.permissions import actor_of
from schema.relay import decode_id, to_global_id
from schema.types import (
    AgentPresence,
    AssignmentStrategy,
    AuthPayload,
    BulkError,
    BulkUpdateResult,
    Channel,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    Platform,
    Priority,
    RotatedSecrets,
    SavedView,
    Team,
    User,
)
from schema.types import SlaPolicy as SlaPolicyType


def _session(session: auth_rules.Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        user=User.from_view(session.user),
    )


def _string_map(value: object, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadInput(f"{field} must be an object of strings", field=field)
    return value


def _object(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise BadInput(f"{field} must be an object", field=field)
    return value


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in: a short-lived access token and a rotating refresh token.")
    async def login(self, info: strawberry.Info, email: str, password: str) -> AuthPayload:
        settings_limit = info.context.settings.login_rate_per_minute
        limiter = info.context.rate_limiter
        if not await limiter.hit(f"login:{info.context.ip}:{email.lower()}", limit=settings_limit, per=60):
            raise RateLimited("too many sign-in attempts; wait a minute", retry_after=60)
        return _session(await auth_rules.login(email, password))

    @strawberry.mutation(description="Trade a refresh token for a new pair. Each refresh token works once.")
    async def refresh_token(self, refresh_token: str) -> AuthPayload:
        return _session(await auth_rules.refresh(refresh_token))

    @strawberry.mutation
    async def logout(self, refresh_token: str) -> bool:
        return await auth_rules.logout(refresh_token)

    @strawberry.mutation(
        description="Reply to a conversation. Retrying with the same clientMessageId is safe."
    )
    async def send_message(self, info: strawberry.Info, input: SendMessageInput) -> Message:
        result = await message_rules.send_reply(
            actor_of(info),
            conversation_id=decode_id(input.conversation_id, "Conversation", "conversationId"),
            client_message_id=input.client_message_id,
            text=input.text,
            channel_id=decode_id(input.channel_id, "Channel", "channelId") if input.channel_id else None,
            attachments=[
                AttachmentValue(kind=a.kind, url=a.url, filename=a.filename, mime_type=a.mime_type)
                for a in input.attachments or ()
            ],
            buttons=[ButtonValue(id=b.id, title=b.title, url=b.url) for b in input.buttons or ()],
            template=(
                {
                    "name": input.template.name,
                    "language": input.template.language,
                    "components": input.template.components or [],
                }
                if input.template
                else None
            ),
        )
        return Message.from_view(result.message)

    @strawberry.mutation
    async def assign_conversation(
        self, info: strawberry.Info, conversation_id: strawberry.ID, user_id: strawberry.ID | None = None
    ) -> Conversation:
        view = await conv.assign(
            actor_of(info),
            decode_id(conversation_id, "Conversation", "conversationId"),
            decode_id(user_id, "User", "userId") if user_id else None,
        )
        return Conversation.from_view(view)

    @strawberry.mutation
    async def mark_conversation_read(
        self, info: strawberry.Info, conversation_id: strawberry.ID
    ) -> Conversation:
        view = await conv.mark_read(
            actor_of(info), decode_id(conversation_id, "Conversation", "conversationId")
        )
        return Conversation.from_view(view)

    @strawberry.mutation(description="Admins: connect a platform account.")
    async def create_channel(self, info: strawberry.Info, input: CreateChannelInput) -> Channel:
        view = await channel_rules.create_channel(
            actor_of(info),
            platform=input.platform,
            name=input.name,
            config=_object(input.config, "config"),
            secrets=_string_map(input.secrets, "secrets"),
        )
        return Channel.from_view(view)

    @strawberry.mutation(description="Admins: change a channel; secrets given replace those keys only.")
    async def update_channel(self, info: strawberry.Info, input: UpdateChannelInput) -> Channel:
        view = await channel_rules.update_channel(
            actor_of(info),
            decode_id(input.id, "Channel"),
            name=input.name,
            enabled=input.enabled,
            config=_object(input.config, "config") if input.config is not None else None,
            secrets=_string_map(input.secrets, "secrets") if input.secrets is not None else None,
        )
        return Channel.from_view(view)

    @strawberry.mutation(
        description="Change a conversation's status (open/pending/snoozed/resolved/closed). SNOOZED "
        "needs snoozedUntil; the conversation reopens itself then, or when the customer writes."
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
            actor_of(info), _conversation(conversation_id), status, snoozed_until=snoozed_until, reason=reason
        )
        return Conversation.from_view(view)

    @strawberry.mutation
    async def set_conversation_priority(
        self, info: strawberry.Info, conversation_id: strawberry.ID, priority: Priority
    ) -> Conversation:
        return Conversation.from_view(
            await lifecycle.set_priority(actor_of(info), _conversation(conversation_id), priority)
        )

    @strawberry.mutation(
        description="Add and/or remove labels (case-insensitive, at most 20 per conversation)."
    )
    async def change_conversation_labels(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> Conversation:
        view = await lifecycle.change_labels(
            actor_of(info), _conversation(conversation_id), add=add or [], remove=remove or []
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        description="Hand the conversation to another agent, with a reason (in the timeline)."
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
            _conversation(conversation_id),
            reason=reason,
            to_user_id=decode_id(to_user_id, "User", "toUserId") if to_user_id else None,
            to_team_id=decode_id(to_team_id, "Team", "toTeamId") if to_team_id else None,
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        description="Escalate a tier with a reason: priority at least HIGH, to the given supervisor or "
        "unassigned into the escalated queue (filter escalated: true)."
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
            _conversation(conversation_id),
            reason=reason,
            to_user_id=decode_id(to_user_id, "User", "toUserId") if to_user_id else None,
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        description="Supervisors: create (no teamId) or replace a team and its members (audited)."
    )
    async def save_team(
        self,
        info: strawberry.Info,
        name: str,
        member_ids: list[strawberry.ID],
        strategy: AssignmentStrategy = AssignmentStrategy.LEAST_LOADED,  # type: ignore[assignment]
        sticky: bool = True,
        offline_grace_seconds: int = 300,
        team_id: strawberry.ID | None = None,
    ) -> Team:
        view = await team_rules.save_team(
            actor_of(info),
            team_id=decode_id(team_id, "Team", "teamId") if team_id else None,
            name=name,
            strategy=strategy,
            sticky=sticky,
            offline_grace_seconds=offline_grace_seconds,
            member_ids=[decode_id(m, "User", "memberIds") for m in member_ids],
        )
        return Team.from_view(view)

    @strawberry.mutation(
        description="Supervisors: route new conversations matching every given field to a team (audited)."
    )
    async def add_routing_rule(
        self,
        info: strawberry.Info,
        team_id: strawberry.ID,
        position: int = 0,
        platform: Platform | None = None,
        channel_id: strawberry.ID | None = None,
        language: str | None = None,
        topic: str | None = None,  # a label: unassigned conversations given it come to this team
    ) -> strawberry.ID:
        rule = await team_rules.add_routing_rule(
            actor_of(info),
            team_id=decode_id(team_id, "Team", "teamId"),
            position=position,
            platform=platform.value if platform else None,
            channel_id=decode_id(channel_id, "Channel", "channelId") if channel_id else None,
            language=language,
            topic=topic,
        )
        return to_global_id("RoutingRule", rule["id"])

    @strawberry.mutation(
        description="Supervisors: an agent's capacity (overall and per platform) and skills."
    )
    async def update_agent(
        self,
        info: strawberry.Info,
        user_id: strawberry.ID,
        capacity: int | None = None,
        platform_capacity: JSON | None = None,
        skills: list[str] | None = None,
    ) -> User:
        if platform_capacity is not None and not isinstance(platform_capacity, dict):
            raise BadInput(
                'platformCapacity must be an object like {"whatsapp": 3}', field="platformCapacity"
            )
        user = await team_rules.update_agent(
            actor_of(info),
            decode_id(user_id, "User", "userId"),
            capacity=capacity,
            platform_capacity=platform_capacity,  # type: ignore[arg-type]
            skills=skills,
        )
        return User.from_view(
            {**user_view(user), "presence": user.presence, "capacity": user.capacity, "skills": user.skills}
        )

    @strawberry.mutation(
        description="Online takes new conversations; away keeps yours but takes none; offline re-queues yours after the grace period."
    )
    async def set_my_presence(self, info: strawberry.Info, presence: AgentPresence) -> AgentPresence:
        return _Presence(await team_rules.set_my_presence(actor_of(info), presence))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Supervisors: an SLA policy for a team/priority/platform (null: any), targets in seconds "
        'of business hours ({"mon": [["09:00", "18:00"]], ...} in `timezone`; {} = around the clock).'
    )
    async def create_sla_policy(
        self,
        info: strawberry.Info,
        name: str,
        first_response_seconds: int | None = None,
        next_response_seconds: int | None = None,
        resolution_seconds: int | None = None,
        warn_before_seconds: int = 300,
        position: int = 0,
        team_id: strawberry.ID | None = None,
        priority: Priority | None = None,
        platform: Platform | None = None,
        timezone: str = "UTC",
        business_hours: JSON | None = None,
        holidays: list[date] | None = None,
    ) -> SlaPolicyType:
        if business_hours is not None and not isinstance(business_hours, dict):
            raise BadInput('businessHours looks like {"mon": [["09:00", "18:00"]]}', field="businessHours")
        policy = await sla_rules.create_policy(
            actor_of(info),
            name=name,
            position=position,
            team_id=decode_id(team_id, "Team", "teamId") if team_id else None,
            priority=priority.value if priority else None,
            platform=platform.value if platform else None,
            first_response_seconds=first_response_seconds,
            next_response_seconds=next_response_seconds,
            resolution_seconds=resolution_seconds,
            warn_before_seconds=warn_before_seconds,
            timezone=timezone,
            business_hours=business_hours or {},
            holidays=holidays or [],
        )
        return SlaPolicyType(
            id=to_global_id("SlaPolicy", policy.id),
            name=policy.name,
            position=policy.position,
            first_response_seconds=policy.first_response_seconds,
            next_response_seconds=policy.next_response_seconds,
            resolution_seconds=policy.resolution_seconds,
            warn_before_seconds=policy.warn_before_seconds,
            timezone=policy.timezone,
            business_hours=policy.business_hours,
        )

    @strawberry.mutation(description="Save a filter (and optional search text) as a named view.")
    async def save_view(
        self,
        info: strawberry.Info,
        name: str,
        filter: ConversationFilterInput | None = None,
        query: str | None = None,
    ) -> SavedView:
        view = await search_rules.save_view(
            actor_of(info), name=name, query=query, filter=(filter or ConversationFilterInput()).to_rule()
        )
        return SavedView.from_view(view)

    @strawberry.mutation
    async def delete_view(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await search_rules.delete_view(actor_of(info), decode_id(id, "SavedView", "id"))

    @strawberry.mutation(description="Tell the conversation's other viewers you are (or stopped) typing.")
    async def set_typing(self, info: strawberry.Info, conversation_id: strawberry.ID, typing: bool) -> bool:
        actor = actor_of(info)
        pk = _conversation(conversation_id)
        await conv.get_conversation(actor, pk)
        me = await auth_rules.get_active_user(auth_rules.require_user(actor))
        presence = Presence(info.context.event_log.bus, info.context.settings.namespace)
        await presence.signal(pk, me.id, me.name, "typing" if typing else "stopped_typing")
        return True

    @strawberry.mutation(description="An internal note for agents; never sent to the customer.")
    async def add_note(
        self, info: strawberry.Info, conversation_id: strawberry.ID, client_message_id: str, text: str
    ) -> Message:
        view = await lifecycle.add_note(
            actor_of(info), _conversation(conversation_id), text=text, client_message_id=client_message_id
        )
        return Message.from_view(view)

    @strawberry.mutation(
        description="The same change on up to 500 conversations; failures are listed, not fatal."
    )
    async def bulk_update_conversations(
        self, info: strawberry.Info, input: BulkUpdateInput
    ) -> BulkUpdateResult:
        result = await lifecycle.bulk_update(
            actor_of(info),
            [decode_id(i, "Conversation", "conversationIds") for i in input.conversation_ids],
            status=input.status,
            assignee_id=decode_id(input.assignee_id, "User", "assigneeId") if input.assignee_id else None,
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

    @strawberry.mutation(
        description="Merge two customers known on different platforms into one: identities and "
        "conversations of `sourceId` move to `targetId` (audited; undo with splitIdentity)."
    )
    async def merge_customers(
        self, info: strawberry.Info, source_id: strawberry.ID, target_id: strawberry.ID
    ) -> Customer:
        view = await customer_rules.merge_customers(
            actor_of(info),
            source_id=decode_id(source_id, "Customer", "sourceId"),
            target_id=decode_id(target_id, "Customer", "targetId"),
        )
        return Customer.from_view(view)

    @strawberry.mutation(
        description="Move one identity (and the conversations that started on it) to a new customer (audited)."
    )
    async def split_identity(self, info: strawberry.Info, identity_id: strawberry.ID) -> Customer:
        view = await customer_rules.split_identity(
            actor_of(info), identity_id=decode_id(identity_id, "Identity", "identityId")
        )
        return Customer.from_view(view)

    @strawberry.mutation(
        description="Admins: regenerate the secrets we give the platform (verify token, Telegram's "
        "secret_token) and re-register the webhook where the platform allows (audited)."
    )
    async def rotate_webhook_secret(self, info: strawberry.Info, channel_id: strawberry.ID) -> RotatedSecrets:
        view, fresh = await channel_rules.rotate_webhook_secret(
            actor_of(info), decode_id(channel_id, "Channel", "channelId")
        )
        return RotatedSecrets(channel=Channel.from_view(view), secrets=fresh)

    @strawberry.mutation(description="Admins: add an agent, supervisor or admin.")
    async def create_user(self, info: strawberry.Info, input: CreateUserInput) -> User:
        view = await auth_rules.create_user(
            actor_of(info), email=input.email, name=input.name, password=input.password, role=input.role
        )
        return User.from_view(view)

    @strawberry.mutation(
        description="Demo mode: play the customer; the fake WhatsApp posts a real signed webhook."
    )
    async def simulate_inbound_message(
        self, info: strawberry.Info, channel_id: strawberry.ID, wa_id: str, name: str, text: str
    ) -> bool:
        return await demo.simulate_inbound(
            actor_of(info), decode_id(channel_id, "Channel", "channelId"), wa_id=wa_id, name=name, text=text
        )


def _conversation(conversation_id: strawberry.ID) -> int:
    return decode_id(conversation_id, "Conversation", "conversationId")
