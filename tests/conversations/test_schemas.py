"""The send-message request models and the response/callback models, without a server: the
contract's examples validate, and bad bodies give the eGain codes of DECISIONS §4."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from convhub.conversations.schemas import SendMessageRequest
from convhub.conversations.views import (
    CallbackRequestData,
    ConversationView,
    SendMessageResponse,
)
from convhub.core.errors import ApiError
from convhub.core.validation import api_error_from
from tests.factories import with_value, without

CONTRACT = Path(__file__).resolve().parents[2] / "spec" / "conversationmgr-v3.openapi.yaml"
CONVERSATION_ID = "21822806-88c3-43b3-8eed-097b4f0d68a7"
M0 = "messages.message[0]"
URL_ATTACHMENT = {"name": "a.jpg", "size": 867, "url": "https://example.com/a.jpg"}
UPLOADED = {"id": "862839d2-7cb3-4b38-90cd-5989a56e5d44"}


@cache
def _contract() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT.read_text())


def contract() -> dict[str, Any]:
    return copy.deepcopy(_contract())


def send_message_examples() -> dict[str, Any]:
    spec = contract()
    body = spec["components"]["requestBodies"]["post_send_message"]
    refs = body["content"]["application/json"]["examples"]
    return {
        title: spec["components"]["examples"][ref["$ref"].rsplit("/", 1)[1]]["value"]
        for title, ref in refs.items()
    }


def callback_examples() -> dict[str, Any]:
    out = {}
    for callback in contract()["components"]["callbacks"].values():
        for operation in callback.values():
            content = operation["post"]["requestBody"]["content"]["application/json"]
            out.update({title: e["value"] for title, e in content["examples"].items()})
    return out


def message(**overrides: Any) -> dict[str, Any]:
    return {
        "messageId": "m-1",
        "conversation": {"id": CONVERSATION_ID},
        "type": {"value": "text"},
        "content": {"text": "hello"},
        "sender": {"type": "customer", "participant": {"name": "John"}},
        **overrides,
    }


def body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"messages": {"message": list(messages) or [message()]}}


def with_attachments(*items: dict[str, Any]) -> dict[str, Any]:
    return body(message(attachments={"attachment": list(items)}))


def transcript_message(**overrides: Any) -> dict[str, Any]:
    return {
        "type": {"value": "text"},
        "content": {"text": "hi"},
        "sender": {"type": "customer", "participant": {"name": "John"}},
        "recipients": {"recipient": [{"type": "custom_bot", "participant": {"name": "Eva"}}]},
        "sent": "2022-04-25T16:21:03.817Z",
        **overrides,
    }


def with_transcript(*messages: dict[str, Any]) -> dict[str, Any]:
    return body(message(conversation={"id": CONVERSATION_ID, "messages": {"message": [*messages]}}))


def error_for(data: Any, model: type[BaseModel] = SendMessageRequest) -> ApiError:
    """The eGain error the API answers for ``data``, with ``loc`` as FastAPI reports it."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    errors = [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]
    return api_error_from(errors)


def assert_error(data: Any, code: str, attribute: str) -> ApiError:
    error = error_for(data)
    assert error.code == code, error.developer_message
    assert attribute in error.developer_message
    return error


class TestContractExamples:
    @pytest.mark.parametrize("title", sorted(send_message_examples()))
    def test_send_message_example_validates(self, title):
        SendMessageRequest.model_validate(send_message_examples()[title])

    def test_every_example_of_the_request_body_is_tried(self):
        assert len(send_message_examples()) == 35

    def test_intent_of_the_handoff_example_is_kept(self):
        request = SendMessageRequest.model_validate(
            send_message_examples()["Handoff conversation from agent to bot"]
        )
        intent = request.messages.message[0].intent
        assert intent is not None
        assert intent.value == "order_complaints"

    def test_transcript_status_of_the_bot_start_example_is_kept(self):
        request = SendMessageRequest.model_validate(
            send_message_examples()["Bot Start conversation"]
        )
        transcript = request.messages.message[0].conversation.messages
        assert transcript is not None
        assert [m.status for m in transcript.message] == ["sent", "failed", "sent"]

    def test_defaults_of_the_contract_are_filled_in(self):
        data = body(message(attributes={"attribute": [{"name": "k", "value": "v"}]}))
        attributes = SendMessageRequest.model_validate(data).messages.message[0].attributes
        assert attributes is not None
        assert attributes.attribute is not None
        assert attributes.attribute[0].external is True

    def test_json_content_keeps_its_wire_name(self):
        data = body(message(content={"json": '{"a": 1}', "redact": False}))
        request = SendMessageRequest.model_validate(data)
        content = request.model_dump(exclude_none=True)["messages"]["message"][0]["content"]
        assert content == {"json": '{"a": 1}', "redact": False}
        parsed = request.messages.message[0].content
        assert parsed is not None
        assert (parsed.kind, parsed.body) == ("json", '{"a": 1}')


