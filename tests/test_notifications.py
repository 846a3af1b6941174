"""Notifications: agents hear of assignments, @mentions in notes and their customers' replies
(in-app, live on notificationEvents), by e-mail through a real SMTP server (the fake) and by a
Slack incoming webhook (a loopback fake), per their preferences, quiet hours holding the last two."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.fakes.server import serve_app
from connectors.notify_channels import DeliveryFailed
from core import tasks
from core.events import committed, conversation_stream, emit
from core.settings import get_settings
from core.sql import in_transaction
from models import Notification, NotificationDelivery, Role, User
from resolvers import notifications
from schema.relay import to_global_id
from tests.fakes.email import FakeSMTP
from tests.helpers import Subscriber, error_code, eventually, gql, login, make_user
from tests.test_assignment import _agent, _arrive, _team

ASSIGN = """mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, userId: $u) { id } }"""
NOTE = """mutation($c: ID!, $id: String!, $t: String!) { addNote(conversationId: $c, clientMessageId: $id, text: $t) { id } }"""
LIST = """query($u: Boolean!) { notifications(unreadOnly: $u) { id kind title body data readAt } }"""
READ = """mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }"""
PREFS = """mutation($input: NotificationPreferencesInput!) { saveNotificationPreferences(input: $input) {
  mutedKinds channels timezone quietStart quietEnd } }"""
EVENTS = """subscription { notificationEvents { cursor notification { kind title data } } }"""


async def _assign(server: str, conversation_id: int, agent: User) -> None:
    boss = await login(server, await make_user(Role.SUPERVISOR))
    variables = {"c": to_global_id("Conversation", conversation_id), "u": to_global_id("User", agent.id)}
    assert (await gql(server, ASSIGN, variables, boss)).get("errors") is None


async def _notified(user: User, kind: str, count: int = 1) -> list[Notification]:
    """Run the notifier (the server's upkeep may be running it too: then it skips) until `user`
    has `count` notifications of `kind`."""

    async def found() -> list[Notification] | None:
        await notifications.notify_from_events()
        rows = await Notification.filter(user_id=user.id, kind=kind).order_by("id")
        return rows if len(rows) >= count else None

    return await eventually(found, timeout=20, interval=0.2)


async def test_assignment_notifies_the_assignee_in_app_and_live(server):
    agent = await _agent()
    token = await login(server, agent)
    boss = await login(server, await make_user(Role.SUPERVISOR))
    _, channel = await _team("manual", [agent])
    conversation = await _arrive(channel)
    live = await Subscriber.open(server, token, EVENTS)
    try:
        assigned = await gql(
            server,
            ASSIGN,
            {"c": to_global_id("Conversation", conversation.id), "u": to_global_id("User", agent.id)},
            boss,
        )
        assert assigned.get("errors") is None, assigned
        event = await live.next_where(
            lambda d: d["notificationEvents"]["notification"]["kind"] == "assignment", 30
        )
        assert event["notificationEvents"]["notification"]["data"]["conversation_id"] == conversation.id
    finally:
        await live.close()
    # The notifier ran in the server's worker (its upkeep) or here; either way, once.
    await _notified(agent, "assignment")
    await notifications.notify_from_events()
    assert await Notification.filter(user_id=agent.id, kind="assignment").count() == 1

    unread = await gql(server, LIST, {"u": True}, token)
    assert [n["kind"] for n in unread["data"]["notifications"]] == ["assignment"]
    marked = await gql(server, READ, {"ids": [unread["data"]["notifications"][0]["id"]]}, token)
    assert marked["data"]["markNotificationsRead"] == 1
    assert (await gql(server, LIST, {"u": True}, token))["data"]["notifications"] == []
    assert len((await gql(server, LIST, {"u": False}, token))["data"]["notifications"]) == 1
    other = await login(server, await make_user(Role.AGENT))  # someone else's ids change nothing
    assert (await gql(server, READ, {"ids": [unread["data"]["notifications"][0]["id"]]}, other))["data"][
        "markNotificationsRead"
    ] == 0


async def test_mentions_in_notes_and_customer_replies(server):
    suffix = uuid.uuid4().hex[:6]
    ana = await make_user(Role.AGENT, name=f"ana{suffix}")
    anabela = await make_user(Role.AGENT, name=f"ana{suffix}bela")
    writer = await make_user(Role.AGENT, name=f"writer{suffix}")
    agent = await _agent()
    _, channel = await _team("manual", [agent])
    sender = "4420" + str(uuid.uuid4().int)[:8]
    conversation = await _arrive(channel, sender=sender)
    await gql(
        server,
        NOTE,
        {"c": to_global_id("Conversation", conversation.id), "id": uuid.uuid4().hex,
         "t": f"@ana{suffix}bela and @{writer.name}: can you look?"},
        await login(server, writer),
    )  # fmt: skip
    tasks.NOTIFY_FROM_EVENTS.send()  # the job's own path, on the server's worker
    mention = (await _notified(anabela, "mention"))[0]
    assert mention.title == f"writer{suffix} mentioned you in a note"
    assert mention.body == f"You were mentioned in a note on conversation {conversation.id}."  # no content
    assert mention.data["conversation_id"] == conversation.id
    assert await Notification.filter(user_id=ana.id).count() == 0  # @ana… is not @anabela
    assert await Notification.filter(user_id=writer.id).count() == 0  # not told of one's own note

    await _assign(server, conversation.id, agent)
    await _arrive(channel, sender=sender)  # the customer writes again
    reply = (await _notified(agent, "customer_reply"))[0]
    assert reply.data["conversation_id"] == conversation.id and "hi" not in reply.body

    token = await login(server, agent)
    saved = await gql(server, PREFS, {"input": {"mutedKinds": ["customer_reply"]}}, token)
    assert saved["data"]["saveNotificationPreferences"]["mutedKinds"] == ["customer_reply"]
    await _arrive(channel, sender=sender)
    await _notified(anabela, "mention")  # the notifier has passed that message
    await _arrive(channel, sender=sender)
    await notifications.notify_from_events()
    assert await Notification.filter(user_id=agent.id, kind="customer_reply").count() == 1  # muted since


async def test_bad_preferences_are_refused(server):
    token = await login(server, await make_user(Role.AGENT))
    for bad in (
        {"mutedKinds": ["gossip"]},
        {"channels": ["pigeon"]},
        {"channels": ["slack"]},  # without a webhook URL
        {"timezone": "Mars/Olympus"},
        {"quietStart": "22:00"},  # without an end
        {"quietStart": "25:00", "quietEnd": "07:00"},
        {"slackWebhookUrl": "javascript:alert(1)"},
    ):
        assert error_code(await gql(server, PREFS, {"input": bad}, token)) == "BAD_USER_INPUT", bad


def test_quiet_hours_in_the_users_zone() -> None:
    prefs = {"quiet_start": "22:00", "quiet_end": "07:00", "timezone": "America/Sao_Paulo"}
    late = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 23:00 on the 4th in São Paulo
    assert notifications.quiet_until(prefs, late) == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    early = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # 06:00 local, same night
    assert notifications.quiet_until(prefs, early) == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert notifications.quiet_until(prefs, datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) is None  # 09:00
    lunch = {"quiet_start": "12:00", "quiet_end": "13:00", "timezone": "Asia/Tokyo"}
    assert notifications.quiet_until(lunch, datetime(2026, 12, 5, 3, 30, tzinfo=UTC)) == datetime(
        2026, 12, 5, 4, 0, tzinfo=UTC
    )
    assert (
        notifications.quiet_until({**lunch, "quiet_start": None}, datetime(2026, 12, 5, 3, 30, tzinfo=UTC))
        is None
    )


class SlackHook:
    """A Slack incoming webhook on loopback: records posts, answers `ok` (or a queued failure)."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.fail_next = 0
        self.app = Starlette(routes=[Route("/services/T0/B0/x", self._post, methods=["POST"])])

    async def _post(self, request: Request) -> PlainTextResponse:
        if self.fail_next:
            self.fail_next -= 1
            return PlainTextResponse("no_service", status_code=404)
        self.posts.append(await request.json())
        return PlainTextResponse("ok")


@contextlib.asynccontextmanager
async def _mail_and_slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeSMTP, SlackHook, str]]:
    smtp, hook = FakeSMTP(), SlackHook()
    async with smtp.serve(), serve_app(hook.app) as base:
        for name, value in {
            "NOTIFY_SMTP_HOST": smtp.host, "NOTIFY_SMTP_PORT": str(smtp.port), "NOTIFY_SMTP_USERNAME": smtp.username,
            "NOTIFY_SMTP_PASSWORD": smtp.password, "NOTIFY_SMTP_STARTTLS": "0", "NOTIFY_MAIL_FROM": "alerts@pytake.test",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield smtp, hook, f"{base}/services/T0/B0/x"
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()


async def _deliveries(user: User) -> list[NotificationDelivery]:
    return await NotificationDelivery.filter(notification__user_id=user.id).order_by("channel")


async def test_email_and_slack_deliveries_and_quiet_hours(server, monkeypatch):
    async with _mail_and_slack(monkeypatch) as (smtp, hook, hook_url):
        agent = await _agent()
        token = await login(server, agent)
        _, channel = await _team("manual", [agent])
        prefs = {"channels": ["email", "slack"], "slackWebhookUrl": hook_url, "timezone": "Asia/Tokyo",
                 "mutedKinds": ["assignment"]}  # fmt: skip
        assert (await gql(server, PREFS, {"input": prefs}, token)).get("errors") is None
        sender = "4420" + str(uuid.uuid4().int)[:8]
        conversation = await _arrive(channel, sender=sender)
        await _assign(server, conversation.id, agent)  # the message before it was not theirs yet
        await _arrive(channel, sender=sender)
        await _notified(agent, "customer_reply")
        deliveries = await _deliveries(agent)
        assert [d.channel for d in deliveries] == ["email", "slack"]
        for delivery in deliveries:  # the server's worker may have sent them already: once either way
            assert await notifications.deliver(delivery.id) in ("sent", "skipped")
        await eventually(lambda: _all_sent(agent), timeout=20)
        assert [m.rcpt_tos for m in smtp.received] == [[agent.email]]
        mail = smtp.received[0].message
        assert mail["Subject"] == "The customer wrote" and mail["From"] == "alerts@pytake.test"
        assert hook.posts == [
            {
                "text": f"*The customer wrote*\nConversation {conversation.id} has a new message from the customer."
            }
        ]

        # Quiet hours around the present moment in Tokyo: e-mail and Slack wait for their end.
        now = datetime.now(UTC)
        local = now.astimezone(ZoneInfo("Asia/Tokyo"))
        quiet = {"quietStart": (local - timedelta(hours=1)).strftime("%H:%M"),
                 "quietEnd": (local + timedelta(hours=1)).strftime("%H:%M")}  # fmt: skip
        assert (await gql(server, PREFS, {"input": {**prefs, **quiet}}, token)).get("errors") is None
        await _arrive(channel, sender=sender)
        await _notified(agent, "customer_reply", count=2)
        held = [d for d in await _deliveries(agent) if d.state == "pending"]
        assert len(held) == 2 and all(d.deliver_after > now + timedelta(minutes=50) for d in held)
        assert [await notifications.deliver(d.id) for d in held] == ["skipped", "skipped"]
        assert not {d.id for d in held} & set(await notifications.due_deliveries())
        after = held[0].deliver_after + timedelta(seconds=1)
        assert {d.id for d in held} <= set(await notifications.due_deliveries(after))
        hook.fail_next = 1  # Slack refuses once: recorded, retried
        for delivery in held:
            if delivery.channel == "slack":
                with pytest.raises(DeliveryFailed):
                    await notifications.deliver(delivery.id, now=after)
                failed = await NotificationDelivery.get(id=delivery.id)
                assert failed.state == "pending" and "404" in (failed.last_error or "")
            assert await notifications.deliver(delivery.id, now=after) == "sent"
        assert len(smtp.received) == 2 and len(hook.posts) == 2


async def _all_sent(user: User) -> bool:
    return all(d.state == "sent" for d in await _deliveries(user))


async def test_an_event_of_another_shape_does_not_stop_the_notifier(server):
    """The notifier reads the whole log after one cursor: an event it cannot read (a hand-written
    one, an erased payload) is passed over, and the assignment after it is still notified."""
    agent = await _agent()
    _, channel = await _team("manual", [agent])
    conversation = await _arrive(channel)
    async with in_transaction() as conn:
        await emit(conn, conversation_stream(conversation.id), "MESSAGE_CREATED", {"erased": True})
        # A message without its conversation (test_fanout's hand-built events) stopped it once.
        await emit(
            conn, conversation_stream(conversation.id), "MESSAGE_CREATED", {"message": {"id": 1, "text": "x"}}
        )
        await emit(conn, conversation_stream(conversation.id), "ACTIVITY_ADDED", {})
        await emit(conn, conversation_stream(conversation.id), "ACTIVITY_ADDED", {"activity": {"id": 1}})
    committed()
    await _assign(server, conversation.id, agent)
    await _notified(agent, "assignment")
