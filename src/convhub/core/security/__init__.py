"""Tokens, permissions, tenants and secrets at rest."""