class TestMessages:
    def test_messages_missing(self):
        assert_error(
            {"metadata": {"attributes": [{"name": "a", "value": "b"}]}}, "400-143", "messages"
        )

    def test_message_missing(self):
        assert_error({"messages": {}}, "400-143", "messages.message")

    def test_eleven_messages(self):
        assert_error(body(*[message()] * 11), "400-152", "messages.message")

    def test_ten_messages(self):
        SendMessageRequest.model_validate(body(*[message()] * 10))

    def test_no_messages(self):
        assert_error({"messages": {"message": []}}, "400-152", "messages.message")

    @pytest.mark.parametrize("attribute", ["conversation", "type", "sender"])
    def test_required_attribute_of_a_message(self, attribute):
        assert_error(
            without(body(), f"messages.message.0.{attribute}"), "400-143", f"{M0}.{attribute}"
        )

    def test_sender_type_outside_the_enum(self):
        data = with_value(body(), "messages.message.0.sender.type", "robot")
        error = assert_error(data, "400-196", f"{M0}.sender.type")
        assert "custom_agent" in error.developer_message

    def test_message_id_too_long(self):
        assert_error(body(message(messageId="x" * 256)), "400-358", f"{M0}.messageId")

    def test_eleven_metadata_attributes(self):
        data = {**body(), "metadata": {"attributes": [{"name": "a", "value": "b"}] * 11}}
        assert_error(data, "400-152", "metadata.attributes")


class TestMessageType:
    def test_unknown_type(self):
        data = body(message(type={"value": "order"}))
        error = assert_error(data, "400-196", f"{M0}.type.value")
        assert (
            "[custom.<name>, text, status.read"
            in error.body(with_user_message=False)["developerMessage"]
        )

    @pytest.mark.parametrize("value", ["custom.order", "custom.a-b_c.d", "custom." + "x" * 248])
    def test_custom_type(self, value):
        SendMessageRequest.model_validate(body(message(type={"value": value})))

    @pytest.mark.parametrize("value", ["custom.", "custom.a b", "custom." + "x" * 249, "Custom.x"])
    def test_bad_custom_type(self, value):
        assert_error(body(message(type={"value": value})), "400-196", f"{M0}.type.value")

    def test_type_value_not_a_string(self):
        assert_error(body(message(type={"value": 5})), "400-152", f"{M0}.type.value")

    def test_type_value_missing(self):
        assert_error(body(message(type={})), "400-143", f"{M0}.type.value")

    def test_transcript_type_outside_its_enum(self):
        data = with_transcript(transcript_message(type={"value": "typing.start"}))
        assert_error(data, "400-196", f"{M0}.conversation.messages.message[0].type.value")


class TestContent:
    @pytest.mark.parametrize("content", [{}, {"redact": True}])
    def test_no_kind(self, content):
        assert_error(body(message(content=content)), "400-143", f"{M0}.content.text")

    def test_two_kinds_names_the_second(self):
        data = body(message(content={"html": "<b>a</b>", "text": "a"}))
        assert_error(data, "400-420", f"{M0}.content.text")

    @pytest.mark.parametrize("kind", ["text", "html", "json"])
    def test_each_kind(self, kind):
        SendMessageRequest.model_validate(body(message(content={kind: "x", "redact": True})))

    def test_xml_with_a_custom_type(self):
        data = body(message(type={"value": "custom.order"}, content={"xml": "<a/>"}))
        SendMessageRequest.model_validate(data)

    def test_xml_with_another_type(self):
        assert_error(body(message(content={"xml": "<a/>"})), "400-152", f"{M0}.content.xml")

    def test_text_of_10000_characters(self):
        SendMessageRequest.model_validate(body(message(content={"text": "x" * 10000})))

    @pytest.mark.parametrize("kind", ["text", "json"])
    def test_too_long(self, kind):
        data = body(message(content={kind: "x" * 10001}))
        error = assert_error(data, "400-358", f"{M0}.content.{kind}")
        assert "10000" in error.developer_message

    def test_empty_text(self):
        assert_error(body(message(content={"text": ""})), "400-152", f"{M0}.content.text")

    def test_redact_not_a_boolean(self):
        data = body(message(content={"text": "a", "redact": "true"}))
        assert_error(data, "400-152", f"{M0}.content.redact")


