"""The platforms' door, beside schema/ (the agents' door): everything through which customers'
messages come in.

- webhooks.py: /webhooks/{platform}/{channel_id}, the endpoint every platform posts to.
- webchat/: the visitor API of our own web chat at /webchat (routes, visitor tokens, live stream).
- discord_gateway_runner.py: `pytake gateway`, Discord's Gateway connections held under leases.
- mailbox_poller.py: plain IMAP mailboxes, polled by a job (jobs/mailboxes.py).
- demo.py and seed.py: the embedded default's fake WhatsApp mount and demo data.
- mounts.py: what asgi.py mounts (the routes) and runs beside the app (gateways, demo).

Imports go down only: ingress uses resolvers/ (the rules), models/, connectors/ and core/;
nothing below imports it, and schema/ does not either.
"""
