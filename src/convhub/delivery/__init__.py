"""Delivery of messages to client applications' callbacks (DECISIONS §8).

- ``client``: :class:`~convhub.delivery.client.CallbackClient` POSTs one callback (custom headers,
  basic or OAuth2 authentication, Standard Webhooks signature) and says what happened: delivered,
  retry or failed. It never raises for anything the network or the receiver does.
- ``guard``: the network backend under that client, which refuses loopback, private, link-local
  and other non-public addresses at connect time and connects to the address it checked.
- ``oauth2``: token requests, JSONPath extraction and the per-authentication token cache.
- ``backoff``: when to try again (exponential, jittered, capped, honouring ``Retry-After``).
- ``mail``: the notification mail sent when a message finally fails.
- ``outbox``, ``worker``: the rows to deliver, written with the message, and the loop that
  sends them.
"""