class TestAttachments:
    def test_both_kinds(self):
        data = with_attachments(URL_ATTACHMENT, UPLOADED)
        attachments = SendMessageRequest.model_validate(data).messages.message[0].attachments
        assert attachments is not None
        assert attachments.attachment is not None
        assert [a.uploaded for a in attachments.attachment] == [False, True]

    def test_neither_url_nor_name_nor_id(self):
        data = with_attachments({})
        assert_error(data, "400-143", f"{M0}.attachments.attachment[0].id")

    @pytest.mark.parametrize("attribute", ["name", "url", "size"])
    def test_url_attachment_incomplete(self, attribute):
        item = {k: v for k, v in URL_ATTACHMENT.items() if k != attribute}
        data = with_attachments(item)
        assert_error(data, "400-143", f"{M0}.attachments.attachment[0].{attribute}")

    def test_uploaded_attachment_with_a_size(self):
        data = with_attachments({**UPLOADED, "size": 5})
        assert_error(data, "400-420", f"{M0}.attachments.attachment[0].size")

    def test_six_attachments(self):
        data = with_attachments(*[UPLOADED] * 6)
        assert_error(data, "400-152", f"{M0}.attachments.attachment")

    def test_size_over_10_mib(self):
        data = with_attachments({**URL_ATTACHMENT, "size": 10485761})
        assert_error(data, "400-152", f"{M0}.attachments.attachment[0].size")

    def test_size_of_10_mib(self):
        SendMessageRequest.model_validate(with_attachments({**URL_ATTACHMENT, "size": 10485760}))

    def test_url_too_long(self):
        data = with_attachments({**URL_ATTACHMENT, "url": "https://e.com/" + "x" * 2500})
        assert_error(data, "400-358", f"{M0}.attachments.attachment[0].url")


class TestQuirks:
    def test_intent_accepted(self):
        data = body(message(type={"value": "escalation.transfer"}, intent={"value": "refund"}))
        SendMessageRequest.model_validate(data)

    def test_intent_without_value(self):
        assert_error(body(message(intent={})), "400-143", f"{M0}.intent.value")

    def test_transcript_status_outside_the_response_enum(self):
        data = with_transcript(transcript_message(status="read"))
        assert_error(data, "400-196", f"{M0}.conversation.messages.message[0].status")

    def test_status_is_not_accepted_on_a_message(self):
        assert_error(body(message(status="sent")), "400-420", f"{M0}.status")

    def test_intent_is_not_accepted_on_a_transcript_message(self):
        data = with_transcript(transcript_message(intent={"value": "x"}))
        assert_error(data, "400-420", f"{M0}.conversation.messages.message[0].intent")


class TestUnknownAttributes:
    @pytest.mark.parametrize(
        "path",
        [
            "extra",
            "metadata.extra",
            "messages.extra",
            "messages.message.0.extra",
            "messages.message.0.conversation.extra",
            "messages.message.0.content.extra",
            "messages.message.0.sender.participant.extra",
            "messages.message.0.type.extra",
        ],
    )
    def test_refused(self, path):
        data = {**body(), "metadata": {}}
        data = with_value(data, path, "x")
        expected = path.replace("message.0", "message[0]")
        assert_error(data, "400-420", expected)

    def test_json_by_its_python_name_is_unknown(self):
        data = body(message(content={"text": "a", "json_": "{}"}))
        assert_error(data, "400-420", f"{M0}.content.json_")

    def test_in_a_transcript_message(self):
        data = with_transcript(transcript_message(colour="red"))
        assert_error(data, "400-420", f"{M0}.conversation.messages.message[0].colour")


