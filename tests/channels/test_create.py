"""POST /channels: what is accepted, the defaults filled in, and every kind of refusal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.conftest import Refused, Snapshot, read_channel
from tests.conftest import ClientFactory
from tests.factories import ICON, channel, create, unique, with_value, without

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "request-examples.json").read_text()
)["post_channel"]
READ_ONLY = ["app.conversation.conversationmgr.read"]


def full_channel() -> dict[str, Any]:
    """The factory's channel plus a customer service window: every part of the schema."""
    return with_value(
        channel(),
        "restrictions.outbound.customerServiceWindow",
        {"durationMinutes": 1440, "continueMessageTypes": ["template", "quickreply"]},
    )


def from_example(name: str) -> dict[str, Any]:
    body = dict(EXAMPLES[name])
    assert body["icon"] == "<icon>"
    return {**body, "icon": ICON, "type": unique(body["type"])}


def shown(path: str) -> str:
    """``a.0.b`` (the factories' path) as error messages name it: ``a[0].b``."""
    return re.sub(r"\.(\d+)", r"[\1]", path)


def assert_contains(actual: Any, sent: Any, path: str = "") -> None:
    """Everything sent comes back unchanged (the answer may add defaults)."""
    if isinstance(sent, dict):
        assert isinstance(actual, dict), path
        for key, value in sent.items():
            assert key in actual, f"{path}.{key} missing"
            assert_contains(actual[key], value, f"{path}.{key}")
    else:
        assert actual == sent, path


