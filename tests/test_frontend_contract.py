"""Every GraphQL document the web app sends is valid against the server's schema, so a renamed
type or field breaks this test instead of the agent's screen."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import parse, validate

from schema import build_schema

OPERATIONS = Path(__file__).resolve().parents[1] / "frontend" / "src" / "api" / "operations.ts"


def _documents() -> dict[str, str]:
    source = OPERATIONS.read_text()
    constants = dict(re.findall(r"(?:export )?const (\w+) = `([^`]*)`;", source, flags=re.S))
    resolved = {}
    for name, text in constants.items():
        resolved[name] = re.sub(r"\$\{(\w+)\}", lambda m: constants[m.group(1)], text)
    return {
        name: text
        for name, text in resolved.items()
        if text.lstrip().startswith(("query", "mutation", "subscription"))
    }


def test_every_frontend_operation_validates_against_the_schema():
    documents = _documents()
    assert {"LOGIN", "INBOX", "SEND", "INBOX_EVENTS", "CONVERSATION_EVENTS"} <= documents.keys()
    schema = build_schema()._schema
    problems = {name: [e.message for e in validate(schema, parse(doc))] for name, doc in documents.items()}
    assert {name: errors for name, errors in problems.items() if errors} == {}
