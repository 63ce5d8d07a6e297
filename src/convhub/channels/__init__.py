"""Channels: restrictions on inbound and outbound messages, localized system messages."""
