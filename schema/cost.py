"""Query cost: what an operation may cost at most, decided before it runs.

On top of the depth, alias and token limits. Each field that returns an object costs 1 (a root
mutation field 10, search 10), scalars cost nothing, and a field's cost is multiplied by how many
times it can run: the product of the list sizes above it. A list's size is its `first`/`last`
argument (a literal or a variable; else the argument's default; at most MAX_PAGE, the most any
list answers: a larger page is the resolver's BAD_USER_INPUT, not a cost), a connection without one counts
DEFAULT_PAGE, a plain list DEFAULT_LIST; the `edges` of a connection add nothing more (the
connection's size already counts them). So `conversations(first: 50) { edges { node { customer
{ name } } } }` costs 1 + 50 × (1 + 1 + 1) = 151.

An operation over GRAPHQL_MAX_COST is refused with QUERY_TOO_COSTLY; each caller (API key, user,
else address) has GRAPHQL_COST_PER_MINUTE to spend, and past it gets RATE_LIMITED with
`retryAfter`. Both errors carry `extensions.cost`.

The walk over the document happens once per (document text, operation name): it yields a plan,
terms of (cost, factors), where a factor is a number or a variable's name; a request then only
multiplies its variables' values into the plan. Documents are validated first (the validation
cache in schema/document_cache.py is untouched), so the walk sees only valid documents.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from strawberry.extensions import SchemaExtension

from core.ratelimit import Charge, principal_key
from core.settings import get_settings
from schema.graphql_request import CACHED_DOCUMENT_LENGTH

DEFAULT_PAGE = 50
MAX_PAGE = 100  # no list answers more (the resolvers refuse larger pages), so none costs more
DEFAULT_LIST = 20
ROOT_MUTATION_COST = 10
FIELD_COSTS = {"Query.search": 10}
PLANS_KEPT = 256

Factor = int | tuple[str, int]  # a number, or (variable name, its default)


@dataclass(frozen=True)
class Plan:
    terms: tuple[tuple[int, tuple[Factor, ...]], ...]

    def cost(self, variables: dict[str, Any] | None) -> int:
        total = 0
        for base, factors in self.terms:
            product = base
            for factor in factors:
                product *= _value(factor, variables or {})
            total += product
        return total


def _value(factor: Factor, variables: dict[str, Any]) -> int:
    if isinstance(factor, int):
        return factor
    name, default = factor
    value = variables.get(name)
    return _page(value) if isinstance(value, int) and not isinstance(value, bool) else default


def _page(size: int) -> int:
    return min(max(1, size), MAX_PAGE)


def plan_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    )
    defaults = {
        v.variable.name.value: v.default_value.value
        for v in operation.variable_definitions or ()
        if isinstance(v.default_value, IntValueNode)
    }
    root = schema.get_root_type(operation.operation)
    assert root is not None
    walk = _Walk(schema, fragments, {k: int(v) for k, v in defaults.items()})
    walk.selections(root, operation.selection_set, (), is_root=True)
    return Plan(tuple(walk.terms))


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], defaults: dict[str, int]
    ):
        self.schema, self.fragments, self.defaults = schema, fragments, defaults
        self.terms: list[tuple[int, tuple[Factor, ...]]] = []
        self._visiting: set[str] = set()

    def selections(
        self,
        parent: Any,
        selection_set: SelectionSetNode,
        factors: tuple[Factor, ...],
        *,
        is_root: bool = False,
    ) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                self.field(parent, node, factors, is_root)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(target, node.selection_set, factors, is_root=is_root)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in self._visiting:
                fragment = self.fragments[node.name.value]
                self._visiting.add(node.name.value)
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(target, fragment.selection_set, factors, is_root=is_root)
                self._visiting.discard(node.name.value)

    def field(self, parent: Any, node: FieldNode, factors: tuple[Factor, ...], is_root: bool) -> None:
        name = node.name.value
        if name.startswith("__"):  # introspection is answered from memory
            self.terms.append((1 if name != "__typename" else 0, factors))
            return
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return
        base = FIELD_COSTS.get(
            f"{parent.name}.{name}",
            ROOT_MUTATION_COST if is_root and parent is self.schema.mutation_type else 1,
        )
        self.terms.append((base, factors))
        size = self.size(parent, definition, node, named)
        if node.selection_set is not None:
            self.selections(named, node.selection_set, (*factors, size) if size != 1 else factors)

    def size(self, parent: Any, definition: Any, node: FieldNode, named: Any) -> Factor:
        """How many times the field's selections can run."""
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        paged = [name for name in ("first", "last") if name in definition.args]
        for name in paged:
            given = arguments.get(name)
            if isinstance(given, IntValueNode):
                return _page(int(given.value))
            if isinstance(given, VariableNode):
                return (given.name.value, self.defaults.get(given.name.value, _default(definition, name)))
        if paged:
            return _default(definition, paged[0])
        if parent.name.endswith("Connection"):
            return 1  # edges: the connection's size already counts them
        if named.name.endswith("Connection"):
            return DEFAULT_PAGE
        return DEFAULT_LIST if _is_list(definition.type) else 1


