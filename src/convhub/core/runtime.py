"""What one running process holds: settings, database, secret box, token verifiers, the
asset store.

Built in the application's lifespan (never at import) and reached by dependencies through
``request.app.state.runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convhub.assets.signing import AssetLinks
from convhub.assets.storage import AssetStore, build_store
from convhub.configuration.cache import ConfigCache
from convhub.conversations import writes
from convhub.core.database import Database
from convhub.core.security.crypto import SecretBox
from convhub.core.security.tokens import ExternalVerifier, VerifiedTokens
from convhub.core.settings import Settings
from convhub.delivery.signal import Wakeup


@dataclass
class Runtime:
    settings: Settings
    db: Database
    box: SecretBox
    store: AssetStore
    external: ExternalVerifier | None = field(default=None)
    # Set when deliveries were written: the worker of this process starts on them at once.
    wakeup: Wakeup = field(default_factory=Wakeup)
    # What the accept path read of each tenant's configuration, per configuration version.
    config: ConfigCache = field(default_factory=ConfigCache)
    # The asset links of answers, per base URL the requests came to (assets/router.links_of),
    # by scheme, Host header (or server) and root path.
    asset_links: dict[tuple[object, ...], AssetLinks] = field(default_factory=dict)
    # Our own tokens verified by this process, until each expires (core/dependencies.py).
    tokens: VerifiedTokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = VerifiedTokens(self.settings)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        writes.install(db)
        return cls(
            settings=settings,
            db=db,
            box=SecretBox(settings.encryption_key.get_secret_value()),
            store=build_store(settings),
            external=ExternalVerifier(settings) if settings.oidc_jwks_url else None,
        )
