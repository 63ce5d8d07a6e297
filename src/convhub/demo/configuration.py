"""The demo's tenant and API clients (as ``convhub clients create`` makes them), and its whole
configuration, created through the public API as any administrator would."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from convhub.core.database import Database
from convhub.core.security import permissions as perms
from convhub.core.security.crypto import SecretBox
from convhub.core.settings import Settings
from convhub.demo.processes import DemoError, SampleApp
from convhub.identity import service as identity
from convhub.identity.service import NewClient

API_BASE = "/conversation/conversationmgr/v3"
CHANNEL_TYPE = "custom.webchat"
ADDRESS = "123456789"
BOT_NAME = "eva"
AGENT_NAME = "Ann"
ENTRY_POINT = "1001"
# The client applications, by the role of their one callback.
APPLICATIONS = {"customer": "web-chat", "custom_bot": "eva-bot", "custom_agent": "agent-desk"}
# A 1x1 PNG: a channel needs an icon.
ICON = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QD"
    "wADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Clients:
    tenant: str
    signing_secret: str
    admin: NewClient  # every permission: configures the hub, reads the conversation
    apps: dict[str, NewClient]  # per sample application: sends messages only


async def create_clients(settings: Settings, app_names: list[str]) -> Clients:
    """A tenant of the demo's own (so that a reused database is no obstacle), its admin API
    client and one API client per sample application."""
    db = Database(settings.database_url)
    box = SecretBox(settings.encryption_key.get_secret_value())
    tenant = f"demo-{uuid.uuid4().hex[:8]}"
    try:
        async with db.session() as session:
            admin = await identity.create_client(
                session, name="demo-admin", tenant=tenant, permissions=None, box=box
            )
            apps = {
                name: await identity.create_client(
                    session,
                    name=f"demo-{name}",
                    tenant=tenant,
                    permissions=[perms.INTERACTION_MANAGE],
                    box=box,
                )
                for name in app_names
            }
            secret = await identity.signing_secret(session, tenant=tenant, box=box)
    finally:
        await db.dispose()
    assert secret is not None  # the tenant was created with its secret above
    return Clients(tenant, secret, admin, apps)


async def admin_api(hub_url: str, admin: NewClient) -> httpx.AsyncClient:
    """An API client on the configuration API, with the admin's token from POST /oauth2/token."""
    async with httpx.AsyncClient(base_url=hub_url) as http:
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(admin.client_id, admin.client_secret),
        )
    if answer.status_code != 200:
        raise DemoError(f"POST /oauth2/token answered {answer.status_code}: {answer.text}")
    token = answer.json()["access_token"]
    return httpx.AsyncClient(
        base_url=hub_url + API_BASE, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def new_credentials() -> str:
    """``username:password`` of the basic authentication the hub sends every callback."""
    return f"convhub-demo:{secrets.token_urlsafe(12)}"


async def configure(
    api: httpx.AsyncClient,
    *,
    apps: dict[str, SampleApp],
    credentials: str,
    out: Callable[[str], None],
) -> dict[str, str]:
    """Authentication → client applications (one per role, calling back the sample apps) →
    participant → channel → orchestration → account, each printed as it is created; answers
    their ids."""
    ids: dict[str, str] = {}

    async def create(key: str, path: str, body: dict[str, Any], shown: str) -> None:
        answer = await api.post(path, json=body)
        if answer.status_code != 201:
            raise DemoError(f"POST {path} answered {answer.status_code}: {answer.text}")
        out(f"  POST {path:<20} 201  {shown}")
        ids[key] = str(answer.json()["id"])

    await create(
        "authentication",
        "/authentications",
        _authentication(credentials),
        "demo-callbacks: basic, on every callback",
    )
    for role, name in APPLICATIONS.items():
        body = _application(name, role, apps[role].callback, ids["authentication"])
        shown = f"{name}: role {role}, calls {apps[role].name}"
        await create(role, "/clientapplications", body, shown)
    await create("bot", "/participants", _participant(ids), f"{BOT_NAME}: the bot, of eva-bot")
    await create("channel", "/channels", _channel(), CHANNEL_TYPE)
    await create(
        "orchestration",
        "/orchestrations",
        _orchestration(ids),
        "demo: web-chat -> eva, escalating to agent-desk",
    )
    await create(
        "account",
        "/accounts",
        _account(ids),
        f"demo-account: {CHANNEL_TYPE} {ADDRESS}, entry point {ENTRY_POINT}",
    )
    return ids


def _authentication(credentials: str) -> dict[str, Any]:
    username, password = credentials.split(":", 1)
    basic = {"username": username, "password": password}
    return {"name": "demo-callbacks", "type": "basic", "basicAuth": basic}


def _application(name: str, role: str, callback: str, authentication: str) -> dict[str, Any]:
    calling_back = {
        "name": role,
        "version": "v3",
        "callback": callback,
        "notificationEmail": "ops@example.com",
        "authentication": {"id": authentication},
    }
    return {"name": name, "roles": [calling_back]}


def _participant(ids: dict[str, str]) -> dict[str, Any]:
    return {"name": BOT_NAME, "type": "custom_bot", "application": {"id": ids["custom_bot"]}}


def _channel() -> dict[str, Any]:
    return {"type": CHANNEL_TYPE, "displayName": "Web chat", "icon": ICON}


def _orchestration(ids: dict[str, str]) -> dict[str, Any]:
    bot = {
        "id": ids["custom_bot"],
        "participant": {"id": ids["bot"]},
        "onEscalation": {"agent": {"id": ids["custom_agent"]}},
    }
    return {
        "name": "demo",
        "applications": {
            "botConfiguration": {"bots": [bot]},
            "customerConfiguration": {"customer": {"id": ids["customer"]}},
        },
    }


def _account(ids: dict[str, str]) -> dict[str, Any]:
    chat = {"orchestration": {"id": ids["orchestration"]}, "entryPoint": {"id": ENTRY_POINT}}
    return {
        "name": "demo-account",
        "address": ADDRESS,
        "channel": {"id": ids["channel"]},
        "chatConfigurations": chat,
    }
