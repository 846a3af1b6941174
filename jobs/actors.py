"""Imports every actor module, so a worker knows all actors."""

from jobs import lifecycle, mailboxes, maintenance, outbound  # noqa: F401
