"""Imports every actor module, so a worker knows all actors."""

from jobs import mailboxes, maintenance, outbound  # noqa: F401
