"""The floor of PyTake's HTTP stack: uvicorn and Starlette, run as `pytake serve --workers 2` runs
them (one SO_REUSEPORT socket per process, core/reuseport.py), answering bench/peer's inbox request
with PyTake's recorded answer and doing nothing else: the body read and parsed, the 25 KB answer
sent. No middleware, no authentication, no GraphQL, no database. Whatever a request costs here, every
server built on these two packages pays before doing any work; bench/peer prints it beside PyTake
and PostGraphile.

    python -m bench.peer.floor PORT ANSWER_FILE
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.supervisors import Multiprocess

from core.reuseport import PortReservation

ANSWER = Path(os.environ.get("FLOOR_ANSWER_FILE", "/dev/null")).read_bytes()


async def graphql(request: Request) -> Response:
    orjson.loads(await request.body())  # a request's body is read and parsed by any server
    return Response(ANSWER, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def main() -> None:
    port, answer = int(sys.argv[1]), sys.argv[2]
    os.environ["FLOOR_ANSWER_FILE"] = answer  # read again by each worker process on import
    config = uvicorn.Config(
        "bench.peer.floor:app", host="127.0.0.1", port=port, workers=2, log_level="warning"
    )
    with PortReservation.bind_to("127.0.0.1", port) as reservation, contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[reservation]).run()


if __name__ == "__main__":
    main()
