"""Structured logs: one JSON object per line, with whatever `extra=` a call site passes."""

from __future__ import annotations

import logging
import sys
import time

import orjson

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


class _ClosedSocketFilter(logging.Filter):
    """Strawberry logs a subscription's send to a WebSocket already closed (the agent left, or the
    process is stopping and closed it) as an exception with a traceback; it is how a subscription
    normally ends. Matched by name: core/ does not import strawberry."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return type(error).__name__ != "WebSocketDisconnected"


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("tortoise", "aerich", "asyncio", "httpx", "httpcore", "dramatiq", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Strawberry logs every error with a traceback; schema/errors.py logs the unexpected ones.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    task_log = logging.getLogger("strawberry.ws.task")
    if not any(isinstance(f, _ClosedSocketFilter) for f in task_log.filters):
        task_log.addFilter(_ClosedSocketFilter())
