"""``POST /oauth2/token``: OAuth 2.0 client credentials (RFC 6749 §4.4), an extension."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from convhub.core.dependencies import RuntimeDep
from convhub.core.security import permissions as perms
from convhub.core.security.tokens import issue
from convhub.identity import service

router = APIRouter(tags=["OAuth 2.0"])

_SCOPE_PREFIX = "https://api.egain.cloud/auth/"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(error: str, description: str, status: int = 400, **headers: str) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={**_NO_STORE, **headers})


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


def _granted(scope: str | None, available: list[str]) -> list[str] | None:
    """Permissions for the requested scope; None when it asks for one the client lacks."""
    if not scope or perms.DEFAULT_SCOPE in scope.split():
        return available
    wanted = {s.removeprefix(_SCOPE_PREFIX) for s in scope.split()}
    return sorted(wanted) if wanted <= set(available) else None


@router.post(
    "/oauth2/token",
    summary="Get an access token (client credentials)",
    responses={400: {"description": "invalid_request"}, 401: {"description": "invalid_client"}},
)
async def token(request: Request, runtime: RuntimeDep) -> Any:
    """Exchange a client id and secret (HTTP Basic or form fields) for a Bearer token.

    `scope` is optional: eGain's `https://api.egain.cloud/auth/.default` (or no scope) grants every
    permission of the client; otherwise a space-separated list of permissions.
    """
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        if not form.get("grant_type"):
            return _oauth_error("invalid_request", "grant_type is required")
        return _oauth_error("unsupported_grant_type", "only client_credentials is supported")
    basic = _basic_credentials(request)
    client_id, secret = basic or (
        str(form.get("client_id") or ""),
        str(form.get("client_secret") or ""),
    )
    if not client_id or not secret:
        return _oauth_error(
            "invalid_client",
            "client authentication failed",
            401,
            **{"WWW-Authenticate": 'Basic realm="convhub"'},
        )
    async with runtime.db.session(write=False) as session:
        client = await service.authenticate(session, client_id=client_id, secret=secret)
    if client is None:
        return _oauth_error(
            "invalid_client",
            "client authentication failed",
            401,
            **{"WWW-Authenticate": 'Basic realm="convhub"'},
        )
    granted = _granted(str(form.get("scope") or "") or None, client.permissions)
    if granted is None:
        return _oauth_error("invalid_scope", "the client may not ask for that scope")
    access_token, ttl = issue(
        settings=runtime.settings,
        client_id=client.id,
        tenant_id=client.tenant_id,
        permissions=granted,
    )
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(granted),
    }
    return JSONResponse(body, headers=_NO_STORE)
