"""The foundation story, end to end on real parts: a WhatsApp webhook reaches an agent live, the
agent replies, a Dramatiq worker sends it to the (fake) Cloud API, status webhooks come back and
the agent sees delivered and read."""

from __future__ import annotations

import uuid

from models import Message, Role
from tests.helpers import Subscriber, gql, login, make_user, post_webhook, wa_text_payload

INBOX_SUB = """subscription($after: String) { inboxEvents(after: $after) { cursor type
  conversation { id unreadCount status customer { name phone } lastMessage { text direction status } } } }"""
CONV_SUB = """subscription($id: ID!, $after: String) { conversationEvents(conversationId: $id, after: $after) {
  cursor type message { id text direction status errorCode clientMessageId platformMessageId sender { name } } } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status clientMessageId text } }"""


async def test_whatsapp_message_reaches_agent_live_and_reply_is_delivered(server, wa):
    channel, secrets, fake = wa
    agent = await make_user(Role.AGENT, name="Alex Agent")
    token = await login(server, agent)
    inbox = await Subscriber.open(server, token, INBOX_SUB)

    # 1. the customer writes; the webhook is answered only after the message is stored
    wa_id = "1650555" + uuid.uuid4().hex[:4].translate(str.maketrans("abcdef", "123456"))
    body = wa_text_payload(
        channel.config["phone_number_id"], wa_id, "Does it come in blue?", name="Sheena Nelson"
    )
    response = await post_webhook(server, channel, secrets["app_secret"], body)
    assert response.status_code == 200
    assert await Message.filter(channel_id=channel.id, text="Does it come in blue?").count() == 1

    # 2. the agent's inbox shows it live
    event = await inbox.next_where(lambda d: d["inboxEvents"]["conversation"]["customer"]["phone"] == wa_id)
    created = event["inboxEvents"]
    assert created["type"] == "CONVERSATION_CREATED"
    assert created["conversation"]["customer"]["name"] == "Sheena Nelson"
    assert created["conversation"]["lastMessage"] == {
        "text": "Does it come in blue?",
        "direction": "INBOUND",
        "status": "RECEIVED",
    }
    assert created["conversation"]["unreadCount"] == 1
    conversation_id = created["conversation"]["id"]

    # 3. the agent opens the conversation (replaying from the inbox cursor shows nothing is lost)
    conv = await Subscriber.open(server, token, CONV_SUB, {"id": conversation_id, "after": "0"})
    first = await conv.next()
    assert first["conversationEvents"]["message"]["text"] == "Does it come in blue?"

    # 4. reply, with a client id; a retry of the same mutation stores and sends nothing new
    fake.auto_statuses = ["delivered", "read"]
    client_id = str(uuid.uuid4())
    variables = {
        "input": {
            "conversationId": conversation_id,
            "clientMessageId": client_id,
            "text": "Yes, in navy blue!",
        }
    }
    reply = await gql(server, SEND, variables, token)
    assert reply["data"]["sendMessage"]["status"] == "QUEUED"
    retry = await gql(server, SEND, variables, token)
    assert retry["data"]["sendMessage"]["id"] == reply["data"]["sendMessage"]["id"]

    # 5. live: created (queued) → sent (worker called the API) → delivered → read (status webhooks)
    seen: list[str] = []

    def collect(data: dict) -> bool:
        message = data["conversationEvents"]["message"]
        if message["clientMessageId"] == client_id:
            seen.append(message["status"])
        return message["status"] == "READ"

    await conv.next_where(collect, timeout=20)
    assert seen[0] == "QUEUED"
    assert seen[-1] == "READ"
    assert seen == sorted(seen, key=["QUEUED", "SENT", "DELIVERED", "READ"].index), seen

    # 6. the fake API received exactly one well-formed send with the agent's text
    sends = [s for s in fake.sent if s.get("to") == wa_id]
    assert len(sends) == 1
    assert sends[0]["text"]["body"] == "Yes, in navy blue!"
    stored = await Message.get(client_message_id=client_id)
    assert stored.platform_message_id == sends[0]["_fake"]["wamid"]
    assert stored.delivered_at is not None and stored.read_at is not None
    await inbox.close()
    await conv.close()
