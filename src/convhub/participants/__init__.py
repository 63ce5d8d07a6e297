"""Participants: the custom bots that take part in conversations, each bound to the client
application whose callback receives its messages."""
