"""The contract's request examples and the seed page's Account curl commands work as written,
once the host, the token and the referenced ids are real ones (and, for the PUT, `modified` is
the account's real one: DECISIONS §2 makes a stale `modified` a 409)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from tests.factories import ICON, create_chain, unique

DATA = Path(__file__).parent / "data"
EXAMPLES = json.loads((DATA / "request-examples.json").read_text())
SEED = (DATA / "seed-account-page.txt").read_text()
RESOURCE = {
    "authentication": "/authentications",
    "client_application": "/clientapplications",
    "participant": "/participants",
    "channel": "/channels",
    "orchestration": "/orchestrations",
    "account": "/accounts",
}


def _cases(verb: str) -> list[tuple[str, str]]:
    return [
        (key.removeprefix(f"{verb}_"), name)
        for key, examples in EXAMPLES.items()
        if key.startswith(f"{verb}_")
        for name in examples
    ]


def _real(resource: str, body: dict, chain) -> dict:
    """The example with unique names and this tenant's ids in place of the example's."""
    text = json.dumps(body).replace('"<icon>"', json.dumps(ICON))
    body = json.loads(text)
    body.pop("modified", None)
    if "name" in body:
        body["name"] = unique(body["name"])
    if resource == "channel":
        body["type"] = unique(body["type"])
    if resource == "client_application":
        for role in body["roles"]:
            role["authentication"] = {"id": chain.authentication}
    if resource == "participant":
        body["application"] = {"id": chain.bot_app}
    if resource == "orchestration":
        apps = body["applications"]
        apps["customerConfiguration"]["customer"]["id"] = chain.customer_app
        for bot in apps.get("botConfiguration", {}).get("bots", []):
            bot["id"], bot["participant"]["id"] = chain.bot_app, chain.participant
            bot["onEscalation"]["agent"]["id"] = chain.agent_app
        for agent in apps.get("agentConfiguration", {}).get("agents", []):
            agent["id"] = chain.agent_app
    if resource == "account":
        body["address"] = unique(body["address"])
        body["channel"]["id"] = chain.channel
        body["chatConfigurations"]["orchestration"]["id"] = chain.orchestration
    return body


@pytest.fixture
async def chain(api):
    return await create_chain(api)


class TestContractExamples:
    @pytest.mark.parametrize(("resource", "example"), _cases("post"))
    async def test_create_example_is_accepted(self, api, chain, resource, example):
        body = _real(resource, EXAMPLES[f"post_{resource}"][example], chain)
        answer = await api.post(RESOURCE[resource], json=body)
        assert answer.status_code == 201, answer.text
        got = (await api.get(f"{RESOURCE[resource]}/{answer.json()['id']}")).json()
        assert (
            got["name" if "name" in body else "type"] == body["name" if "name" in body else "type"]
        )

    @pytest.mark.parametrize(("resource", "example"), _cases("put"))
    async def test_update_example_is_accepted(self, api, chain, resource, example):
        target = {
            "authentication": chain.authentication,
            "client_application": chain.bot_app,
            "participant": chain.participant,
            "channel": chain.channel,
            "orchestration": chain.orchestration,
            "account": chain.account,
        }[resource]
        body = _real(resource, EXAMPLES[f"put_{resource}"][example], chain)
        if resource == "client_application":
            body["roles"][0]["name"] = (
                "custom_bot"  # the bot app must stay a bot for the orchestration
            )
        answer = await api.put(f"{RESOURCE[resource]}/{target}", json=body)
        assert answer.status_code == 204, answer.text


def _seed_curls() -> list[str]:
    return re.findall(r"^curl .*?(?=\n\s*\n)", SEED, flags=re.S | re.M)


async def _curl(command: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    head, _, body = out.decode().replace("\r\n", "\n").partition("\n\n")
    return int(head.split()[1]), body


class TestSeedAccountCurls:
    async def test_all_five_run_as_written(self, api, server_url, chain):
        commands = _seed_curls()
        assert [c.split()[3] for c in commands] == ["POST", "GET", "GET", "PUT", "DELETE"]
        token = api.headers["Authorization"].removeprefix("Bearer ")
        await api.delete(f"/accounts/{chain.account}")  # frees the chain's channel address

        def real(command: str, **extra: str) -> str:
            swaps = {
                "https://api.egain.cloud": server_url,
                "<YOUR_TOKEN_HERE>": token,
                "45a095f4-d0ee-4220-a689-22b541c58f67": chain.channel,
                "c37e975f-6b2f-490f-9cac-dfa05499f744": chain.orchestration,
                **extra,
            }
            for old, new in swaps.items():
                command = command.replace(old, new)
            return command

        status, body = await _curl(real(commands[0]))
        assert status == 201, body
        account_id = json.loads(body)["id"]
        status, body = await _curl(real(commands[1]))
        assert status == 200
        assert [a["id"] for a in json.loads(body)["account"]] == [account_id]
        by_id = {"7b6c5fff-036e-4a40-b68a-a67c592fc079": account_id}
        status, body = await _curl(real(commands[2], **by_id))
        assert status == 200
        assert json.loads(body)["name"] == "order_account"
        modified = json.loads(body)["modified"]
        status, body = await _curl(
            real(commands[3], **by_id, **{"2021-03-28T14:29:01.516Z": modified})
        )
        assert status == 204, body
        status, _ = await _curl(real(commands[4], **by_id))
        assert status == 204
        assert (await api.get(f"/accounts/{account_id}")).status_code == 404

    async def test_the_put_with_the_pages_stale_modified_is_a_conflict(
        self, api, server_url, chain
    ):
        token = api.headers["Authorization"].removeprefix("Bearer ")
        put = _seed_curls()[3]
        for old, new in {
            "https://api.egain.cloud": server_url,
            "<YOUR_TOKEN_HERE>": token,
            "45a095f4-d0ee-4220-a689-22b541c58f67": chain.channel,
            "c37e975f-6b2f-490f-9cac-dfa05499f744": chain.orchestration,
            "7b6c5fff-036e-4a40-b68a-a67c592fc079": chain.account,
        }.items():
            put = put.replace(old, new)
        status, body = await _curl(put)
        assert status == 409
        assert json.loads(body)["code"] == "409-100"