class TestCreate:
    async def test_created_and_read_back(self, api: httpx.AsyncClient) -> None:
        sent = full_channel()
        answer = await api.post("/channels", json=sent)
        assert answer.status_code == 201, answer.text
        assert list(answer.json()) == ["id"]
        channel_id = answer.json()["id"]
        assert len(channel_id) == 36
        read = await read_channel(api, channel_id)
        assert TIMESTAMP.fullmatch(read.pop("created"))
        assert TIMESTAMP.fullmatch(read.pop("modified"))
        assert read == {"id": channel_id, **sent}

    async def test_minimal_channel_gets_defaults(self, api: httpx.AsyncClient) -> None:
        sent = {"type": unique("custom.min"), "displayName": "Minimal", "icon": ICON}
        channel_id = await create(api, "/channels", sent)
        read = await read_channel(api, channel_id)
        assert read["created"] == read["modified"]
        del read["created"], read["modified"]
        assert read == {"id": channel_id, **sent, "active": True}

    async def test_empty_restrictions_get_defaults(self, api: httpx.AsyncClient) -> None:
        sent = with_value(
            channel(),
            "restrictions",
            {"inbound": {"attachmentPolicy": {}}, "outbound": {"attachmentPolicy": {}}},
        )
        read = await read_channel(api, await create(api, "/channels", sent))
        policy = {"enabled": True, "maxSize": 10485760}
        assert read["restrictions"] == {
            "inbound": {"maxTextLength": 10000, "attachmentPolicy": policy},
            "outbound": {
                "maxTextLength": 10000,
                "systemMessages": False,
                "midChatAuth": False,
                "attachmentPolicy": policy,
            },
        }

    @pytest.mark.parametrize("name", sorted(EXAMPLES))
    async def test_contract_example_accepted(self, api: httpx.AsyncClient, name: str) -> None:
        sent = from_example(name)
        read = await read_channel(api, await create(api, "/channels", sent))
        assert_contains(read, sent)
        assert read["active"] is sent.get("active", True)

    async def test_unpadded_icon_accepted(self, api: httpx.AsyncClient) -> None:
        sent = channel(icon=ICON.rstrip("="))
        read = await read_channel(api, await create(api, "/channels", sent))
        assert read["icon"] == ICON.rstrip("=")

    async def test_largest_values_accepted(self, api: httpx.AsyncClient) -> None:
        sent = channel(icon="A" * 512000, description="d" * 1023, displayName="n" * 255)
        sent = with_value(sent, "restrictions.inbound.maxTextLength", 10000)
        sent = with_value(sent, "restrictions.inbound.attachmentPolicy.maxSize", 10485760)
        sent = with_value(sent, "restrictions.inbound.attachmentPolicy.extensions", ["x"] * 75)
        read = await read_channel(api, await create(api, "/channels", sent))
        assert_contains(read, sent)

    async def test_max_size_may_be_missing(self, api: httpx.AsyncClient) -> None:
        sent = without(channel(), "restrictions.inbound.attachmentPolicy.maxSize")
        read = await read_channel(api, await create(api, "/channels", sent))
        assert read["restrictions"]["inbound"]["attachmentPolicy"]["maxSize"] == 10485760

    async def test_same_property_in_two_languages_accepted(self, api: httpx.AsyncClient) -> None:
        properties = [{"name": "msg_hub_off_hours", "value": "Closed."}]
        l10n = [
            {"language": "en-US", "properties": properties},
            {"language": "fr-FR", "properties": properties},
        ]
        read = await read_channel(api, await create(api, "/channels", channel(l10nProperties=l10n)))
        assert read["l10nProperties"] == l10n

    @pytest.mark.parametrize(
        ("path", "named"),
        [
            ("type", "type"),
            ("displayName", "displayName"),
            ("icon", "icon"),
            ("l10nProperties.0.language", "l10nProperties[0].language"),
            ("l10nProperties.0.properties", "l10nProperties[0].properties"),
            ("l10nProperties.0.properties.0.value", "l10nProperties[0].properties[0].value"),
            (
                "restrictions.outbound.customerServiceWindow.durationMinutes",
                "restrictions.outbound.customerServiceWindow.durationMinutes",
            ),
        ],
    )
    async def test_missing_required_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused, path: str, named: str
    ) -> None:
        answer = await api.post("/channels", json=without(full_channel(), path))
        refused(answer, 400, "400-143", f"request body: {named}")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("restrictions.inbound.attachmentPolicy.maxSize", 0),
            ("restrictions.inbound.attachmentPolicy.maxSize", 10485761),
            ("restrictions.outbound.attachmentPolicy.maxSize", -1),
            ("restrictions.inbound.maxTextLength", 0),
            ("restrictions.outbound.maxTextLength", 10001),
            ("restrictions.outbound.customerServiceWindow.durationMinutes", 0),
            ("restrictions.outbound.customerServiceWindow.durationMinutes", 10081),
        ],
    )
    async def test_number_out_of_range(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        refused: Refused,
        path: str,
        value: int,
    ) -> None:
        answer = await api.post("/channels", json=with_value(full_channel(), path, value))
        refused(answer, 400, "400-152", f"'{path}'")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("path", "named"),
        [
            ("foo", "foo"),
            ("restrictions.foo", "restrictions.foo"),
            ("restrictions.inbound.foo", "restrictions.inbound.foo"),
            ("restrictions.outbound.foo", "restrictions.outbound.foo"),
            (
                "restrictions.outbound.attachmentPolicy.foo",
                "restrictions.outbound.attachmentPolicy.foo",
            ),
            (
                "restrictions.outbound.customerServiceWindow.foo",
                "restrictions.outbound.customerServiceWindow.foo",
            ),
            ("l10nProperties.0.foo", "l10nProperties[0].foo"),
            ("l10nProperties.0.properties.0.foo", "l10nProperties[0].properties[0].foo"),
            ("id", "id"),
            ("modified", "modified"),
        ],
    )
    async def test_unknown_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused, path: str, named: str
    ) -> None:
        answer = await api.post("/channels", json=with_value(full_channel(), path, "x"))
        refused(answer, 400, "400-420", f"{named}: is not defined")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("path", "value", "limit"),
        [
            ("icon", "A" * 512004, 512000),
            ("description", "d" * 1024, 1023),
            ("type", "t" * 256, 255),
            ("displayName", "n" * 256, 255),
            ("restrictions.inbound.attachmentPolicy.extensions.0", "e" * 256, 255),
            ("l10nProperties.0.properties.0.name", "n" * 256, 255),
            ("l10nProperties.0.properties.0.value", "v" * 1024, 1023),
        ],
    )
    async def test_string_too_long(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        refused: Refused,
        path: str,
        value: str,
        limit: int,
    ) -> None:
        answer = await api.post("/channels", json=with_value(full_channel(), path, value))
        refused(answer, 400, "400-358", f"maximum allowed length of {limit}")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("path", "value", "allowed"),
        [
            ("restrictions.inbound.features", ["video"], "typing_events, attachments, richText"),
            ("restrictions.outbound.features", ["typing_events", "x"], "delivery_receipts"),
            ("l10nProperties.0.language", "en-GB", "en-US, es-ES, fr-FR"),
            ("restrictions.outbound.richMessageTypes", ["carousel"], "listpicker, timepicker"),
            ("restrictions.inbound.attachmentPolicy.type", "deny", "allow, block"),
            ("restrictions.outbound.customerServiceWindow.continueMessageTypes", ["x"], "app"),
        ],
    )
    async def test_value_outside_enum(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        refused: Refused,
        path: str,
        value: Any,
        allowed: str,
    ) -> None:
        answer = await api.post("/channels", json=with_value(full_channel(), path, value))
        refused(answer, 400, "400-196", allowed)
        assert path.split(".")[-1] in answer.json()["developerMessage"]
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("active", "yes"),
            ("active", None),
            ("restrictions.inbound.maxTextLength", "140"),
            ("restrictions.inbound.maxTextLength", 140.5),
            ("restrictions.inbound.maxTextLength", True),
            ("restrictions.outbound.systemMessages", "true"),
            ("restrictions.inbound.attachmentPolicy.maxSize", "12345"),
            ("restrictions.inbound.attachmentPolicy.enabled", 1),
            ("restrictions.outbound.features", "typing_events"),
            ("restrictions.outbound.customerServiceWindow.durationMinutes", "60"),
            ("type", 5),
            ("icon", ["A"]),
            ("restrictions", []),
            ("l10nProperties", {"language": "en-US"}),
        ],
    )
    async def test_wrong_type(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        refused: Refused,
        path: str,
        value: Any,
    ) -> None:
        answer = await api.post("/channels", json=with_value(full_channel(), path, value))
        refused(answer, 400, "400-152", f"'{path}")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("type", ""),
            ("displayName", ""),
            ("icon", ""),
            ("restrictions.inbound.features", []),
            ("restrictions.inbound.features", ["typing_events"] * 5),
            ("restrictions.outbound.features", ["typing_events", "attachments"] * 2),
            ("restrictions.outbound.richMessageTypes", []),
            ("restrictions.outbound.richMessageTypes", ["app"] * 10),
            ("restrictions.outbound.customerServiceWindow.continueMessageTypes", []),
            ("restrictions.inbound.attachmentPolicy.extensions", []),
            ("restrictions.inbound.attachmentPolicy.extensions", ["x"] * 76),
            ("l10nProperties", []),
            ("l10nProperties.0.properties", []),
        ],
    )
    async def test_empty_or_wrong_count(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        refused: Refused,
        path: str,
        value: Any,
    ) -> None:
        answer = await api.post("/channels", json=with_value(full_channel(), path, value))
        refused(answer, 400, "400-152", f"'{shown(path)}'")
        assert await snapshot() == []

    async def test_too_many_languages(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        entry = {"language": "en-US", "properties": [{"name": "a", "value": "b"}]}
        answer = await api.post("/channels", json=channel(l10nProperties=[entry] * 26))
        refused(answer, 400, "400-152", "'l10nProperties'")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        "icon",
        [
            "not base64!",
            "iVBORw0K GgoAAAANSUhEUg==",
            "iVBORw0KGgoAAAANSUhEUg==\n",
            "iVBORw0K\nGgoAAAANSUhEUg==",
            "iVBORw0KGgo-AAANSUhEU_==",
            "iVBORw0KG",
            "iVBORw0KGg=",
            "iVBORw0KGgo==",
            "data:image/png;base64," + ICON,
        ],
    )
    async def test_icon_not_base64(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused, icon: str
    ) -> None:
        answer = await api.post("/channels", json=channel(icon=icon))
        refused(answer, 400, "400-152", "'icon'")
        assert await snapshot() == []

    async def test_duplicate_type(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        first = channel()
        await create(api, "/channels", first)
        before = await snapshot()
        answer = await api.post("/channels", json=channel(type=first["type"], displayName="Two"))
        refused(answer, 400, "400-138", first["type"])
        assert await snapshot() == before

    async def test_same_type_in_other_tenant_accepted(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient
    ) -> None:
        sent = channel()
        await create(api, "/channels", sent)
        read = await read_channel(other_tenant, await create(other_tenant, "/channels", sent))
        assert read["type"] == sent["type"]

    async def test_duplicate_language(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        entry = {"language": "en-US", "properties": [{"name": "msg_hub_off_hours", "value": "x"}]}
        answer = await api.post("/channels", json=channel(l10nProperties=[entry, entry]))
        refused(answer, 400, "400-138", "l10nProperties[1].language=en-US")
        assert await snapshot() == []

    async def test_duplicate_property_name(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        properties = [
            {"name": "msg_hub_off_hours", "value": "Closed."},
            {"name": "msg_hub_off_hours", "value": "Closed, really."},
        ]
        l10n = [{"language": "de-DE", "properties": properties}]
        answer = await api.post("/channels", json=channel(l10nProperties=l10n))
        refused(answer, 400, "400-138", "msg_hub_off_hours")
        assert await snapshot() == []

    async def test_body_not_json(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        answer = await api.post(
            "/channels", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        refused(answer, 400, "400-264")
        assert await snapshot() == []

    async def test_unknown_query_parameter(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        answer = await api.post("/channels", json=channel(), params={"dryRun": "1"})
        refused(answer, 400, "400-101", "dryRun")
        assert await snapshot() == []

    async def test_needs_manage_permission(
        self,
        api: httpx.AsyncClient,
        make_client: ClientFactory,
        snapshot: Snapshot,
        refused: Refused,
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.post("/channels", json=channel()), 403, "403-197")
        assert await snapshot() == []

    async def test_needs_token(
        self, anonymous: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        refused(await anonymous.post("/channels", json=channel()), 401, "401-104")
        assert await snapshot() == []
