"""Imports every actor module, so a worker knows all actors."""

from jobs import maintenance, outbound  # noqa: F401
