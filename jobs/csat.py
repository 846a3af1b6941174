"""Satisfaction surveys: sent after the channel's delay (resolvers/csat.py schedules them on
resolution). Sending is idempotent: a survey is claimed once, so a redelivered job does nothing."""

from __future__ import annotations

from core import tasks
from resolvers.csat import send_overdue_surveys, send_survey


@tasks.SEND_CSAT_SURVEY.actor(max_retries=5)
async def send_csat_survey(survey_id: int) -> None:
    await send_survey(survey_id)


@tasks.SEND_DUE_CSAT_SURVEYS.actor(max_retries=0)
async def send_due_csat_surveys() -> None:
    """The safety net for a delayed job lost in a crash: surveys overdue by a minute go now."""
    await send_overdue_surveys()
