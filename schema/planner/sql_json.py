"""The inbox answered by PostgreSQL: `conversations { edges { node { … } } pageInfo { … } }` where
every field the node selects is a column (or a customer, assignee, last message, channel or SLA
timers made of columns) is one statement whose rows carry each node as JSON, built with
`json_build_object`.

Python then only reads that JSON back and lays out the connection around it (cursors and page
info, from the same page `list_conversations` reads). Values are spelt as the schema's types
spell them (global ids and timestamps through migrations/functions/50_api_json.sql, enums by
their GraphQL names, `priority`, `labels` and `escalationLevel` defaulted as `from_view` does);
message bodies are opened here, as every reader of a row must (core/crypto.py), because a sealed
body is ciphertext in the table. Key order is the selection's: json_build_object keeps it, and the
JSON is read into dicts, so the response is encoded as any other. A selection with anything else
(a channel's health, an assignee's e-mail, identities, attachments, arguments, over 50 keys on one
object) is left to the Python plan; tests/test_planner.py compares both with the general executor
byte for byte.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull

from core.crypto import map_bodies, open_body
from resolvers import conversations as conv
from schema.permissions import SIGNED_IN, actor_of
from schema.planner.compile import Plan, PlannedField, Selection
from schema.relay import PageInfo

log = logging.getLogger("pytake.graphql.planner")

# The SQL of each planned leaf over the row alias {t}. "enum": a CASE from the stored value to
# the GraphQL name; "body"/"metadata": opened in Python after reading (sealed bodies).
Leaf = tuple[str, str]  # (sql, "value" | "enum" | "body" | "metadata")
_GID = "pytake_gid('{type}', {{t}}.{column})"
_ISO = "pytake_iso({{t}}.{column})"


def _gid(type_name: str, column: str = "id") -> Leaf:
    return _GID.format(type=type_name, column=column), "value"


def _iso(column: str) -> Leaf:
    return _ISO.format(column=column), "value"


LEAVES: dict[str, dict[str, Leaf]] = {
    "Conversation": {
        "id": _gid("Conversation"),
        "status": ("{t}.status", "enum"),
        "platform": ("{t}.platform", "enum"),
        "unreadCount": ("{t}.unread_count", "value"),
        "lastMessageAt": _iso("last_message_at"),
        "snoozedUntil": _iso("snoozed_until"),
        "priority": ("COALESCE(NULLIF({t}.priority, ''), 'normal')", "enum"),
        "labels": ("COALESCE({t}.labels, '{{}}')", "value"),
        "escalationLevel": ("COALESCE({t}.escalation_level, 0)", "value"),
        "language": ("{t}.language", "value"),
        # from_view: a team id of 0 is no team
        "teamId": ("CASE WHEN {t}.team_id <> 0 THEN pytake_gid('Team', {t}.team_id) END", "value"),
        "queuedAt": _iso("queued_at"),
        "createdAt": _iso("created_at"),
    },
    "Customer": {
        "id": _gid("Customer"),
        "name": ("{t}.name", "value"),
        "phone": ("{t}.phone", "value"),
        "email": ("{t}.email", "value"),
    },
    # Not `email` and `role`: who sees them depends on the caller (schema/auth.py User._shown).
    "User": {
        "id": _gid("User"),
        "name": ("{t}.name", "value"),
        "isActive": ("{t}.is_active", "value"),
        "presence": ("NULLIF({t}.presence, '')", "enum"),
        "capacity": ("{t}.capacity", "value"),
        "skills": ("{t}.skills", "value"),
    },
    "Message": {
        "id": _gid("Message"),
        "conversationId": _gid("Conversation", "conversation_id"),
        "platform": ("{t}.platform", "enum"),
        "channelId": _gid("Channel", "channel_id"),
        "direction": ("{t}.direction", "enum"),
        "kind": ("{t}.kind", "enum"),
        "text": ("{t}.text", "body"),
        "status": ("{t}.status", "enum"),
        "errorCode": ("{t}.error_code", "value"),
        "errorReason": ("{t}.error_reason", "value"),
        "platformMessageId": ("{t}.platform_message_id", "value"),
        "clientMessageId": ("{t}.client_message_id", "value"),
        "replyToPlatformId": ("{t}.reply_to_platform_id", "value"),
        "metadata": ("{t}.metadata", "metadata"),
        "createdAt": _iso("created_at"),
        "sentAt": _iso("sent_at"),
        "deliveredAt": _iso("delivered_at"),
        "readAt": _iso("read_at"),
        "editedAt": _iso("edited_at"),
        "deletedAt": _iso("deleted_at"),
    },
    # Not the rest: a channel's health, secrets and webhook URL are worked out in Python.
    "Channel": {
        "id": _gid("Channel"),
        "platform": ("{t}.platform", "enum"),
        "name": ("{t}.name", "value"),
        "enabled": ("{t}.enabled", "value"),
    },
    "SlaTimer": {
        "id": _gid("SlaTimer"),
        "conversationId": _gid("Conversation", "conversation_id"),
        "kind": ("{t}.kind", "value"),
        "startedAt": _iso("started_at"),
        "dueAt": _iso("due_at"),
        "warnAt": _iso("warn_at"),
        "metAt": _iso("met_at"),
        "warnedAt": _iso("warned_at"),
        "breachedAt": _iso("breached_at"),
        "cancelledAt": _iso("cancelled_at"),
    },
}
# Objects reached from a conversation: (type, table, the conversation's column holding its id).
OBJECTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("Conversation", "customer"): ("Customer", "customers", "customer_id"),
    ("Conversation", "assignee"): ("User", "users", "assignee_id"),
    ("Conversation", "lastMessage"): ("Message", "messages", "last_message_id"),
    ("Conversation", "channel"): ("Channel", "channels", "channel_id"),
}
# Lists reached from a conversation: (type, table, its column holding the conversation's id), in
# id order as the DataLoaders read them. `slaTimers` is for signed-in callers; the root field's
# own gate (SIGNED_IN, required below) has already applied that very rule.
LISTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("Conversation", "slaTimers"): ("SlaTimer", "sla_timers", "conversation_id"),
}
MAX_KEYS = 50  # json_build_object takes 100 arguments


class NotInSql(Exception):
    """This selection stays with the Python plan."""


@dataclass(frozen=True)
class _Fix:
    """What is done to each node after it is read: a body opened, or a null where the schema
    promises an object (answered by the general executor, as the Python plan does)."""

    path: tuple[str, ...]
    kind: str  # "body" | "metadata" | "required"


@dataclass(frozen=True)
class ConnectionPlan:
    selection: Selection  # ConversationConnection
    node_keys: tuple[tuple[str, str], ...]  # (edges key, node key): each alias gets a column
    columns: tuple[str, ...]  # one SQL expression per node key
    fixes: tuple[tuple[_Fix, ...], ...]

    async def answer(self, info: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        from schema.conversations import ConversationFilterInput

        filter = kwargs.get("filter") or ConversationFilterInput()
        page = await conv.list_conversations_selecting(
            actor_of(info),
            first=kwargs.get("first"),
            after=kwargs.get("after"),
            filter=filter.to_rule(),
            columns=list(self.columns),
        )
        edges = []
        for row, cursor in zip(page.items, page.cursors, strict=True):
            nodes: dict[tuple[str, str], Any] = {}
            for i, (key, fixes) in enumerate(zip(self.node_keys, self.fixes, strict=True)):
                node = orjson.loads(row[f"col{i}"])
                for fix in fixes:
                    _apply(node, fix)
                nodes[key] = node
            edges.append((cursor, nodes))
        return _connection(self.selection, edges, page)


def answer_in_sql(plan: Plan) -> Plan:
    """The plan with each root field PostgreSQL can answer whole marked so (`direct`)."""
    for f in plan.root.fields:
        f.direct = connection_plan(f)
    return plan


def connection_plan(root: PlannedField) -> ConnectionPlan | None:
    """The SQL plan of a planned `conversations` root field, or None (the Python plan runs)."""
    try:
        return _connection_plan(root)
    except NotInSql:
        return None
    except Exception:  # a fault here must not fail the request: the Python plan answers it
        log.exception("no SQL plan for %s", root.key)
        return None


def _connection_plan(root: PlannedField) -> ConnectionPlan:
    if root.name != "conversations" or root.access is not SIGNED_IN or root.out is None:
        raise NotInSql
    if root.out.selection is None:
        raise NotInSql
    connection = root.out.selection
    node_keys: list[tuple[str, str]] = []
    columns: list[str] = []
    fixes: list[tuple[_Fix, ...]] = []
    for f in connection.fields:
        if f.name != "edges" or f.typename is not None:
            continue
        edge = _object_of(f)
        for e in edge.fields:
            if e.name == "node" and e.typename is None:
                found: list[_Fix] = []
                columns.append(_object_sql(_object_of(e), "c", (), found, depth=0))
                node_keys.append((f.key, e.key))
                fixes.append(tuple(found))
    return ConnectionPlan(connection, tuple(node_keys), tuple(columns), tuple(fixes))


def _object_of(f: PlannedField) -> Selection:
    out = f.out
    while out is not None and out.list_of is not None:
        out = out.list_of
    if out is None or out.selection is None or f.node.arguments:
        raise NotInSql
    return out.selection


def _object_sql(
    selection: Selection, alias: str, path: tuple[str, ...], fixes: list[_Fix], depth: int
) -> str:
    """json_build_object of the selection over the row `alias`; what is to be done to the read
    JSON goes to `fixes`."""
    leaves = LEAVES.get(selection.type_name)
    if leaves is None or len(selection.fields) > MAX_KEYS:
        raise NotInSql
    pairs: list[str] = []
    for f in selection.fields:
        pairs.append(_quote(f.key))
        if f.typename is not None:
            pairs.append(_quote(f.typename))
            continue
        if f.node.arguments:
            raise NotInSql
        reached = OBJECTS.get((selection.type_name, f.name))
        if reached is not None:
            type_name, table, column = reached
            inner_alias = f"o{depth}_{len(pairs)}"  # unique among its siblings' subqueries
            assert f.out is not None
            if f.out.nonnull:
                fixes.append(_Fix((*path, f.key), "required"))
            reached_selection = _object_of(f)
            if reached_selection.type_name != type_name:
                raise NotInSql
            inner = _object_sql(reached_selection, inner_alias, (*path, f.key), fixes, depth + 1)
            pairs.append(
                f"(SELECT {inner} FROM {table} {inner_alias} WHERE {inner_alias}.id = {alias}.{column})"
            )
            continue
        listed = LISTS.get((selection.type_name, f.name))
        if listed is not None:
            type_name, table, column = listed
            inner_alias = f"l{depth}_{len(pairs)}"
            element = _object_of(f)
            element_fixes: list[_Fix] = []
            inner = _object_sql(element, inner_alias, (), element_fixes, depth + 1)
            if element.type_name != type_name or element_fixes:
                raise NotInSql  # nothing to open or check inside a list's elements
            pairs.append(
                f"COALESCE((SELECT json_agg({inner} ORDER BY {inner_alias}.id) FROM {table} {inner_alias} "
                f"WHERE {inner_alias}.{column} = {alias}.id), '[]'::json)"
            )
            continue
        leaf = leaves.get(f.name)
        if leaf is None:
            raise NotInSql
        sql, kind = leaf
        sql = sql.format(t=alias)
        if kind == "enum":
            sql = _enum_case(sql, f.gfield.type)
        elif kind in ("body", "metadata"):
            fixes.append(_Fix((*path, f.key), kind))
        pairs.append(sql)
    return f"json_build_object({', '.join(pairs)})"


def _enum_case(sql: str, gtype: Any) -> str:
    while isinstance(gtype, (GraphQLNonNull, GraphQLList)):
        gtype = gtype.of_type
    if not isinstance(gtype, GraphQLEnumType):
        raise NotInSql
    whens = " ".join(f"WHEN {_quote(str(v.value))} THEN {_quote(name)}" for name, v in gtype.values.items())
    return f"CASE {sql} {whens} END"


def _quote(text: str) -> str:
    """A SQL string literal of a name from the schema or the document (names are [_A-Za-z0-9])."""
    if not text.replace("_", "").isalnum() or not text.isascii():
        raise NotInSql
    return f"'{text}'"


def _apply(node: dict[str, Any], fix: _Fix) -> None:
    *parents, key = fix.path
    target: Any = node
    for step in parents:
        target = target.get(step)
        if target is None:
            return  # a null object on the way (a conversation without an assignee)
    value = target.get(key)
    if fix.kind == "required":
        if value is None:
            raise LookupError(f"no row for the non-null {'.'.join(fix.path)}")
    elif fix.kind == "body":
        if isinstance(value, str):
            target[key] = open_body(value)
    elif fix.kind == "metadata":
        target[key] = map_bodies({"metadata": value}, open_body)["metadata"]


def _connection(
    selection: Selection, edges: list[tuple[str, dict[Any, Any]]], page: conv.Page
) -> dict[str, Any]:
    """The connection around the nodes, in the selection's key order."""
    out: dict[str, Any] = {}
    for f in selection.fields:
        if f.typename is not None:
            out[f.key] = f.typename
        elif f.name == "edges":
            edge = _object_of(f)
            out[f.key] = [_edge(edge, f.key, cursor, nodes) for cursor, nodes in edges]
        elif f.name == "pageInfo":
            out[f.key] = _page_info(_object_of(f), page)
        else:  # pragma: no cover - ConversationConnection has no other fields
            raise LookupError(f.name)
    return out


def _edge(selection: Selection, edges_key: str, cursor: str, nodes: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in selection.fields:
        if f.typename is not None:
            out[f.key] = f.typename
        elif f.name == "cursor":
            out[f.key] = cursor
        else:
            out[f.key] = nodes[edges_key, f.key]
    return out


def _page_info(selection: Selection, page: conv.Page) -> dict[str, Any]:
    """The schema's own PageInfo of the page, its fields read as the plan names them."""
    info = PageInfo.of(page.cursors, has_next=page.has_next, has_previous=page.has_previous)
    return {f.key: f.typename if f.typename is not None else getattr(info, f.attr) for f in selection.fields}
