"""Teams, routing rules and agents' working settings (capacity, skills, presence). Supervisors
and admins manage them; every change is audited."""

from __future__ import annotations

import json
from typing import Any

from core.auth import Actor
from core.events import committed
from core.sql import fetch, fetchrow, in_transaction
from core.vocabulary import Platform
from models import AssignmentStrategy, Presence, RoutingRule, Team, TeamMember, User
from resolvers import audit
from resolvers.assignment import request_drain, set_presence
from resolvers.auth import require_admin, require_supervisor, require_user
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.visibility import access_changed

MAX_SKILLS = 30


def team_view(team: Team, member_ids: list[int]) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "strategy": team.strategy.value if hasattr(team.strategy, "value") else team.strategy,
        "sticky": team.sticky,
        "offline_grace_seconds": team.offline_grace_seconds,
        "member_ids": member_ids,
    }


async def list_teams(actor: Actor | None) -> list[dict[str, Any]]:
    require_user(actor)
    members = await fetch("SELECT team_id, user_id FROM team_members ORDER BY user_id")
    by_team: dict[int, list[int]] = {}
    for m in members:
        by_team.setdefault(m["team_id"], []).append(m["user_id"])
    return [team_view(t, by_team.get(t.id, [])) for t in await Team.all().order_by("id")]


async def save_team(
    actor: Actor | None,
    *,
    team_id: int | None,
    name: str,
    strategy: AssignmentStrategy,
    sticky: bool,
    offline_grace_seconds: int,
    member_ids: list[int],
) -> dict[str, Any]:
    """Create (team_id None) or replace a team's settings and members."""
    actor = require_supervisor(actor)
    if not name.strip():
        raise BadInput("a team needs a name", field="name")
    if not 0 <= offline_grace_seconds <= 86_400:
        raise BadInput("offlineGraceSeconds must be between 0 and 86400", field="offlineGraceSeconds")
    member_ids = list(dict.fromkeys(member_ids))
    found = await User.filter(id__in=member_ids, is_active=True).count()
    if found != len(member_ids):
        raise NotFound("some members do not exist or are disabled", field="memberIds")
    async with in_transaction() as conn:
        if team_id is None:
            if await Team.filter(name=name.strip()).exists():
                raise Conflict(f"a team named {name.strip()!r} exists", field="name")
            team = await Team.create(
                name=name.strip(),
                strategy=strategy,
                sticky=sticky,
                offline_grace_seconds=offline_grace_seconds,
            )
        else:
            team = await Team.filter(id=team_id).select_for_update().first()  # type: ignore[assignment]
            if team is None:
                raise NotFound(f"team {team_id} does not exist", field="teamId")
            team.name, team.strategy, team.sticky = name.strip(), strategy, sticky
            team.offline_grace_seconds = offline_grace_seconds
            await team.save()
        previous = await TeamMember.filter(team_id=team.id).values_list("user_id", flat=True)
        await TeamMember.filter(team_id=team.id).delete()
        for user_id in member_ids:
            await TeamMember.create(team_id=team.id, user_id=user_id)
        # Who sees the team's conversations changed: their live subscriptions re-read it.
        await access_changed(conn, set(previous) ^ set(member_ids), "teams_changed")  # type: ignore[arg-type]
        await audit.record(
            conn,
            actor,
            "team.create" if team_id is None else "team.update",
            "Team",
            team.id,
            {"name": team.name, "strategy": strategy.value, "sticky": sticky, "members": member_ids},
        )
    committed()
    request_drain()  # new members or a new strategy may take queued conversations
    return team_view(team, member_ids)


RULE_COLUMNS = "id, team_id, position, platform, channel_id, language, topic, created_at"


async def _routing_fields(
    *,
    team_id: int,
    position: int,
    platform: str | None,
    channel_id: int | None,
    language: str | None,
    topic: str | None,
) -> dict[str, Any]:
    """The rules every routing rule follows, on create and on edit alike."""
    if not await Team.filter(id=team_id).exists():
        raise NotFound(f"team {team_id} does not exist", field="teamId")
    if not -1_000_000 <= position <= 1_000_000:
        raise BadInput("position is -1000000 to 1000000", field="position")
    if channel_id is not None:
        channel = await fetch("SELECT platform FROM channels WHERE id = $1", channel_id)
        if not channel:
            raise NotFound(f"channel {channel_id} does not exist", field="channelId")
        if platform is not None and channel[0]["platform"] != platform:
            raise BadInput("the channel is on another platform than the rule's", field="platform")
    language = (language or "").strip() or None
    if language is not None and len(language) > 16:
        raise BadInput("language is a code of at most 16 characters, e.g. pt-BR", field="language")
    topic = (topic or "").strip().lower() or None  # labels are stored lower-case
    if topic is not None and len(topic) > 50:
        raise BadInput("topic is a label of at most 50 characters", field="topic")
    return {
        "team_id": team_id,
        "position": position,
        "platform": platform,
        "channel_id": channel_id,
        "language": language,
        "topic": topic,
    }


