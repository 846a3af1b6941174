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


def parse_global_id(global_id: str) -> tuple[str, int]:
    try:
        type_name, _, pk = base64.b64decode(global_id.encode(), validate=True).decode().partition(":")
        return type_name, int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{global_id!r} is not an id this API issued", field="id") from exc


def decode_id(global_id: str, expected: str, field: str = "id") -> int:
    type_name, pk = parse_global_id(global_id)
    if type_name != expected:
        raise BadInput(f"expected a {expected} id, got a {type_name or 'malformed'} id", field=field)
    return pk
