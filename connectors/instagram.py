"""Instagram Direct (Instagram API with Instagram Login): Meta's DM webhook and Send API
(connectors/meta_dm.py); reads name a message, there are no delivery receipts, and text is limited
in UTF-8 bytes."""

from __future__ import annotations

from datetime import timedelta

from connectors.base import Capabilities, Platform
from connectors.meta_dm import MetaDm

instagram = MetaDm(
    platform=Platform.INSTAGRAM,
    name="Instagram",
    object_name="instagram",
    account_key="ig_account_id",
    token_key="access_token",
    default_api_base="https://graph.instagram.com",
    max_text_length=1000,
    text_limit_in_bytes=True,
    token_in_query=False,
    capabilities=Capabilities(
        reply_window=timedelta(hours=24),
        can_initiate=False,
        max_attachments=1,
        buttons=True,
        read_statuses=True,
        edits=True,  # unsends
    ),
)
