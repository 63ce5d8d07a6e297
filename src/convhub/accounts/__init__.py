"""Accounts: a channel address bound to an orchestration and an entry point.

This package is the canonical example of a configuration resource (see CONTRIBUTING.md).
"""
