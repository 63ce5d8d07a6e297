"""The request owns the transaction: a failed commit answers 5xx and leaves nothing behind;
racing requests cannot break uniqueness or leave a reference dangling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.app import create_app
from tests.conftest import API_BASE
from tests.factories import account, basic_authentication, channel, create, create_chain
from tests.server import running_server

# Statements that make the transaction's COMMIT itself fail, in the database: a deferred
# constraint is only checked at commit, and these rows violate it.
POISON = {
    "sqlite": [
        "CREATE TEMP TABLE IF NOT EXISTS poison_parent (id INTEGER PRIMARY KEY)",
        "CREATE TEMP TABLE IF NOT EXISTS poison_child"
        " (p INTEGER REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED)",
        "INSERT INTO poison_child VALUES (1)",
    ],
    "postgresql": [
        "CREATE TEMP TABLE poison (v INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP",
        "INSERT INTO poison VALUES (1), (1)",
    ],
}


@pytest.fixture(scope="module")
def failing_commit_server(settings):
    app = create_app(settings)
    with running_server(settings, app) as url:
        db = app.state.runtime.db
        real_session = db.session

        @asynccontextmanager
        async def poisoned(*, write: bool = True) -> AsyncIterator[AsyncSession]:
            async with real_session(write=write) as session:
                if write:
                    for statement in POISON[session.bind.dialect.name]:
                        await session.execute(text(statement))
                yield session

        db.session = poisoned
        yield url


class TestFailedCommit:
    async def test_answers_500_and_stores_nothing(self, api, failing_commit_server):
        async with httpx.AsyncClient(
            base_url=failing_commit_server + API_BASE, headers=api.headers
        ) as broken:
            answer = await broken.post("/authentications", json=basic_authentication())
            assert answer.status_code == 500
            assert answer.json() == {
                "code": "500-100",
                "developerMessage": "System is unable to process this request. "
                "Please contact your administrator.",
            }
        listed = (await api.get("/authentications")).json()
        assert listed["paginationInfo"]["count"] == 0


class TestRaces:
    async def test_same_name_created_concurrently_once(self, api):
        body = channel()
        answers = await asyncio.gather(*(api.post("/channels", json=body) for _ in range(8)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [400] * 7
        assert {a.json()["code"] for a in answers if a.status_code == 400} == {"400-138"}
        assert (await api.get("/channels")).json()["paginationInfo"]["count"] == 1

    async def test_delete_racing_references_leaves_none_dangling(self, api):
        chain = await create_chain(api)
        await api.delete(f"/accounts/{chain.account}")
        creates = [
            api.post(
                "/accounts",
                json=account(channel_id=chain.channel, orchestration_id=chain.orchestration),
            )
            for _ in range(4)
        ]
        results = await asyncio.gather(api.delete(f"/channels/{chain.channel}"), *creates)
        deleted, created = results[0], [r for r in results[1:] if r.status_code == 201]
        listed = (await api.get("/accounts")).json()["account"]
        if deleted.status_code == 204:
            assert created == []
            assert listed == []
        else:
            assert deleted.json()["code"] == "400-160"
            assert len(listed) == len(created) >= 1
            assert (await api.get(f"/channels/{chain.channel}")).status_code == 200

    async def test_concurrent_replaces_with_the_same_modified_one_wins(self, api):
        body = basic_authentication()
        auth_id = await create(api, "/authentications", body)
        modified = (await api.get(f"/authentications/{auth_id}")).json()["modified"]
        answers = await asyncio.gather(
            *(
                api.put(
                    f"/authentications/{auth_id}",
                    json={**body, "description": f"v{i}", "modified": modified},
                )
                for i in range(5)
            )
        )
        assert sorted(a.status_code for a in answers) == [204, 409, 409, 409, 409]
