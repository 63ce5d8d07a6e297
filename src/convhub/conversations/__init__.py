"""The Conversation API: sending messages and reading conversations."""
