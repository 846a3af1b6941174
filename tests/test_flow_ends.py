"""The flows' loose ends, through the real app and its in-process worker: a finished run reaches
outgoing webhooks as `flow.finished`."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from connectors.fakes.server import serve_app
from schema.relay import decode_id, to_global_id
from tests.helpers import eventually
from tests.test_flow_triggers import Flows, bot_said, customer_says, flows, phone, say_flow
from tests.test_outgoing_webhooks import Receiver, admin, no_endpoints_left, save_endpoint, verify

__all__ = ["admin", "flows", "no_endpoints_left"]  # fixtures


async def test_a_finished_run_is_delivered_as_flow_finished(
    server: str, wa: Any, flows: Flows, admin
) -> None:
    rx = Receiver()
    app = Starlette(routes=[Route("/hook", rx.handle, methods=["POST"])])
    async with serve_app(app) as base:
        token, _ = admin
        _, secret = await save_endpoint(server, token, f"{base}/hook", wa[0].id, ["flow.finished"])
        keyword = f"fim{uuid.uuid4().hex[:4]}"
        flow_id = await flows.publish(say_flow({"keywords": [keyword]}, "Tchau!"))
        wa_id = phone()
        conversation = await customer_says(server, wa, wa_id, keyword)
        assert await bot_said(wa, wa_id, 1) == ["Tchau!"]

        async def delivered() -> list[Any] | None:
            return rx.accepted() or None

        [received] = await eventually(delivered, timeout=30, interval=0.1)
    assert verify(secret, received)
    assert received.json["type"] == "flow.finished"
    data = received.json["data"]
    assert data["conversation_id"] == conversation.id and data["flow_id"] == decode_id(flow_id, "Flow")
    assert data["status"] == "completed" and data["channel_id"] == wa[0].id
    [run] = await flows.runs(conversation=to_global_id("Conversation", conversation.id))
    assert data["execution_id"] == decode_id(run["id"], "FlowExecution")
