"""Personal data: a customer's export (built by a job, served by a signed expiring link, exact
content), erasure (afterwards no table and no event-log payload holds any erased value, while the
counts stay), and retention per channel (old bodies go, rows stay, one run per period)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx

from connectors.fakes.whatsapp import inbound_text_payload
from core import tasks
from core.settings import get_settings
from core.sql import fetch
from models import AuditLog, Conversation, Customer, CustomerIdentity, Message, Role, User
from resolvers import retention
from schema.relay import to_global_id
from tests.helpers import (
    error_code,
    eventually,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    post_webhook,
)
from tests.test_flow_triggers import Flows, bot_said, bot_texts, edge, flows, node
from tests.test_story import SEND

__all__ = ["flows"]  # a fixture

MERGE = """mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id } }"""
REQUEST_EXPORT = """mutation($c: ID!) { requestCustomerExport(customerId: $c) { id status customerId } }"""
EXPORT = """query($id: ID!) { customerExport(id: $id) { id status error downloadUrl downloadExpiresAt } }"""
ERASE = """mutation($c: ID!, $r: String!) { eraseCustomer(customerId: $c, reason: $r) {
  customerId conversations identities messages events exports } }"""
RETENTION = """mutation($c: ID!, $d: Int) { setChannelRetention(channelId: $c, messageBodyDays: $d) {
  channelId messageBodyDays } }"""
SEARCH = """query($q: String!) { search(query: $q) { edges { __typename } } }"""


def _phone() -> str:
    return f"5511{uuid.uuid4().int % 10**9:09d}"


async def _second_channel(server: str, fake_whatsapp: tuple[Any, str]) -> tuple[Any, dict[str, str]]:
    fake, base_url = fake_whatsapp
    channel, secrets = await make_whatsapp_channel(base_url)
    fake.add_number(
        channel.config["phone_number_id"],
        access_token=secrets["access_token"],
        app_secret=secrets["app_secret"],
        webhook_url=f"{server}/webhooks/whatsapp/{channel.id}",
    )
    return channel, secrets


def _image_payload(phone_number_id: str, wa_id: str, name: str, caption: str, media_id: str) -> bytes:
    payload = inbound_text_payload(phone_number_id, wa_id=wa_id, name=name, text="unused")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"] = "image"
    message["image"] = {
        "caption": caption,
        "mime_type": "image/jpeg",
        "sha256": f"sha-{media_id}",
        "id": media_id,
        "url": f"https://lookaside.example/attachments/?mid={media_id}",
    }
    return json.dumps(payload).encode()


async def _story(server: str, wa: Any, fake_whatsapp: Any) -> dict[str, Any]:
    """A customer who wrote on two WhatsApp numbers (merged by an agent), sent a text and a photo,
    and got a reply: every kind of personal data the erasure must find."""
    channel, secrets, _ = wa
    second, second_secrets = await _second_channel(server, fake_whatsapp)
    tag = uuid.uuid4().hex[:8]
    s = {
        "tag": tag,
        "phone": _phone(),
        "other_phone": _phone(),
        "name": f"Zelda Quintanilha {tag}",
        "other_name": f"Zee Q {tag}",
        "text": f"my order ORD-{tag} never arrived, write to zelda.{tag}@example.org",
        "caption": f"photo of the broken box xq{tag}",
        "media_id": f"88{uuid.uuid4().int % 10**12:012d}",
        "reply": f"Sorry Zelda, order ORD-{tag} ships today",
        "later": f"thanks! xw{tag}",
    }
    s["wamid"] = f"wamid.{uuid.uuid4().hex}"
    pid = channel.config["phone_number_id"]
    for body in (
        json.dumps(
            inbound_text_payload(pid, wa_id=s["phone"], name=s["name"], text=s["text"], wamid=s["wamid"])
        ),
        _image_payload(pid, s["phone"], s["name"], s["caption"], s["media_id"]),
    ):
        raw = body.encode() if isinstance(body, str) else body
        assert (await post_webhook(server, channel, secrets["app_secret"], raw)).status_code == 200
    other_body = json.dumps(
        inbound_text_payload(
            second.config["phone_number_id"], wa_id=s["other_phone"], name=s["other_name"], text=s["later"]
        )
    ).encode()
    assert (await post_webhook(server, second, second_secrets["app_secret"], other_body)).status_code == 200
    first_identity = await CustomerIdentity.get(channel_id=channel.id, external_id=s["phone"])
    other_identity = await CustomerIdentity.get(channel_id=second.id, external_id=s["other_phone"])
    s["customer_id"], s["tombstone_id"] = first_identity.customer_id, other_identity.customer_id
    s["channels"] = (channel.id, second.id)

    agent = await make_user(Role.AGENT)
    agent_token = await login(server, agent)
    merged = await gql(
        server,
        MERGE,
        {"s": to_global_id("Customer", s["tombstone_id"]), "t": to_global_id("Customer", s["customer_id"])},
        agent_token,
    )
    assert merged.get("errors") is None, merged
    conversation = await Conversation.get(customer_id=s["customer_id"], channel_id=channel.id)
    client_id = str(uuid.uuid4())
    sent = await gql(
        server,
        SEND,
        {
            "input": {
                "conversationId": to_global_id("Conversation", conversation.id),
                "clientMessageId": client_id,
                "text": s["reply"],
            }
        },
        agent_token,
    )
    assert sent.get("errors") is None, sent

    async def delivered() -> bool:
        return (await Message.get(client_message_id=client_id)).status in ("sent", "delivered")

    await eventually(delivered, timeout=30)
    return s


async def _wait_ready(server: str, token: str, export_id: str) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        body = await gql(server, EXPORT, {"id": export_id}, token)
        assert body.get("errors") is None, body
        return body["data"]["customerExport"] if body["data"]["customerExport"]["status"] == "READY" else None

    return await eventually(ready, timeout=60, interval=0.2)


async def test_export_holds_exactly_the_customers_data_behind_a_signed_expiring_link(
    server, wa, fake_whatsapp
):
    s = await _story(server, wa, fake_whatsapp)
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    customer = to_global_id("Customer", s["customer_id"])
    agent_token = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, REQUEST_EXPORT, {"c": customer}, agent_token)) == "FORBIDDEN"
    missing = await gql(server, REQUEST_EXPORT, {"c": to_global_id("Customer", 2**31 - 1)}, token)
    assert error_code(missing) == "NOT_FOUND"

    requested = await gql(server, REQUEST_EXPORT, {"c": customer}, token)
    assert requested.get("errors") is None, requested
    export = await _wait_ready(server, token, requested["data"]["requestCustomerExport"]["id"])
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.get(export["downloadUrl"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()

    assert data["format"] == "pytake.customer-export/1" and data["customer_id"] == s["customer_id"]
    assert [(c["id"], c["name"], c["phone"], c["merged_into_id"]) for c in data["customers"]] == sorted(
        [
            (s["customer_id"], s["name"], s["phone"], None),
            (s["tombstone_id"], s["other_name"], s["other_phone"], s["customer_id"]),
        ]
    )
    assert sorted(
        (i["channel_id"], i["external_id"], i["display_name"]) for i in data["identities"]
    ) == sorted(
        [(s["channels"][0], s["phone"], s["name"]), (s["channels"][1], s["other_phone"], s["other_name"])]
    )
    conversations = await Conversation.filter(customer_id=s["customer_id"]).order_by("id")
    assert [c["id"] for c in data["conversations"]] == [c.id for c in conversations]
    timeline = [(m["direction"], m["text"]) for c in data["conversations"] for m in c["messages"]]
    assert timeline == [
        ("inbound", s["text"]),
        ("inbound", s["caption"]),
        ("outbound", s["reply"]),
        ("inbound", s["later"]),
    ]
    photo = next(m for c in data["conversations"] for m in c["messages"] if m["text"] == s["caption"])
    assert data["attachments"] == [
        {
            "message_id": photo["id"],
            "kind": "image",
            "media_id": s["media_id"],
            "url": f"https://lookaside.example/attachments/?mid={s['media_id']}",
            "mime_type": "image/jpeg",
            "sha256": f"sha-{s['media_id']}",
            "filename": None,
            "size": None,
        }
    ]
    assert data["csat"] == []
    assert [(e["action"], e["target_id"]) for e in data["audit"]] == [
        ("customer.merge", str(s["customer_id"])),
        ("customer.export_request", str(s["customer_id"])),
    ]

    (download,) = await AuditLog.filter(action="customer.export_download", target_id=str(s["customer_id"]))
    assert (download.actor_id, download.ip) == (admin.id, "127.0.0.1")

    base, _, signed = export["downloadUrl"].rpartition("/")
    body, _, signature = signed.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["u"] == admin.id and claims["e"] > time.time()

    def sign(claims: dict[str, Any]) -> str:  # the scheme, written out independently
        key = hmac.new(
            get_settings().jwt_secret.encode(), b"pytake download links v1", hashlib.sha256
        ).digest()
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        mac = (
            base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest())
            .decode()
            .rstrip("=")
        )
        return f"{base}/{payload}.{mac}"

    async with httpx.AsyncClient(timeout=20) as client:
        assert (await client.get(sign(claims))).status_code == 200  # an independent signer agrees
        expired = await client.get(sign({**claims, "e": int(time.time()) - 1}))
        assert (expired.status_code, expired.json()["error"]["code"]) == (410, "LINK_EXPIRED")
        forged = await client.get(f"{base}/{body}.{signature[:-2]}AA")
        assert (forged.status_code, forged.json()["error"]["code"]) == (403, "INVALID_LINK")
        other_kind = await client.get(sign({**claims, "k": "report"}))
        assert other_kind.status_code == 403
        await User.filter(id=admin.id).update(is_active=False)  # the link dies with the admin's access
        assert (await client.get(export["downloadUrl"])).status_code == 404


async def _flow_story(server: str, wa: Any, flows: Flows, s: dict[str, Any]) -> None:
    """The customer talks to a flow that keeps what they answer in a variable, the engine's state,
    its history and a customer attribute."""
    channel, secrets, _ = wa
    keyword = f"cadastro{s['tag']}"
    await flows.publish(
        {
            "nodes": [
                node("start", "trigger", keywords=[keyword]),
                node("ask", "ask", text="Seu e-mail?", variable="mail", validation={"kind": "email"}),
                node("keep", "set", attribute="email_cadastro", value="{{mail}}"),
                node("say", "send_message", text="Anotado: {{customer.email_cadastro}}"),
            ],
            "edges": [edge("start", "ask"), edge("ask", "keep"), edge("keep", "say")],
        }
    )
    s["flow_mail"] = f"fluxo.{s['tag']}@example.net"
    pid = channel.config["phone_number_id"]
    before = len(bot_texts(wa, s["phone"]))  # the agent's reply
    for number, text in enumerate((keyword, s["flow_mail"])):
        body = json.dumps(inbound_text_payload(pid, wa_id=s["phone"], name=s["name"], text=text)).encode()
        assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        await bot_said(wa, s["phone"], before + number + 1)
    assert (await bot_said(wa, s["phone"], before + 2))[-1] == f"Anotado: {s['flow_mail']}"


async def test_erasure_leaves_no_trace_in_any_table_or_the_event_log(server, wa, fake_whatsapp, flows):
    s = await _story(server, wa, fake_whatsapp)
    await _flow_story(server, wa, flows, s)
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    customer = to_global_id("Customer", s["customer_id"])
    requested = await gql(server, REQUEST_EXPORT, {"c": customer}, token)
    export_id = requested["data"]["requestCustomerExport"]["id"]
    await _wait_ready(server, token, export_id)
    (exported,) = await fetch(
        "SELECT content FROM customer_exports WHERE customer_id = $1 AND status = 'ready'", s["customer_id"]
    )
    document = json.loads(exported["content"])
    assert [(a["name"], a["value"]) for a in document["attributes"]] == [("email_cadastro", s["flow_mail"])]
    assert [r["variables"] for r in document["flow_executions"]] == [{"mail": s["flow_mail"]}]
    conversation_ids = [c.id for c in await Conversation.filter(customer_id=s["customer_id"])]
    before = await _statistics(conversation_ids)
    erased = [
        s[k]
        for k in (
            "phone",
            "other_phone",
            "name",
            "other_name",
            "text",
            "caption",
            "media_id",
            "reply",
            "later",
        )
    ]
    erased += [f"zelda.{s['tag']}@example.org", f"ORD-{s['tag']}", f"xq{s['tag']}", f"xw{s['tag']}"]
    erased.append(s["flow_mail"])
    stored = await _traces(erased)
    assert {value for _, _, value in stored} == set(erased), "the story did not store what the test looks for"
    assert {"events", "customers", "customer_identities", "messages", "customer_exports"} <= {
        t for t, _, _ in stored
    }
    assert {"flow_executions", "flow_execution_steps", "customer_attributes"} <= {
        t for t, _, value in stored if value == s["flow_mail"]
    }

    quoting = await gql(server, ERASE, {"c": customer, "r": f"asked by {s['name']} on the phone"}, token)
    assert error_code(quoting) == "BAD_USER_INPUT"
    assert (await Customer.get(id=s["customer_id"])).name == s["name"]  # refused whole
    agent_token = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, ERASE, {"c": customer, "r": "request"}, agent_token)) == "FORBIDDEN"

    (mark,) = await fetch("SELECT coalesce(max(seq), 0) AS seq FROM events")
    done = await gql(server, ERASE, {"c": customer, "r": "data subject request #4411 (LGPD art. 18)"}, token)
    assert done.get("errors") is None, done
    result = done["data"]["eraseCustomer"]
    assert (result["conversations"], result["identities"], result["messages"], result["exports"]) == (
        len(conversation_ids),
        2,
        8,  # the story's four, the flow's question and answer, and the customer's two
        1,
    )
    assert result["events"] > 0

    await asyncio.sleep(0.5)  # let the sequencer move the erasure's own events into the log
    assert await _traces(erased) == []
    # Each conversation's open view hears that its customer changed, and what it reads is erased.
    announced = await fetch(
        "SELECT stream, payload FROM events WHERE type = 'CUSTOMER_UPDATED' AND stream = ANY($1::text[]) "
        "AND seq > $2 ORDER BY seq",
        [f"conversation:{i}" for i in conversation_ids],
        mark["seq"],
    )
    latest = {row["stream"]: json.loads(row["payload"])["customer"] for row in announced}
    assert set(latest) == {f"conversation:{i}" for i in conversation_ids}
    assert all(c["name"] is None and c["phone"] is None and c["email"] is None for c in latest.values())
    assert await _statistics(conversation_ids) == before  # counts, statuses, timestamps stay
    search = await gql(server, SEARCH, {"q": f"xq{s['tag']}"}, token)
    assert search["data"]["search"]["edges"] == [], search
    (entry,) = await AuditLog.filter(action="customer.erase", target_id=str(s["customer_id"]))
    assert (
        entry.actor_id == admin.id and entry.details["reason"] == "data subject request #4411 (LGPD art. 18)"
    )
    assert sorted(entry.details["customer_ids"]) == sorted([s["customer_id"], s["tombstone_id"]])
    photo = await Message.get(conversation_id__in=conversation_ids, kind="image")
    assert photo.attachments == [{"kind": "image", "mime_type": "image/jpeg", "size": None}]
    assert photo.metadata == {"body_removed": "erased"} and photo.text is None

    # Writing again from the erased number starts a stranger: nothing joins it to the old record.
    channel, secrets, _ = wa
    again = inbound_text_payload(
        channel.config["phone_number_id"], wa_id=s["phone"], name="New", text="hello again"
    )
    assert (
        await post_webhook(server, channel, secrets["app_secret"], json.dumps(again).encode())
    ).status_code == 200
    newcomer = await CustomerIdentity.get(channel_id=channel.id, external_id=s["phone"])
    assert newcomer.customer_id not in (s["customer_id"], s["tombstone_id"])


async def _traces(values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every erased value still found in any text-like column of any
    table (the event log and its outbox included)."""
    columns = await fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'tsvector') "
        "ORDER BY 1, 2"
    )
    assert {"events", "event_outbox", "messages", "customers"} <= {c["table_name"] for c in columns}
    found = []
    for c in columns:
        for value in values:
            rows = await fetch(
                f'SELECT 1 FROM "{c["table_name"]}" WHERE strpos(lower("{c["column_name"]}"::text), lower($1)) > 0 LIMIT 1',
                value,
            )
            if rows:
                found.append((c["table_name"], c["column_name"], value))
    return found


