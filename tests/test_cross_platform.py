"""One customer, several platforms: WhatsApp in, an answer through another platform out, the
customer's next message on that platform back in the same timeline; and the refusals."""

from __future__ import annotations

import uuid

from models import Conversation, Message, Role
from schema.relay import to_global_id
from tests.fakes.twilio import FakeTwilio
from tests.helpers import eventually, gql, login, make_channel, make_user, post_webhook, wa_text_payload

TARGETS = """query($id: ID!) { node(id: $id) { ... on Conversation { replyTargets {
  channelId platform address available reason isDefault identityId } } } }"""
SEND = (
    """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id platform channelId status } }"""
)
TIMELINE = """query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 20) {
  edges { node { text platform direction } } } } } }"""


async def test_whatsapp_in_sms_out_and_back_in_one_timeline(server, wa):
    whatsapp, secrets, _ = wa
    twilio = FakeTwilio()
    account_sid, token, our_number = "AC" + uuid.uuid4().hex, uuid.uuid4().hex, "+15550001111"
    async with twilio.serve() as api_base:
        sms = await make_channel(
            "sms",
            {"account_sid": account_sid, "from_number": our_number, "api_base": api_base},
            {"auth_token": token},
        )
        twilio.add_account(
            account_sid, auth_token=token, numbers=[our_number], sms_url=f"{server}/webhooks/sms/{sms.id}"
        )
        line = await make_channel(
            "line", {"api_base": api_base}, {"channel_secret": "s", "channel_access_token": "t"}
        )

        phone = "1555" + str(uuid.uuid4().int)[:7]
        body = wa_text_payload(whatsapp.config["phone_number_id"], phone, "Where is my order?")
        assert (await post_webhook(server, whatsapp, secrets["app_secret"], body)).status_code == 200
        conversation = await Conversation.filter(channel_id=whatsapp.id).order_by("-id").first()
        assert conversation is not None
        cid = to_global_id("Conversation", conversation.id)
        token_ = await login(server, await make_user(Role.AGENT))

        targets = {
            t["channelId"]: t
            for t in (await gql(server, TARGETS, {"id": cid}, token_))["data"]["node"]["replyTargets"]
        }
        by_sms = targets[to_global_id("Channel", sms.id)]
        assert by_sms["available"] and by_sms["address"] == f"+{phone}" and by_sms["identityId"] is None
        by_line = targets[to_global_id("Channel", line.id)]
        assert not by_line["available"] and "contact this channel" in by_line["reason"]
        assert targets[to_global_id("Channel", whatsapp.id)]["isDefault"]

        # Refused where the platform forbids it: nothing stored, a named error with the reason.
        refused = await gql(
            server,
            SEND,
            {
                "input": {
                    "conversationId": cid,
                    "clientMessageId": str(uuid.uuid4()),
                    "text": "hi",
                    "channelId": to_global_id("Channel", line.id),
                }
            },
            token_,
        )
        assert refused["errors"][0]["extensions"]["code"] == "REPLY_NOT_ALLOWED"
        assert refused["errors"][0]["message"] == by_line["reason"]

        # Answered by SMS: the first contact there, to the phone WhatsApp vouched for.
        sent = await gql(
            server,
            SEND,
            {
                "input": {
                    "conversationId": cid,
                    "clientMessageId": str(uuid.uuid4()),
                    "text": "It ships today",
                    "channelId": to_global_id("Channel", sms.id),
                }
            },
            token_,
        )
        assert sent["data"]["sendMessage"]["platform"] == "SMS", sent

        async def delivered():  # type: ignore[no-untyped-def]
            return [s for s in twilio.sent if s.get("Body") == "It ships today"]

        (request,) = await eventually(delivered, timeout=20)
        assert request["To"] == f"+{phone}" and request["From"] == our_number

        # The customer answers the SMS: same customer, same conversation.
        reply = await twilio.post_inbound(account_sid, from_=f"+{phone}", to=our_number, body="Thanks!")
        assert reply.status_code == 200
        answer = await Message.get(channel_id=sms.id, text="Thanks!")
        assert answer.conversation_id == conversation.id
        timeline = await gql(server, TIMELINE, {"id": cid}, token_)
        steps = [
            (n["node"]["platform"], n["node"]["direction"], n["node"]["text"])
            for n in timeline["data"]["node"]["messages"]["edges"]
        ]
        assert steps == [
            ("WHATSAPP", "INBOUND", "Where is my order?"),
            ("SMS", "OUTBOUND", "It ships today"),
            ("SMS", "INBOUND", "Thanks!"),
        ]
        # Replies now default to where the customer last wrote.
        targets = (await gql(server, TARGETS, {"id": cid}, token_))["data"]["node"]["replyTargets"]
        assert next(t for t in targets if t["isDefault"])["channelId"] == to_global_id("Channel", sms.id)


