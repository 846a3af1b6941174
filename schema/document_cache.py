"""Parse and validate each GraphQL document once, not once per request.

Agents' screens send the same few documents all day. strawberry's ParserCache and ValidationCache
do not help together: validation is cached by the parsed document object and the rule classes,
and the depth and alias limiters build new rule classes for every request, so the cache never
hits. Here the limiters' rules are built once per schema, the parsed document is kept by its text
(and the parse options, i.e. the token limit), and its validation errors (none, for the documents
that run) are kept beside it. A document refused by the limits is refused again from the cache
with the same errors, so the same codes.

Only short documents are kept, and at most `maxsize` of them (least recently used goes first): a
client sending endless distinct documents costs a parse each, as before, and no memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

from schema.graphql_request import CACHED_DOCUMENT_LENGTH


@dataclass
class _Entry:
    document: DocumentNode
    # The rules the errors were found with and the errors (None: not validated yet).
    rules: tuple[type[ASTValidationRule], ...] | None = None
    errors: list[GraphQLError] | None = None


class DocumentCache:
    """One per schema: the limits' rule classes and the documents seen, by text."""

    def __init__(self, *, max_depth: int, max_aliases: int, maxsize: int = 256) -> None:
        self.rules: tuple[type[ASTValidationRule], ...] = (
            *QueryDepthLimiter(max_depth=max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        )
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, tuple[Any, ...]], _Entry] = OrderedDict()

    @staticmethod
    def key(query: str | None, parse_options: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
        if not query or len(query) > CACHED_DOCUMENT_LENGTH:
            return None
        return query, tuple(sorted(parse_options.items()))

    def get(self, key: tuple[str, tuple[Any, ...]]) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, tuple[Any, ...]], document: DocumentNode) -> _Entry:
        entry = self._entries[key] = _Entry(document)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return entry

    def __len__(self) -> int:
        return len(self._entries)


class CachedDocuments(SchemaExtension):
    """Per request (strawberry builds extensions per operation); the cache it reads is shared."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self._entry: _Entry | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self.cache.rules)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = self.cache.key(context.query, context.parse_options)
        self._entry = self.cache.get(key) if key is not None else None
        if self._entry is not None:
            context.graphql_document = self._entry.document
        yield
        # A document that failed to parse is not kept: strawberry parses it (and refuses it) again.
        if self._entry is None and key is not None and context.graphql_document is not None:
            self._entry = self.cache.put(key, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry, rules = self._entry, context.validation_rules
        if entry is not None and entry.errors is not None and entry.rules == rules:
            errors = entry.errors
        else:
            assert context.graphql_document is not None
            errors = validate_document(context.schema._schema, context.graphql_document, rules)
            if entry is not None:
                entry.rules, entry.errors = rules, errors
        # A copy: strawberry and the error extensions replace items in the request's own list.
        context.pre_execution_errors = list(errors)
        yield
