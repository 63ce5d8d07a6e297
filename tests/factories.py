"""Valid request bodies (from the contract's examples) and helpers that create whole chains
through the API: authentication → client application → participant → channel → orchestration
→ account."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

# A 1x1 PNG.
ICON = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QD"
    "wADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def oauth2_authentication(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": unique("oauth"),
        "type": "oauth2",
        "oauth2": {
            "tokenRequestUrl": "https://example.com/accesstoken",
            "method": "POST",
            "headers": [
                {"name": "Content-Type", "value": "application/json"},
                {"name": "Accept", "value": "application/json"},
            ],
            "payload": '{ "clientId": "74513d54e112464e","clientSecret": "nv1GRtTAL1OcKdqKZrQB"}',
            "accessTokenPath": "$.accessToken",
        },
    }
    return {**body, **overrides}


def basic_authentication(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": unique("basic"),
        "type": "basic",
        "basicAuth": {"username": "assistant-1", "password": "87d0-0242ac130003"},
    }
    return {**body, **overrides}


def role(name: str, *, authentication_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "version": "v3",
        "callback": f"https://example.support.com/messaging/{name}",
        "notificationEmail": "client_app_admin@example.com",
        "headers": [{"name": "X-custom-header", "value": "xyz"}],
    }
    if authentication_id:
        body["authentication"] = {"id": authentication_id}
    return {**body, **overrides}


def client_application(*roles: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "name": unique("app"),
        "description": "Client app for Eva bot",
        "active": True,
        "roles": list(roles) or [role("custom_bot")],
    }
    return {**body, **overrides}


def participant(application_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": unique("bot"),
        "type": "custom_bot",
        "active": True,
        "application": {"id": application_id},
        "intents": {
            "intent": [
                {"value": "order_complaints", "displayValue": "Order Complaints"},
                {"value": "sales_enquiries", "displayValue": "Sales Enquiries"},
            ]
        },
    }
    return {**body, **overrides}


def channel(**overrides: Any) -> dict[str, Any]:
    body = {
        "type": unique("custom.channel"),
        "icon": ICON,
        "displayName": "Custom Channel",
        "description": "Custom Channel",
        "active": True,
        "restrictions": {
            "inbound": {
                "maxTextLength": 140,
                "features": ["typing_events", "attachments", "richText"],
                "attachmentPolicy": {
                    "enabled": True,
                    "maxSize": 12345,
                    "type": "block",
                    "extensions": ["bat", "exe"],
                },
            },
            "outbound": {
                "maxTextLength": 140,
                "systemMessages": True,
                "midChatAuth": True,
                "features": ["typing_events", "attachments", "richText"],
                "richMessageTypes": ["listpicker", "quickreply", "timepicker", "richlink"],
                "attachmentPolicy": {
                    "enabled": True,
                    "maxSize": 12345,
                    "type": "allow",
                    "extensions": ["jpeg", "txt"],
                },
            },
        },
        "l10nProperties": [
            {
                "language": "en-US",
                "properties": [
                    {"name": "msg_hub_off_hours", "value": "Our service hours are 9am-5pm."},
                    {"name": "msg_hub_retain_and_retry", "value": "We will respond soon."},
                ],
            }
        ],
    }
    return {**body, **overrides}


def orchestration(
    *,
    bot_app: str | None,
    bot_participant: str | None,
    agent_app: str,
    customer_app: str,
    **overrides: Any,
) -> dict[str, Any]:
    applications: dict[str, Any] = {"customerConfiguration": {"customer": {"id": customer_app}}}
    if bot_app and bot_participant:
        applications["botConfiguration"] = {
            "forwardTranscript": True,
            "bots": [
                {
                    "id": bot_app,
                    "participant": {"id": bot_participant},
                    "onEscalation": {"agent": {"id": agent_app}},
                }
            ],
        }
    else:
        applications["agentConfiguration"] = {"agents": [{"id": agent_app}]}
    body = {
        "name": unique("orch"),
        "description": "Created for Custom channel",
        "active": True,
        "applications": applications,
    }
    return {**body, **overrides}


def account(*, channel_id: str, orchestration_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": unique("account"),
        "address": unique("addr"),
        "channel": {"id": channel_id},
        "chatConfigurations": {
            "timeout": 30,
            "defaultLanguage": "en-US",
            "onAgentUnavailability": "off_hours",
            "allowLogoutWithOpenChats": False,
            "allowQueueTransferOnAgentUnavailability": False,
            "orchestration": {"id": orchestration_id},
            "entryPoint": {"id": "1001"},
        },
    }
    return {**body, **overrides}


async def create(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    answer = await api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@dataclass
class Chain:
    authentication: str
    customer_app: str
    bot_app: str
    agent_app: str
    participant: str
    channel: str
    orchestration: str
    account: str


async def create_chain(api: httpx.AsyncClient) -> Chain:
    """Every kind of object, each referencing the previous ones, as a real setup would."""
    auth = await create(api, "/authentications", basic_authentication())
    customer = await create(
        api, "/clientapplications", client_application(role("customer", authentication_id=auth))
    )
    bot = await create(
        api, "/clientapplications", client_application(role("custom_bot", authentication_id=auth))
    )
    agent = await create(api, "/clientapplications", client_application(role("custom_agent")))
    part = await create(api, "/participants", participant(bot))
    chan = await create(api, "/channels", channel())
    orch = await create(
        api,
        "/orchestrations",
        orchestration(bot_app=bot, bot_participant=part, agent_app=agent, customer_app=customer),
    )
    acct = await create(api, "/accounts", account(channel_id=chan, orchestration_id=orch))
    return Chain(auth, customer, bot, agent, part, chan, orch, acct)


def without(body: dict[str, Any], dotted: str) -> dict[str, Any]:
    """A deep copy of ``body`` without the attribute at ``dotted`` (``a.b.0.c``)."""
    out = copy.deepcopy(body)
    *parents, last = dotted.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    del node[int(last) if isinstance(node, list) else last]
    return out


def with_value(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with ``value`` at ``dotted`` (``a.b.0.c``)."""
    out = copy.deepcopy(body)
    *parents, last = dotted.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out
