"""Tenants, API clients and the OAuth 2.0 token endpoint (DECISIONS §1)."""
