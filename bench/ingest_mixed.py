"""bench/ingest_mixed: signed webhooks from every webhook platform at once, against production mode,
versus the raw baseline of bench/ingest (asyncpg INSERT … ON CONFLICT + Redis PUBLISH) measured in
the same run. Also times each connector's signature check in-process, to show it is not the
bottleneck.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 make bench-mixed
    (BENCH_N, BENCH_CONCURRENCY, BENCH_CUSTOMERS, BENCH_API_WORKERS as in bench/ingest)

Each body is a platform sample from ../shared/platform-samples with its message id, sender and
text made unique, signed the platform's way (connectors/fakes/signing.py). Discord is absent:
its users' messages come over the gateway, not HTTP (its interactions are HTTP but not messages).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    KeepAliveClient,
    api_processes,
    bench_database,
    percentile,
    require_production_env,
    run_load,
)
from bench.ingest import raw_baseline
from connectors.base import ChannelCredentials, Platform, WebhookRequest
from connectors.fakes.signing import sign_webhook
from connectors.registry import get_connector

N = int(os.environ.get("BENCH_N", "6000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000"))
API_WORKERS = int(os.environ.get("BENCH_API_WORKERS", "2"))
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "platform-samples"
SECRET = "bench-secret"


def _json(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def _whatsapp(i: int, c: int, run: str) -> bytes:
    data = _json("whatsapp/inbound_text.json")
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = f"55119{c:07d}"
    value["messages"][0]["id"] = f"wamid.{run}.{i}"
    value["messages"][0]["text"]["body"] = f"wa {run} {i}"
    return json.dumps(data).encode()


def _meta_dm(sample: str) -> Callable[[int, int, str], bytes]:
    def build(i: int, c: int, run: str) -> bytes:
        data = _json(sample)
        event = data["entry"][0]["messaging"][0]
        event["sender"]["id"] = f"70{c:012d}"
        event["message"]["mid"] = f"m_{run}_{i}"
        event["message"]["text"] = f"dm {run} {i}"
        return json.dumps(data).encode()

    return build


def _telegram(i: int, c: int, run: str) -> bytes:
    data = _json("telegram/inbound_text.json")
    data["update_id"] = i
    data["message"]["message_id"] = i
    data["message"]["from"]["id"] = data["message"]["chat"]["id"] = 10_000_000 + c
    data["message"]["text"] = f"tg {run} {i}"
    return json.dumps(data).encode()


def _slack(i: int, c: int, run: str) -> bytes:
    data = _json("slack/inbound_text.json")
    data["event_id"] = f"Ev{run}{i}"
    data["event"]["user"] = f"U{c:08d}"
    data["event"]["channel"] = f"D{c:08d}"
    data["event"]["ts"] = f"{1750030069 + i}.{i % 1_000_000:06d}"
    data["event"]["text"] = f"slack {run} {i}"
    data["event"].pop("blocks", None)
    data["event"].pop("client_msg_id", None)
    return json.dumps(data).encode()


def _line(i: int, c: int, run: str) -> bytes:
    data = _json("line/inbound_text.json")
    event = data["events"][0]
    event["webhookEventId"] = f"01{run}{i:020d}"
    event["source"]["userId"] = f"U{c:032x}"
    event["message"]["id"] = f"{run}{i}"
    event["message"]["text"] = f"line {run} {i}"
    return json.dumps(data).encode()


def _viber(i: int, c: int, run: str) -> bytes:
    data = _json("viber/inbound_text.json")
    data["message_token"] = 5_741_311_803_571_721_088 + i + int(run, 16) * 10**7
    data["sender"]["id"] = f"{c:012d}A="
    data["message"]["text"] = f"viber {run} {i}"
    return json.dumps(data).encode()


def _sms(i: int, c: int, run: str) -> bytes:
    fields = dict(
        urllib.parse.parse_qsl((SAMPLES / "sms/inbound_text.form").read_text(), keep_blank_values=True)
    )
    sid = f"SM{run}{i:026d}"
    fields.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, From=f"+1555{c:07d}", Body=f"sms {run} {i}")
    return urllib.parse.urlencode(fields).encode()


def _email(i: int, c: int, run: str) -> bytes:
    data = _json("email/mailgun_route_inbound.json")
    for key in ("timestamp", "token", "signature"):
        data.pop(key, None)
    address = f"customer{c}@example.org"
    data.update({"sender": address, "from": f"Customer {c} <{address}>", "From": f"Customer {c} <{address}>"})
    data["Message-Id"] = f"<{run}.{i}@example.org>"
    data.pop("In-Reply-To", None)
    data["body-plain"] = data["stripped-text"] = f"mail {run} {i}"
    headers = (
        [[k, v] for k, v in json.loads(data["message-headers"])]
        if isinstance(data.get("message-headers"), str)
        else []
    )
    data["message-headers"] = json.dumps(
        [
            [k, data["Message-Id"] if k.lower() == "message-id" else v]
            for k, v in headers
            if k.lower() != "in-reply-to"
        ]
    )
    return json.dumps(data).encode()


def _wechat(i: int, c: int, run: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o{c:027d}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[wechat {run} {i}]]></Content><MsgId>{int(run, 16)}{i:010d}</MsgId></xml>"
    ).encode()


# Per platform: body builder, channel config, channel secrets (the signing secret is SECRET).
PLATFORMS: dict[Platform, tuple[Callable[[int, int, str], bytes], dict[str, Any], dict[str, str]]] = {
    Platform.WHATSAPP: (
        _whatsapp,
        {"phone_number_id": "106540352242922"},
        {"app_secret": SECRET, "access_token": "x", "verify_token": "y"},
    ),
    Platform.MESSENGER: (
        _meta_dm("messenger/inbound_text.json"),
        {"page_id": "108517771987654"},
        {"app_secret": SECRET, "page_access_token": "x", "verify_token": "y"},
    ),
    Platform.INSTAGRAM: (
        _meta_dm("instagram/inbound_text.json"),
        {"ig_account_id": "17841405309211844"},
        {"app_secret": SECRET, "access_token": "x", "verify_token": "y"},
    ),
    Platform.TELEGRAM: (_telegram, {}, {"bot_token": "123:abc", "secret_token": SECRET}),
    Platform.SLACK: (_slack, {"team_id": "T0FAKE001"}, {"signing_secret": SECRET, "bot_token": "xoxb-1"}),
    Platform.LINE: (_line, {}, {"channel_secret": SECRET, "channel_access_token": "x"}),
    Platform.VIBER: (_viber, {"sender_name": "Bench"}, {"auth_token": SECRET}),
    Platform.SMS: (
        _sms,
        {"account_sid": "AC" + "a" * 32, "from_number": "+15557122661"},
        {"auth_token": SECRET},
    ),
    Platform.EMAIL: (
        _email,
        {"provider": "mailgun", "address": "support@example.com", "domain": "example.com"},
        {"mailgun_signing_key": SECRET},
    ),
    Platform.WECHAT: (_wechat, {"app_id": "wxbench"}, {"token": SECRET, "app_secret": "x"}),
}


def verify_cost(platform: Platform, body: bytes, config: dict[str, Any], secrets: dict[str, str]) -> float:
    """Microseconds per signature check, in-process."""
    connector = get_connector(platform)
    url = f"https://bench.example/webhooks/{platform.value}/1"
    now = time.time()
    signed = sign_webhook(platform, body, SECRET, now, url)
    query_url = url + ("?" + urllib.parse.urlencode(signed.query) if signed.query else "")
    request = WebhookRequest("POST", query_url, signed.headers, signed.query, signed.body)
    channel = ChannelCredentials(channel_id=1, config=config, secrets=secrets)
    assert connector.verify(request, channel, now=now), platform
    rounds = 5000
    started = time.perf_counter()
    for _ in range(rounds):
        connector.verify(request, channel, now=now)
    return (time.perf_counter() - started) / rounds * 1e6


async def main() -> None:
    _, redis_url = require_production_env()
    run = uuid.uuid4().hex[:6]
    platforms = list(PLATFORMS)
    async with bench_database() as db_url:
        from core.crypto import encrypt_secrets
        from core.db import close_orm, init_orm
        from models import Channel

        await init_orm(db_url)
        channels: dict[Platform, int] = {}
        for platform, (_, config, secrets) in PLATFORMS.items():
            channel = await Channel.create(
                platform=platform.value,
                name=f"bench {platform.value}",
                config=config,
                secrets_encrypted=encrypt_secrets(secrets),
            )
            channels[platform] = channel.id
        await close_orm()

        requests: list[tuple[Platform, str, bytes, dict[str, str]]] = []
        for i in range(N):
            platform = platforms[i % len(platforms)]
            build, _, _ = PLATFORMS[platform]
            body = build(i, (i // len(platforms)) % CUSTOMERS, run)
            path = f"/webhooks/{platform.value}/{channels[platform]}"
            requests.append((platform, path, body, {}))
        # The floor stores each body as a JSON value (forms and XML as JSON strings) and publishes it.
        raw_rate, _ = await raw_baseline(
            db_url, redis_url, [json.dumps(r[2].decode()).encode() for r in requests]
        )

        async with api_processes(db_url, workers=API_WORKERS, namespace=f"bench-{run}") as base:
            signed_requests = []
            now = time.time()
            for platform, path, body, _ in requests:
                signed = sign_webhook(platform, body, SECRET, now, base + path)
                query = ("?" + urllib.parse.urlencode(signed.query)) if signed.query else ""
                signed_requests.append((platform, path + query, signed.body, signed.headers))
            lanes = [KeepAliveClient(base) for _ in range(CONCURRENCY)]
            free = list(lanes)
            statuses: Counter[tuple[str, int]] = Counter()

            async def one(i: int) -> None:
                platform, path, body, headers = signed_requests[i]
                lane = free.pop()
                status, _ = await lane.post(path, body, headers)
                free.append(lane)
                statuses[(platform.value, status)] += 1

            seconds, latencies = await run_load(N, CONCURRENCY, one)
            for lane in lanes:
                await lane.close()

        import asyncpg

        from core.db import asyncpg_dsn

        conn = await asyncpg.connect(asyncpg_dsn(db_url))
        stored = dict(
            await conn.fetch(
                "SELECT c.platform, count(*) FROM messages m JOIN channels c ON c.id = m.channel_id GROUP BY 1"
            )
        )
        await conn.close()

    rate = N / seconds
    print(
        f"\nbench/ingest_mixed  N={N} platforms={len(platforms)} concurrency={CONCURRENCY} api_workers={API_WORKERS}"
    )
    print(f"  raw baseline (asyncpg INSERT ON CONFLICT + Redis PUBLISH): {raw_rate:8.0f} msgs/s")
    print(f"  PyTake webhooks, {len(platforms)} platforms mixed:                 {rate:8.0f} msgs/s")
    print(f"  ratio PyTake / raw: {rate / raw_rate:.0%}")
    print(
        f"  webhook latency p50 {percentile(latencies, 50) * 1000:.1f} ms   p99 {percentile(latencies, 99) * 1000:.1f} ms"
    )
    print("  per platform: answered 2xx / stored / signature check (µs, in-process)")
    for platform in platforms:
        ok = sum(n for (p, status), n in statuses.items() if p == platform.value and 200 <= status < 300)
        sent = sum(n for (p, _), n in statuses.items() if p == platform.value)
        build, config, secrets = PLATFORMS[platform]
        cost = verify_cost(platform, build(0, 0, run), config, secrets)
        print(
            f"    {platform.value:10} {ok:5}/{sent:<5} stored {stored.get(platform.value, 0):5}   verify {cost:7.1f} µs"
        )
    bad = {k: v for k, v in statuses.items() if not 200 <= k[1] < 300}
    if bad:
        print(f"  non-2xx answers: {dict(bad)}")


if __name__ == "__main__":
    asyncio.run(main())
