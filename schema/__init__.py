"""The GraphQL surface: root types composed from schema/queries, mutations, subscriptions."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from core.settings import get_settings
from schema.errors import ErrorCodes, _is_expected
from schema.mutations import Mutation
from schema.queries import Query
from schema.subscriptions import Subscription
from schema.types import Channel, Conversation, Customer, Message, User

log = logging.getLogger("pytake.graphql")


class PyTakeSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are answers, not crashes: no traceback in the log (ErrorCodes logs the rest).
        for error in errors:
            if _is_expected(error):
                log.debug("graphql error: %s", error.message)


def build_schema(max_depth: int | None = None) -> strawberry.Schema:
    settings = get_settings()
    return PyTakeSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Conversation, Message, User, Channel, Customer],
        extensions=[
            lambda: QueryDepthLimiter(max_depth=max_depth or settings.graphql_max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            # Agents' screens send the same few documents all day: validate each once.
            lambda: ValidationCache(maxsize=256),
            ErrorCodes,
        ],
    )
