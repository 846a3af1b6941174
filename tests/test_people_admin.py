"""The people admin screens' API: `users` answers each user's teams, last sighting, per-platform
capacity and a pending invitation; `deleteTeam` refuses while anything live points at the team
(TEAM_IN_USE, with counts) and otherwise leaves history without a team; `knownSkills` lists the
skills and routing topics in use for autocompletion."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from models import (
    AuditLog,
    Conversation,
    Customer,
    CustomerIdentity,
    Role,
    RoutingRule,
    Team,
    TeamMember,
    User,
    UserToken,
)
from schema.relay import to_global_id
from tests.helpers import error_code, gql, login, make_channel, make_user

USERS = "{ users { id teamIds invitedUntil lastSeenAt platformCapacity skills } }"
DELETE = "mutation($id: ID!) { deleteTeam(id: $id) }"
SKILLS = "{ knownSkills }"


async def _team(*members: User) -> Team:
    team = await Team.create(name=f"people-{uuid.uuid4().hex[:10]}")
    for m in members:
        await TeamMember.create(team=team, user=m)
    return team


async def _conversation(team: Team, status: str) -> Conversation:
    channel = await make_channel("webchat", {}, {})
    customer = await Customer.create(name="Scripted")
    identity = await CustomerIdentity.create(
        customer=customer, channel=channel, platform=channel.platform, external_id=uuid.uuid4().hex
    )
    return await Conversation.create(
        channel=channel,
        customer=customer,
        identity=identity,
        platform=channel.platform,
        last_message_at=datetime.now(UTC),
        status=status,
        team=team,
    )


def _row(body: dict, user: User) -> dict:
    gid = to_global_id("User", user.id)
    return next(u for u in body["data"]["users"] if u["id"] == gid)


async def test_users_answer_teams_invitations_and_capacity(server):
    admin = await login(server, await make_user(Role.ADMIN))
    agent = await make_user(Role.AGENT)
    agent.platform_capacity = {"whatsapp": 3}
    agent.skills = ["billing"]
    await agent.save()
    team = await _team(agent)
    invited = await make_user(Role.AGENT)
    expires = datetime.now(UTC) + timedelta(days=7)
    token = await UserToken.create(
        user=invited, purpose="invite", token_hash=uuid.uuid4().hex, expires_at=expires
    )

    body = await gql(server, USERS, None, admin)
    row = _row(body, agent)
    assert row["teamIds"] == [to_global_id("Team", team.id)], body
    assert row["platformCapacity"] == {"whatsapp": 3}
    assert row["skills"] == ["billing"]
    assert row["invitedUntil"] is None
    pending = _row(body, invited)
    assert pending["invitedUntil"] and pending["teamIds"] == []

    token.used_at = datetime.now(UTC)  # accepted
    await token.save()
    assert _row(await gql(server, USERS, None, admin), invited)["invitedUntil"] is None

    # An agent sees no list at all; a teammate's teams stay private elsewhere too.
    assert error_code(await gql(server, USERS, None, await login(server, agent))) == "FORBIDDEN"


async def test_delete_team_refuses_while_in_use_then_leaves_history_without_team(server):
    admin_user = await make_user(Role.ADMIN)
    admin = await login(server, admin_user)
    member = await make_user(Role.AGENT)
    team = await _team(member)
    gid = to_global_id("Team", team.id)
    live = await _conversation(team, "open")
    done = await _conversation(team, "closed")
    rule = await RoutingRule.create(team=team, language=f"x{uuid.uuid4().hex[:6]}")

    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    assert error_code(await gql(server, DELETE, {"id": gid}, supervisor)) == "FORBIDDEN"
    assert error_code(await gql(server, DELETE, {"id": gid}, await login(server, member))) == "FORBIDDEN"

    refused = await gql(server, DELETE, {"id": gid}, admin)
    assert error_code(refused) == "CONFLICT", refused
    ext = refused["errors"][0]["extensions"]
    assert ext["reason"] == "TEAM_IN_USE"
    assert ext["uses"] == {"conversations": 1, "routing_rules": 1}, ext
    assert await Team.filter(id=team.id).exists()

    live.status = "resolved"
    await live.save()
    await rule.delete()
    body = await gql(server, DELETE, {"id": gid}, admin)
    assert body["data"]["deleteTeam"] == gid, body
    assert not await Team.filter(id=team.id).exists()
    assert not await TeamMember.filter(user_id=member.id).exists()
    assert (await Conversation.get(id=done.id)).team_id is None  # type: ignore[attr-defined]
    assert (await Conversation.get(id=live.id)).team_id is None  # type: ignore[attr-defined]
    entry = await AuditLog.filter(action="team.delete", target_id=str(team.id)).first()
    assert entry is not None and entry.actor_id == admin_user.id  # type: ignore[attr-defined]
    assert entry.details["members"] == [member.id] and entry.details["detached_conversations"] == 2

    assert error_code(await gql(server, DELETE, {"id": gid}, admin)) == "NOT_FOUND"
    wrong = await gql(server, DELETE, {"id": to_global_id("User", member.id)}, admin)
    assert error_code(wrong) == "BAD_USER_INPUT"


async def test_known_skills_are_skills_and_routing_topics(server):
    skill, topic = f"skill-{uuid.uuid4().hex[:6]}", f"Topic-{uuid.uuid4().hex[:6]}"
    agent = await make_user(Role.AGENT)
    agent.skills = [skill]
    await agent.save()
    await RoutingRule.create(team=await _team(), topic=topic)
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    known = (await gql(server, SKILLS, None, supervisor))["data"]["knownSkills"]
    assert skill in known and topic.lower() in known
    assert known == sorted(known)
    assert error_code(await gql(server, SKILLS, None, await login(server, agent))) == "FORBIDDEN"
