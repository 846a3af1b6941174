"""API keys for integrators: `apiKeys`, `createApiKey` (the key is in the answer, this once) and
`revokeApiKey`, for admins (rules in resolvers/api_keys.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers import api_keys as key_rules
from schema.permissions import ADMINS, actor_of
from schema.relay import decode_id, to_global_id

ApiKeyScope = strawberry.enum(key_rules.Scope, name="ApiKeyScope")


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's first characters, to recognise it.")
    scopes: list[ApiKeyScope]  # type: ignore[valid-type]
    created_by_id: strawberry.ID
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(description="Updated at most once a minute.")
    last_used_ip: str | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> ApiKey:
        return cls(
            id=to_global_id("ApiKey", v["id"]),
            name=v["name"],
            prefix=v["prefix"],
            scopes=[key_rules.Scope(s) for s in v["scopes"]],
            created_by_id=to_global_id("User", v["created_by_id"]),
            created_at=v["created_at"],
            revoked_at=v["revoked_at"],
            last_used_at=v["last_used_at"],
            last_used_ip=v["last_used_ip"],
        )


@strawberry.type
class CreatedApiKey:
    key: ApiKey
    token: str = strawberry.field(
        description="The key to send as `Authorization: Bearer pk_…`. Shown only now: it is stored hashed."
    )


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="Admins: every API key, newest first.", extensions=[ADMINS])
    async def api_keys(self, info: strawberry.Info) -> list[ApiKey]:
        return [ApiKey.from_view(v) for v in await key_rules.list_keys(actor_of(info))]


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        description="Admins: a key for an integrator, limited to the given scopes (audited).",
        extensions=[ADMINS],
    )
    async def create_api_key(
        self,
        info: strawberry.Info,
        name: str,
        scopes: list[ApiKeyScope],  # type: ignore[valid-type]
    ) -> CreatedApiKey:
        view, token = await key_rules.create_key(actor_of(info), name=name, scopes=scopes, ip=info.context.ip)
        return CreatedApiKey(key=ApiKey.from_view(view), token=token)

    @strawberry.mutation(
        description="Admins: the key stops working at once, live subscriptions included (audited).",
        extensions=[ADMINS],
    )
    async def revoke_api_key(self, info: strawberry.Info, id: strawberry.ID) -> ApiKey:
        view = await key_rules.revoke_key(actor_of(info), decode_id(id, "ApiKey"), ip=info.context.ip)
        return ApiKey.from_view(view)
