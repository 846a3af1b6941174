"""Every error a client sees carries `extensions.code`; nothing unexpected leaks a message or
a traceback. Expected errors (our DomainErrors, validation) are not logged as crashes."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from core.outage import unavailable
from resolvers.errors import DomainError

log = logging.getLogger("pytake.graphql")


def _is_request_error(error: GraphQLError) -> bool:
    """Parse, validation and variable coercion errors: the client's request, not our code."""
    return error.original_error is None or isinstance(error.original_error, GraphQLError)


def _is_expected(error: GraphQLError) -> bool:
    return _is_request_error(error) or isinstance(error.original_error, DomainError)


def _code_for_request_error(error: GraphQLError) -> str:
    message = error.message
    if message.startswith("Variable '$") or "got invalid value" in message:
        return "BAD_USER_INPUT"
    if message.startswith("Syntax Error") or "tokens" in message:
        return "GRAPHQL_PARSE_FAILED"
    if "exceeds maximum operation depth" in message or "aliases found" in message:
        return "QUERY_TOO_COMPLEX"
    return "GRAPHQL_VALIDATION_FAILED"


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda e: not _is_expected(e), error_message="Internal server error"
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        down = unavailable(error.original_error) if error.original_error is not None else None
        if down is not None:
            # An outage, not a bug: one line, no traceback, and a code a client can retry on.
            log.warning("%s unavailable in %s: %r", down, error.path, error.original_error)
            masked = super().anonymise_error(error)
            masked.message = f"{down} is unavailable; retry shortly"
            masked.extensions = {"code": "SERVICE_UNAVAILABLE"}
            return masked
        log.error("unexpected error in %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        for error in errors:
            if _is_request_error(error) and not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": _code_for_request_error(error)}
        return super()._process_errors(errors)
