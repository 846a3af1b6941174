"""The read path's fixed costs: each document parsed and validated once (with the limits refusing
the same documents with the same errors), and no reset query on every pooled connection's release
(with nothing setting session state that could leak to the next borrower)."""

from __future__ import annotations

import pytest

import schema.document_cache as document_cache
from core.sql import fetch
from models import Role
from schema.document_cache import DocumentCache
from tests.helpers import error_code, gql, login, make_user

INBOX = """query { conversations(first: 5) { edges { cursor node { id status unreadCount
  customer { name } assignee { name } lastMessage { text } } } pageInfo { hasNextPage } } }"""


@pytest.fixture
def validations(monkeypatch):
    """Counts the validations the cache lets through (the real ones still run)."""
    calls: list[str] = []
    real = document_cache.validate_document

    def counting(schema, document, rules):  # type: ignore[no-untyped-def]
        calls.append(document.loc.source.body if document.loc else "")
        return real(schema, document, rules)

    monkeypatch.setattr(document_cache, "validate_document", counting)
    return calls


async def test_a_document_is_validated_once_and_answers_the_same(server, validations):
    token = await login(server, await make_user(Role.AGENT))
    query = INBOX + " # validated once " + str(id(validations))  # a text no other test sent
    first = await gql(server, query, token=token)
    second = await gql(server, query, token=token)
    assert first["_status"] == second["_status"] == 200 and "errors" not in first
    assert first == second
    assert validations.count(query) == 1


async def test_the_limits_refuse_a_cached_document_again_with_the_same_errors(server, validations):
    aliases = "{ " + " ".join(f"cached{i}: __typename" for i in range(30)) + " }"
    answers = [await gql(server, aliases) for _ in range(3)]
    assert [a["_status"] for a in answers] == [400, 400, 400]
    assert all(error_code(a) == "QUERY_TOO_COMPLEX" for a in answers)
    assert answers[0]["errors"] == answers[1]["errors"] == answers[2]["errors"]
    assert "data" not in answers[2]
    assert validations.count(aliases) == 1
    unknown = "{ cachedNope }"
    again = [await gql(server, unknown) for _ in range(2)]
    assert [error_code(a) for a in again] == ["GRAPHQL_VALIDATION_FAILED"] * 2
    assert again[0]["errors"] == again[1]["errors"]


async def test_documents_that_do_not_parse_are_refused_each_time_and_not_kept(server):
    tokens = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
    syntax = "{ conversations( }"
    for document, code in ((tokens, "GRAPHQL_PARSE_FAILED"), (syntax, "GRAPHQL_PARSE_FAILED")):
        answers = [await gql(server, document) for _ in range(2)]
        assert [(a["_status"], error_code(a)) for a in answers] == [(400, code)] * 2
        assert answers[0]["errors"] == answers[1]["errors"]


async def test_the_depth_limit_refuses_from_the_cache_too(database, validations):
    from schema import build_schema

    schema = build_schema(max_depth=4)
    deep = "{ conversations { edges { node { customer { identities { platform } } } } } }"
    for _ in range(2):
        result = await schema.execute(deep)
        assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
        assert result.data is None
    assert validations.count(deep) == 1
    # Another schema with another limit has its own cache: the same text passes the depth rule there.
    roomy = await build_schema(max_depth=10).execute(deep)
    assert not any(e.extensions.get("code") == "QUERY_TOO_COMPLEX" for e in roomy.errors or [])


async def test_a_cached_mutation_still_runs_every_time(server, validations):
    """The cache keeps the document and its validation, never a result: each request executes."""
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    save = "mutation($n: String!) { saveView(name: $n) { name } }"
    for name in ("first view", "second view"):
        body = await gql(server, save, {"n": name}, token)
        assert body["data"]["saveView"]["name"] == name
    stored = await fetch("SELECT name FROM saved_views WHERE user_id = $1 ORDER BY id", user.id)
    assert [row["name"] for row in stored] == ["first view", "second view"]
    assert validations.count(save) == 1
    refused = await gql(server, save, {"n": "\x00"}, token)  # arguments are still checked per request
    assert error_code(refused) == "BAD_USER_INPUT"
    assert len(await fetch("SELECT 1 FROM saved_views WHERE user_id = $1", user.id)) == 2


def test_the_cache_is_bounded_and_keeps_only_short_documents():
    from graphql import parse

    cache = DocumentCache(max_depth=10, max_aliases=15, maxsize=2)
    options = {"max_tokens": 100}
    keys = [cache.key(f"{{ a{i} }}", options) for i in range(3)]
    for key in keys:
        assert key is not None
        cache.put(key, parse(key[0]))
    assert len(cache) == 2 and cache.get(keys[0]) is None and cache.get(keys[2]) is not None
    assert cache.key("{ " + "a " * 10_000 + "}", options) is None  # parsed each time, never held
    assert cache.key("{ a0 }", {"max_tokens": 5}) != keys[0]  # another token limit, another entry
