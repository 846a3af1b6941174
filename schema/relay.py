"""Relay-style global ids and page info."""

from __future__ import annotations

import base64
import binascii

import strawberry

from resolvers.errors import BadInput


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


def to_global_id(type_name: str, pk: int | str) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{type_name}:{pk}".encode()).decode())


# Ids are PostgreSQL `integer`s, `bigint` for the tables that grow without bound: a larger number
# is not one of ours, and would fail in the database (as INTERNAL) instead of here.
_MAX_PK = 2**31 - 1
_MAX_BIG_PK = {"Message": 2**63 - 1, "Activity": 2**63 - 1, "SlaTimer": 2**63 - 1}


def parse_global_id(global_id: str, field: str = "id") -> tuple[str, int]:
    """(type name, database id) of an id this API issued, or BAD_USER_INPUT naming `field`."""
    try:
        type_name, _, pk = base64.b64decode(global_id.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        type_name, pk = "", ""
    # int() would also take " 7", "+7", "7_0" and non-ASCII digits: none of those were issued by us.
    if not (
        type_name and pk.isascii() and pk.isdigit() and 0 < int(pk) <= _MAX_BIG_PK.get(type_name, _MAX_PK)
    ):
        raise BadInput(f"{global_id!r} is not an id this API issued", field=field)
    return type_name, int(pk)


def decode_id(global_id: str, expected: str, field: str = "id") -> int:
    type_name, pk = parse_global_id(global_id, field)
    if type_name != expected:
        raise BadInput(f"expected a {expected} id, got a {type_name} id", field=field)
    return pk


def decode_optional_id(global_id: str | None, expected: str, field: str) -> int | None:
    """None when the argument was left out; an empty string is a malformed id, not "none": read as
    none it would unassign or unfilter without the client having asked to."""
    return None if global_id is None else decode_id(global_id, expected, field)
