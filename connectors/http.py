"""One way to call a platform's HTTP API, so that every connector fails the same way.

`call` makes the request, turns transport trouble into the two transport codes below (retryable:
the platform may never have seen the request), and decodes the JSON answer. The connector gets
a `Reply` and keeps only what is truly its platform's: the URL, the auth header, the error
envelope and its codes. The client is the one the caller passes in: the app's pooled client
(`core.http.client()`), or a test's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from connectors.base import SendError, retry_after_header

# The codes stored on a message when the platform could not be asked at all; agents see them.
TIMEOUT = "TIMEOUT"
NETWORK_ERROR = "NETWORK_ERROR"

REQUEST_TIMEOUT = 15.0  # seconds


@dataclass(frozen=True)
class Reply:
    """A platform's answer: the raw response and its body decoded as JSON (None when it is not)."""

    response: httpx.Response
    data: Any

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def ok(self) -> bool:
        return self.response.is_success

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def transient(self) -> bool:
        """429 or 5xx: the platform asks us to come back later, whatever its envelope says."""
        return self.status == 429 or self.status >= 500

    @property
    def body(self) -> dict[str, Any]:
        """The decoded body when it is a JSON object, else empty: envelopes are read with .get."""
        return self.data if isinstance(self.data, dict) else {}

    def retry_after(self) -> float | None:
        """Seconds a Retry-After header asks for, if any."""
        return retry_after_header(self.response)


async def call(
    http: httpx.AsyncClient,
    platform: str,
    url: str,
    *,
    method: str = "POST",
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | httpx.Headers | None = None,
    params: Mapping[str, str] | None = None,
) -> Reply:
    """One request to `platform` (its name, for reasons an agent reads). `json` is sent as the
    body with a JSON content type unless `headers` name another; `content` is sent as it is.

    Raises SendError(TIMEOUT or NETWORK_ERROR, retryable) when no answer came. The reason names
    only the exception's type: URLs carry tokens (Telegram's path, WeChat's query), so neither
    the URL nor the exception's text may reach a reason, a log line or a chained traceback."""
    if json is not None:
        content = orjson.dumps(json)
        headers = httpx.Headers(headers)
        headers.setdefault("Content-Type", "application/json")
    try:
        response = await http.request(
            method, url, content=content, headers=headers, params=params, timeout=REQUEST_TIMEOUT
        )
    except httpx.TimeoutException:
        raise SendError(
            TIMEOUT, f"{platform} did not answer in time; it will be retried.", retryable=True
        ) from None
    except httpx.HTTPError as exc:
        raise SendError(
            NETWORK_ERROR,
            f"{platform} could not be reached ({type(exc).__name__}); it will be retried.",
            retryable=True,
        ) from None
    return Reply(response, _decode(response.content))


def _decode(content: bytes) -> Any:
    """The JSON in a body, or None: a platform's HTML error page is an answer, not a crash."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def refusal(
    reply: Reply,
    code: str | int | None,
    reason: str,
    *,
    retryable: bool,
    affects_channel: bool = False,
    throttled: bool = False,
) -> SendError:
    """The platform's refusal as a SendError: its own code (`HTTP_<status>` when it gave none),
    and the wait its Retry-After asks for when the send is worth retrying. Throttled: a 429, or
    a code the caller knows means "too fast" (some platforms say it with a 400)."""
    return SendError(
        str(code) if code is not None else f"HTTP_{reply.status}",
        reason,
        retryable=retryable,
        retry_after=reply.retry_after() if retryable else None,
        affects_channel=affects_channel,
        throttled=retryable and (throttled or reply.status == 429),
    )


def overloaded(reply: Reply, platform: str) -> SendError:
    """A transient answer (429, 5xx) from a platform whose error envelope is not worth reading."""
    return refusal(
        reply, None, f"{platform} is overloaded or limiting requests; it will be retried.", retryable=True
    )


def sent_id(value: Any, platform: str, *, accepted: str = "request", missing: str = "message id") -> str:
    """`value` as the id of a message the platform accepted. Without one the send fails for good
    (INVALID_RESPONSE): the message probably went out, so a retry could deliver it twice."""
    if not isinstance(value, str) or not value:
        raise SendError(
            "INVALID_RESPONSE",
            f"{platform} accepted the {accepted} but returned no {missing}.",
            retryable=False,
        )
    return value