async def _statistics(conversation_ids: list[int]) -> list[tuple[Any, ...]]:
    rows = await fetch(
        "SELECT m.id, m.conversation_id, m.direction, m.kind, m.status, m.created_at, c.status AS cs, c.created_at AS cc "
        "FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = ANY($1::int[]) "
        "ORDER BY m.id",
        conversation_ids,
    )
    return [tuple(r.values()) for r in rows]


async def test_retention_removes_old_bodies_keeps_the_rows_and_runs_once_per_period(server, wa):
    channel, secrets, _ = wa
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    channel_gid = to_global_id("Channel", channel.id)
    assert error_code(await gql(server, RETENTION, {"c": channel_gid, "d": 0}, token)) == "BAD_USER_INPUT"
    agent_token = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, RETENTION, {"c": channel_gid, "d": 30}, agent_token)) == "FORBIDDEN"
    set_body = await gql(server, RETENTION, {"c": channel_gid, "d": 30}, token)
    assert set_body["data"]["setChannelRetention"] == {"channelId": channel_gid, "messageBodyDays": 30}
    (entry,) = await AuditLog.filter(action="channel.retention", target_id=str(channel.id))
    assert entry.details == {"before": {"message_body_days": None}, "after": {"message_body_days": 30}}

    wa_id = _phone()
    for text in ("old one", "old two", "fresh"):
        body = json.dumps(
            inbound_text_payload(channel.config["phone_number_id"], wa_id=wa_id, name="R", text=text)
        )
        assert (await post_webhook(server, channel, secrets["app_secret"], body.encode())).status_code == 200
    await fetch(
        "UPDATE messages SET created_at = now() - interval '40 days' WHERE channel_id = $1 AND text LIKE 'old%'",
        channel.id,
    )
    count = await Message.filter(channel_id=channel.id).count()

    # The periodic job, through the workers: due again once its last run is an hour old.
    await fetch("UPDATE scheduled_runs SET last_started_at = '-infinity' WHERE name = $1", retention.RUN_NAME)
    tasks.PRIVACY_UPKEEP.send()

    async def expired() -> bool:
        return await Message.filter(channel_id=channel.id, text=None).count() == 2

    await eventually(expired, timeout=30, interval=0.2)
    rows = {m.id: m for m in await Message.filter(channel_id=channel.id)}
    assert len(rows) == count == 3
    old = [m for m in rows.values() if m.metadata.get("body_removed") == "retention"]
    assert len(old) == 2 and all(m.text is None and m.attachments == [] for m in old)
    assert [m.text for m in rows.values() if m not in old] == ["fresh"]
    assert await retention._expire_batch(channel.id, 30) == 0  # a second run finds nothing to do

    removed = await gql(server, RETENTION, {"c": channel_gid, "d": None}, token)
    assert removed["data"]["setChannelRetention"]["messageBodyDays"] is None

    name = f"test-run-{uuid.uuid4().hex[:8]}"
    claims = await asyncio.gather(*(retention.claim_run(name, timedelta(minutes=5)) for _ in range(6)))
    assert sorted(claims) == [False] * 5 + [True]  # six workers at once: one runs
    assert await retention.claim_run(name, timedelta(minutes=5)) is False  # and not again this period
    await fetch(
        "UPDATE scheduled_runs SET last_started_at = now() - interval '6 minutes' WHERE name = $1", name
    )
    assert await retention.claim_run(name, timedelta(minutes=5)) is True  # the next period has come


