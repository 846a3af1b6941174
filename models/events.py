"""The event log: the transactional outbox, the replayable events, and each stream's last seq."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class EventOutbox(Model):
    """Events written in the same transaction as the change they describe; the sequencer moves
    them to `events` after commit (core/events.py)."""

    id = fields.BigIntField(primary_key=True)
    stream = fields.CharField(max_length=100)
    type = fields.CharField(max_length=40)
    payload = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "event_outbox"


class Event(Model):
    """The replayable log. `seq` is global and assigned in commit order; `prev_seq` is the previous
    event of the same stream, which lets a subscriber notice a gap without asking the database."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    stream = fields.CharField(max_length=100)
    prev_seq = fields.BigIntField(null=True)
    type = fields.CharField(max_length=40)
    payload = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "events"
        indexes = (("stream", "seq"),)


class StreamHead(Model):
    stream = fields.CharField(max_length=100, primary_key=True)
    last_seq = fields.BigIntField()

    class Meta:
        table = "stream_heads"
