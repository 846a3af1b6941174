"""Imports every actor module, so a worker knows all actors."""

from jobs import assignment, lifecycle, mailboxes, maintenance, outbound, sla, whatsapp_templates  # noqa: F401
