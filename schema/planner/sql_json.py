"""The inbox answered by PostgreSQL: `conversations { edges { node { … } } pageInfo { … } }` where
every field the node selects is a column (or a customer, assignee, last message, channel or SLA
timers made of columns) is one statement whose rows carry each node's values, already spelt as the
response spells them, one result column each.

Values are spelt as the schema's types spell them (global ids and timestamps through
migrations/functions/50_api_json.sql, enums by their GraphQL names, `priority`, `labels` and
`escalationLevel` defaulted as `from_view` does); a customer, assignee, last message or channel is
joined (LEFT JOIN LATERAL, an index lookup per row) and its presence is a column of its own; SLA
timers, a list, come as one JSON array per row (`json_agg`). Python lays each node out from its
row in the selection's key order and the connection around it (cursors and page info, from the
same page `list_conversations` reads); message bodies are opened here, as every reader of a row
must (core/crypto.py), because a sealed body is ciphertext in the table. Columns rather than JSON
built by PostgreSQL: bench/peer measured the JSON costing PostgreSQL more (0.25 ms a page) than
Python spends laying the values out, which it no longer has to parse first. A selection with
anything else (a channel's health, an assignee's e-mail, identities, attachments, arguments) is
left to the Python plan; tests/test_planner.py compares both with the general executor byte for
byte.
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
class _Field:
    """One key of a node as its row gives it: `value` (the column as it is), `body` (a message body,
    opened), `metadata` (a message's metadata, its bodies opened), `list` (a JSON array), `const`
    (`__typename`), or `object` (present when its column is true: its own fields then; a
    `required` one missing makes the Python plan answer, as the general executor would)."""

    key: str
    kind: str
    column: str = ""
    const: str = ""
    fields: tuple[_Field, ...] = ()
    required: bool = False


class _Columns:
    """The statement's result columns (`col0`, `col1`, … as list_conversations_selecting names
    them) and its joins, collected while a selection is planned."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.joins: list[str] = []

    def add(self, sql: str) -> str:
        self.sql.append(sql)
        return f"col{len(self.sql) - 1}"


