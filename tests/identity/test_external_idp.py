"""Tokens of an external identity provider, verified against its JWKS (DECISIONS §1)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from convhub.core.security import permissions as perms
from convhub.identity import service as identity
from tests.conftest import API_BASE
from tests.server import running_server
from tests.static_server import serving_json

ISSUER = "https://idp.example.test/"
AUDIENCE = "convhub-api"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def idp_server(settings, signing_key):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    with serving_json({"/jwks.json": {"keys": [jwk]}}) as jwks_base:
        external = settings.model_copy(
            update={
                "oidc_jwks_url": f"{jwks_base}/jwks.json",
                "oidc_issuer": ISSUER,
                "oidc_audience": AUDIENCE,
                "oidc_permissions_claim": "roles",
                "oidc_tenant_claim": "org",
            }
        )
        with running_server(external) as url:
            yield url


@pytest.fixture
async def tenant(database, box):
    name = f"idp-{uuid.uuid4().hex}"
    async with database.session() as session:
        await identity.ensure_tenant(session, name=name, box=box)
    return name


def idp_token(key, *, tenant, roles, audience=AUDIENCE, issuer=ISSUER, expires_in=600):
    now = datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": "svc-1",
        "org": tenant,
        "roles": roles,
        "iat": now,
        "exp": now + timedelta(seconds=expires_in),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "key-1"})


class TestExternalTokens:
    async def _get(self, base, token):
        async with httpx.AsyncClient(base_url=base + API_BASE) as http:
            return await http.get("/channels", headers={"Authorization": f"Bearer {token}"})

    async def test_valid_token_is_accepted_in_its_tenant(self, idp_server, signing_key, tenant):
        answer = await self._get(
            idp_server, idp_token(signing_key, tenant=tenant, roles=[perms.READ])
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["paginationInfo"]["count"] == 0

    async def test_space_separated_permission_claim(self, idp_server, signing_key, tenant):
        token = idp_token(signing_key, tenant=tenant, roles=f"{perms.MANAGE} {perms.READ}")
        async with httpx.AsyncClient(base_url=idp_server + API_BASE) as http:
            answer = await http.post(
                "/authentications",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "name": "n",
                    "type": "basic",
                    "basicAuth": {"username": "u", "password": "p"},
                },
            )
        assert answer.status_code == 201

    async def test_missing_permission_is_forbidden(self, idp_server, signing_key, tenant):
        answer = await self._get(idp_server, idp_token(signing_key, tenant=tenant, roles=[]))
        assert answer.status_code == 403
        assert answer.json()["code"] == "403-197"

    @pytest.mark.parametrize(
        "change",
        [{"audience": "someone-else"}, {"issuer": "https://evil.test/"}, {"expires_in": -60}],
    )
    async def test_wrong_claims_are_refused(self, idp_server, signing_key, tenant, change):
        token = idp_token(signing_key, tenant=tenant, roles=[perms.READ], **change)
        answer = await self._get(idp_server, token)
        assert answer.status_code == 401
        assert answer.json()["code"] == "401-104"

    async def test_unknown_tenant_is_refused(self, idp_server, signing_key):
        answer = await self._get(
            idp_server, idp_token(signing_key, tenant="nobody", roles=[perms.READ])
        )
        assert answer.status_code == 401

    async def test_key_not_in_the_jwks_is_refused(self, idp_server, tenant):
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        answer = await self._get(idp_server, idp_token(stranger, tenant=tenant, roles=[perms.READ]))
        assert answer.status_code == 401

    async def test_local_tokens_still_work(self, idp_server, make_client):
        local = await make_client()
        async with httpx.AsyncClient(base_url=idp_server + API_BASE, headers=local.headers) as http:
            assert (await http.get("/channels")).status_code == 200
