"""Domain errors. Each has a stable code that the GraphQL layer puts in `extensions.code` and that
clients switch on; the message is for people."""

from __future__ import annotations


class DomainError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **details: object):
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def extensions(self) -> dict[str, object]:
        # graphql-core copies an original error's `extensions` onto the GraphQL error, so the
        # API reports the code without resolvers knowing about GraphQL.
        return {"code": self.code, **self.details}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class ReplyNotAllowed(DomainError):
    """The chosen platform refuses this message (window closed, never contacted, ...)."""

    code = "REPLY_NOT_ALLOWED"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class CursorExpiredError(DomainError):
    code = "CURSOR_EXPIRED"
