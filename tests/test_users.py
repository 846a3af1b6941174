"""Users: an admin's invitation e-mailed over SMTP (a fake server records it) is accepted once and
signs the user in; a password reset link works once and ends every session; logout revokes the
login's refresh tokens; changing one's password or name; every action audited."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest

from connectors.mailer import SmtpMailer, use_mailer
from models import AuditLog, Role, User
from schema.relay import to_global_id
from tests.fakes.email import FakeSMTP
from tests.helpers import PASSWORD, error_code, gql, login, make_user

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }"
REFRESH = "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }"
ME = "{ me { id name email } }"


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSMTP]:
    fake = FakeSMTP()
    async with fake.serve():
        previous = use_mailer(
            SmtpMailer(
                f"smtp://{fake.username}:{fake.password}@{fake.host}:{fake.port}",
                "PyTake <no-reply@test.local>",
            )
        )
        try:
            yield fake
        finally:
            use_mailer(previous)


def _token_in(fake: FakeSMTP, to: str) -> str:
    mails = [m for m in fake.received if to in m.rcpt_tos]
    assert len(mails) == 1, [m.rcpt_tos for m in fake.received]
    body = mails[0].message.get_content()
    match = re.search(r"\?token=([\w-]+)", body)
    assert match, body
    return match.group(1)


async def _actions(user_id: int) -> list[str]:
    """The audited account actions on the user (sign-ins, audited by resolvers/auth.py, left out)."""
    entries = await AuditLog.filter(target_type="User", target_id=str(user_id)).order_by("id")
    return [a.action for a in entries if not a.action.startswith("user.login")]


async def test_invite_accept_then_sign_in(server, smtp):
    admin = await login(server, await make_user(Role.ADMIN))
    email = f"new-{uuid.uuid4().hex[:8]}@test.local"
    invite = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id email role isActive } }"
    body = await gql(server, invite, {"i": {"email": email, "name": "New Person", "role": "AGENT"}}, admin)
    assert body["data"]["inviteUser"]["email"] == email, body
    user = await User.get(email=email)
    token = _token_in(smtp, email)
    assert smtp.received[0].message["Subject"] == "You are invited to PyTake"

    accept = "mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p) { accessToken user { email } } }"
    accepted = await gql(server, accept, {"t": token, "p": "a new password 1"})
    assert accepted["data"]["acceptInvitation"]["user"]["email"] == email, accepted
    assert (await gql(server, ME, None, accepted["data"]["acceptInvitation"]["accessToken"]))["data"]["me"][
        "email"
    ] == email
    signed_in = await gql(server, LOGIN, {"e": email, "p": "a new password 1"})
    assert signed_in["data"]["login"]["accessToken"]

    again = await gql(server, accept, {"t": token, "p": "another password 2"})
    assert error_code(again) == "BAD_USER_INPUT"  # single use
    assert error_code(await gql(server, LOGIN, {"e": email, "p": "another password 2"})) == "UNAUTHENTICATED"
    twice = await gql(server, invite, {"i": {"email": email, "name": "Again", "role": "AGENT"}}, admin)
    assert error_code(twice) == "CONFLICT"
    assert await _actions(user.id) == ["user.invite", "user.accept_invitation"]


async def test_a_refused_invitation_mail_leaves_no_user(server, smtp):
    admin = await login(server, await make_user(Role.ADMIN))
    email = f"bounce-{uuid.uuid4().hex[:8]}@test.local"
    smtp.refuse_next("550 5.1.1 No such user", stage="RCPT")
    invite = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }"
    body = await gql(server, invite, {"i": {"email": email, "name": "Nobody", "role": "AGENT"}}, admin)
    assert error_code(body) == "CONFLICT", body
    assert not await User.filter(email=email).exists()


async def test_password_reset_is_single_use_and_ends_every_session(server, smtp):
    user = await make_user(Role.AGENT)
    pair = (await gql(server, LOGIN, {"e": user.email, "p": PASSWORD}))["data"]["login"]
    request = "mutation($e: String!) { requestPasswordReset(email: $e) }"
    assert (await gql(server, request, {"e": "nobody-" + user.email}))["data"]["requestPasswordReset"] is True
    assert smtp.received == []  # same answer, no mail: it does not tell who has an account
    assert (await gql(server, request, {"e": user.email.upper()}))["data"]["requestPasswordReset"] is True
    token = _token_in(smtp, user.email)

    reset = "mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) }"
    assert error_code(await gql(server, reset, {"t": token, "p": "short"})) == "BAD_USER_INPUT"
    assert (await gql(server, reset, {"t": token, "p": "brand new password"}))["data"][
        "resetPassword"
    ] is True
    assert error_code(await gql(server, reset, {"t": token, "p": "yet another password"})) == "BAD_USER_INPUT"
    assert (
        error_code(await gql(server, reset, {"t": "made-up", "p": "yet another password"}))
        == "BAD_USER_INPUT"
    )

    assert error_code(await gql(server, ME, None, pair["accessToken"])) == "UNAUTHENTICATED"
    assert error_code(await gql(server, REFRESH, {"r": pair["refreshToken"]})) == "UNAUTHENTICATED"
    assert error_code(await gql(server, LOGIN, {"e": user.email, "p": PASSWORD})) == "UNAUTHENTICATED"
    fresh = await gql(server, LOGIN, {"e": user.email, "p": "brand new password"})
    assert "errors" not in await gql(server, ME, None, fresh["data"]["login"]["accessToken"])
    assert await _actions(user.id) == ["user.password_reset_request", "user.password_reset"]


async def test_logout_revokes_the_refresh_family(server):
    user = await make_user(Role.AGENT)
    first = (await gql(server, LOGIN, {"e": user.email, "p": PASSWORD}))["data"]["login"]
    other = (await gql(server, LOGIN, {"e": user.email, "p": PASSWORD}))["data"]["login"]  # another device
    rotated = (await gql(server, REFRESH, {"r": first["refreshToken"]}))["data"]["refreshToken"]
    logout = "mutation($r: String!) { logout(refreshToken: $r) }"
    assert (await gql(server, logout, {"r": rotated["refreshToken"]}))["data"]["logout"] is True
    assert error_code(await gql(server, REFRESH, {"r": rotated["refreshToken"]})) == "UNAUTHENTICATED"
    # The other login is another family: still good.
    assert "errors" not in await gql(server, REFRESH, {"r": other["refreshToken"]})
    assert (await gql(server, logout, {"r": "not-a-token"}))["data"]["logout"] is False
    assert await _actions(user.id) == ["user.logout"]


async def test_users_change_their_own_password_and_name(server):
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    change = (
        "mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) "
        "{ accessToken user { id } } }"
    )
    wrong = await gql(server, change, {"c": "not my password", "n": "a better password"}, token)
    assert error_code(wrong) == "BAD_USER_INPUT"
    changed = await gql(server, change, {"c": PASSWORD, "n": "a better password"}, token)
    new_token = changed["data"]["changeMyPassword"]["accessToken"]
    assert error_code(await gql(server, ME, None, token)) == "UNAUTHENTICATED"  # other sessions end

    rename = "mutation($n: String!) { updateMyProfile(name: $n) { name } }"
    assert (await gql(server, rename, {"n": "  Renamed   Person "}, new_token))["data"][
        "updateMyProfile"
    ] == {"name": "Renamed Person"}
    assert error_code(await gql(server, rename, {"n": " "}, new_token)) == "BAD_USER_INPUT"
    assert (await User.get(id=user.id)).name == "Renamed Person"
    assert await _actions(user.id) == ["user.password_change", "user.rename"]


async def test_admins_change_teams_and_cannot_lock_themselves_out(server):
    admin_user = await make_user(Role.ADMIN)
    admin = await login(server, admin_user)
    me = to_global_id("User", admin_user.id)
    demote = "mutation($u: ID!) { updateUser(userId: $u, input: {role: AGENT}) { id } }"
    assert error_code(await gql(server, demote, {"u": me}, admin)) == "FORBIDDEN"
    deactivate = "mutation($u: ID!) { deactivateUser(userId: $u) { id } }"
    assert error_code(await gql(server, deactivate, {"u": me}, admin)) == "FORBIDDEN"
    missing = await gql(server, deactivate, {"u": to_global_id("User", 99_999_999)}, admin)
    assert error_code(missing) == "NOT_FOUND"
    agent = await make_user(Role.AGENT)
    teams = "mutation($u: ID!, $t: [ID!]) { updateUser(userId: $u, input: {teamIds: $t}) { id } }"
    bad = await gql(
        server, teams, {"u": to_global_id("User", agent.id), "t": [to_global_id("Team", 99_999_999)]}, admin
    )
    assert error_code(bad) == "NOT_FOUND"
