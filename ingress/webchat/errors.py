"""The web chat's refusals: a status, a code and a message, answered as JSON (with the CORS
headers a permitted page needs to read them, so the widget can say why)."""

from __future__ import annotations

from starlette.responses import JSONResponse


class WebchatError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def bad_input(message: str) -> WebchatError:
    # The GraphQL API's code for the same refusal (resolvers/errors.py), so clients learn one name.
    return WebchatError(400, "BAD_USER_INPUT", message)


def error_response(exc: WebchatError, cors: dict[str, str]) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}},
        status_code=exc.status,
        headers={**cors, **exc.headers},
    )
