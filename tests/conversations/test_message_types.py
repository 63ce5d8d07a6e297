"""The sender/type table: every cell of the contract's table (parsed out of sendMessage's
description), a decision for every other type of the enum, and the enums themselves."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from convhub.conversations.message_types import (
    CONVERSATION_LESS,
    DELIVERED_TYPES,
    MESSAGE_TYPES,
    RELAYED_TO_COUNTERPART,
    SENDER_TYPES,
    SENDERS,
    TRANSCRIPT_TYPES,
    may_send,
)

CONTRACT = Path(__file__).resolve().parents[2] / "spec" / "conversationmgr-v3.openapi.yaml"


@cache
def contract() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT.read_text())


def schema(name: str) -> dict[str, Any]:
    result: dict[str, Any] = contract()["components"]["schemas"][name]
    return result


@cache
def table() -> tuple[list[str], dict[str, dict[str, bool]]]:
    """The sender columns and, per message type, each sender's Y/N."""
    description = contract()["paths"]["/conversations/messages"]["post"]["description"]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in description.splitlines()
        if line.strip().startswith("|")
    ]
    header, separator, *body = rows
    assert header[0] == "Message Type"
    assert all(set(cell) <= {"-"} for cell in separator)
    senders = header[1:]
    cells = {row[0]: dict(zip(senders, (c == "Y" for c in row[1:]), strict=True)) for row in body}
    for row in body:
        assert set(row[1:]) <= {"Y", "N"}, row
    return senders, cells


def cells() -> list[tuple[str, str, bool]]:
    _, by_type = table()
    return [(t, s, allowed) for t, row in by_type.items() for s, allowed in row.items()]


class TestContractTable:
    def test_the_table_is_found(self):
        _, by_type = table()
        assert len(by_type) == 30
        assert len(cells()) == 150

    @pytest.mark.parametrize(("message_type", "sender", "allowed"), cells())
    def test_cell(self, message_type, sender, allowed):
        assert may_send(sender, message_type) is allowed

    def test_columns_are_the_sender_types(self):
        senders, _ = table()
        assert tuple(senders) == SENDER_TYPES
        assert set(senders) == set(schema("ClientData")["properties"]["type"]["enum"])

    def test_every_row_is_a_type_of_the_enum(self):
        _, by_type = table()
        assert set(by_type) <= set(MESSAGE_TYPES)


class TestTypesOutsideTheTable:
    def test_every_type_of_the_enum_has_a_decision(self):
        assert set(SENDERS) == set(MESSAGE_TYPES)

    @pytest.mark.parametrize("message_type", ["status.read", "status.delivered"])
    @pytest.mark.parametrize("sender", SENDER_TYPES)
    def test_receipts_from_everyone(self, message_type, sender):
        assert may_send(sender, message_type)

    @pytest.mark.parametrize("message_type", sorted(RELAYED_TO_COUNTERPART))
    @pytest.mark.parametrize("sender", SENDER_TYPES)
    def test_relayed_types_from_everyone(self, message_type, sender):
        assert may_send(sender, message_type)

    @pytest.mark.parametrize("sender", SENDER_TYPES)
    def test_custom_types_from_everyone(self, sender):
        assert may_send(sender, "custom.order")

    @pytest.mark.parametrize("message_type", ["order", "custom.", "custom.a b", "Text"])
    def test_unknown_type_from_nobody(self, message_type):
        assert not any(may_send(sender, message_type) for sender in SENDER_TYPES)

    @pytest.mark.parametrize("message_type", ["text", "custom.order"])
    def test_unknown_sender_sends_nothing(self, message_type):
        assert not may_send("system", message_type)
        assert not may_send("robot", message_type)

    def test_availability_events_are_agent_only(self):
        for message_type in CONVERSATION_LESS:
            allowed = {s for s in SENDER_TYPES if may_send(s, message_type)}
            assert allowed == {"egain_agent", "custom_agent"}


class TestEnums:
    def test_message_types_are_the_request_enum(self):
        enum = schema("RequestMessage")["properties"]["type"]["properties"]["value"]["enum"]
        assert list(MESSAGE_TYPES) == enum

    def test_transcript_types_are_the_external_request_enum(self):
        value = schema("ExternalRequestMessage")["properties"]["type"]["properties"]["value"]
        assert list(TRANSCRIPT_TYPES) == value["enum"]

    @pytest.mark.parametrize("name", ["CallbackMessage", "CallbackInnerMessage", "ResponseMessage"])
    def test_delivered_types_are_the_response_enums(self, name):
        value = schema(name)["properties"]["type"]["properties"]["value"]
        assert list(DELIVERED_TYPES) == value["enum"]

    def test_router_sets_hold_types_of_the_enum(self):
        assert CONVERSATION_LESS <= set(MESSAGE_TYPES)
        assert RELAYED_TO_COUNTERPART <= set(MESSAGE_TYPES)
