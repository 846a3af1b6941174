"""Imports every actor module, so a worker knows all actors."""

import jobs.alerts  # alert evaluation
import jobs.csat  # satisfaction surveys
import jobs.metrics  # roll-ups for the dashboards
import jobs.notifications  # notifications and their deliveries
import jobs.outgoing_webhooks  # signed outgoing webhooks
import jobs.privacy  # customer exports, retention
import jobs.reports  # noqa: F401  (report files, scheduled reports)
from jobs import assignment, flows, lifecycle, mailboxes, maintenance, outbound, sla, whatsapp_templates  # noqa: F401
