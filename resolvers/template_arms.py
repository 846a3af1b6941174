"""Which arm of a template's running experiment a conversation gets: a hash of the experiment id
and the conversation id, spread over the arms by their weights. No state and no randomness, so
every process, every retry and every preview agrees, and the same conversation always gets the
same arm (a customer never sees two wordings of one experiment). Experiments themselves:
resolvers/template_experiments.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from core.sql import fetch


@dataclass(frozen=True)
class ArmChoice:
    experiment_id: int
    arm: str
    body: str


def assign_arm(experiment_id: int, conversation_id: int, weights: list[int]) -> int:
    """The index of the arm: the first 64 bits of SHA-256 as a uniform point in [0, sum(weights))."""
    digest = hashlib.sha256(f"{experiment_id}:{conversation_id}".encode()).digest()
    point = (int.from_bytes(digest[:8], "big") * sum(weights)) >> 64  # exact, no modulo bias
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    raise AssertionError("unreachable: point < sum(weights)")


def parse_arms(raw: Any) -> list[dict[str, Any]]:
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


async def running_arm(template_id: int, conversation_id: int) -> ArmChoice | None:
    """The arm this conversation gets in the template's running experiment, if one runs."""
    rows = await fetch(
        "SELECT id, arms FROM response_template_experiments WHERE template_id = $1 AND stopped_at IS NULL",
        template_id,
    )
    if not rows:
        return None
    arms = parse_arms(rows[0]["arms"])
    chosen = arms[assign_arm(rows[0]["id"], conversation_id, [a["weight"] for a in arms])]
    return ArmChoice(experiment_id=rows[0]["id"], arm=chosen["name"], body=chosen["body"])