async def list_routing_rules(actor: Actor | None) -> list[dict[str, Any]]:
    """Every routing rule in evaluation order: position, then age (the first match wins)."""
    require_supervisor(actor)
    return await fetch(f"SELECT {RULE_COLUMNS} FROM routing_rules ORDER BY position, id")


async def add_routing_rule(
    actor: Actor | None,
    *,
    team_id: int,
    position: int = 0,
    platform: str | None = None,
    channel_id: int | None = None,
    language: str | None = None,
    topic: str | None = None,
) -> dict[str, Any]:
    actor = require_supervisor(actor)
    details = await _routing_fields(
        team_id=team_id,
        position=position,
        platform=platform,
        channel_id=channel_id,
        language=language,
        topic=topic,
    )
    async with in_transaction() as conn:
        rule = await RoutingRule.create(**details)
        await audit.record(conn, actor, "routing_rule.create", "RoutingRule", rule.id, details)
    return {"id": rule.id, "created_at": rule.created_at, **details}


async def update_routing_rule(
    actor: Actor | None,
    rule_id: int,
    *,
    team_id: int,
    position: int = 0,
    platform: str | None = None,
    channel_id: int | None = None,
    language: str | None = None,
    topic: str | None = None,
) -> dict[str, Any]:
    """Replace a rule's conditions and team. Conversations already routed stay where they are:
    the rule routes conversations created after the edit (and, with a topic, unassigned ones
    labelled after it)."""
    actor = require_supervisor(actor)
    details = await _routing_fields(
        team_id=team_id,
        position=position,
        platform=platform,
        channel_id=channel_id,
        language=language,
        topic=topic,
    )
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "UPDATE routing_rules SET team_id = $2, position = $3, platform = $4, channel_id = $5, "
            f"language = $6, topic = $7 WHERE id = $1 RETURNING {RULE_COLUMNS}",
            [rule_id, *details.values()],
        )
        if not rows:
            raise NotFound(f"routing rule {rule_id} does not exist", field="id")
        await audit.record(conn, actor, "routing_rule.update", "RoutingRule", rule_id, details)
    return rows[0]


async def delete_routing_rule(actor: Actor | None, rule_id: int) -> bool:
    """Delete a rule: new conversations are routed by the remaining ones; routed ones stay."""
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            f"DELETE FROM routing_rules WHERE id = $1 RETURNING {RULE_COLUMNS}", [rule_id]
        )
        if not rows:
            raise NotFound(f"routing rule {rule_id} does not exist", field="id")
        gone = rows[0]
        await audit.record(
            conn,
            actor,
            "routing_rule.delete",
            "RoutingRule",
            rule_id,
            {k: gone[k] for k in ("team_id", "position", "platform", "channel_id", "language", "topic")},
        )
    return True


async def reorder_routing_rules(actor: Actor | None, rule_ids: list[int]) -> list[dict[str, Any]]:
    """Put every rule in the given order (positions 0, 1, 2, ...). The list names each rule
    exactly once; a rule added or deleted meanwhile makes it a CONFLICT, so nobody's change is
    lost silently."""
    actor = require_supervisor(actor)
    if len(set(rule_ids)) != len(rule_ids):
        raise BadInput("ruleIds names a rule twice", field="ruleIds")
    async with in_transaction() as conn:
        current = await conn.execute_query_dict("SELECT id FROM routing_rules ORDER BY id FOR UPDATE")
        if {r["id"] for r in current} != set(rule_ids):
            raise Conflict(
                "ruleIds must name every routing rule exactly once (the rules changed meanwhile?)",
                field="ruleIds",
            )
        await conn.execute_query(
            "UPDATE routing_rules r SET position = o.n - 1 FROM unnest($1::int[]) WITH ORDINALITY AS o(id, n) "
            "WHERE r.id = o.id",
            [rule_ids],
        )
        await audit.record(conn, actor, "routing_rule.reorder", "RoutingRule", None, {"order": rule_ids})
    return await list_routing_rules(actor)