def test_scrubbing_keeps_the_shapes_vocabulary_and_times():
    from resolvers.erasure import _anonymised, scrub

    event = {
        "conversation": {
            "id": 7,
            "customer_id": 3,
            "status": "open",
            "platform": "whatsapp",
            "labels": ["open"],
        },
        "customer": {"id": 3, "name": "Open Door", "phone": "5511", "email": None},
        "last_message": {
            "id": 9,
            "conversation_id": 7,
            "direction": "inbound",
            "kind": "text",
            "text": "open 2026",
            "attachments": [{"kind": "image", "url": "https://x/y", "media_id": "m1", "size": 3}],
            "metadata": {"edits": ["opne"], "response_template": {"id": 1}},
            "created_at": "2026-12-04T10:00:00Z",
        },
        "assignee": {"id": 3, "name": "An agent whose id is the customer's"},
    }
    out = scrub(_anonymised(event, {3}, {7}), ["open 2026", "open", "2026", "Open Door"])
    assert out == {
        "conversation": {
            "id": 7,
            "customer_id": 3,
            "status": "open",
            "platform": "whatsapp",
            "labels": ["[erased]"],
        },
        "customer": {"id": 3, "name": None, "phone": None, "email": None},
        "last_message": {
            "id": 9,
            "conversation_id": 7,
            "direction": "inbound",
            "kind": "text",
            "text": None,
            "attachments": [{"kind": "image", "size": 3}],
            "metadata": {"response_template": {"id": 1}, "body_removed": "erased"},
            "created_at": "2026-12-04T10:00:00Z",
        },
        "assignee": {"id": 3, "name": "An agent whose id is the customer's"},
    }
