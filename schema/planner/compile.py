"""A query document turned into a plan, once per document and operation.

The plan is a tree of compiled selections: for each object type reached, the response keys in
the order GraphQL execution would give them (fields merged across fragments as `collect_fields`
merges them), and for each key how its value is had: an attribute of the object the type's own
code built, a resolver of the schema that is known to load in batches (a DataLoader, or a value
already at hand), or, when the object is the only one at its place in the document (not inside
a list), a resolver that reads once per object. Anything else makes the document unplannable,
and the general executor runs it: an abstract type (`node`, unions), a directive, a fragment on
another type, a root field or a resolver not listed below, a mutation or a subscription.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
)

from schema.arguments import CheckedArguments
from schema.permissions import Access

DEFINITION = "strawberry-definition"

# Root query fields the planner runs (their resolvers, after their Access gate): the hot read path.
ROOTS = frozenset({"conversations", "conversation", "search", "channels", "me", "users"})

# The object types a plan may reach. Fields without a resolver are plain attributes of the object
# the schema's own code built; the resolvers a plan may call are listed below.
TYPES = frozenset(
    {
        "Conversation",
        "ConversationConnection",
        "ConversationEdge",
        "PageInfo",
        "Customer",
        "Identity",
        "CustomerAttribute",
        "User",
        "Message",
        "MessageConnection",
        "MessageEdge",
        "Attachment",
        "Channel",
        "Activity",
        "SearchConnection",
        "SearchHit",
        "SlaTimer",
        "ReplyTarget",
    }
)

# Resolvers that read in batches or not at all (DataLoaders, prefilled rows, a value at hand):
# fine under a list, the number of statements stays the same whatever the page size.
BATCHED = frozenset(
    {
        ("Conversation", "customer"),
        ("Conversation", "assignee"),
        ("Conversation", "lastMessage"),
        ("Conversation", "channel"),
        ("Customer", "identities"),
        ("Customer", "attributes"),
        ("Message", "sender"),
        ("Activity", "actor"),
        ("Conversation", "slaTimers"),
        ("SearchHit", "matchedMessage"),
        ("User", "email"),
        ("User", "role"),
        ("User", "seesAllConversations"),
    }
)

# Resolvers that read once per object: planned only where the object is alone at its place
# (`conversation(id:) { messages { … } }`), never inside a list, which would cost a statement
# per row.
SINGLE = frozenset(
    {
        ("Conversation", "messages"),
        ("Conversation", "activities"),
        ("Conversation", "queuePosition"),
        ("Conversation", "replyTargets"),
    }
)


class Unplannable(Exception):
    """The document is left to the general executor; the message says why (kept in the stats)."""


# What a field's value completes to: the GraphQL output type, unwrapped.
@dataclass(frozen=True)
class Out:
    nonnull: bool
    list_of: Out | None = None  # a list of this
    serialize: Any = None  # a leaf: the schema's scalar or enum output coercion
    selection: Selection | None = None  # an object type


@dataclass
class PlannedField:
    key: str  # the response key (alias or name)
    name: str  # the field's GraphQL name
    node: FieldNode  # the first node (arguments; validation made all nodes agree)
    typename: str | None = None  # `__typename`: the parent type's name
    attr: str | None = None  # a plain attribute
    sfield: Any = None  # the strawberry field whose resolver is called
    gfield: Any = None
    checked: tuple[CheckedArguments, ...] = ()
    access: Access | None = None  # root fields: who may call them
    takes_self: bool = False  # the resolver is a method: the object is its first argument
    out: Out | None = None
    # A root field answered whole by its own statement (schema/planner/sql_json.py): the value is
    # the completed value, nothing below it runs level by level.
    direct: Any = None


@dataclass
class Selection:
    type_name: str
    fields: list[PlannedField] = field(default_factory=list)


@dataclass
class Plan:
    root: Selection


def compile_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Plan:
    if operation.operation is not OperationType.QUERY:
        raise Unplannable("not a query")
    if operation.directives or any(v.directives for v in operation.variable_definitions or ()):
        raise Unplannable("directive")
    root_type = schema.query_type
    assert root_type is not None
    return Plan(
        root=_selection(schema, root_type, [operation.selection_set], fragments, in_list=False, root=True)
    )


def _collect(
    type_name: str,
    selection_sets: list[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
    out: dict[str, list[FieldNode]],
    seen: set[str],
) -> None:
    for selection_set in selection_sets:
        for node in selection_set.selections:
            if node.directives:
                raise Unplannable("directive")
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                out.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition is not None and node.type_condition.name.value != type_name:
                    raise Unplannable("fragment on another type")
                _collect(type_name, [node.selection_set], fragments, out, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in seen:
                    continue  # a fragment spread twice at one place adds nothing the second time
                seen.add(name)
                fragment = fragments.get(name)
                if fragment is None or fragment.type_condition.name.value != type_name:
                    raise Unplannable("fragment on another type")
                if fragment.directives or getattr(fragment, "variable_definitions", None):
                    raise Unplannable("directive")
                _collect(type_name, [fragment.selection_set], fragments, out, seen)
            else:  # pragma: no cover - the grammar has no other selections
                raise Unplannable("unknown selection")


def _selection(
    schema: GraphQLSchema,
    gtype: GraphQLObjectType,
    selection_sets: list[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
    *,
    in_list: bool,
    root: bool = False,
) -> Selection:
    grouped: dict[str, list[FieldNode]] = {}
    _collect(gtype.name, selection_sets, fragments, grouped, set())
    selection = Selection(gtype.name)
    for key, nodes in grouped.items():
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            selection.fields.append(PlannedField(key, name, node, typename=gtype.name))
            continue
        gfield = gtype.fields.get(name)
        if gfield is None:  # __schema, __type, or a field validation would have refused
            raise Unplannable(f"field {gtype.name}.{name}")
        sfield = gfield.extensions.get(DEFINITION)
        if sfield is None or getattr(sfield, "permission_classes", None):
            raise Unplannable(f"field {gtype.name}.{name}")
        planned = PlannedField(key, name, node, gfield=gfield)
        extensions = list(sfield.extensions)
        planned.checked = tuple(e for e in extensions if isinstance(e, CheckedArguments))
        access = [e for e in extensions if isinstance(e, Access)]
        if len(planned.checked) + len(access) != len(extensions):
            raise Unplannable(f"field extension on {gtype.name}.{name}")
        if root:
            if name not in ROOTS or len(access) != 1:
                raise Unplannable(f"root field {name}")
            planned.access, planned.sfield = access[0], sfield
        elif sfield.base_resolver is None:
            if sfield.arguments:
                raise Unplannable(f"field {gtype.name}.{name}")
            planned.attr = sfield.python_name
        elif (gtype.name, name) in BATCHED or ((gtype.name, name) in SINGLE and not in_list):
            planned.sfield = sfield
        else:
            raise Unplannable(f"resolver {gtype.name}.{name}" + (" in a list" if in_list else ""))
        resolver = sfield.base_resolver
        if resolver is not None:
            if resolver.root_parameter or resolver.parent_parameter:
                raise Unplannable(f"resolver {gtype.name}.{name}")
            planned.takes_self = resolver.self_parameter is not None
        planned.out = _out(schema, gfield.type, nodes, fragments, in_list=in_list)
        selection.fields.append(planned)
    return selection


def _out(
    schema: GraphQLSchema,
    gtype: Any,
    nodes: list[FieldNode],
    fragments: dict[str, FragmentDefinitionNode],
    *,
    in_list: bool,
) -> Out:
    nonnull = isinstance(gtype, GraphQLNonNull)
    if nonnull:
        gtype = gtype.of_type
    if isinstance(gtype, GraphQLList):
        return Out(nonnull, list_of=_out(schema, gtype.of_type, nodes, fragments, in_list=True))
    if is_leaf_type(gtype):
        return Out(nonnull, serialize=gtype.coerce_output_value)
    if not isinstance(gtype, GraphQLObjectType) or gtype.name not in TYPES:
        raise Unplannable(f"type {gtype.name}")
    sets = [n.selection_set for n in nodes if n.selection_set is not None]
    return Out(nonnull, selection=_selection(schema, gtype, sets, fragments, in_list=in_list))
