"""`pytake` command line: migrate, seed, serve, worker, gateway, run (embedded all-in-one), create-user, sdl."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys

from core import db
from core.settings import get_settings


async def _with_orm(coro_factory):  # type: ignore[no-untyped-def]
    settings = get_settings()
    await db.init_orm(await db.resolve_database_url(settings))
    try:
        return await coro_factory()
    finally:
        await db.close_orm()


def cmd_migrate(_: argparse.Namespace) -> None:
    async def go() -> None:
        url = await db.resolve_database_url(get_settings())
        applied = await db.migrate(url)
        print(f"migrations applied: {', '.join(applied) if applied else 'none pending'}")

    asyncio.run(go())


def cmd_seed(_: argparse.Namespace) -> None:
    from ingress.seed import seed_demo

    creds = asyncio.run(_with_orm(seed_demo))
    _print_credentials(creds)


def _print_credentials(creds: dict[str, str]) -> None:
    settings = get_settings()
    print("\n  PyTake demo users (saved in", settings.data_dir / "demo-credentials.json", ")")
    for email, password in creds.items():
        print(f"    {email:24} {password}")
    print(f"\n  Web app: {settings.public_url}/    GraphiQL: {settings.public_url}/graphql\n", flush=True)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from core.reuseport import PortReservation

    settings = get_settings()
    os.environ.setdefault("OTEL_SERVICE_NAME", "pytake-api")  # names this process type's spans
    workers = args.workers
    if settings.embedded and workers > 1:
        sys.exit(
            "embedded mode runs one process (in-memory pub/sub); set DATABASE_URL and REDIS_URL to scale out"
        )
    options = dict(
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        log_level="warning",
        proxy_headers=False,  # the app believes forwarded headers from TRUSTED_PROXIES only (core/web_security.py)
        ws="websockets-sansio",
        # No permessage-deflate: a live event is encoded once and the same frame goes to every
        # subscriber (schema/fanout.py); compression would cost a zlib stream per connection (tens
        # of KB each) and a deflate per subscriber per event, for ~1 KB JSON frames.
        ws_per_message_deflate=False,
        ws_max_size=settings.max_graphql_body,  # refused while it arrives, not after it is held whole
        # A subscription that misses uvicorn's one close request (opened mid-shutdown) would keep a
        # stopping process alive for good: past this, its task is cancelled.
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )
    if workers == 1:
        uvicorn.run("asgi:app", **options)  # type: ignore[arg-type]
        return
    config = uvicorn.Config("asgi:app", **options)  # type: ignore[arg-type]
    # uvicorn's own multiprocess mode shares one socket, and one worker often takes every
    # connection: each worker listens on its own (core/reuseport.py); uvicorn still supervises.
    try:
        reservation = PortReservation.bind_to(config.host, config.port)
    except OSError as exc:
        sys.exit(f"cannot listen on {config.host}:{config.port}: {exc}")
    with reservation, contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run does
        Multiprocess(config, sockets=[reservation]).run()
    _ignore_late_signals()


def cmd_worker(args: argparse.Namespace) -> None:
    settings = get_settings()
    if not settings.redis_url:
        sys.exit("workers need REDIS_URL (the broker); embedded mode runs jobs inside `pytake serve`")
    stop_timeout = settings.worker_stop_timeout if args.stop_timeout is None else args.stop_timeout
    if stop_timeout <= 0:
        sys.exit("--stop-timeout must be a positive number of seconds")
    from core.logging import configure
    from core.worker_supervisor import Supervisor

    configure(settings.log_level)
    # Each worker process in a slot of its own, replaced when it dies (core/worker_supervisor.py).
    sys.exit(
        Supervisor(
            args.processes,
            args.threads,
            stop_timeout,
            settings.worker_metrics_port,
            settings.worker_max_rss_mb,
            settings.worker_allocator,
        ).run()
    )


GATEWAY_STOP_TIMEOUT = 10.0  # seconds the gateway's connections get to close once it is told to stop


def cmd_gateway(_: argparse.Namespace) -> None:
    """Discord's Gateway: users' messages arrive over a WebSocket the bot keeps open. Run any
    number of these processes; each Discord channel is held by exactly one at a time."""
    os.environ.setdefault("OTEL_SERVICE_NAME", "pytake-gateway")  # before core.tasks starts tracing

    from core.bus import EventBus
    from core.events import EventLog
    from core.logging import configure
    from ingress.discord_gateway_runner import run_gateways

    settings = get_settings()
    configure(settings.log_level)
    log = logging.getLogger("pytake.gateway")

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        # signal.signal, not loop.add_signal_handler: asyncio removes its handlers when the loop
        # closes, and a second TERM (a process-group TERM, systemd's stop) arriving during the
        # exit would then kill the process by signal. Installed before start-up, so a TERM during
        # it stops cleanly too.
        def request_stop(signum: int, _frame: object) -> None:
            if stop.is_set() or loop.is_closed():
                log.warning("gateway already stopping", extra={"signal": signal.Signals(signum).name})
                return
            loop.call_soon_threadsafe(stop.set)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, request_stop)
        await db.init_orm(await db.resolve_database_url(settings))
        bus = EventBus(settings.bus_url)
        await bus.connect()
        events = EventLog(bus, settings.namespace)  # publishes what the gateway ingests, after commit
        await events.start()
        gateways = asyncio.create_task(run_gateways(stop))
        log.info("gateway running")
        try:
            await asyncio.wait(
                {gateways, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            try:
                await asyncio.wait_for(gateways, GATEWAY_STOP_TIMEOUT)
            except TimeoutError:
                log.error(
                    "gateway connections did not close in time; dropped",
                    extra={"seconds": GATEWAY_STOP_TIMEOUT},
                )
        finally:
            await events.stop()
            await bus.disconnect()
            await db.close_orm()

    asyncio.run(go())
    _ignore_late_signals()


def _ignore_late_signals() -> None:
    """The process has stopped: later TERMs are moot (a process-group TERM arrives more than
    once). Ignored rather than left to a Python handler, because the interpreter's exit resets
    those to the default, and the process would die by signal instead of exiting 0."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def cmd_run(args: argparse.Namespace) -> None:
    """Embedded all-in-one (make run): migrate, seed, print the demo users, serve."""
    cmd_migrate(args)
    cmd_seed(args)
    args.workers = 1
    cmd_serve(args)


