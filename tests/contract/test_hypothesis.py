"""Property-based fuzzing (hypothesis) of every served operation of the contract: request bodies,
query parameters and path ids, valid-looking and hostile alike (wrong types, huge strings,
unicode, nulls, extra fields, deep nesting, bad ids, bodies that are not JSON), sent to the live
server. Whatever comes in, the answer is never a 5xx; an error is a WSErrorCommon whose status the
contract documents for the operation and whose code DECISIONS documents for it."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convhub.core.settings import Settings
from tests.conftest import API_BASE
from tests.contract import contract
from tests.factories import (
    Chain,
    account,
    basic_authentication,
    channel,
    client_application,
    create_chain,
    oauth2_authentication,
    orchestration,
    participant,
    role,
)
from tests.faults.conftest import tenant_token

# Examples per operation: the 32 operations take well under a minute together.
EXAMPLES = 30

# DECISIONS §4: the validation codes any operation with a body may answer.
VALIDATION = {"400-264", "400-143", "400-420", "400-358", "400-196", "400-414", "400-152"}
# Every operation: no or a bad token, a missing permission; unknown or bad query parameters.
ANY = {"401-104", "403-197", "400-101", "400-244"}
BY_ID = {"404-101", "400-414"}  # an unknown id, or one of the wrong length (DECISIONS §1, §4)
CODES = {
    "create": ANY | VALIDATION | {"400-138", "400-194"},
    "update": ANY | VALIDATION | BY_ID | {"400-138", "400-194", "409-100"},
    "delete": ANY | BY_ID | {"400-160"},
    "get": ANY | BY_ID,
    "list": ANY,
    # DECISIONS §6: conversations, senders and message types.
    "sendMessage": ANY | VALIDATION | {"400-194", "400-630", "400-240", "400-199", "403-103"},
    "fetchConversation": ANY | BY_ID,
    # DECISIONS §9: the channel named must exist; its attachment policy may refuse (400-152).
    "createAsset": ANY | VALIDATION | {"400-194"},
}
ERROR_KEYS = {"code", "developerMessage", "userMessage", "details"}


def _kind(operation_id: str, method: str, path: str) -> str:
    if operation_id in CODES:
        return operation_id
    if method == "GET":
        return "get" if path.endswith("{id}") else "list"
    return {"POST": "create", "PUT": "update", "DELETE": "delete"}[method]


# --- what is sent ------------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "null",
        "💥" * 300,
        "\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48",  # fullwidth
        "\u202eRTL",
        "x" * 100_000,
        "../../etc/passwd",
        "' OR 1=1 --",
        "${jndi:ldap://x}",
        "9" * 400,
        "2026-13-45T25:61:61.000Z",
        "00000000-0000-0000-0000-000000000000",
        "http://169.254.169.254/latest/meta-data",
    ]
)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    HOSTILE_TEXT,
    st.integers(1, 60).map(_nested),
    st.lists(st.integers(), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: dict keys and list indices, outermost first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def _mutated(draw: st.DrawFn, valid: Any) -> Any:
    """``valid`` with one to three places replaced by a hostile value, removed, or given an
    extra attribute."""
    body = json.loads(json.dumps(valid))
    for _ in range(draw(st.integers(1, 3))):
        places = _paths(body)
        place = draw(st.sampled_from(places))
        if not place:
            continue
        *parents, last = place
        node = body
        for key in parents:
            node = node[key]
        action = draw(st.sampled_from(["replace", "remove", "extra"]))
        if action == "replace":
            node[last] = draw(HOSTILE)
        elif action == "remove":
            del node[last]
        elif isinstance(node[last], dict):
            node[last][draw(st.text(min_size=1, max_size=12))] = draw(HOSTILE)
    return body


def _bodies(valid: Any) -> st.SearchStrategy[bytes | None]:
    """Request bodies: mostly a valid body with mutations, else the valid body itself, any JSON
    value, garbage, or nothing."""
    as_json = st.one_of(_mutated(valid), _mutated(valid), st.just(valid), JSON, HOSTILE)
    return st.one_of(
        as_json.map(lambda v: json.dumps(v).encode()),  # NaN and Infinity included
        st.binary(max_size=64),
        st.sampled_from([b"", b"{", b"{}", b"[]", b'{"messages":', b"\xff\xfe{}", None]),
        st.sampled_from([3000, 100_000]).map(lambda n: b'{"a":[' * n + b"1" + b"]}" * n),
    )


QUERY = st.dictionaries(
    st.one_of(st.sampled_from(["$pagenum", "$pagesize", "$sort", "pagesize"]), st.text(max_size=6)),
    st.one_of(
        st.sampled_from(["1", "2", "100", "200", "201", "0", "-1", "1e3", "1.5", "", "abc"]),
        st.sampled_from(["99999999999999999999999", " 7", "\x00"]),
        st.text(max_size=12),
    ),
    max_size=3,
)


def _ids(real: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(real),
        st.just(real),
        st.uuids().map(str),
        HOSTILE_TEXT.filter(bool).map(lambda s: s[:2000]),
        st.text(min_size=1, max_size=40),
    )


# --- the operations' valid requests ---------------------------------------------------------


@dataclass
class World:
    """Objects in the fuzzing tenant: ``chain`` is what valid-looking bodies name, and the
    conversation runs on it; ``target``, a second chain, is what GET, PUT and DELETE aim at (a
    PUT or DELETE that succeeds changes it, never what the bodies depend on)."""

    chain: Chain
    target: Chain
    channel_type: str
    address: str
    conversation: str


def _valid_body(operation_id: str, world: World) -> Any:
    chain = world.chain
    kind = operation_id.removeprefix("create").removeprefix("update")
    if kind == "Authentication":
        return basic_authentication() if "create" in operation_id else oauth2_authentication()
    if kind == "ClientApplication":
        return client_application(role("custom_bot", authentication_id=chain.authentication))
    if kind == "Participant":
        return participant(chain.bot_app)
    if kind == "Channel":
        return channel()
    if kind == "Orchestration":
        return orchestration(
            bot_app=chain.bot_app,
            bot_participant=chain.participant,
            agent_app=chain.agent_app,
            customer_app=chain.customer_app,
        )
    if kind == "Account":
        return account(channel_id=chain.channel, orchestration_id=chain.orchestration)
    if operation_id == "createAsset":
        return {
            "channel": {"type": world.channel_type},
            "sender": {"type": "customer"},
            "name": "order.txt",
            "size": 23,
        }
    assert operation_id == "sendMessage", operation_id
    start = {
        "type": {"value": "text"},
        "content": {"text": "Hello"},
        "sender": {"type": "customer", "participant": {"name": "John"}},
        "conversation": {
            "account": {"channel": {"type": world.channel_type}, "address": world.address},
            "customer": {"name": "John smith", "type": "individual"},
        },
    }
    reply = {
        "type": {"value": "text"},
        "content": {"text": "Hi"},
        "sender": {"type": "custom_bot", "participant": {"name": "eva"}},
        "conversation": {"id": world.conversation},
        "messageId": "m-1",
    }
    return {"messages": {"message": [start, reply]}}


def _real_id(operation_id: str, path: str, world: World) -> str:
    chain = world.target
    return {
        "/authentications/{id}": chain.authentication,
        "/clientapplications/{id}": chain.agent_app,
        "/participants/{id}": chain.participant,
        "/channels/{id}": chain.channel,
        "/orchestrations/{id}": chain.orchestration,
        "/accounts/{id}": chain.account,
        "/conversations/{id}": world.conversation,
    }.get(path, operation_id)


@pytest.fixture(scope="module")
async def world(
    server_url: str, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """A tenant of the fuzzing's own, with a whole chain and a conversation in it."""
    token = await tenant_token(settings)
    async with httpx.AsyncClient(
        base_url=server_url + API_BASE, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:
        yield api, await _build_world(api)


async def _build_world(api: httpx.AsyncClient) -> World:
    chain = await create_chain(api)
    stored_account = (await api.get(f"/accounts/{chain.account}")).json()
    stored_channel = (await api.get(f"/channels/{chain.channel}")).json()
    started = await api.post(
        "/conversations/messages",
        json={
            "messages": {
                "message": [
                    {
                        "type": {"value": "text"},
                        "content": {"text": "Hello"},
                        "sender": {"type": "customer", "participant": {"name": "John"}},
                        "conversation": {
                            "account": {
                                "channel": {"type": stored_channel["type"]},
                                "address": stored_account["address"],
                            }
                        },
                    }
                ]
            }
        },
    )
    assert started.status_code == 202, started.text
    conversation = started.json()["messages"]["message"][0]["conversation"]["id"]
    target = await create_chain(api)
    return World(chain, target, stored_channel["type"], stored_account["address"], conversation)


# --- the property ------------------------------------------------------------------------------

_CODE = re.compile(r"^(\d{3})-\d{3}$")


def _check(operation_id: str, kind: str, answer: httpx.Response) -> None:
    documented = contract.statuses(operation_id)
    where = f"{answer.request.method} {answer.request.url} → {answer.status_code} {answer.text}"
    assert answer.status_code < 500, where
    assert answer.status_code in documented, where
    if answer.status_code < 400:
        return
    assert answer.headers.get("content-type", "").startswith("application/json"), where
    body = answer.json()
    assert isinstance(body, dict), where
    assert set(body) <= ERROR_KEYS, where
    assert isinstance(body.get("developerMessage"), str), where
    match = _CODE.match(str(body.get("code")))
    assert match, where
    assert int(match.group(1)) == answer.status_code, where
    assert body["code"] in CODES[kind], where


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    contract.operations(),
    ids=[op for op, _, _ in contract.operations()],
)
def test_no_request_gets_a_server_error(
    operation_id: str, method: str, path: str, world: tuple[httpx.AsyncClient, World]
) -> None:
    api, state = world
    kind = _kind(operation_id, method, path)
    has_body = method in ("POST", "PUT")
    body_strategy = _bodies(_valid_body(operation_id, state)) if has_body else st.none()
    id_strategy = _ids(_real_id(operation_id, path, state))
    # Mostly no query, so that the body is what is judged; lists get their parameters more often.
    query_strategy = st.one_of(st.just({}), QUERY) if kind == "list" else st.just({}) | QUERY
    if has_body:
        query_strategy = st.one_of(st.just({}), st.just({}), st.just({}), QUERY)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same examples on every run: CI is repeatable
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=body_strategy, query=query_strategy, object_id=id_strategy)
    def fuzz(body: bytes | None, query: dict[str, str], object_id: str) -> None:
        url = path.replace("{id}", urllib.parse.quote(object_id, safe=""))
        headers = {"Content-Type": "application/json"} if has_body else {}
        answer = http.request(method, url, params=query, content=body, headers=headers)
        seen[answer.status_code] += 1
        _check(operation_id, kind, answer)

    seen: Counter[int] = Counter()
    with httpx.Client(base_url=str(api.base_url), headers=api.headers, timeout=30) as http:
        fuzz()
    print(f"{operation_id}: statuses {dict(sorted(seen.items()))}")
