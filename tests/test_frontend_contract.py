"""Every GraphQL document the web app sends is valid against the server's schema, so a renamed
type or field breaks this test instead of the agent's screen."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graphql import parse, validate

from schema import build_schema

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "frontend" / "src" / "api"
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


# A module's ConfigProblem carries the module's own words: the builder shows them as they are.
UNTRANSLATED_PROBLEM_CODES = {"MODULE_CONFIG_INVALID"}


def _flow_problem_codes() -> set[str]:
    """The code of every problem flow validation (and the id check of a save) can report."""
    codes: set[str] = set()
    for path in (ROOT / "resolvers" / "flow_validation.py", ROOT / "resolvers" / "flows.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem":
                if len(node.args) >= 3 and ast.unparse(node.args[2]) == "self.code":
                    continue  # Problem.at: the same problem on another node
                assert len(node.args) >= 3 and isinstance(node.args[2], ast.Constant), (
                    f"{path.name}:{node.lineno}: a Problem without a literal code"
                )
                codes.add(node.args[2].value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "code"
                        and isinstance(value, ast.Constant)
                    ):
                        codes.add(value.value)
    return codes


def test_the_flow_builder_has_words_for_every_flow_problem_code():
    codes = _flow_problem_codes()
    assert {"REQUIRED", "UNREACHABLE", "READ_BEFORE_SET", "ID_NOT_FOUND", "NODE_CONFIG_MISMATCH"} <= codes
    strings = (ROOT / "frontend" / "src" / "i18n" / "screens" / "flows.ts").read_text()
    blocks = re.findall(r"\n  serverProblem: \{\n(.*?)\n  \},", strings, flags=re.S)
    assert len(blocks) == 2, "serverProblem in en and in ptBR"
    for block in blocks:
        assert set(re.findall(r"^\s+(\w+):", block, flags=re.M)) == codes - UNTRANSLATED_PROBLEM_CODES
