"""Flow executions through Dramatiq (the rules are in resolvers/flow_*.py): customer messages to
waiting runs and keyword triggers, conversation events, HTTP nodes, timers, and the sweep. Every
job is idempotent (steps are locked and numbered, starts keyed), so retries and redeliveries of a
killed worker's jobs are safe."""

from __future__ import annotations

from core import tasks
from resolvers import flow_triggers, flow_waits


@tasks.FLOW_INBOUND.actor(max_retries=10, min_backoff=200, max_backoff=30_000)
async def flow_inbound(channel_id: int, platform_message_ids: list[str]) -> None:
    await flow_triggers.dispatch_inbound(channel_id, platform_message_ids)


@tasks.FLOW_EVENT.actor(max_retries=10, min_backoff=200, max_backoff=30_000)
async def flow_event(conversation_id: int, event: str, detail: list[str], key: str) -> None:
    await flow_triggers.on_event(conversation_id, event, detail, key)


@tasks.FLOW_HTTP.actor(max_retries=5, min_backoff=500, max_backoff=30_000)
async def flow_http(execution_id: int, step: int) -> None:
    await flow_waits.call_http(execution_id, step)


@tasks.FLOW_MODULE.actor(max_retries=5, min_backoff=500, max_backoff=30_000)
async def flow_module(execution_id: int, step: int) -> None:
    await flow_waits.run_module_node(execution_id, step)


@tasks.FLOW_WAKE.actor(max_retries=10, min_backoff=200, max_backoff=30_000)
async def flow_wake(execution_id: int, step: int) -> None:
    await flow_waits.wake(execution_id, step)


@tasks.FLOW_SWEEP.actor(max_retries=0)
async def flow_sweep() -> None:
    await flow_waits.sweep()
