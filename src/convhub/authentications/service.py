"""Authentication rules: secrets sealed for storage, masked (or opened) for reading.

The secrets are ``basicAuth.password`` and ``oauth2.payload``. A replace that sends the mask
back keeps the stored secret, so a client can GET, edit another field and PUT (DECISIONS §5).
"""

from __future__ import annotations

import copy

from convhub.configuration.spec import Body, Context, Resolver
from convhub.core.errors import InvalidValue
from convhub.core.security.crypto import MASK, SecretBox
from convhub.models import ConfigObject

# (section, field) of each secret, by authentication type.
SECRETS = {"basic": ("basicAuth", "password"), "oauth2": ("oauth2", "payload")}


def _secret_path(body: Body) -> tuple[str, str]:
    return SECRETS[body["type"]]


async def rules(
    ctx: Context, body: Body, existing: ConfigObject | None, _resolve: Resolver
) -> Body:
    section, field = _secret_path(body)
    sealed = copy.deepcopy(body)
    value = body[section][field]
    if value == MASK:
        stored = existing.body.get(section, {}).get(field) if existing else None
        if stored is None:
            raise InvalidValue(
                f"{section}.{field}", "the mask can only keep a secret already stored"
            )
        sealed[section][field] = stored
    else:
        sealed[section][field] = ctx.runtime.box.seal(value)
    return sealed


def present(ctx: Context, body: Body) -> Body:
    section, field = _secret_path(body)
    shown = copy.deepcopy(body)
    stored = body[section][field]
    shown[section][field] = (
        MASK if ctx.runtime.settings.mask_secrets else ctx.runtime.box.open(stored)
    )
    return shown


def opened(box: SecretBox, body: Body) -> Body:
    """A stored authentication with its secret in clear, for the delivery worker."""
    section, field = _secret_path(body)
    clear = copy.deepcopy(body)
    clear[section][field] = box.open(body[section][field])
    return clear