def _default(definition: Any, argument: str) -> int:
    value = definition.args[argument].default_value
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_PAGE


def _is_list(graphql_type: Any) -> bool:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)


class CostPlans:
    """One per schema: plans by (document text, operation name), least recently used goes first."""

    def __init__(self, maxsize: int = PLANS_KEPT) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()

    def plan(
        self, schema: GraphQLSchema, query: str | None, document: DocumentNode, operation_name: str | None
    ) -> Plan:
        if not query or len(query) > CACHED_DOCUMENT_LENGTH:
            return plan_of(schema, document, operation_name)
        key = (query, operation_name)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = plan_of(schema, document, operation_name)
            while len(self._plans) > self.maxsize:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan


class QueryCost(SchemaExtension):
    """After validation (errors already found stand), before execution: refuse what costs too much."""

    def __init__(self, plans: CostPlans) -> None:
        self.plans = plans

    async def on_validate(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            error = await self._refusal()
            if error is not None:
                context.pre_execution_errors = [error]
        yield

    async def _refusal(self) -> GraphQLError | None:
        context = self.execution_context
        try:
            plan = self.plans.plan(
                context.schema._schema, context.query, context.graphql_document, context.operation_name
            )  # type: ignore[arg-type]
        except (StopIteration, KeyError):
            return None  # no such operation: strawberry reports it with its own code
        cost = plan.cost(context.variables)
        app = context.context  # None when run directly (schema.execute in tests and jobs): no budget
        settings = getattr(app, "settings", None) or get_settings()
        if cost > settings.graphql_max_cost:
            return GraphQLError(
                f"this operation would cost {cost}, over the limit of {settings.graphql_max_cost}: "
                "ask for smaller pages (first/last) or fewer nested lists",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": settings.graphql_max_cost},
            )
        if app is None:
            return None
        budget = Charge(
            f"cost:{principal_key(app.actor, app.ip)}",
            limit=settings.graphql_cost_per_minute,
            per=60,
            amount=max(1, cost),
        )
        limits = getattr(app, "limits", None)
        if limits is not None:
            # HTTP: the request limits noted on the way in are counted now too, in one round trip.
            refused = await limits.settle(budget)
            if refused is not None and refused[0] is not budget:
                # A request limit: nothing runs, and schema/http.py answers with its 429.
                return GraphQLError(
                    refused[0].refusal, extensions={"code": "RATE_LIMITED", "retryAfter": refused[1]}
                )
            wait = refused[1] if refused is not None else 0
        else:
            wait = await app.rate_limiter.take(
                budget.key, limit=budget.limit, per=budget.per, amount=budget.amount
            )
        if wait:
            return GraphQLError(
                f"the query cost budget ({settings.graphql_cost_per_minute} a minute) is spent; "
                f"retry in {wait} s",
                extensions={"code": "RATE_LIMITED", "retryAfter": wait, "cost": cost},
            )
        return None
