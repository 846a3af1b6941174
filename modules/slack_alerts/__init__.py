"""Slack alerts: posts chosen events (a new conversation, an escalation, a resolution...) to a Slack
incoming webhook, and gives flows a `slack_notify` node that posts a line to the same channel.

Proves the module interface end to end: a configuration schema (the webhook URL is `writeOnly`, so
the API and the audit log never show it), an event handler and a flow node type. The URL passes
the same SSRF check as outgoing webhooks, at every post.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.extensions import Config, ConfigProblem, EventHandler, Module, NodeResult, NodeType
from resolvers import ssrf
from resolvers.webhook_dispatch import EVENT_TYPES

DEFAULT_EVENTS = ["conversation.created", "conversation.escalated"]
MAX_TEXT = 3000  # Slack truncates longer section texts


class SlackRefused(Exception):
    """Slack (or whatever the URL reaches) did not take the post."""


async def post(config: Config, text: str) -> None:
    target = await ssrf.check(config["webhook_url"], allow_private=bool(config.get("allow_private_network")))
    async with httpx.AsyncClient(timeout=10.0, trust_env=False, follow_redirects=False) as client:
        response = await client.post(
            target.pinned(),
            json={"text": text[:MAX_TEXT]},
            headers={"Host": httpx.URL(target.url).netloc.decode()},
            extensions={"sni_hostname": target.host},
        )
    if not response.is_success:
        raise SlackRefused(f"HTTP {response.status_code}: {response.text[:200]}")


def describe(event: Config) -> str:
    data = event["data"]
    conversation = f"conversation {event['conversation_id']}"
    if event["type"] == "conversation.created":
        platform = data.get("conversation", {}).get("platform", "")
        customer = (data.get("customer") or {}).get("name") or "a customer"
        text = (data.get("last_message") or {}).get("text") or ""
        return f":speech_balloon: New {platform} {conversation} from {customer}: {text}".strip()
    if event["type"] == "message.created":
        message = data["message"]
        return f":envelope: {message.get('direction')} message in {conversation}: {message.get('text') or ''}"
    activity = data.get("activity") or {}
    detail = ", ".join(f"{k}: {v}" for k, v in (activity.get("data") or {}).items())
    return f":bell: {event['type']} — {conversation}" + (f" ({detail})" if detail else "")


async def on_event(event: Config, config: Config) -> None:
    if event["type"] in config.get("events", DEFAULT_EVENTS):
        await post(config, describe(event))


def validate_notify(config: Config) -> dict[str, Any]:
    text = config.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise ConfigProblem(f"config.text is the line to post (1 to {MAX_TEXT} characters)")
    return {"text": text}


async def run_notify(config: Config, context: Config, module_config: Config) -> NodeResult:
    """Post the node's text (placeholders already filled in by the engine); `error` on a refusal."""
    try:
        await post(module_config, config["text"])
    except (SlackRefused, ssrf.UnsafeUrl, httpx.HTTPError) as exc:
        return NodeResult("error", {"slack_error": str(exc)[:300]})
    return NodeResult("next")


module = Module(
    name="slack_alerts",
    title="Slack alerts",
    description="Posts chosen events to a Slack incoming webhook; flows get a slack_notify node.",
    version="1",
    config_schema={
        "type": "object",
        "required": ["webhook_url"],
        "additionalProperties": False,
        "properties": {
            "webhook_url": {
                "type": "string",
                "pattern": "^https?://",
                "maxLength": 2000,
                "writeOnly": True,
                "description": "The Slack incoming webhook URL (https://hooks.slack.com/services/...).",
            },
            "events": {
                "type": "array",
                "items": {"enum": list(EVENT_TYPES)},
                "uniqueItems": True,
                "description": "Which events to post (default: new conversations and escalations).",
            },
            "allow_private_network": {
                "type": "boolean",
                "description": "Let the URL reach a private address (a Slack-compatible server inside).",
            },
        },
    },
    event_handlers=(EventHandler(events=("*",), handle=on_event),),
    node_types=(
        NodeType(
            name="slack_notify",
            description="Post a line to the module's Slack channel (ports: next, error).",
            validate=validate_notify,
            run=run_notify,
            ports=lambda config: {"next", "error"},
            sets=lambda config, port: {"slack_error"} if port == "error" else set(),
            config_schema={
                "type": "object",
                "required": ["text"],
                "additionalProperties": False,
                "properties": {
                    "text": {
                        "type": "string",
                        "title": "Text",
                        "minLength": 1,
                        "maxLength": MAX_TEXT,
                        "description": "The line to post; {{variables}} are filled in.",
                    }
                },
            },
        ),
    ),
)