class TestConversation:
    def test_id_of_35_characters(self):
        data = body(message(conversation={"id": CONVERSATION_ID[:-1]}))
        assert_error(data, "400-414", f"{M0}.conversation.id")

    def test_id_of_37_characters(self):
        data = body(message(conversation={"id": CONVERSATION_ID + "0"}))
        assert_error(data, "400-414", f"{M0}.conversation.id")

    @pytest.mark.parametrize("offset", [721, -721])
    def test_time_offset_out_of_range(self, offset):
        data = body(message(conversation={"clientInfo": {"timeOffset": offset}}))
        assert_error(data, "400-152", f"{M0}.conversation.clientInfo.timeOffset")

    def test_time_offset_as_a_string(self):
        data = body(message(conversation={"clientInfo": {"timeOffset": "30"}}))
        assert_error(data, "400-152", f"{M0}.conversation.clientInfo.timeOffset")

    def test_bad_conversation_contact(self):
        data = body(message(conversation={"conversationContact": "pager"}))
        error = assert_error(data, "400-196", f"{M0}.conversation.conversationContact")
        assert "phone.mobile" in error.developer_message

    def test_bad_contact_type(self):
        contacts = {"contact": [{"type": "pager", "address": "1"}]}
        data = body(message(conversation={"customer": {"contacts": contacts}}))
        assert_error(data, "400-196", f"{M0}.conversation.customer.contacts.contact[0].type")

    def test_account_without_address(self):
        data = body(message(conversation={"account": {"channel": {"type": "web"}}}))
        assert_error(data, "400-143", f"{M0}.conversation.account.address")

    def test_preferred_agent_without_id_or_user_name(self):
        data = body(message(conversation={"id": CONVERSATION_ID, "preferredAgent": {}}))
        assert_error(data, "400-143", f"{M0}.conversation.preferredAgent.id")

    @pytest.mark.parametrize("agent", [{"id": "1234"}, {"userName": "agent007"}])
    def test_preferred_agent_by_id_or_user_name(self, agent):
        data = body(message(conversation={"id": CONVERSATION_ID, "preferredAgent": agent}))
        SendMessageRequest.model_validate(data)

    def test_conversation_type_outside_the_enum(self):
        data = body(message(conversation={"type": "survey.poll"}))
        assert_error(data, "400-196", f"{M0}.conversation.type")

    def test_transcript_message_without_sent(self):
        data = with_transcript(without(transcript_message(), "sent"))
        assert_error(data, "400-143", f"{M0}.conversation.messages.message[0].sent")

    def test_transcript_sender_without_participant(self):
        data = with_transcript(transcript_message(sender={"type": "customer"}))
        path = f"{M0}.conversation.messages.message[0].sender.participant"
        assert_error(data, "400-143", path)

    def test_eleven_transcript_messages(self):
        data = with_transcript(*[transcript_message()] * 11)
        assert_error(data, "400-152", f"{M0}.conversation.messages.message")


class TestNulls:
    @pytest.mark.parametrize(
        ("path", "attribute"),
        [
            ("messages", "messages"),
            ("messages.message.0.messageId", f"{M0}.messageId"),
            ("messages.message.0.content", f"{M0}.content"),
            ("messages.message.0.content.text", f"{M0}.content.text"),
            ("messages.message.0.sender.participant.name", f"{M0}.sender.participant.name"),
            ("messages.message.0.conversation.id", f"{M0}.conversation.id"),
            ("messages.message.0", f"{M0}"),
        ],
    )
    def test_refused(self, path, attribute):
        assert_error(with_value(body(), path, None), "400-152", attribute)

    def test_null_json_content(self):
        data = body(message(content={"json": None}))
        assert_error(data, "400-152", f"{M0}.content.json")

    def test_null_redact(self):
        data = body(message(content={"text": "a", "redact": None}))
        assert_error(data, "400-152", f"{M0}.content.redact")

    def test_null_in_an_attachment(self):
        data = body(message(attachments={"attachment": [{"id": "1", "name": None}]}))
        assert_error(data, "400-152", f"{M0}.attachments.attachment[0].name")


class TestViews:
    def test_conversation_example(self):
        responses = contract()["components"]["responses"]
        example = responses["get_conversation"]["content"]["application/json"]["example"]
        ConversationView.model_validate(example)

    def test_send_message_response_example(self):
        responses = contract()["components"]["responses"]
        example = responses["202_send_message"]["content"]["application/json"]["example"]
        SendMessageResponse.model_validate(example)

    @pytest.mark.parametrize("title", sorted(callback_examples()))
    def test_callback_example(self, title):
        example = callback_examples()[title]
        if "messages" in example.get("metadata", {}):
            # The custom bot example indents `messages` under `metadata`: a slip of the YAML.
            example["messages"] = example["metadata"].pop("messages")
        CallbackRequestData.model_validate(example)

    def test_callback_with_an_attribute_the_contract_lacks(self):
        example = callback_examples()["Reply from customer"]
        data = with_value(example, "messages.message.0.channel", "web")
        with pytest.raises(ValidationError, match="extra_forbidden"):
            CallbackRequestData.model_validate(data)

    def test_callback_with_a_null(self):
        example = callback_examples()["Reply from customer"]
        with pytest.raises(ValidationError):
            CallbackRequestData.model_validate(with_value(example, "messages.message.0.id", None))

    @pytest.mark.parametrize("value", ["status.read", "custom.order", "escalation.transfer"])
    def test_callback_type(self, value):
        example = callback_examples()["Reply from customer"]
        data = with_value(example, "messages.message.0.type.value", value)
        CallbackRequestData.model_validate(data)

    def test_callback_type_outside_the_enum(self):
        example = callback_examples()["Reply from customer"]
        data = with_value(example, "messages.message.0.type.value", "order")
        with pytest.raises(ValidationError):
            CallbackRequestData.model_validate(data)

    def test_conversation_status_outside_the_enum(self):
        responses = contract()["components"]["responses"]
        example = responses["get_conversation"]["content"]["application/json"]["example"]
        data = with_value(example, "messages.message.0.status", "delivered")
        with pytest.raises(ValidationError):
            ConversationView.model_validate(data)
