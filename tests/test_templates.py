"""Response templates: the restricted syntax, rendering with every kind of variable, versions,
search, visibility, and templated replies reaching the fake WhatsApp and Twilio through the real
app and its worker, each stored with the template, version and variant it came from."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sql import fetch
from models import AuditLog, Conversation, Message, ResponseTemplate, ResponseTemplateVersion, Role
from resolvers.errors import BadInput
from resolvers.template_rendering import MissingValues, RenderContext, check, render
from schema.relay import to_global_id
from tests.fakes.twilio import FakeTwilio
from tests.helpers import (
    ConnectorCase,
    connector_case,
    error_code,
    eventually,
    gql,
    login,
    make_user,
    post_webhook,
    wa_text_payload,
)

# ---- the syntax and rendering, without the database ------------------------------------------

CONTEXT = RenderContext(
    values={
        "customer": {"name": "Ana Souza", "first_name": "Ana", "phone": None, "email": "ana@example.com"},
        "agent": {"name": "Bruno Lima", "first_name": "Bruno", "email": "b@x"},
        "conversation": {
            "id": "4711",
            "status": "open",
            "created_at": datetime(2026, 3, 5, 15, 30, tzinfo=UTC),
        },
        "channel": {"name": "Loja", "platform": "whatsapp"},
        "nome": "Ana Souza",
        "empresa": "Loja Azul",
        "data": date(2026, 3, 5),
        "total": "1234.5",
    },
    locale="pt_BR",
    time_zone="America/Sao_Paulo",
)


def test_every_kind_of_variable_renders() -> None:
    source = (
        "Olá {{nome}}, aqui é {{ agent.first_name }} da {{empresa}}. Conversa {{ conversation.id }} "
        "aberta em {{ conversation.created_at | datetime('short') }}; hoje é {{ data | date('long') }}. "
        'Telefone: {{ customer.phone | "não informado" }}. Total: {{ total | currency }}.'
    )
    text = render(source, CONTEXT, {"total"}, "body")
    assert text == (
        "Olá Ana Souza, aqui é Bruno da Loja Azul. Conversa 4711 aberta em 05/03/2026 12:30; "
        "hoje é 5 de março de 2026. Telefone: não informado. Total: R$\xa01.234,50."
    )


def test_dates_and_numbers_follow_the_locale_and_time_zone() -> None:
    english = RenderContext(values=CONTEXT.values, locale="en_US", time_zone="America/New_York")
    source = "{{ data | date('long') }} {{ conversation.created_at | time }} {{ total | number }}"
    assert render(source, english, {"total"}, "body") == "March 5, 2026 10:30\u202fAM 1,234.5"
    assert render(source, CONTEXT, {"total"}, "body") == "5 de março de 2026 12:30 1.234,5"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{{ customer.shoe_size }}", "unknown variable {{ customer.shoe_size }}"),
        ("{{ pedido }}", "unknown variable {{ pedido }}"),
        ("{% for x in y %}{{x}}{% endfor %}", "no {% … %} statements"),
        ("{{ 7 * 7 }}", "a placeholder holds a variable name"),
        ("{{ customer.__class__ }}", "unknown variable"),
        ("{{ nome.upper() }}", "a placeholder holds a variable name"),
        ("{{ nome | attr('x') }}", "unknown filter 'attr'"),
        ("{{ nome | fallback(data) }}", "only literal arguments"),
        ("{{ 'literal braces' }}", "a placeholder holds a variable name"),
        ("Olá {{ nome", "syntax error"),
    ],
)
def test_anything_but_variables_is_refused_naming_it(source: str, fragment: str) -> None:
    with pytest.raises(BadInput) as refused:
        check(source, set(), "body")
    assert fragment in refused.value.message


def test_a_value_missing_without_fallback_is_named_and_nothing_renders() -> None:
    with pytest.raises(MissingValues) as missing:
        render("{{ customer.phone }} {{ pedido }}", CONTEXT, {"pedido"}, "body")
    assert missing.value.details["variables"] == ["customer.phone", "pedido"]


def test_a_value_that_looks_like_a_placeholder_never_reaches_the_customer() -> None:
    context = RenderContext(values={**CONTEXT.values, "nome": "{{x}}"}, locale="pt_BR", time_zone="UTC")
    with pytest.raises(BadInput, match="template braces"):
        render("Olá {{nome}}", context, set(), "body")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80), st.text(max_size=40))
def test_rendering_never_leaves_a_placeholder(literal: str, value: str) -> None:
    """Whatever a template or a value holds, the result is refused or free of template braces."""
    context = RenderContext(values={**CONTEXT.values, "pedido": value}, locale="pt_BR", time_zone="UTC")
    try:
        text = render(literal + "{{ pedido }}", context, {"pedido"}, "body")
    except BadInput:
        return
    assert "{{" not in text and "}}" not in text and "{%" not in text


# ---- the API ------------------------------------------------------------------------------------

SAVE = """mutation($input: SaveTemplateInput!) { saveTemplate(input: $input) { id version shortcut name } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status text metadata } }"""
TEMPLATE = """query($id: ID!, $a: Int!, $b: Int!) { template(id: $id) {
  version body usageCount myUsageCount
  versions { version note content { body prompts { name } variants { platform body } } }
  diff(fromVersion: $a, toVersion: $b) { changedFields unified } } }"""
SEARCH = """query($q: String, $tag: String) { templates(query: $q, tag: $tag, first: 50) {
  edges { cursor node { id name shortcut myUsageCount } } pageInfo { hasNextPage } } }"""
RENDER = """query($id: ID!, $c: ID!, $ch: ID, $v: JSON) {
  renderTemplate(id: $id, conversationId: $c, channelId: $ch, variables: $v) {
    version variant platform text buttons { id title } problems } }"""


@pytest.fixture
async def supervisor(server: str) -> str:
    return await login(server, await make_user(Role.SUPERVISOR))


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


async def _save(server: str, token: str, **fields: Any) -> dict[str, Any]:
    body = await gql(server, SAVE, {"input": fields}, token)
    assert body.get("errors") is None, body
    return body["data"]["saveTemplate"]


async def test_only_supervisors_change_templates_and_unknown_variables_are_refused(server, supervisor):
    agent = await login(server, await make_user(Role.AGENT))
    name = _unique("Refused ")
    denied = await gql(server, SAVE, {"input": {"name": name, "body": "Olá {{nome}}"}}, agent)
    assert error_code(denied) == "FORBIDDEN"
    unknown = await gql(
        server, SAVE, {"input": {"name": name, "body": "Seu tamanho: {{ customer.shoe_size }}"}}, supervisor
    )
    assert error_code(unknown) == "BAD_USER_INPUT"
    assert unknown["errors"][0]["extensions"]["variable"] == "customer.shoe_size"
    assert "customer.shoe_size" in unknown["errors"][0]["message"]
    assert await ResponseTemplate.filter(name=name).count() == 0  # nothing stored by either

    # A variant for a platform without buttons may not have them; buttons are literal text.
    for variant in (
        {"platform": "SMS", "buttons": [{"id": "a", "title": "A"}]},
        {"platform": "WHATSAPP", "buttons": [{"id": "a", "title": "{{nome}}"}]},
        {"platform": "WHATSAPP", "subject": "Assunto"},
    ):
        refused = await gql(
            server, SAVE, {"input": {"name": name, "body": "x", "variants": [variant]}}, supervisor
        )
        assert error_code(refused) == "BAD_USER_INPUT", variant
    assert await ResponseTemplate.filter(name=name).count() == 0

    saved = await _save(
        server, supervisor, name=name, body="Olá {{nome}}", shortcut="ola" + uuid.uuid4().hex[:4]
    )
    assert saved["version"] == 1 and saved["shortcut"].startswith("/ola")
    pk = int(saved["id"] and (await ResponseTemplate.get(name=name)).id)
    assert await AuditLog.filter(action="template.create", target_id=str(pk)).count() == 1
    taken = await gql(
        server, SAVE, {"input": {"name": "Other", "body": "x", "shortcut": saved["shortcut"]}}, supervisor
    )
    assert error_code(taken) == "CONFLICT"


async def test_versions_are_immutable_rollback_adds_one_and_diff_shows_changes(server, supervisor):
    first = await _save(server, supervisor, name=_unique("Prazo "), body="Chega em 3 dias, {{nome}}.")
    second = await _save(
        server,
        supervisor,
        id=first["id"],
        name=first["name"],
        body="Chega em {{dias}} dias, {{nome}}.",
        prompts=[{"name": "dias", "label": "Dias úteis"}],
        variants=[{"platform": "SMS", "body": "{{dias}} dias"}],
    )
    assert second["version"] == 2
    back = await gql(
        server,
        "mutation($id: ID!) { rollbackTemplate(id: $id, version: 1) { version body } }",
        {"id": first["id"]},
        supervisor,
    )
    assert back["data"]["rollbackTemplate"] == {"version": 3, "body": "Chega em 3 dias, {{nome}}."}

    body = await gql(server, TEMPLATE, {"id": first["id"], "a": 1, "b": 2}, supervisor)
    template = body["data"]["template"]
    assert [v["version"] for v in template["versions"]] == [3, 2, 1]
    v3, v2, v1 = template["versions"]
    assert v3["content"] == v1["content"] and v3["note"] == "rollback to version 1"
    assert v2["content"]["prompts"] == [{"name": "dias"}]
    assert template["diff"]["changedFields"] == ["body", "prompts", "variants"]
    assert "-Chega em 3 dias, {{nome}}." in template["diff"]["unified"]
    assert "+Chega em {{dias}} dias, {{nome}}." in template["diff"]["unified"]
    pk = (await ResponseTemplate.get(name=first["name"])).id
    assert await ResponseTemplateVersion.filter(template_id=pk).count() == 3
    assert await AuditLog.filter(action="template.rollback", target_id=str(pk)).count() == 1

    missing = await gql(
        server,
        "mutation($id: ID!) { rollbackTemplate(id: $id, version: 9) { version } }",
        {"id": first["id"]},
        supervisor,
    )
    assert error_code(missing) == "NOT_FOUND"
    assert await ResponseTemplateVersion.filter(template_id=pk).count() == 3


async def test_search_as_you_type_ranked_by_the_agents_own_use_and_team_visibility(server, supervisor):
    tag = _unique("t")
    team = await fetch(
        "INSERT INTO teams (name, strategy, sticky, offline_grace_seconds, created_at) VALUES ($1, 'manual', false, 300, now()) RETURNING id",
        _unique("Team "),
    )
    team_gid = to_global_id("Team", team[0]["id"])
    entrega = await _save(
        server,
        supervisor,
        name="Prazo de entrega " + tag,
        body="Sua encomenda chega amanhã.",
        shortcut=f"/entrega{tag}",
        tags=[tag],
    )
    troca = await _save(
        server,
        supervisor,
        name="Troca " + tag,
        body="Para trocar, responda com as entregas pendentes.",
        tags=[tag],
    )
    hidden = await _save(
        server, supervisor, name="Interno " + tag, body="Só do time.", tags=[tag], teamIds=[team_gid]
    )

    outsider, insider = await make_user(Role.AGENT), await make_user(Role.AGENT)
    await fetch("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)", team[0]["id"], insider.id)
    out_token, in_token = await login(server, outsider), await login(server, insider)

    async def names(token: str, q: str | None) -> list[str]:
        body = await gql(server, SEARCH, {"q": q, "tag": tag}, token)
        assert body.get("errors") is None, body
        return [e["node"]["name"] for e in body["data"]["templates"]["edges"]]

    assert await names(out_token, f"/entrega{tag}"[:9]) == [entrega["name"]]  # shortcut prefix
    assert await names(out_token, "praz") == [entrega["name"]]  # name prefix
    assert await names(out_token, "entre") == [entrega["name"]]  # a word of the name, by prefix
    assert set(await names(out_token, "entregas")) == {entrega["name"], troca["name"]}  # stemmed full text
    assert await names(out_token, "AMANHA") == [entrega["name"]]  # accents and case folded
    assert await names(out_token, "_") == []  # LIKE wildcards are literal characters
    assert set(await names(out_token, None)) == {entrega["name"], troca["name"]}  # not the team's
    assert set(await names(in_token, None)) == {entrega["name"], troca["name"], hidden["name"]}
    denied = await gql(
        server, "query($id: ID!) { template(id: $id) { name } }", {"id": hidden["id"]}, out_token
    )
    assert error_code(denied) == "NOT_FOUND"

    # The insider uses "Troca" twice: it leads their list, not the outsider's.
    troca_pk = (await ResponseTemplate.get(name=troca["name"])).id
    await fetch(
        "INSERT INTO response_template_usage (user_id, template_id, uses, last_used_at) VALUES ($1, $2, 2, now())",
        insider.id,
        troca_pk,
    )
    assert await names(in_token, "entreg") == [troca["name"], entrega["name"]]
    assert await names(out_token, "entreg") == [entrega["name"], troca["name"]]  # prefix hit first

    archived = await gql(
        server,
        "mutation($id: ID!) { archiveTemplate(id: $id) { archivedAt } }",
        {"id": troca["id"]},
        supervisor,
    )
    assert archived["data"]["archiveTemplate"]["archivedAt"]
    assert troca["name"] not in await names(in_token, None)
    assert await AuditLog.filter(action="template.archive", target_id=str(troca_pk)).count() == 1


# ---- templated replies, end to end through the worker ------------------------------------------


@pytest.fixture
async def sms(server: str) -> AsyncIterator[ConnectorCase]:
    account_sid, token, number = (
        "AC" + uuid.uuid4().hex,
        uuid.uuid4().hex,
        "+1555" + str(uuid.uuid4().int % 10**7).zfill(7),
    )

    async def wire(case: ConnectorCase) -> None:
        case.fake.add_account(account_sid, auth_token=token, numbers=[number], sms_url=case.webhook)

    config = {"account_sid": account_sid, "from_number": number}
    async with connector_case(server, FakeTwilio(), "sms", config, {"auth_token": token}, wire=wire) as case:
        yield case


async def _sent_message(client_id: str) -> Message:
    async def sent() -> Message | None:
        m = await Message.get_or_none(client_message_id=client_id)
        return m if m is not None and m.status == "sent" else None

    return await eventually(sent, timeout=20)


async def test_a_templated_reply_reaches_whatsapp_and_sms_in_each_platforms_variant(
    server, wa, sms, supervisor
):
    channel, secrets, fake_wa = wa
    wa_id = "5511" + str(uuid.uuid4().int % 10**9).zfill(9)
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "Cadê meu pedido?", name="Ana Souza")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert conversation is not None
    saved = await _save(
        server,
        supervisor,
        name=_unique("Pedido enviado "),
        body='Olá {{ customer.first_name | "cliente" }}! O pedido {{pedido}} saiu hoje da {{empresa}}.',
        buttons=[{"id": "track", "title": "Rastrear"}, {"id": "human", "title": "Falar com alguém"}],
        prompts=[{"name": "pedido", "label": "Número do pedido"}],
        variants=[{"platform": "SMS", "body": "{{empresa}}: pedido {{pedido}} enviado."}],
    )
    agent = await make_user(Role.AGENT, name="Bruno Lima")
    token = await login(server, agent)
    conv_gid = to_global_id("Conversation", conversation.id)

    preview = await gql(server, RENDER, {"id": saved["id"], "c": conv_gid, "v": {"pedido": "A-1"}}, token)
    assert preview["data"]["renderTemplate"] == {
        "version": 1,
        "variant": "universal",
        "platform": "WHATSAPP",
        "text": "Olá Ana! O pedido A-1 saiu hoje da Test WhatsApp.",
        "buttons": [{"id": "track", "title": "Rastrear"}, {"id": "human", "title": "Falar com alguém"}],
        "problems": [],
    }

    def send_input(
        variables: dict[str, Any] | None, channel_id: int | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        fields = {
            "conversationId": conv_gid,
            "clientMessageId": client_id or str(uuid.uuid4()),
            "responseTemplate": {"id": saved["id"], "variables": variables},
        }
        if channel_id is not None:
            fields["channelId"] = to_global_id("Channel", channel_id)
        return {"input": fields}

    # A prompt left out is refused, naming it, and nothing is stored or sent.
    before = await Message.filter(conversation_id=conversation.id).count()
    missing = await gql(server, SEND, send_input(None), token)
    assert error_code(missing) == "BAD_USER_INPUT" and missing["errors"][0]["extensions"]["variables"] == [
        "pedido"
    ]
    unknown = await gql(server, SEND, send_input({"pedido": "A-1", "cupom": "X"}), token)
    assert error_code(unknown) == "BAD_USER_INPUT" and "cupom" in unknown["errors"][0]["message"]
    braces = await gql(server, SEND, send_input({"pedido": "{{ customer.email }}"}), token)
    assert error_code(braces) == "BAD_USER_INPUT"
    assert await Message.filter(conversation_id=conversation.id).count() == before

    # WhatsApp: the universal body with its buttons; sent once even when the client retries.
    client_id = str(uuid.uuid4())
    first = await gql(server, SEND, send_input({"pedido": "A-1023"}, client_id=client_id), token)
    assert first.get("errors") is None, first
    again = await gql(server, SEND, send_input({"pedido": "A-1023"}, client_id=client_id), token)
    assert again["data"]["sendMessage"]["id"] == first["data"]["sendMessage"]["id"]
    message = await _sent_message(client_id)
    expected = "Olá Ana! O pedido A-1023 saiu hoje da Test WhatsApp."
    assert message.text == expected
    assert message.metadata["response_template"] == {
        "id": (await ResponseTemplate.get(name=saved["name"])).id,
        "version": 1,
        "variant": "universal",
    }
    sends = [s for s in fake_wa.sent if s.get("to") == wa_id]
    assert len(sends) == 1
    assert sends[0]["interactive"]["body"]["text"] == expected
    assert [b["reply"]["id"] for b in sends[0]["interactive"]["action"]["buttons"]] == ["track", "human"]

    # SMS (the customer's WhatsApp phone): the shorter SMS variant, no buttons.
    sms_client_id = str(uuid.uuid4())
    via_sms = await gql(server, SEND, send_input({"pedido": "A-1023"}, sms.channel.id, sms_client_id), token)
    assert via_sms.get("errors") is None, via_sms
    sms_message = await _sent_message(sms_client_id)
    assert sms_message.text == "Test sms: pedido A-1023 enviado."
    assert sms_message.metadata["response_template"]["variant"] == "sms"
    sms_sends = [s for s in sms.fake.sent if s["To"] == f"+{wa_id}"]
    assert [s["Body"] for s in sms_sends] == ["Test sms: pedido A-1023 enviado."]

    template = await ResponseTemplate.get(name=saved["name"])
    assert template.usage_count == 2  # the retry was not counted
    mine = await gql(
        server,
        "query($id: ID!) { template(id: $id) { usageCount myUsageCount } }",
        {"id": saved["id"]},
        token,
    )
    assert mine["data"]["template"]["usageCount"] == 2
    assert mine["data"]["template"]["myUsageCount"] == 2  # both sends were this agent's

    # Over SMS's limit: refused before anything is queued, nothing sent.
    stored_before = await Message.filter(conversation_id=conversation.id).count()
    sends_before = len(sms.fake.sent)
    await _save(
        server,
        supervisor,
        id=saved["id"],
        name=saved["name"],
        body="{{pedido}}",
        prompts=[{"name": "pedido"}],
        variants=[{"platform": "SMS", "body": "{{pedido}} {{pedido}}"}],
    )
    too_long = await gql(server, SEND, send_input({"pedido": "9" * 900}, sms.channel.id), token)
    assert error_code(too_long) == "BAD_USER_INPUT" and "at most 1600" in too_long["errors"][0]["message"]
    assert await Message.filter(conversation_id=conversation.id).count() == stored_before
    assert len(sms.fake.sent) == sends_before
