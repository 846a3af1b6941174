"""One listening socket per API process (SO_REUSEPORT), so the kernel spreads connections.

uvicorn's multiprocess mode binds one socket in the supervisor and every worker accepts from it:
whichever worker wakes first takes every connection waiting, so an agent's few keep-alive
connections often all land on one process while the other idles (bench/inbox at 4 connections:
about half the throughput of the two spread). With SO_REUSEPORT each worker listens on a socket of
its own bound to the same address, and the kernel hands each new connection to one of them by a
hash of its addresses.

The supervisor keeps a `PortReservation`: bound with SO_REUSEPORT, never listening (so it is in
no accept queue and takes no connection), it holds the port and fails early when the address is
taken. uvicorn hands its sockets to each worker by pickling them; a reservation pickles as "bind
your own", so each worker, and each replacement uvicorn starts for a dead one, unpickles a new
socket of its own, which uvicorn's server then listens on.
"""

from __future__ import annotations

import socket
from typing import Any


def _reuseport_socket(family: int, address: tuple[Any, ...]) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def own_listener(family: int, address: tuple[Any, ...]) -> socket.socket:
    """In a worker: a socket of its own on the reserved address (the server listens on it)."""
    return _reuseport_socket(family, address)


class PortReservation(socket.socket):
    """The supervisor's bound, never-listening socket; in a worker it becomes `own_listener`."""

    @classmethod
    def bind_to(cls, host: str, port: int) -> PortReservation:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        plain = _reuseport_socket(family, (host, port))
        return cls(family, socket.SOCK_STREAM, fileno=plain.detach())

    def __reduce__(self) -> tuple[Any, ...]:
        # The actual address: port 0 was resolved to one port that every worker shares.
        return own_listener, (int(self.family), self.getsockname())
