"""Finding conversations: full-text search over messages and customers, and saved views with
their live counts (rules in resolvers/search.py)."""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers import search as search_rules
from resolvers import visibility
from schema.common import build_when_loaded
from schema.conversations import Conversation, ConversationFilterInput
from schema.messages import Message
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import PageInfo, decode_id, to_global_id


@strawberry.enum
class SearchOrder(enum.Enum):
    RELEVANCE = "RELEVANCE"
    RECENCY = "RECENCY"


@strawberry.type
class SearchHit:
    cursor: str
    rank: float = strawberry.field(description="Text relevance; a match on the customer themself ranks 10.")
    node: Conversation
    matched_message_pk: strawberry.Private[int | None]
    matched_message_row: strawberry.Private[dict[str, Any] | None] = None

    # Resolves without awaiting when the search's statement brought the row (it always does for a
    # page it found): an await per hit is a good part of a search's CPU.
    @strawberry.field(description="The best matching message (null when the customer matched).")
    def matched_message(self, info: strawberry.Info) -> Message | None:
        if self.matched_message_pk is None:
            return None
        if self.matched_message_row is not None:
            return Message.from_view(self.matched_message_row)
        return build_when_loaded(  # type: ignore[return-value]
            info.context.loaders.messages.load(self.matched_message_pk), Message.from_view
        )


def _shown(customers: dict[int, dict[str, Any]], customer_id: int) -> dict[str, Any]:
    """The conversation's customer as the search's statement read it, prefilled when it did."""
    row = customers.get(customer_id)
    return {"customer": row} if row is not None else {}


@strawberry.type
class SearchConnection:
    edges: list[SearchHit]
    page_info: PageInfo


@strawberry.type
class SavedView:
    id: strawberry.ID
    name: str
    query: str | None
    filter: JSON = strawberry.field(description="The saved filter (as stored).")
    filter_rule: strawberry.Private[Any]
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> SavedView:
        return cls(
            id=to_global_id("SavedView", v["id"]),
            name=v["name"],
            query=v["query"],
            filter=v["filter"],
            filter_rule=v["rule"],
            pk=v["id"],
        )

    @strawberry.field(description="Conversations in the view now (live: `savedViewCounts`).")
    async def count(self, info: strawberry.Info) -> int:
        scope = await visibility.scope_of(actor_of(info))
        return await search_rules.count_conversations(scope, self.filter_rule, self.query)


@strawberry.type
class SearchQueries:
    @strawberry.field(description="The inbox: newest activity first.", extensions=[SIGNED_IN])
    async def search(
        self,
        info: strawberry.Info,
        query: str,
        filter: ConversationFilterInput | None = None,
        order_by: SearchOrder = SearchOrder.RELEVANCE,
        first: int = 20,
        after: str | None = None,
    ) -> SearchConnection:
        """Conversations whose messages, customer (name, phone, e-mail) or identities match."""
        page = await search_rules.search(
            actor_of(info),
            query,
            filter=(filter or ConversationFilterInput()).to_rule(),
            by_recency=order_by is SearchOrder.RECENCY,
            first=first,
            after=after,
        )
        info.context.loaders.customers.prime_many(page.customers)
        info.context.loaders.messages.prime_many(page.messages)
        return SearchConnection(
            edges=[
                SearchHit(
                    cursor=c,
                    rank=v["rank"],
                    node=Conversation.from_view(v, **_shown(page.customers, v["customer_id"])),
                    matched_message_pk=v["message_id"],
                    matched_message_row=page.messages.get(v["message_id"]),
                )
                for v, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
        )

    @strawberry.field(description="Your saved views, each with its live count.", extensions=[SIGNED_IN])
    async def saved_views(self, info: strawberry.Info) -> list[SavedView]:
        return [SavedView.from_view(v) for v in await search_rules.list_views(actor_of(info))]


@strawberry.type
class SearchMutations:
    @strawberry.mutation(
        description="Save a filter (and optional search text) as a named view.", extensions=[SIGNED_IN]
    )
    async def save_view(
        self,
        info: strawberry.Info,
        name: str,
        filter: ConversationFilterInput | None = None,
        query: str | None = None,
    ) -> SavedView:
        view = await search_rules.save_view(
            actor_of(info), name=name, query=query, filter=(filter or ConversationFilterInput()).to_rule()
        )
        return SavedView.from_view(view)

    @strawberry.mutation(extensions=[SIGNED_IN])
    async def delete_view(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await search_rules.delete_view(actor_of(info), decode_id(id, "SavedView", "id"))
