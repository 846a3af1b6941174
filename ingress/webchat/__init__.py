"""The web chat's visitor API, mounted at /webchat: the widget script, sessions, messages, a live
event stream and read receipts.

- routes.py: the HTTP side (CORS, rate limits, bodies) and each endpoint.
- sites.py: which channel a request is for, by the public key in its URL.
- tokens.py: visitor tokens we sign, and identity tokens a site signs to vouch for a visitor.
- stream.py: cursors and the Server-Sent Events stream.
- widget.py and widget.js: the script a website embeds.
- What a visitor may see of a conversation is a rule: resolvers/webchat_visitors.py.

Who may do what
- The channel is named by its public key (in the embed snippet). Unknown key or disabled → 404.
- Browsers may call only from the channel's `allowed_origins` (CORS; any other Origin → 403).
  Requests without an Origin (not a browser) are let through: Origin protects visitors' browsers,
  the visitor token protects conversations.
- A visitor is whoever holds a visitor token: a JWT (HS256, the channel's `visitor_token_secret`,
  audience "pytake-webchat") naming the channel and a visitor id we chose. Knowing a visitor id
  gives nothing; only the token does. A site can vouch for a signed-in visitor's e-mail with an
  `identity_token` signed with its `identity_secret`: only then is the e-mail trusted for merging.
- A visitor sees their own messages and the agents' replies to them on this channel (only once
  sent), never internal notes, activities, metadata, agents' e-mails, or other identities' messages
  (not even those of the same customer on other platforms).
"""
