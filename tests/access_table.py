"""The README's access table (section "Who sees what"), read as data, and what the built schema
declares for each root field: tests/test_access_table.py compares the two."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.auth import Actor, Role
from resolvers.errors import Forbidden, Unauthenticated
from schema import build_schema
from schema.permissions import access_of

README = Path(__file__).resolve().parents[1] / "README.md"
ROLES = ("none", "agent", "supervisor", "admin")
KINDS = {"query": "query_type", "mutation": "mutation_type", "subscription": "subscription_type"}
_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*(query|mutation|subscription)\s*\|((?:\s*(?:yes|no)\s*\|){4})\s*$")


@dataclass(frozen=True)
class Allowed:
    """Which of the four callers (ROLES order) a root field admits."""

    roles: tuple[bool, bool, bool, bool]

    def row(self, name: str, kind: str) -> str:
        cells = " | ".join("yes" if ok else "no" for ok in self.roles)
        return f"| `{name}` | {kind} | {cells} |"


def readme_table() -> dict[tuple[str, str], Allowed]:
    """(kind, field) → allowed, from the table's rows (`| \\`field\\` | kind | yes | no | … |`)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- access-table -->")
    end = text.index("<!-- /access-table -->", start)
    table: dict[tuple[str, str], Allowed] = {}
    for line in text[start:end].splitlines():
        match = _ROW.match(line.strip())
        if match:
            name, kind, cells = match.groups()
            flags = tuple(c.strip() == "yes" for c in cells.strip().strip("|").split("|"))
            assert (kind, name) not in table, f"the access table lists {kind} {name} twice"
            table[(kind, name)] = Allowed(flags)  # type: ignore[arg-type]
    return table


def _admits(rule: object, role: str) -> bool:
    actor = None if role == "none" else Actor(user_id=1, role=Role(role))
    if rule is None:
        return True
    try:
        rule(actor)  # type: ignore[operator]
    except (Unauthenticated, Forbidden):
        return False
    return True


def declared() -> dict[tuple[str, str], Allowed]:
    """(kind, field) → who the field's Access admits, for every root field of the built schema."""
    schema = build_schema()._schema
    out: dict[tuple[str, str], Allowed] = {}
    for kind, attribute in KINDS.items():
        root = getattr(schema, attribute)
        for name, field in root.fields.items():
            access = access_of(field.extensions["strawberry-definition"])
            assert access is not None, f"{kind} {name} declares no Access"
            out[(kind, name)] = Allowed(tuple(_admits(access.rule, role) for role in ROLES))  # type: ignore[arg-type]
    return out
