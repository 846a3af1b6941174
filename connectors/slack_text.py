"""Slack's message text ("mrkdwn") as a person reads it.

Slack sends `<@U024BE7LH>` for a mention, `<#C024BE7LB|general>` for a channel, `<!here>` for a
broadcast, `<https://example.com|a label>` for a link, and escapes `&`, `<` and `>` as entities,
so a literal `<` never starts one of these. `render` turns each into what the Slack app shows:
`@Ana Souza`, `#general`, `@here`, `a label (https://example.com)`, with the entities undone.

Names of mentioned users are not in the text: `render` takes them as `names` (user id → name) and
falls back to the raw id, `@U024BE7LH`, so a message is readable (and stored) even when nobody
could ask Slack. `connectors/slack_names.py` fetches them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"<([^<>]*)>")
_USER_ID = r"[UW][A-Z0-9]{2,}"
# A rendered mention still showing its id (the fallback), for putting a name in later.
MENTION_IN_TEXT = re.compile(rf"@({_USER_ID})\b")
_MENTION_TOKEN = re.compile(rf"<@({_USER_ID})(?:\|[^<>]*)?>")


def unescape(text: str) -> str:
    """Undo Slack's three entities (&amp; last, so "&amp;lt;" stays the literal "&lt;")."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(text: Any) -> list[str]:
    """The user ids `text` mentions, in order, each once."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(_MENTION_TOKEN.findall(text)))


def render(text: Any, names: Mapping[str, str] | None = None) -> str | None:
    """`text` as the Slack app shows it; None for no text."""
    if not isinstance(text, str) or not text:
        return None
    names = names or {}
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(unescape(text[position : match.start()]))
        out.append(_token(match.group(1), names))
        position = match.end()
    out.append(unescape(text[position:]))
    return "".join(out)


def _token(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        user = target[1:]
        return "@" + (names.get(user) or label.removeprefix("@") or user)
    if target.startswith("#"):
        return "#" + (label or target[1:])  # Slack may send an empty label: the id is all there is
    if target.startswith("!"):
        return _special(target[1:], label)
    url = unescape(target)
    shown = url.removeprefix("mailto:")
    if not label or label in (url, shown):
        return shown
    return f"{label} ({shown})"


def _special(command: str, label: str) -> str:
    """`<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^S…|@team>`, `<!date^…|fallback>`."""
    name, _, _ = command.partition("^")
    if name in ("here", "channel", "everyone"):
        return f"@{name}"
    if name == "subteam":
        return label if label.startswith("@") else "@" + (label or command.partition("^")[2])
    return label or f"<{command}>"  # a date and anything newer: Slack's own fallback text
