"""Alerts: rules (supervisors and admins manage them), the alerts they open, acknowledging one,
and `alertEvents` live (rules in resolvers/alerts.py, kinds in resolvers/alert_conditions.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.events import CursorExpired, parse_cursor
from resolvers import alerts as alert_rules
from resolvers.errors import BadInput, CursorExpiredError
from schema.common import view_datetime
from schema.permissions import SUPERVISORS, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id

_SCOPE_TYPES = {"channel": "Channel", "team": "Team", "agent": "User"}


@strawberry.type
class AlertRule:
    id: strawberry.ID
    name: str
    kind: str = strawberry.field(
        description="sla_breach, sla_impending, queue_length, queue_wait, "
        "agents_over_capacity, volume_spike, send_latency, csat_drop"
    )
    scope: str | None = strawberry.field(description="platform, channel, team or agent; null: everything")
    scope_value: str | None = strawberry.field(description="The platform's name, or the channel/team/user id")
    condition: str = strawberry.field(description="above or below the threshold")
    threshold: float
    window_seconds: int
    severity: str
    cooldown_seconds: int
    params: JSON
    enabled: bool

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> AlertRule:
        scope, value = v["scope_type"], v["scope_value"]
        if scope in _SCOPE_TYPES and value is not None:
            value = to_global_id(_SCOPE_TYPES[scope], int(value))
        return cls(
            id=to_global_id("AlertRule", v["id"]),
            name=v["name"],
            kind=v["kind"],
            scope=scope,
            scope_value=value,
            condition=v["condition"],
            threshold=v["threshold"],
            window_seconds=v["window_seconds"],
            severity=v["severity"],
            cooldown_seconds=v["cooldown_seconds"],
            params=v["params"],
            enabled=v["enabled"],
        )


@strawberry.type
class AlertTransition:
    from_state: str | None
    to_state: str
    value: float | None
    at: datetime
    actor_id: strawberry.ID | None


@strawberry.type
class Alert:
    id: strawberry.ID
    rule_id: strawberry.ID
    rule_name: str
    kind: str
    state: str = strawberry.field(description="open, acknowledged or resolved")
    severity: str
    value: float | None
    threshold: float
    opened_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: strawberry.ID | None
    resolved_at: datetime | None
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Alert:
        by = v["acknowledged_by_id"]
        return cls(
            id=to_global_id("Alert", v["id"]),
            pk=v["id"],
            rule_id=to_global_id("AlertRule", v["rule_id"]),
            rule_name=v["rule_name"],
            kind=v["kind"],
            state=v["state"],
            severity=v["severity"],
            value=v["value"],
            threshold=v["threshold"],
            acknowledged_by_id=to_global_id("User", by) if by else None,
            **{
                k: view_datetime(v[k])
                for k in ("opened_at", "last_seen_at", "acknowledged_at", "resolved_at")
            },
        )  # type: ignore[arg-type]

    @strawberry.field(description="Every state change, oldest first.")
    async def transitions(self) -> list[AlertTransition]:
        return [
            AlertTransition(
                from_state=t["from_state"],
                to_state=t["to_state"],
                value=t["value"],
                at=t["at"],
                actor_id=to_global_id("User", t["actor_id"]) if t["actor_id"] else None,
            )
            for t in await alert_rules.transitions(self.pk)
        ]


@strawberry.type
class AlertEvent:
    cursor: str
    type: str = strawberry.field(description="ALERT_OPENED, ALERT_ACKNOWLEDGED or ALERT_RESOLVED")
    alert: Alert


@strawberry.input
class SaveAlertRuleInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Set to replace a rule")
    name: str
    kind: str
    scope: str | None = None
    scope_value: str | None = strawberry.field(
        default=None, description="A platform name (scope platform) or a Channel/Team/User id"
    )
    condition: str | None = strawberry.field(
        default=None, description="above or below; null: the kind's usual"
    )
    threshold: float
    window_seconds: int = 900
    severity: str = "warning"
    cooldown_seconds: int = 0
    params: JSON | None = strawberry.field(default=None, description='volume_spike: {"weeks": 4}')
    enabled: bool = True


def _scope_value(scope: str | None, value: str | None) -> str | None:
    if scope is None:
        if value is not None:
            raise BadInput("scopeValue needs a scope", field="scopeValue")
        return None
    if value is None:
        raise BadInput("a scope needs its scopeValue", field="scopeValue")
    if scope in _SCOPE_TYPES:
        return str(decode_id(value, _SCOPE_TYPES[scope], "scopeValue"))
    return value  # a platform, or an unknown scope the rule refuses by name


@strawberry.type
class AlertQueries:
    @strawberry.field(extensions=[SUPERVISORS], description="Supervisors: every alert rule.")
    async def alert_rules(self, info: strawberry.Info) -> list[AlertRule]:
        return [AlertRule.from_view(r) for r in await alert_rules.list_rules(actor_of(info))]

    @strawberry.field(extensions=[SUPERVISORS], description="Supervisors: alerts, newest first.")
    async def alerts(
        self, info: strawberry.Info, states: list[str] | None = None, limit: int = 100
    ) -> list[Alert]:
        return [Alert.from_view(a) for a in await alert_rules.list_alerts(actor_of(info), states, limit)]


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS], description="Supervisors: create or replace an alert rule."
    )
    async def save_alert_rule(self, info: strawberry.Info, input: SaveAlertRuleInput) -> AlertRule:
        if input.params is not None and not isinstance(input.params, dict):
            raise BadInput("params is an object", field="params")
        rule = await alert_rules.save_rule(
            actor_of(info),
            decode_optional_id(input.id, "AlertRule", "id"),
            name=input.name,
            kind=input.kind,
            scope_type=input.scope,
            scope_value=_scope_value(input.scope, input.scope_value),
            condition=input.condition,
            threshold=input.threshold,
            window_seconds=input.window_seconds,
            severity=input.severity,
            cooldown_seconds=input.cooldown_seconds,
            params=input.params,
            enabled=input.enabled,
        )
        return AlertRule.from_view(rule)

    @strawberry.mutation(extensions=[SUPERVISORS], description="Supervisors: delete a rule and its alerts.")
    async def delete_alert_rule(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await alert_rules.delete_rule(actor_of(info), decode_id(id, "AlertRule"))

    @strawberry.mutation(extensions=[SUPERVISORS], description="Supervisors: someone is on it.")
    async def acknowledge_alert(self, info: strawberry.Info, id: strawberry.ID) -> Alert:
        return Alert.from_view(await alert_rules.acknowledge(actor_of(info), decode_id(id, "Alert")))


@strawberry.type
class AlertSubscriptions:
    @strawberry.subscription(
        extensions=[SUPERVISORS], description="Supervisors: alerts opening, acknowledged and resolving."
    )
    async def alert_events(
        self, info: strawberry.Info, after: str | None = None
    ) -> AsyncGenerator[AlertEvent, None]:
        try:
            cursor = parse_cursor(after)
        except ValueError as exc:
            raise BadInput(str(exc), field="after") from exc
        try:
            async for event in info.context.event_log.follow(alert_rules.ALERTS_STREAM, cursor):
                yield AlertEvent(
                    cursor=str(event.seq), type=event.type, alert=Alert.from_view(event.payload["alert"])
                )
        except CursorExpired as exc:
            raise CursorExpiredError(str(exc)) from exc