def cmd_create_user(args: argparse.Namespace) -> None:
    from core.auth import hash_password
    from models import Role, User

    password = os.environ.get("PYTAKE_PASSWORD") or getpass.getpass("password: ")
    if len(password) < 10:
        sys.exit("password must be at least 10 characters")

    async def go() -> None:
        await User.create(
            email=args.email.lower(),
            name=args.name,
            role=Role(args.role),
            password_hash=hash_password(password),
        )

    asyncio.run(_with_orm(go))
    print(f"created {args.role} {args.email}")


def cmd_rotate_secrets(_: argparse.Namespace) -> None:
    from resolvers.channels import reencrypt_all_secrets

    count = asyncio.run(_with_orm(reencrypt_all_secrets))
    print(f"re-encrypted the secrets of {count} channels with the first key of ENCRYPTION_KEYS")
    from resolvers.outgoing_webhooks import reencrypt_all_secrets as reencrypt_webhook_secrets

    count = asyncio.run(_with_orm(reencrypt_webhook_secrets))
    print(f"re-encrypted the signing secrets of {count} outgoing webhook endpoints")
    from resolvers.sealed import rotate_sealed

    count = asyncio.run(_with_orm(rotate_sealed))
    print(f"re-encrypted {count} sealed message and webhook delivery bodies")


def schema_sdl() -> str:
    """The GraphQL schema as SDL: what the web app's types are generated from (frontend/schema.graphql)."""
    from schema import build_schema

    return build_schema().as_str() + "\n"


def cmd_sdl(args: argparse.Namespace) -> None:
    sdl = schema_sdl()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(sdl)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(sdl)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; deploy/ and the Dockerfile are checked against it in the tests."""
    parser = argparse.ArgumentParser(prog="pytake", description="PyTake omnichannel inbox")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    sub.add_parser("seed", help="create demo users, channel and conversations").set_defaults(fn=cmd_seed)
    for name, fn, help_text in (
        ("serve", cmd_serve, "run the API"),
        ("run", cmd_run, "embedded: migrate, seed, serve"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.add_argument("--workers", type=int, default=1, help="uvicorn processes (production mode)")
        p.set_defaults(fn=fn)
    sub.add_parser("gateway", help="hold Discord gateway connections (production mode)").set_defaults(
        fn=cmd_gateway
    )
    p = sub.add_parser("worker", help="run Dramatiq worker processes (production mode)")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument(
        "--stop-timeout",
        type=float,
        help="seconds a worker process takes at most to stop after SIGTERM: jobs still running "
        "a few seconds before are interrupted and requeued (default: WORKER_STOP_TIMEOUT or 10)",
    )
    p.set_defaults(fn=cmd_worker)
    sub.add_parser(
        "rotate-secrets", help="re-encrypt channel secrets with the first ENCRYPTION_KEYS key"
    ).set_defaults(fn=cmd_rotate_secrets)
    p = sub.add_parser("create-user", help="create a user (password from PYTAKE_PASSWORD or prompt)")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["admin", "supervisor", "agent"], default="admin")
    p.set_defaults(fn=cmd_create_user)
    p = sub.add_parser(
        "sdl", help="print the GraphQL schema (SDL); the web app's types are generated from it"
    )
    p.add_argument("--output", "-o", help="write to this file instead of standard output")
    p.set_defaults(fn=cmd_sdl)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
