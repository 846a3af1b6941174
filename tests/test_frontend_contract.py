"""Every GraphQL document the web app sends is valid against the server's schema, so a renamed
type or field breaks this test instead of the agent's screen."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import parse, validate

from schema import build_schema

API = Path(__file__).resolve().parents[1] / "frontend" / "src" / "api"
# operations.ts and one self-contained file per screen (src/api/ops/*.ts).
SOURCES = [
    API / "operations.ts",
    *sorted(p for p in (API / "ops").glob("*.ts") if not p.name.endswith(".test.ts")),
]


def _documents() -> dict[str, str]:
    documents: dict[str, str] = {}
    for path in SOURCES:
        constants = dict(re.findall(r"(?:export )?const (\w+) = `([^`]*)`;", path.read_text(), flags=re.S))
        for name, text in constants.items():
            text = re.sub(r"\$\{(\w+)\}", lambda m, c=constants: c[m.group(1)], text)
            if text.lstrip().startswith(("query", "mutation", "subscription")):
                assert name not in documents, f"{path.name}: {name} names two documents"
                documents[name] = text
    return documents


def test_every_frontend_operation_validates_against_the_schema():
    documents = _documents()
    assert {"LOGIN", "INBOX", "SEND", "INBOX_EVENTS", "CONVERSATION_EVENTS"} <= documents.keys()
    schema = build_schema()._schema
    problems = {name: [e.message for e in validate(schema, parse(doc))] for name, doc in documents.items()}
    assert {name: errors for name, errors in problems.items() if errors} == {}
