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
    username, password = credentials.split(":", 1)
    ids: dict[str, str] = {}

    async def create(path: str, body: dict[str, Any], shown: str) -> str:
        answer = await api.post(path, json=body)
        if answer.status_code != 201:
            raise DemoError(f"POST {path} answered {answer.status_code}: {answer.text}")
        out(f"  POST {path:<20} 201  {shown}")
        return str(answer.json()["id"])

    ids["authentication"] = await create(
        "/authentications",
        {
            "name": "demo-callbacks",
            "type": "basic",
            "basicAuth": {"username": username, "password": password},
        },
        "demo-callbacks: basic, on every callback",
    )

    def application(name: str, role: str, app: SampleApp) -> dict[str, Any]:
        callback = {
            "name": role,
            "version": "v3",
            "callback": app.callback,
            "notificationEmail": "ops@example.com",
            "authentication": {"id": ids["authentication"]},
        }
        return {"name": name, "roles": [callback]}

    for key, name, role in (
        ("customer_app", "web-chat", "customer"),
        ("bot_app", "eva-bot", "custom_bot"),
        ("agent_app", "agent-desk", "custom_agent"),
    ):
        shown = f"{name}: role {role}, calls {apps[role].name}"
        ids[key] = await create("/clientapplications", application(name, role, apps[role]), shown)
    ids["bot"] = await create(
        "/participants",
        {"name": BOT_NAME, "type": "custom_bot", "application": {"id": ids["bot_app"]}},
        f"{BOT_NAME}: the bot, of eva-bot",
    )
    ids["channel"] = await create(
        "/channels",
        {"type": CHANNEL_TYPE, "displayName": "Web chat", "icon": ICON},
        f"{CHANNEL_TYPE}",
    )
    ids["orchestration"] = await create(
        "/orchestrations", _orchestration(ids), "demo: web-chat -> eva, escalating to agent-desk"
    )
    ids["account"] = await create(
        "/accounts",
        {
            "name": "demo-account",
            "address": ADDRESS,
            "channel": {"id": ids["channel"]},
            "chatConfigurations": {
                "orchestration": {"id": ids["orchestration"]},
                "entryPoint": {"id": "1001"},
            },
        },
        f"demo-account: {CHANNEL_TYPE} {ADDRESS}, entry point 1001",
    )
    return ids


def _orchestration(ids: dict[str, str]) -> dict[str, Any]:
    bot = {
        "id": ids["bot_app"],
        "participant": {"id": ids["bot"]},
        "onEscalation": {"agent": {"id": ids["agent_app"]}},
    }
    return {
        "name": "demo",
        "applications": {
            "botConfiguration": {"bots": [bot]},
            "customerConfiguration": {"customer": {"id": ids["customer_app"]}},
        },
    }
