"""The fault suite's world: a private PostgreSQL and Redis, two `pytake serve` processes, two
`pytake worker` processes, the platform fakes, channels and agents. Run by `make faults`, never by
`make test` (pyproject's norecursedirs; `--confcutdir` keeps tests/conftest.py's own set-up out).

The environment is fixed here, before any app module reads settings. Sizes come from FAULTS_* (see
README "Faults")."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from starlette.responses import JSONResponse

from tests.faults.cluster import (
    Cluster,
    PrivatePostgres,
    PrivateRedis,
    api_and_worker_services,
    free_port,
    make_root,
)

ROOT_DIR = make_root()
os.environ.update(
    {
        "PYTAKE_DATA_DIR": str(ROOT_DIR / "data"),
        "PYTAKE_DEMO": "0",
        "PYTAKE_INPROCESS_WORKER": "0",
        "LOG_LEVEL": "WARNING",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

PASSWORD = "fault suite password"


def setting(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


class Delayed:
    """An ASGI wrapper answering every HTTP request `delay` seconds late: a platform under load,
    or (with a delay past our HTTP timeout) one that does not answer at all."""

    def __init__(self, app: Any):
        self.app = app
        self.delay = 0.0
        # A platform's throughput limit: past `rate_limit` calls in one second, 429 with Meta's
        # throughput error (130429) and a Retry-After of a second.
        self.rate_limit = 0
        self.throttled = 0
        self._window = (0, 0)  # (second, calls in it)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.delay:
            await asyncio.sleep(self.delay)
        if scope["type"] == "http" and self.rate_limit and scope["method"] == "POST":
            second = int(time.time())
            calls = self._window[1] + 1 if self._window[0] == second else 1
            self._window = (second, calls)
            if calls > self.rate_limit:
                self.throttled += 1
                body = {
                    "error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}
                }
                await JSONResponse(body, status_code=429, headers={"Retry-After": "1"})(scope, receive, send)
                return
        await self.app(scope, receive, send)


@dataclass
class World:
    cluster: Cluster
    fakes: dict[str, Any]
    channels: dict[str, Any]  # platform → Channel row
    secrets: dict[str, dict[str, str]]  # platform → the channel's secrets
    agents: list[str] = field(default_factory=list)  # e-mails

    @property
    def bases(self) -> list[str]:
        return self.cluster.bases


def _service_env(db_url: str, redis_url: str, public_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "PYTAKE_NAMESPACE": "faults",
        "PUBLIC_URL": public_url,
        "GRAPHQL_RATE_PER_MINUTE": "100000000",  # the load generator is one address
        "LOGIN_RATE_PER_MINUTE": "100000",
        # The load generators are one address, one agent and one channel at hundreds a second.
        "USER_RATE_PER_MINUTE": "100000000",
        "WEBHOOK_RATE_PER_MINUTE": "100000000",
        "GRAPHQL_COST_PER_MINUTE": "1000000000",
        # The agents sign in once; at full size (FAULTS_BACKLOG=50000 on a busy machine) queueing
        # alone outlasted the 15-minute access token and every later reply was UNAUTHENTICATED.
        "ACCESS_TOKEN_TTL": "14400",
        # A killed worker's jobs come back after this many seconds (production: 60).
        "WORKER_HEARTBEAT_TIMEOUT": os.environ.get("FAULTS_HEARTBEAT_TIMEOUT", "10"),
        "WORKER_STOP_TIMEOUT": "5",
        "SHUTDOWN_TIMEOUT": "3",
        "DB_POOL_SIZE": "15",
    }


async def _seed(
    db_url: str, fakes: dict[str, Any], bases: list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, str]], list[str]]:
    from core.db import close_orm, init_orm
    from models import Role
    from tests.helpers import make_channel, make_user

    await init_orm(db_url)
    try:
        channels: dict[str, Any] = {}
        all_secrets: dict[str, dict[str, str]] = {}
        wa_secrets = {"app_secret": uuid.uuid4().hex, "access_token": uuid.uuid4().hex, "verify_token": "v"}
        phone_id = "1065403522"
        channels["whatsapp"] = await make_channel(
            "whatsapp",
            {"phone_number_id": phone_id, "api_base": fakes["whatsapp"].base, "api_version": "v21.0"},
            wa_secrets,
        )
        fakes["whatsapp"].add_number(
            phone_id, access_token=wa_secrets["access_token"], app_secret=wa_secrets["app_secret"]
        )
        line_secrets = {"channel_secret": uuid.uuid4().hex, "channel_access_token": uuid.uuid4().hex}
        channels["line"] = await make_channel("line", {"api_base": fakes["line"].base}, line_secrets)
        fakes["line"].add_channel(
            line_secrets["channel_access_token"], channel_secret=line_secrets["channel_secret"]
        )
        bot_token = f"{700000 + secrets.randbelow(99999)}:{uuid.uuid4().hex}"
        tg_secrets = {"bot_token": bot_token, "secret_token": uuid.uuid4().hex}
        channels["telegram"] = await make_channel(
            "telegram", {"api_base": fakes["telegram"].base}, tg_secrets
        )
        fakes["telegram"].add_bot(bot_token)
        all_secrets.update(whatsapp=wa_secrets, line=line_secrets, telegram=tg_secrets)
        agents = []
        import tests.helpers as helpers

        helpers.PASSWORD = PASSWORD  # make_user hashes this one
        for _ in range(setting("FAULTS_AGENTS", 4)):
            user = await make_user(Role.AGENT)
            agents.append(user.email)
        admin = await make_user(Role.ADMIN)
        agents.insert(0, admin.email)
        return channels, all_secrets, agents
    finally:
        await close_orm()


@pytest_asyncio.fixture(scope="session")
async def world() -> AsyncIterator[World]:
    if shutil.which("redis-server") is None:
        shutil.rmtree(ROOT_DIR, ignore_errors=True)
        pytest.skip(
            "redis-server is not installed: the fault suite starts its own Redis (apt-get install redis-server)"
        )
    from connectors.fakes.whatsapp import FakeWhatsApp
    from core import db as core_db
    from tests.fakes.line import FakeLine
    from tests.fakes.telegram import FakeTelegram

    postgres = PrivatePostgres(ROOT_DIR)
    await asyncio.to_thread(postgres.init)
    await asyncio.to_thread(postgres.start)
    redis = PrivateRedis(ROOT_DIR)
    await asyncio.to_thread(redis.start)
    db_url = core_db.with_database(postgres.url, "pytake_faults")
    await core_db.ensure_database(postgres.url, "pytake_faults")
    await core_db.migrate(db_url)

    fakes: dict[str, Any] = {
        "whatsapp": FakeWhatsApp(),
        "line": FakeLine(),
        "telegram": FakeTelegram(require_https=False),
    }
    for fake in fakes.values():
        fake.app = Delayed(fake.app)  # scenarios slow a platform down by setting fake.app.delay
    contexts = {name: fake.serve() for name, fake in fakes.items()}
    for name, ctx in contexts.items():
        fakes[name].base = await ctx.__aenter__()
        fakes[name].auto_statuses = []  # statuses are posted by the scenarios that want them

    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    env = _service_env(db_url, redis.url, bases[0])
    apis, workers = api_and_worker_services(ROOT_DIR, env, ports)
    cluster = Cluster(ROOT_DIR, postgres, redis, db_url, apis, workers, bases)
    channels, all_secrets, agents = await _seed(db_url, fakes, bases)
    try:
        for service in [*apis, *workers]:
            service.start()
        await cluster.wait_ready()
        yield World(cluster, fakes, channels, all_secrets, agents)
    finally:
        await asyncio.to_thread(cluster.stop)
        for ctx in contexts.values():
            await ctx.__aexit__(None, None, None)
        if not os.environ.get("FAULTS_KEEP"):
            shutil.rmtree(ROOT_DIR, ignore_errors=True)
        else:
            print(f"fault suite logs kept in {ROOT_DIR}")
