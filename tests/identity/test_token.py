"""POST /oauth2/token (client credentials) and how the API treats the tokens (DECISIONS §1)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from convhub.core.security import permissions as perms
from convhub.identity import service as identity


@pytest.fixture
async def new_client(database, box):
    async def build(permissions=None):
        async with database.session() as session:
            return await identity.create_client(
                session, name="t", tenant=f"t-{uuid.uuid4().hex}", permissions=permissions, box=box
            )

    return build


@pytest.fixture
async def http(server_url):
    async with httpx.AsyncClient(base_url=server_url) as client:
        yield client


class TestTokenEndpoint:
    async def test_basic_credentials(self, http, new_client):
        client = await new_client()
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert set(body["scope"].split()) == set(perms.ALL)
        assert answer.headers["cache-control"] == "no-store"

    async def test_form_credentials_and_egain_default_scope(self, http, new_client):
        client = await new_client([perms.READ])
        answer = await http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "scope": perms.DEFAULT_SCOPE,
            },
        )
        assert answer.status_code == 200
        assert answer.json()["scope"] == perms.READ

    async def test_narrower_scope(self, http, new_client):
        client = await new_client()
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": perms.READ},
            auth=(client.client_id, client.client_secret),
        )
        token = answer.json()["access_token"]
        assert answer.json()["scope"] == perms.READ
        headers = {"Authorization": f"Bearer {token}"}
        base = "/conversation/conversationmgr/v3"
        assert (await http.get(base + "/channels", headers=headers)).status_code == 200
        refused = await http.post(base + "/channels", headers=headers, json={})
        assert refused.status_code == 403
        assert refused.json()["code"] == "403-197"

    async def test_scope_beyond_the_client(self, http, new_client):
        client = await new_client([perms.READ])
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": perms.MANAGE},
            auth=(client.client_id, client.client_secret),
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_scope"

    async def test_wrong_secret(self, http, new_client):
        client = await new_client()
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, "nope"),
        )
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert answer.headers["www-authenticate"].startswith("Basic")

    async def test_no_credentials(self, http):
        answer = await http.post("/oauth2/token", data={"grant_type": "client_credentials"})
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"

    async def test_garbled_basic_header(self, http):
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic !!!"},
        )
        assert answer.json()["error"] == "invalid_client"

    async def test_unsupported_grant(self, http, new_client):
        client = await new_client()
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "password"},
            auth=(client.client_id, client.client_secret),
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "unsupported_grant_type"

    async def test_missing_grant(self, http, new_client):
        client = await new_client()
        answer = await http.post(
            "/oauth2/token", data={}, auth=(client.client_id, client.client_secret)
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_request"

    async def test_revoked_client_gets_no_token(self, http, new_client, database):
        client = await new_client()
        async with database.session() as session:
            assert await identity.revoke_client(session, client.client_id)
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
        )
        assert answer.status_code == 401


class TestBearerTokens:
    async def _token(self, http, client):
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
        )
        return answer.json()["access_token"]

    @pytest.mark.parametrize(
        "header",
        [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Token abc"],
    )
    async def test_missing_or_malformed(self, anonymous, header):
        headers = {"Authorization": header} if header is not None else {}
        answer = await anonymous.get("/accounts", headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {
            "code": "401-104",
            "developerMessage": "Invalid or missing 'Authorization' header value.",
        }

    async def test_expired(self, anonymous, settings, new_client):
        client = await new_client()
        past = datetime.now(UTC) - timedelta(hours=2)
        token = jwt.encode(
            {
                "iss": settings.token_issuer,
                "sub": client.client_id,
                "tid": "x",
                "perm": list(perms.ALL),
                "iat": past,
                "exp": past + timedelta(hours=1),
            },
            settings.token_signing_key.get_secret_value(),
            algorithm="HS256",
        )
        answer = await anonymous.get("/accounts", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert answer.json()["code"] == "401-104"

    async def test_forged_signature(self, anonymous, settings, new_client):
        client = await new_client()
        token = jwt.encode(
            {
                "iss": settings.token_issuer,
                "sub": client.client_id,
                "tid": "x",
                "perm": list(perms.ALL),
                "exp": datetime.now(UTC) + timedelta(hours=1),
            },
            "not-the-key-not-the-key-not-the-key-0123",
            algorithm="HS256",
        )
        answer = await anonymous.get("/accounts", headers={"Authorization": f"Bearer {token}"})
        assert answer.json()["code"] == "401-104"

    async def test_unsigned_token(self, anonymous, settings, new_client):
        client = await new_client()
        header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        claims = (
            base64.urlsafe_b64encode(
                f'{{"iss":"{settings.token_issuer}","sub":"{client.client_id}","tid":"x","exp":9999999999}}'.encode()
            )
            .rstrip(b"=")
            .decode()
        )
        answer = await anonymous.get(
            "/accounts", headers={"Authorization": f"Bearer {header}.{claims}."}
        )
        assert answer.json()["code"] == "401-104"

    async def test_revoked_client_token_refused(self, http, anonymous, new_client, database):
        client = await new_client()
        token = await self._token(http, client)
        async with database.session() as session:
            await identity.revoke_client(session, client.client_id)
        answer = await anonymous.get("/accounts", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401

    async def test_lower_case_bearer_scheme(self, http, anonymous, new_client):
        token = await self._token(http, await new_client())
        answer = await anonymous.get("/accounts", headers={"Authorization": f"bearer {token}"})
        assert answer.status_code == 200


class TestClientSecrets:
    async def test_only_a_hash_of_the_secret_is_stored(self, new_client, database):
        from convhub.models import ApiClient

        client = await new_client()
        async with database.session(write=False) as session:
            stored = await session.get(ApiClient, client.client_id)
        assert client.client_secret not in (stored.secret_hash, stored.name)
        assert len(stored.secret_hash) == 64
