"""Orchestrations: which bot, customer and agent applications take part in a conversation."""
