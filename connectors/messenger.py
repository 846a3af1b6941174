"""Facebook Messenger (Pages): Meta's DM webhook and Send API (connectors/meta_dm.py), with
delivery and read receipts as watermarks and the HUMAN_AGENT tag for replies after 24 hours."""

from __future__ import annotations

from datetime import timedelta

from connectors.base import Capabilities, Platform
from connectors.meta_dm import MetaDm

messenger = MetaDm(
    platform=Platform.MESSENGER,
    name="Messenger",
    object_name="page",
    account_key="page_id",
    token_key="page_access_token",
    default_api_base="https://graph.facebook.com",
    max_text_length=2000,
    text_limit_in_bytes=False,
    token_in_query=True,
    capabilities=Capabilities(
        reply_window=timedelta(hours=24),
        can_initiate=False,
        max_attachments=1,
        buttons=True,
        delivery_statuses=True,
        read_statuses=True,
    ),
)
