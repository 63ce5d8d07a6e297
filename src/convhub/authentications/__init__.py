"""Authentications: how the hub authenticates to a client application's callback (OAuth 2.0 or
HTTP Basic). Their secrets are encrypted at rest and masked on read (DECISIONS §5)."""
