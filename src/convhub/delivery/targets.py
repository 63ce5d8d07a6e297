"""Where a delivery goes: the recipient application's role (callback, headers) and its
authentication with the secret opened, read in one query per delivery.

The worker used to read the application, then the authentication, and open (decrypt) the secret
for every callback. Here both rows come in one query, and the opened authentication is kept for
as long as the stored one is unchanged: an edited authentication (a new ``modified`` and body)
is opened again, so changes still apply to the very next delivery.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.authentications.service import opened
from convhub.configuration import repository as config
from convhub.core.security.crypto import SecretBox
from convhub.delivery.client import CallbackTarget
from convhub.models import ConfigObject, Delivery

# Bounds the memory of a worker serving very many tenants; cleared whole when full.
_MAX_ENTRIES = 10_000


class Targets:
    def __init__(self, box: SecretBox) -> None:
        self.box = box
        # authentication id -> (stored body, opened body)
        self._opened: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        # application id -> the authentication id its roles named last time (to read both at once)
        self._auth_of: dict[str, str] = {}

    async def target(self, session: AsyncSession, delivery: Delivery) -> CallbackTarget | None:
        app_id = delivery.recipient_app_id
        found = await config.objects(
            session, tenant_id=delivery.tenant_id, ids=[app_id, self._auth_of.get(app_id, "")]
        )
        app = config.of_kind(found, app_id, "clientApplication")
        role = _role(app.body if app else None, delivery.recipient_role)
        if role is None:
            return None
        authentication, auth_id = None, role.get("authentication", {}).get("id")
        if auth_id is not None:
            self._remember(self._auth_of, app_id, auth_id)
            stored = config.of_kind(found, auth_id, "authentication")
            if stored is None and auth_id not in found:  # not read above: named since
                stored = await config.get(
                    session, tenant_id=delivery.tenant_id, kind="authentication", object_id=auth_id
                )
            authentication = self._open(stored) if stored else None
        headers = [(h["name"], h["value"]) for h in role.get("headers", [])]
        return CallbackTarget(role["callback"], headers, authentication, auth_id)

    def _open(self, stored: ConfigObject) -> dict[str, Any]:
        cached = self._opened.get(stored.id)
        if cached is not None and cached[0] == stored.body:
            return cached[1]
        clear = opened(self.box, stored.body)
        self._remember(self._opened, stored.id, (stored.body, clear))
        return clear

    @staticmethod
    def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
        if len(cache) >= _MAX_ENTRIES:
            cache.clear()
        cache[key] = value


def _role(app: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if app is None:
        return None
    return next((role for role in app.get("roles", []) if role["name"] == name), None)
