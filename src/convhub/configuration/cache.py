"""What a process read of a tenant's configuration, valid while the tenant's ``config_version``
is unchanged.

Every create, replace and delete of a configuration object increments the version in its own
transaction (``repository.changed``), and the hot path reads the version in a query it makes
anyway (with the conversation it locks): an entry read at version ``v`` is used only by a
transaction that saw ``v``, so a message never sees configuration older than a change committed
before it began, whichever process made the change. Entries are read-only: callers must not
change what they get.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

# Bounds the memory of a process serving very many tenants; cleared whole when full.
_MAX_ENTRIES = 10_000


class ConfigCache:
    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[int, Any]] = {}

    def get(self, key: Hashable, *, version: int) -> Any | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == version else None

    def put(self, key: Hashable, value: Any, *, version: int) -> None:
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (version, value)
