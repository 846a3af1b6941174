"""Imports every actor module, so a worker knows all actors."""

import jobs.metrics  # roll-ups for the dashboards
import jobs.outgoing_webhooks  # signed outgoing webhooks
import jobs.privacy  # noqa: F401  (customer exports, retention)
from jobs import assignment, flows, lifecycle, mailboxes, maintenance, outbound, sla, whatsapp_templates  # noqa: F401
