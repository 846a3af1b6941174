"""Query cost: computed from the document and the page sizes asked for, once per document; an
operation over the maximum is refused before it runs, and each caller has a budget a minute."""

from __future__ import annotations

from graphql import parse

from core.settings import get_settings
from core.sql import fetchrow
from models import Role
from schema import build_schema
from schema.cost import DEFAULT_PAGE, CostPlans, plan_of
from schema.persisted import load_manifest
from tests.helpers import login, make_user
from tests.test_limits import client, code, endpoint, post, within_one_window

INBOX = "query($n: Int) { conversations(first: $n) { edges { node { id customer { name } assignee { name } } } } }"
NESTED = """{ conversations(first: 20) { edges { node { id
  messages(last: 30) { edges { node { id text sender { name } } } } } } } }"""


def _cost(query: str, variables: dict | None = None) -> int:
    schema = build_schema()._schema
    return plan_of(schema, parse(query), None).cost(variables)


def test_cost_is_page_sizes_times_the_objects_under_them():
    # conversations 1 + 50 × (edges 1 + node 1 + customer 1 + assignee 1)
    assert _cost(INBOX, {"n": 50}) == 1 + 50 * 4
    assert _cost(INBOX, {"n": 10}) == 1 + 10 * 4
    assert _cost(INBOX, {}) == 1 + 50 * 4  # the argument's default (50)
    assert _cost(INBOX, {"n": 10**9}) == 1 + 100 * 4  # no page is larger: the resolver refuses it
    # 1 + 20 × (edges, node, messages) + 20 × 30 × (edges, node, sender)
    assert _cost(NESTED) == 1 + 20 * 3 + 20 * 30 * 3
    assert _cost("{ me { id name } }") == 1 and _cost("{ __typename }") == 0
    # A plain list counts a default size; a mutation costs more than a read.
    assert _cost("{ teams { id } }") == 1
    assert _cost('mutation { saveView(name: "x") { id } }') == 10
    fragment = "query { ...F } fragment F on Query { conversations(first: 7) { edges { node { id } } } }"
    assert _cost(fragment) == 1 + 7 * 2
    assert DEFAULT_PAGE == 50


def test_a_plan_is_built_once_per_document_and_priced_per_request():
    schema = build_schema()._schema
    plans = CostPlans()
    document = parse(INBOX)
    costs = [plans.plan(schema, INBOX, document, None).cost({"n": n}) for n in (1, 5, 50)]
    assert costs == [5, 21, 201]
    assert len(plans._plans) == 1


def test_the_web_apps_operations_cost_well_under_the_default_limit():
    schema = build_schema()._schema
    settings = get_settings()
    costs = {digest: plan_of(schema, parse(q), None).cost({}) for digest, q in load_manifest().items()}
    assert costs and max(costs.values()) * 5 <= settings.graphql_max_cost


async def test_an_operation_over_the_limit_is_refused_before_it_runs_with_its_cost(server):
    app = endpoint(graphql_max_cost=100)
    token = await login(server, await make_user(Role.AGENT))
    async with client(app) as c:
        refused = await post(c, INBOX, {"n": 50}, token)
        fine = await post(c, INBOX, {"n": 10}, token)
        name = "costly-view"
        mutation = await post(c, f'mutation {{ saveView(name: "{name}") {{ id }} }}', token=token)
    assert refused.status_code == 400 and "data" not in refused.json()
    assert refused.json()["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 201,
        "maxCost": 100,
    }
    assert fine.status_code == 200 and "errors" not in fine.json()
    assert code(mutation) is None  # 10: within the limit
    stopped = endpoint(graphql_max_cost=5)
    async with client(stopped) as c:
        refused_write = await post(c, 'mutation { saveView(name: "never-saved") { id } }', token=token)
    assert (
        code(refused_write) == "QUERY_TOO_COSTLY"
        and refused_write.json()["errors"][0]["extensions"]["cost"] == 10
    )
    assert await fetchrow("SELECT id FROM saved_views WHERE name = 'never-saved'") is None  # it never ran


async def test_each_caller_has_a_cost_budget_a_minute(server):
    app = endpoint(graphql_cost_per_minute=450)
    token = await login(server, await make_user(Role.AGENT))
    other = await login(server, await make_user(Role.AGENT))
    await within_one_window()
    async with client(app) as c:
        answers = [await post(c, INBOX, {"n": 50}, token) for _ in range(3)]  # 201 each
        someone_else = await post(c, INBOX, {"n": 50}, other)
    assert [a.status_code for a in answers] == [200, 200, 429]
    extensions = answers[2].json()["errors"][0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED" and extensions["cost"] == 201
    assert extensions["retryAfter"] == int(answers[2].headers["retry-after"])
    assert someone_else.status_code == 200  # budgets are per caller
