"""Instagram Direct (Instagram API with Instagram Login): Meta's DM webhook and Send API (shared
parts in connectors/meta_common.py).

Where Instagram differs from Messenger: the webhook object is `instagram`; the token is a Bearer
header on graph.instagram.com; reads name one message (`read{mid}`) and there are no delivery
receipts; text is limited to 1000 UTF-8 bytes; customers can unsend (`is_deleted`); HUMAN_AGENT is
the only message tag; there are quick replies but no link buttons, so links ride in the text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.base import Button, Capabilities, Platform
from connectors.meta_common import MetaMessagingConnector

MAX_TEXT_BYTES = 1000


class InstagramConnector(MetaMessagingConnector):
    platform = Platform.INSTAGRAM
    name = "Instagram"
    object_name = "instagram"
    account_key = "ig_account_id"
    account_label = "Instagram professional account ID"
    token_key = "access_token"
    secret_names = ("app_secret", "access_token", "verify_token")
    default_api_base = "https://graph.instagram.com"
    max_text_length = MAX_TEXT_BYTES
    text_unit = "bytes (UTF-8)"
    allowed_tags = frozenset({"HUMAN_AGENT"})
    capabilities = Capabilities(
        reply_window=timedelta(hours=24),
        tagged_reply_window=timedelta(days=7),
        can_initiate=False,  # only people who wrote to the account
        max_attachments=1,
        buttons=True,  # quick replies; link buttons become lines of the text
        delivery_statuses=False,
        read_statuses=True,
        edits=True,  # unsends and message_edit
    )

    def _auth(self, token: str) -> tuple[dict[str, str], dict[str, str]]:
        return {}, {"Authorization": f"Bearer {token}"}

    def _untagged_fields(self) -> dict[str, Any]:
        return {}  # Instagram's Send API needs no messaging_type for a reply in the window

    def _text_size(self, text: str) -> int:
        return len(text.encode("utf-8"))

    def _text_message(self, text: str, buttons: tuple[Button, ...]) -> dict[str, Any]:
        links = [b for b in buttons if b.url]
        if links:
            text = text.rstrip() + "\n" + "\n".join(f"{b.title}: {b.url}" for b in links)
        return super()._text_message(text, tuple(b for b in buttons if not b.url))


instagram = InstagramConnector()