@dataclass(frozen=True)
class ConnectionPlan:
    selection: Selection  # ConversationConnection
    node_keys: tuple[tuple[str, str], ...]  # (edges key, node key)
    nodes: tuple[tuple[_Field, ...], ...]  # each node key's fields
    columns: tuple[str, ...]  # the SQL of each result column
    joins: str  # the LEFT JOIN LATERALs the columns read from

    async def answer(self, info: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        from schema.conversations import ConversationFilterInput

        filter = kwargs.get("filter") or ConversationFilterInput()
        page = await conv.list_conversations_selecting(
            actor_of(info),
            first=kwargs.get("first"),
            after=kwargs.get("after"),
            filter=filter.to_rule(),
            columns=list(self.columns),
            joins=self.joins,
        )
        edges = []
        for row, cursor in zip(page.items, page.cursors, strict=True):
            nodes = {key: _node(fields, row) for key, fields in zip(self.node_keys, self.nodes, strict=True)}
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
    nodes: list[tuple[_Field, ...]] = []
    columns = _Columns()
    for f in connection.fields:
        if f.name != "edges" or f.typename is not None:
            continue
        edge = _object_of(f)
        for e in edge.fields:
            if e.name == "node" and e.typename is None:
                nodes.append(_fields(_object_of(e), "c", columns))
                node_keys.append((f.key, e.key))
    return ConnectionPlan(
        connection, tuple(node_keys), tuple(nodes), tuple(columns.sql), " ".join(columns.joins)
    )


def _object_of(f: PlannedField) -> Selection:
    out = f.out
    while out is not None and out.list_of is not None:
        out = out.list_of
    if out is None or out.selection is None or f.node.arguments:
        raise NotInSql
    return out.selection


def _fields(selection: Selection, alias: str, columns: _Columns) -> tuple[_Field, ...]:
    """The selection over the row `alias` as result columns (added to `columns`) and how the
    node is laid out from them."""
    leaves = LEAVES.get(selection.type_name)
    if leaves is None:
        raise NotInSql
    fields: list[_Field] = []
    for f in selection.fields:
        if f.typename is not None:
            fields.append(_Field(f.key, "const", const=f.typename))
            continue
        if f.node.arguments:
            raise NotInSql
        reached = OBJECTS.get((selection.type_name, f.name))
        if reached is not None:
            type_name, table, column = reached
            reached_selection = _object_of(f)
            if reached_selection.type_name != type_name:
                raise NotInSql
            assert f.out is not None
            joined = f"j{len(columns.joins)}"
            # OFFSET 0: an index lookup per row; as a plain join PostgreSQL may hash the table.
            columns.joins.append(
                f"LEFT JOIN LATERAL (SELECT * FROM {table} WHERE id = {alias}.{column} OFFSET 0) {joined} ON TRUE"
            )
            present = columns.add(f"{joined}.id IS NOT NULL")
            inner = _fields(reached_selection, joined, columns)
            fields.append(_Field(f.key, "object", present, fields=inner, required=f.out.nonnull))
            continue
        listed = LISTS.get((selection.type_name, f.name))
        if listed is not None:
            type_name, table, column = listed
            element = _object_of(f)
            if element.type_name != type_name:
                raise NotInSql
            inner_alias = f"l{len(columns.sql)}"
            inner = _object_sql(element, inner_alias)
            sql = (
                f"COALESCE((SELECT json_agg({inner} ORDER BY {inner_alias}.id) FROM {table} {inner_alias} "
                f"WHERE {inner_alias}.{column} = {alias}.id), '[]'::json)"
            )
            fields.append(_Field(f.key, "list", columns.add(sql)))
            continue
        sql, kind = _leaf_sql(leaves, f, alias)
        fields.append(_Field(f.key, kind, columns.add(sql)))
    return tuple(fields)


def _leaf_sql(leaves: dict[str, Leaf], f: PlannedField, alias: str) -> tuple[str, str]:
    """The SQL of a leaf field over the row `alias` and what Python does with its value
    ("value", "body" or "metadata"; an enum is spelt by its GraphQL name in SQL already)."""
    leaf = leaves.get(f.name)
    if leaf is None:
        raise NotInSql
    sql, kind = leaf
    sql = sql.format(t=alias)
    if kind == "enum":
        return _enum_case(sql, f.gfield.type), "value"
    return sql, kind


def _object_sql(selection: Selection, alias: str) -> str:
    """json_build_object of a list element's selection over the row `alias`: only columns, nothing
    to open or join (SLA timers)."""
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
        sql, kind = _leaf_sql(leaves, f, alias)
        if kind != "value":
            raise NotInSql  # nothing to open inside a list's elements
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


def _node(fields: tuple[_Field, ...], row: Any) -> dict[str, Any]:
    """A node (or a joined object) laid out from its row, in the selection's key order."""
    out: dict[str, Any] = {}
    for f in fields:
        kind = f.kind
        if kind == "value":
            out[f.key] = row[f.column]
        elif kind == "const":
            out[f.key] = f.const
        elif kind == "object":
            if row[f.column]:
                out[f.key] = _node(f.fields, row)
            elif f.required:
                raise LookupError(f"no row for the non-null {f.key}")
            else:
                out[f.key] = None
        elif kind == "body":
            value = row[f.column]
            out[f.key] = open_body(value) if isinstance(value, str) else value
        elif kind == "metadata":
            value = row[f.column]
            value = orjson.loads(value) if isinstance(value, str) else value  # jsonb comes as text
            out[f.key] = map_bodies({"metadata": value}, open_body)["metadata"]
        else:  # "list": json_agg's array, as text
            value = row[f.column]
            out[f.key] = orjson.loads(value) if isinstance(value, str) else value
    return out


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
