"""Sign-in attempts: limited per account and per address, with a lock that grows.

Failures are counted per e-mail as typed (normalised) whether or not an account has it, so a
locked "account" answers the same for an e-mail nobody uses: the lock reveals nothing about who
exists. Past `LOGIN_FREE_FAILURES` failures the e-mail is locked for `LOGIN_LOCKOUT_SECONDS`,
doubling with each further failure up to `LOGIN_LOCKOUT_MAX_SECONDS`; the address has the same
with more free failures (`LOGIN_FREE_FAILURES_PER_ADDRESS`), so one address cannot try many
accounts. A successful sign-in forgives the e-mail's failures (not the address's: an attacker's
own account must not reset the count for the others). While locked, even the right password is
refused, without being checked.
"""

from __future__ import annotations

from core.ratelimit import RateLimiter
from core.settings import Settings
from resolvers.errors import RateLimited


def _keys(email: str, ip: str | None) -> tuple[str, str]:
    return f"login:account:{email.strip().lower()}", f"login:address:{ip or 'unknown'}"


async def ensure_not_locked(limiter: RateLimiter, email: str, ip: str | None) -> None:
    account, address = _keys(email, ip)
    wait = max(await limiter.locked_for(account), await limiter.locked_for(address))
    if wait:
        raise RateLimited(
            f"too many failed sign-ins for this account or from this address; try again in {wait} s",
            retryAfter=wait,
        )


async def failed(limiter: RateLimiter, settings: Settings, email: str, ip: str | None) -> None:
    account, address = _keys(email, ip)
    base, cap = settings.login_lockout_seconds, settings.login_lockout_max_seconds
    await limiter.fail(account, free=settings.login_free_failures, base=base, cap=cap)
    await limiter.fail(address, free=settings.login_free_failures_per_address, base=base, cap=cap)


async def succeeded(limiter: RateLimiter, email: str) -> None:
    await limiter.forgive(_keys(email, None)[0])
