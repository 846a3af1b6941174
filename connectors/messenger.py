"""Facebook Messenger (Pages): Meta's DM webhook and Send API (shared parts in
connectors/meta_common.py).

Where Messenger differs from Instagram: the webhook object is `page`; the page access token goes
in `?access_token=`; receipts are watermarks (`delivery{mids?,watermark}`, `read{watermark}`:
everything sent to that person up to then); text is limited to 2000 characters; message tags
(HUMAN_AGENT: up to 7 days after the customer's last message) send outside the 24-hour window;
link buttons come as a button template, reply buttons as quick replies.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.base import Button, Capabilities, Platform, SendError
from connectors.meta_common import MAX_BUTTON_TITLE, MAX_PAYLOAD, MetaMessagingConnector

MAX_TEXT_LENGTH = 2000
MAX_TEMPLATE_TEXT = 640  # a button template's text
MAX_TEMPLATE_BUTTONS = 3
# Tags that let a page write outside the 24-hour window (HUMAN_AGENT needs the Human Agent
# permission and allows 7 days; the others are for non-promotional updates).
MESSAGE_TAGS = frozenset(
    {"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "CUSTOMER_FEEDBACK"}
)


class MessengerConnector(MetaMessagingConnector):
    platform = Platform.MESSENGER
    name = "Messenger"
    object_name = "page"
    account_key = "page_id"
    account_label = "Facebook Page ID"
    token_key = "page_access_token"
    secret_names = ("app_secret", "page_access_token", "verify_token")
    default_api_base = "https://graph.facebook.com"
    max_text_length = MAX_TEXT_LENGTH
    allowed_tags = MESSAGE_TAGS
    capabilities = Capabilities(
        reply_window=timedelta(hours=24),
        tagged_reply_window=timedelta(days=7),
        can_initiate=False,  # a page may only answer people who wrote to it
        max_attachments=1,  # one attachment per Send API message
        buttons=True,
        delivery_statuses=True,
        read_statuses=True,
        edits=True,  # message_edits webhooks
    )

    def _auth(self, token: str) -> tuple[dict[str, str], dict[str, str]]:
        return {"access_token": token}, {}

    def _text_message(self, text: str, buttons: tuple[Button, ...]) -> dict[str, Any]:
        if not any(b.url for b in buttons):
            return super()._text_message(text, buttons)
        # A link needs a button template: up to 3 buttons, a shorter text.
        self._check_text(text)
        if len(text) > MAX_TEMPLATE_TEXT:
            raise SendError(
                "too_long",
                f"With link buttons, Messenger allows at most {MAX_TEMPLATE_TEXT} characters of text.",
                retryable=False,
            )
        if len(buttons) > MAX_TEMPLATE_BUTTONS:
            raise SendError(
                "BUTTONS",
                f"Messenger shows at most {MAX_TEMPLATE_BUTTONS} buttons when one of them opens a link.",
                retryable=False,
            )
        rendered: list[dict[str, Any]] = []
        for button in buttons:
            title = button.title[:MAX_BUTTON_TITLE]
            if button.url:
                rendered.append({"type": "web_url", "url": button.url, "title": title})
            else:
                if not button.id or len(button.id) > MAX_PAYLOAD:
                    raise SendError(
                        "BUTTONS",
                        f"A button id must be 1 to {MAX_PAYLOAD} characters for Messenger.",
                        retryable=False,
                    )
                rendered.append({"type": "postback", "title": title, "payload": button.id})
        payload = {"template_type": "button", "text": text, "buttons": rendered}
        return {"attachment": {"type": "template", "payload": payload}}


messenger = MessengerConnector()
