"""What every domain module of the schema shares: the enums mirrored from models/ and
connectors/, and the small conversions from views to GraphQL values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry

from connectors.base import MessageKind as _MessageKind
from connectors.base import Platform as _Platform
from models import AssignmentStrategy as _AssignmentStrategy
from models import ConversationStatus as _ConversationStatus
from models import Direction as _Direction
from models import MessageStatus as _MessageStatus
from models import Presence as _Presence
from models import Priority as _Priority
from models import Role as _Role

Platform = strawberry.enum(_Platform, name="Platform")
MessageKind = strawberry.enum(_MessageKind, name="MessageKind")
ConversationStatus = strawberry.enum(_ConversationStatus, name="ConversationStatus")
MessageDirection = strawberry.enum(_Direction, name="MessageDirection")
MessageStatus = strawberry.enum(_MessageStatus, name="MessageStatus")
Role = strawberry.enum(_Role, name="Role")
Priority = strawberry.enum(_Priority, name="Priority")
AgentPresence = strawberry.enum(_Presence, name="AgentPresence")
AssignmentStrategy = strawberry.enum(_AssignmentStrategy, name="AssignmentStrategy")


async def build_when_loaded(awaitable: Awaitable[Any], build: Callable[[Any], Any]) -> Any:
    """Await a DataLoader's row, then build the type from it (None stays None)."""
    row = await awaitable
    return build(row) if row else None


def view_datetime(value: Any) -> datetime | None:
    """Views hold datetimes; event payloads hold ISO strings."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