CREATE = """mutation($input: CreateChannelInput!) { createChannel(input: $input) { id platform config secretsSet health } }"""
ROTATE = """mutation($id: ID!) { rotateWebhookSecret(channelId: $id) { channel { secretsSet } secrets } }"""


async def test_admins_create_and_rotate_channels_of_any_platform(server):
    admin = await login(server, await make_user(Role.ADMIN))
    webchat = await gql(
        server,
        CREATE,
        {
            "input": {
                "platform": "WEBCHAT",
                "name": "Site chat",
                "config": {"allowed_origins": ["https://shop.example.com"]},
                "secrets": {},
            }
        },
        admin,
    )
    channel = webchat["data"]["createChannel"]
    assert (
        channel["config"]["public_key"].startswith("wc_") and "visitor_token_secret" in channel["secretsSet"]
    )
    assert channel["health"] == "WAITING"
    rotated = await gql(server, ROTATE, {"id": channel["id"]}, admin)
    assert set(rotated["data"]["rotateWebhookSecret"]["secrets"]) == {"visitor_token_secret"}
    sms = await gql(
        server,
        CREATE,
        {
            "input": {
                "platform": "SMS",
                "name": "Texts",
                "config": {"account_sid": "AC" + "a" * 32, "from_number": "+15550009999"},
                "secrets": {"auth_token": "t" * 32},
            }
        },
        admin,
    )
    assert sms["data"]["createChannel"]["platform"] == "SMS", sms
    issued = await gql(server, ROTATE, {"id": sms["data"]["createChannel"]["id"]}, admin)
    assert issued["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # Twilio issues its own token
    bad = await gql(
        server, CREATE, {"input": {"platform": "SMS", "name": "x", "config": {}, "secrets": {}}}, admin
    )
    assert (
        bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        and bad["errors"][0]["extensions"]["problems"]
    )


async def test_messenger_after_24_hours_goes_with_the_human_agent_tag(server):
    from datetime import UTC, datetime, timedelta

    from models import CustomerIdentity
    from tests.fakes.messenger import FakeMetaGraph

    page_id, secrets = (
        str(uuid.uuid4().int)[:15],
        {"app_secret": "a" * 32, "page_access_token": "p" * 32, "verify_token": "v" * 16},
    )
    api = FakeMetaGraph()
    async with api.serve() as base:
        channel = await make_channel("messenger", {"page_id": page_id, "api_base": base}, secrets)
        api.add_page(
            page_id,
            access_token=secrets["page_access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=f"{server}/webhooks/messenger/{channel.id}",
        )
        psid = str(uuid.uuid4().int)[:16]
        api.add_user(page_id, psid)
        assert (await api.post_inbound_text(page_id, psid, "my parcel?")).status_code == 200
        identity = await CustomerIdentity.get(channel_id=channel.id, external_id=psid)
        conversation = await Conversation.get(customer_id=identity.customer_id)
        cid, token = (
            to_global_id("Conversation", conversation.id),
            await login(server, await make_user(Role.AGENT)),
        )

        async def target() -> dict:
            targets = (await gql(server, TARGETS, {"id": cid}, token))["data"]["node"]["replyTargets"]
            return next(t for t in targets if t["channelId"] == to_global_id("Channel", channel.id))

        for hours, available in ((30, True), (24 * 8, False)):
            await CustomerIdentity.filter(id=identity.id).update(
                last_inbound_at=datetime.now(UTC) - timedelta(hours=hours)
            )
            api.age_window(page_id, psid, hours)
            found = await target()
            assert (
                found["available"] is available and "HUMAN_AGENT" in (found["reason"] or "")
            ) or not available, found
            if available:
                reply = {
                    "conversationId": cid,
                    "clientMessageId": str(uuid.uuid4()),
                    "text": "Still here to help",
                }
                assert (await gql(server, SEND, {"input": reply}, token)).get("errors") is None

                async def sent():  # type: ignore[no-untyped-def]
                    return [s for s in api.sent if s.get("message", {}).get("text") == "Still here to help"]

                (request,) = await eventually(sent, timeout=20)
                assert request["messaging_type"] == "MESSAGE_TAG" and request["tag"] == "HUMAN_AGENT"
        channel.enabled = False
        await channel.save()
