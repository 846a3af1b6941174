"""Security headers on every answer, CORS for /graphql from configured origins only, and the client
address taken from X-Forwarded-For only when a trusted proxy sent it (the address rate limits and
audit entries are counted under)."""

from __future__ import annotations

from dataclasses import replace

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from core.settings import get_settings
from core.web_security import API_CSP, APP_CSP, security_middleware
from tests.test_limits import code, endpoint, within_one_window

ONE = {"query": "{ __typename }"}


async def test_every_answer_carries_the_security_headers(server):
    async with httpx.AsyncClient() as c:
        app_page = await c.get(f"{server}/", headers={"Accept": "text/html"})
        api = await c.post(f"{server}/graphql", json=ONE)
        webhook = await c.post(f"{server}/webhooks/whatsapp/0", content=b"{}")
    for response in (app_page, api, webhook):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # plain HTTP: HSTS means nothing
    assert app_page.headers["content-security-policy"] == APP_CSP
    assert "script-src 'self'" in APP_CSP and "default-src 'self'" in APP_CSP
    assert api.headers["content-security-policy"] == API_CSP  # GraphiQL loads its scripts from a CDN


def _behind(proxies: tuple[str, ...], **overrides: object) -> Starlette:
    settings = replace(get_settings(), trusted_proxies=proxies, **overrides)
    graphql = endpoint(graphql_rate_per_minute=2)
    return Starlette(routes=[Route("/graphql", graphql)], middleware=security_middleware(settings))


def _client(app: Starlette, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 5000)), base_url="http://test"
    )


async def _statuses(app: Starlette, peer: str, forwarded_for: list[str]) -> list[int]:
    async with _client(app, peer) as c:
        return [
            (await c.post("/graphql", json=ONE, headers={"X-Forwarded-For": ip})).status_code
            for ip in forwarded_for
        ]


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(server):
    clients = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    await within_one_window()
    # Through the trusted proxy each client has its own limit of 2 a minute...
    trusted = _behind(("10.0.0.1",))
    assert await _statuses(trusted, "10.0.0.1", [c for c in clients for _ in range(2)]) == [200] * 6
    assert await _statuses(trusted, "10.0.0.1", ["203.0.113.1"]) == [429]
    # ...while anyone else's X-Forwarded-For is ignored: a spoofed address per request buys nothing.
    untrusted = _behind(("10.0.0.1",))
    assert await _statuses(untrusted, "198.51.100.9", clients) == [200, 200, 429]
    # CIDRs work, and the proxy's X-Forwarded-Proto turns on HSTS.
    cidr = _behind(("10.0.0.0/8",), hsts_max_age=600)
    async with _client(cidr, "10.1.2.3") as c:
        https = await c.post(
            "/graphql", json=ONE, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
        )
    async with _client(cidr, "198.51.100.9") as c:
        spoofed = await c.post("/graphql", json=ONE, headers={"X-Forwarded-Proto": "https"})
    assert https.headers["strict-transport-security"] == "max-age=600; includeSubDomains"
    assert "strict-transport-security" not in spoofed.headers


async def test_the_forwarded_address_is_the_one_audited(server):
    from core.sql import fetchrow
    from models import Role
    from tests.helpers import login, make_user

    admin = await login(server, await make_user(Role.ADMIN))
    app = _behind(("10.0.0.1",))
    async with _client(app, "10.0.0.1") as c:
        created = await c.post(
            "/graphql",
            json={"query": 'mutation { createApiKey(name: "audited", scopes: [USERS_READ]) { key { id } } }'},
            headers={"Authorization": f"Bearer {admin}", "X-Forwarded-For": "203.0.113.77"},
        )
    assert code(created) is None
    row = await fetchrow("SELECT ip FROM audit_log WHERE action = 'api_key.create' ORDER BY id DESC LIMIT 1")
    assert row == {"ip": "203.0.113.77"}


async def test_cors_admits_only_the_configured_origins_on_graphql():
    app = _behind((), cors_origins=("https://agents.example.com",))
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with _client(app, "127.0.0.1") as c:
        allowed = await c.options("/graphql", headers={"Origin": "https://agents.example.com", **preflight})
        other = await c.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        simple = await c.post("/graphql", json=ONE, headers={"Origin": "https://agents.example.com"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://agents.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "https://agents.example.com"
    without = _behind(())
    async with _client(without, "127.0.0.1") as c:
        none = await c.post("/graphql", json=ONE, headers={"Origin": "https://agents.example.com"})
    assert "access-control-allow-origin" not in none.headers  # no CORS_ORIGINS: same origin only
