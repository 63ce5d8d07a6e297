"""Where a delivery goes: the recipient application's role (callback, headers) and its
authentication with the secret opened, read for a whole claim at once.

The worker used to read the application, then the authentication, and open (decrypt) the secret
for every callback. Here the objects are kept per tenant and configuration version (which the
claim reads with each delivery, and every configuration change increments in its own
transaction): they are read, in the claim's own transaction, only after a change, in one query
(two when an application names an authentication not seen before). The opened authentication is
kept for as long as the stored one is unchanged: an edited authentication is opened again, so
changes still apply to the very next claim. Whether a ``410 Gone`` deactivated a callback comes
with the claim too: the deactivation is read only for those.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.authentications.service import opened
from convhub.configuration import repository as config
from convhub.core.security.crypto import SecretBox
from convhub.delivery.client import CallbackTarget
from convhub.delivery.health import callback_key, key_of
from convhub.delivery.outbox import Claimed
from convhub.models import CallbackHealth, ConfigObject, Delivery

# Bounds the memory of a worker serving very many tenants; cleared whole when full.
_MAX_ENTRIES = 10_000

NO_CALLBACK = "the recipient has no callback for its role"
DEACTIVATED = (
    "the callback is deactivated: it answered 410 Gone (replace the client application to "
    "call it again)"
)


class Targets:
    def __init__(self, box: SecretBox) -> None:
        self.box = box
        # authentication id -> (stored body, opened body)
        self._opened: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        # application id -> the authentication id its roles named last time (to read both at once)
        self._auth_of: dict[str, str] = {}
        # tenant id -> (configuration version, configuration objects by id; None: no such id)
        self._versions: dict[str, tuple[int, dict[str, ConfigObject | None]]] = {}

    async def prepare(
        self, session: AsyncSession, claimed: list[Claimed]
    ) -> dict[str, CallbackTarget | str]:
        """Each delivery's target, or why it cannot be called (no callback for the role, or a
        callback a ``410 Gone`` deactivated), by delivery id."""
        if not claimed:
            return {}
        deliveries = [c.delivery for c in claimed]
        found = await self._objects(session, claimed, lambda d: {d.recipient_app_id})
        roles = {d.id: self._role(found, d) for d in deliveries}
        authentication = {
            d.id: role["authentication"]["id"]
            for d in deliveries
            if (role := roles[d.id]) and "authentication" in role
        }
        if authentication.keys() - found.keys():  # named since the last claim
            found |= await self._objects(session, claimed, lambda d: {authentication.get(d.id, "")})
        maybe_gone = [c.delivery for c in claimed if c.maybe_deactivated]
        gone = await _deactivated(session, maybe_gone, found) if maybe_gone else set()
        prepared: dict[str, CallbackTarget | str] = {}
        for delivery in deliveries:
            role = roles[delivery.id]
            if role is None:
                prepared[delivery.id] = NO_CALLBACK
            elif key_of(delivery) in gone:
                prepared[delivery.id] = DEACTIVATED
            else:
                prepared[delivery.id] = self._target(found, delivery, role)
        return prepared

    async def _objects(
        self,
        session: AsyncSession,
        claimed: list[Claimed],
        wanted: Callable[[Delivery], set[str]],
    ) -> dict[str, ConfigObject]:
        """The configuration objects ``wanted`` names for each delivery (its application and
        the authentication that application named last time), kept per tenant and
        configuration version: every change of a tenant's configuration increments its version
        in the same transaction, so what is kept for the version the claim read is current."""
        needed: dict[str, set[str]] = {}
        kept_of: dict[str, dict[str, ConfigObject | None]] = {}
        for item in claimed:
            delivery = item.delivery
            kept_of[delivery.tenant_id] = self._kept(delivery.tenant_id, item.config_version)
            ids = wanted(delivery) | {self._auth_of.get(delivery.recipient_app_id, "")}
            needed.setdefault(delivery.tenant_id, set()).update(i for i in ids if i)
        missing = {i for tenant, ids in needed.items() for i in ids if i not in kept_of[tenant]}
        read = await self._read(session, missing) if missing else {}
        found: dict[str, ConfigObject] = {}
        for tenant, ids in needed.items():
            kept = kept_of[tenant]
            for i in ids:
                if i not in kept:
                    kept[i] = read.get(i)  # None: no such object (known until the next change)
                if (obj := kept[i]) is not None:
                    found[i] = obj
        return found

    def _kept(self, tenant_id: str, version: int) -> dict[str, ConfigObject | None]:
        entry = self._versions.get(tenant_id)
        if entry is None or entry[0] != version:
            if len(self._versions) >= _MAX_ENTRIES:
                self._versions.clear()
            entry = self._versions[tenant_id] = (version, {})
        return entry[1]

    @staticmethod
    async def _read(session: AsyncSession, ids: set[str]) -> dict[str, ConfigObject]:
        wanted = {i for i in ids if i}
        if not wanted:
            return {}
        query = select(ConfigObject).where(ConfigObject.id.in_(wanted))
        return {obj.id: obj for obj in (await session.execute(query)).scalars()}

    def _role(self, found: dict[str, ConfigObject], delivery: Delivery) -> dict[str, Any] | None:
        app = _of_tenant(found, delivery.recipient_app_id, "clientApplication", delivery)
        role = _role(app.body if app else None, delivery.recipient_role)
        auth_id = (role or {}).get("authentication", {}).get("id")
        if auth_id is not None:
            self._remember(self._auth_of, delivery.recipient_app_id, auth_id)
        return role

    def _target(
        self, found: dict[str, ConfigObject], delivery: Delivery, role: dict[str, Any]
    ) -> CallbackTarget:
        authentication, auth_id = None, role.get("authentication", {}).get("id")
        if auth_id is not None:
            stored = _of_tenant(found, auth_id, "authentication", delivery)
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


def _of_tenant(
    found: dict[str, ConfigObject], object_id: str, kind: str, delivery: Delivery
) -> ConfigObject | None:
    """The object if it is a ``kind`` of the delivery's tenant (ids are read across tenants)."""
    obj = config.of_kind(found, object_id, kind)
    return obj if obj is not None and obj.tenant_id == delivery.tenant_id else None


async def _deactivated(
    session: AsyncSession, deliveries: list[Delivery], found: dict[str, ConfigObject]
) -> set[tuple[str, str, str]]:
    """Callbacks of these deliveries that a ``410 Gone`` deactivated, whose client application
    was not replaced since."""
    keys = {key_of(d) for d in deliveries}
    query = select(CallbackHealth).where(
        callback_key().in_(keys), CallbackHealth.deactivated_at.is_not(None)
    )
    gone = set()
    for row in (await session.execute(query)).scalars():
        app = found.get(row.application_id)
        if app is not None and app.modified == row.deactivated_app_modified:
            gone.add((row.tenant_id, row.application_id, row.role))
    return gone


def _role(app: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if app is None:
        return None
    return next((role for role in app.get("roles", []) if role["name"] == name), None)
