"""What every HTTP answer says about itself to browsers, and who the client really is.

- Security headers on every response: `X-Content-Type-Options: nosniff`, a referrer policy, a
  Content-Security-Policy (the web app's: its own scripts only, its own API and WebSocket; the
  API's answers and GraphiQL, which loads its scripts from a CDN, only refuse framing), framing
  refused everywhere (`frame-ancestors 'none'`, and X-Frame-Options for old browsers), and
  `Strict-Transport-Security` on HTTPS answers (directly, or as a trusted proxy says).
- Forwarded headers: X-Forwarded-For and X-Forwarded-Proto are believed only from the addresses
  in TRUSTED_PROXIES (uvicorn's own middleware does the parsing, right to left past the trusted
  hops); from anyone else they are ignored, so a client cannot pick the address its rate limits
  and audit entries are counted under.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.settings import Settings

# The built web app: scripts and styles from its own origin (React sets style attributes, hence
# 'unsafe-inline' for styles only), its API and live updates on the same host.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# /graphql (GraphiQL loads from a CDN with inline scripts), the webhooks, the web chat's API and
# widget script (embedded by customers' sites as a script, never a frame).
API_CSP = "frame-ancestors 'none'"
_API_PREFIXES = ("/graphql", "/webhooks/", "/webchat/", "/healthz", "/readyz", "/metrics")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts_max_age: int) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains" if hsts_max_age > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = API_CSP if scope["path"].startswith(_API_PREFIXES) else APP_CSP
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", csp)
                if https and self.hsts:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class GraphQLCors:
    """CORS_ORIGINS for /graphql only: the web chat answers its own sites' CORS (per channel), and
    a global CORS layer would refuse their preflights. Bearer tokens, not cookies: no credentials."""

    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            return await self.cors(scope, receive, send)
        await self.app(scope, receive, send)


def security_middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: the real client address and scheme, then the headers, then CORS."""
    layers = []
    if settings.trusted_proxies:
        layers.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies)))
    layers.append(Middleware(SecurityHeaders, hsts_max_age=settings.hsts_max_age))
    if settings.cors_origins:
        layers.append(Middleware(GraphQLCors, origins=settings.cors_origins))
    return layers