async def update_agent(
    actor: Actor | None,
    user_id: int,
    *,
    capacity: int | None = None,
    platform_capacity: dict[str, int] | None = None,
    skills: list[str] | None = None,
) -> User:
    actor = require_supervisor(actor)
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="userId")
    if capacity is not None:
        if not 0 <= capacity <= 1000:
            raise BadInput("capacity must be between 0 and 1000", field="capacity")
        user.capacity = capacity
    if platform_capacity is not None:
        # Keys are platforms as conversations store them (assignment reads the conversation's
        # platform's key); a platform left out is limited by the overall capacity only.
        unknown = sorted(k for k in platform_capacity if k not in {p.value for p in Platform})
        if unknown:
            raise BadInput(
                f"unknown platform {unknown[0]!r} (platforms are written like whatsapp, telegram)",
                field="platformCapacity",
            )
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1000
            for v in platform_capacity.values()
        ):
            raise BadInput(
                "per-platform capacities must be whole numbers from 0 to 1000", field="platformCapacity"
            )
        user.platform_capacity = platform_capacity
    if skills is not None:
        cleaned = list(dict.fromkeys(s.strip().lower() for s in skills if s.strip()))
        if len(cleaned) > MAX_SKILLS:
            raise BadInput(f"at most {MAX_SKILLS} skills", field="skills")
        user.skills = cleaned
    async with in_transaction() as conn:
        await user.save()
        await audit.record(
            conn,
            actor,
            "agent.update",
            "User",
            user.id,
            {"capacity": capacity, "platform_capacity": platform_capacity, "skills": skills},
        )
    request_drain()
    return user


# What still points at a team, each a count (resolvers/teams.delete_team refuses while any is > 0).
# Conversations still being worked (open, pending, snoozed) are the team's queue and its agents'
# work; routing rules and SLA policies would vanish with the team (their rows cascade); an alert
# rule scoped to it would watch nothing; a template shared only with it would leave its readers.
_TEAM_USES = """
SELECT
  (SELECT count(*) FROM conversations WHERE team_id = $1
     AND status IN ('open', 'pending', 'snoozed')) AS conversations,
  (SELECT count(*) FROM routing_rules WHERE team_id = $1) AS routing_rules,
  (SELECT count(*) FROM sla_policies WHERE team_id = $1) AS sla_policies,
  (SELECT count(*) FROM alert_rules WHERE scope_type = 'team' AND scope_value = $1::text) AS alert_rules,
  (SELECT count(*) FROM response_templates WHERE archived_at IS NULL AND team_ids @> $2::jsonb)
     AS templates
"""


async def team_uses(team_id: int, conn: Any = None) -> dict[str, int]:
    row = await fetchrow(_TEAM_USES, team_id, json.dumps([team_id]), conn=conn)
    return {k: int(v) for k, v in (row or {}).items()}


async def delete_team(actor: Actor | None, team_id: int, ip: str | None = None) -> int:
    """Delete a team nothing live points at. Refused (CONFLICT, reason TEAM_IN_USE, with the
    counts in `uses`) while it has open/pending/snoozed conversations, routing rules, SLA policies,
    alert rules scoped to it or templates shared with it: each is a decision a person makes
    (move the work, re-point the rule), never a silent side effect. What is left is history:
    its resolved and closed conversations and CSAT surveys keep no team (the metrics already
    rolled up keep its numbers), its members simply leave it (what they see follows at once)."""
    actor = require_admin(actor)
    async with in_transaction() as conn:
        team = await Team.filter(id=team_id).using_db(conn).select_for_update().first()
        if team is None:
            raise NotFound(f"team {team_id} does not exist", field="teamId")
        uses = {k: v for k, v in (await team_uses(team_id, conn)).items() if v}
        if uses:
            what = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in uses.items())
            raise Conflict(
                f"team {team.name!r} is still in use ({what}); move or remove them first",
                field="teamId",
                reason="TEAM_IN_USE",
                uses=uses,
            )
        members = await TeamMember.filter(team_id=team_id).using_db(conn).values_list("user_id", flat=True)
        detached = await fetchrow(
            "SELECT count(*) AS n FROM conversations WHERE team_id = $1", team_id, conn=conn
        )
        await Team.filter(id=team_id).using_db(conn).delete()  # members cascade; history: SET NULL
        await access_changed(conn, members, "teams_changed")  # type: ignore[arg-type]
        await audit.record(
            conn,
            actor,
            "team.delete",
            "Team",
            team_id,
            {
                "name": team.name,
                "members": sorted(members),
                "detached_conversations": detached["n"] if detached else 0,
            },  # type: ignore[type-var]
            ip,
        )
    committed()
    return team_id


async def known_skills(actor: Actor | None) -> list[str]:
    """Skills agents already have and the topics routing rules use, for autocompletion."""
    require_supervisor(actor)
    rows = await fetch(
        "SELECT DISTINCT s FROM (SELECT unnest(skills) AS s FROM users "
        "UNION SELECT lower(topic) FROM routing_rules WHERE topic IS NOT NULL) k "
        "WHERE s <> '' ORDER BY s LIMIT 500"
    )
    return [r["s"] for r in rows]


async def set_my_presence(actor: Actor | None, presence: Presence) -> str:
    actor = require_user(actor)
    if await set_presence(actor.user_id, presence.value) and presence is Presence.ONLINE:
        request_drain()
    return presence.value
