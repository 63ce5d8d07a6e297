"""A start sent again (DECISIONS §6, docs/deviations.md): the same message with the same
``messageId`` on the same account, within CONVHUB_START_RESEND_WINDOW_SECONDS, is answered with
the conversation it started, and nothing is stored or delivered twice."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from convhub.core.database import Database
from convhub.models import Conversation
from tests.conversations.conftest import Apps, event, hub_client, only, received, say, send
from tests.factories import account, create
from tests.server import server_process

# The resend window of this module's own server (the session's hub keeps the default 600 s).
SHORT_WINDOW = 1.0


@pytest.fixture(scope="module")
def short_window_url(hub_settings, tmp_path_factory) -> Iterator[str]:
    """A second API server on the session's database whose resend window is short. No worker:
    the session's hub delivers what it accepts."""
    settings = hub_settings.model_copy(
        update={"start_resend_window_seconds": SHORT_WINDOW, "run_worker": False}
    )
    log = tmp_path_factory.mktemp("short-window") / "hub.log"
    with server_process(settings, log_path=log) as url:
        yield url


@pytest.fixture
async def short_window_hub(short_window_url, api) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(short_window_url, api) as client:
        yield client


def _accepted(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """(message id, conversation id) of each accepted message."""
    return [(m["id"], m["conversation"]["id"]) for m in answer["messages"]["message"]]


async def _conversations_on(database: Database, account_id: str) -> int:
    async with database.session(write=False) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.account_id == account_id)
        )
    return int(count or 0)


async def _bot_got_only(hub: httpx.AsyncClient, apps: Apps, expected: dict[str, list[str]]) -> None:
    """The bot received the ``expected`` texts in each conversation and nothing else: a message
    sent to each conversation now is the next callback of its conversation."""
    for conversation_id in expected:
        await send(hub, say(conversation_id, "customer", "next"))
    got: dict[str, list[str]] = {conversation_id: [] for conversation_id in expected}
    for body in await received(apps.bot, sum(len(texts) + 1 for texts in expected.values())):
        message = only(body)
        got[message["conversation"]["id"]].append(message["content"]["text"])
    assert got == {conversation_id: [*texts, "next"] for conversation_id, texts in expected.items()}


class TestResentStart:
    async def test_resent_within_the_window_answers_the_first_start(self, hub, apps, database):
        start = apps.start("Hello", messageId="s-1")
        first = _accepted(await send(hub, start))
        again = _accepted(await send(hub, start))
        assert again == first
        [(message_id, conversation_id)] = first
        view = (await hub.get(f"/conversations/{conversation_id}")).json()
        assert [m["id"] for m in view["messages"]["message"]] == [message_id]
        assert await _conversations_on(database, apps.account) == 1
        await _bot_got_only(hub, apps, {conversation_id: ["Hello"]})

    async def test_resent_after_the_window_opens_a_new_conversation(
        self, short_window_hub, apps, database
    ):
        start = apps.start("Hello", messageId="1")
        [(_, first)] = _accepted(await send(short_window_hub, start))
        await asyncio.sleep(SHORT_WINDOW + 0.2)
        [(_, second)] = _accepted(await send(short_window_hub, start))
        assert second != first
        assert await _conversations_on(database, apps.account) == 2

    async def test_same_message_id_on_another_account_opens_a_new_conversation(
        self, hub, apps, database
    ):
        channel_id = (await hub.get(f"/accounts/{apps.account}")).json()["channel"]["id"]
        body = account(channel_id=channel_id, orchestration_id=apps.orchestration)
        other = await create(hub, "/accounts", body)
        start = apps.start("Hello", messageId="s-1")
        elsewhere = copy.deepcopy(start)
        elsewhere["conversation"]["account"]["address"] = body["address"]
        [(_, here)] = _accepted(await send(hub, start))
        [(_, there)] = _accepted(await send(hub, elsewhere))
        assert here != there
        assert await _conversations_on(database, apps.account) == 1
        assert await _conversations_on(database, other) == 1

    async def test_same_message_id_with_another_message_opens_a_new_conversation(
        self, hub, apps, database
    ):
        # A client numbering messages per conversation starts every one with messageId "1".
        [(_, john)] = _accepted(await send(hub, apps.start("I am John", messageId="1")))
        [(_, jane)] = _accepted(await send(hub, apps.start("I am Jane", messageId="1")))
        assert john != jane
        assert await _conversations_on(database, apps.account) == 2

    async def test_identical_starts_at_once_open_one_conversation(self, hub, apps, database):
        start = apps.start("Hello", messageId="s-1")
        answers = await asyncio.gather(*(send(hub, start) for _ in range(5)))
        [first, *others] = [_accepted(answer) for answer in answers]
        assert all(other == first for other in others)
        assert await _conversations_on(database, apps.account) == 1
        await _bot_got_only(hub, apps, {first[0][1]: ["Hello"]})

    async def test_a_start_without_message_id_is_never_a_resend(self, hub, apps, database):
        [(_, first)] = _accepted(await send(hub, apps.start("Hello")))
        [(_, second)] = _accepted(await send(hub, apps.start("Hello")))
        assert second != first
        assert await _conversations_on(database, apps.account) == 2
        assert len(await received(apps.bot, 2)) == 2


class TestResentBatch:
    async def test_a_resent_batch_answers_its_first_ids(self, hub, apps, database):
        [(_, earlier)] = _accepted(await send(hub, apps.start("earlier")))
        batch = [
            apps.start("first", messageId="b-1"),
            apps.start("second", messageId="b-2"),
            say(earlier, "customer", "more", messageId="b-3"),
        ]
        first = _accepted(await send(hub, *batch))
        again = _accepted(await send(hub, *batch))
        assert again == first
        [(_, one), (_, two), (_, three)] = first
        assert three == earlier
        assert await _conversations_on(database, apps.account) == 3
        expected = {earlier: ["earlier", "more"], one: ["first"], two: ["second"]}
        await _bot_got_only(hub, apps, expected)

    async def test_the_same_start_twice_in_one_batch_is_one(self, hub, apps, database):
        start = apps.start("Hello", messageId="s-1")
        first, second = _accepted(await send(hub, start, start))
        assert second == first
        assert await _conversations_on(database, apps.account) == 1


class TestResentSpecialStarts:
    async def test_a_resent_survey_answers_the_first_survey(self, hub, apps, database):
        [(_, parent)] = _accepted(await send(hub, apps.start("Hello")))
        await send(hub, event(parent, "customer", "conversation.end"))
        survey = {
            "type": {"value": "text"},
            "content": {"text": "5 stars"},
            "messageId": "survey-1",
            "sender": {"type": "customer", "participant": {"name": "John"}},
            "conversation": {"type": "survey.form", "parent": {"id": parent}},
        }
        first = _accepted(await send(hub, survey))
        again = _accepted(await send(hub, survey))
        assert again == first
        assert await _conversations_on(database, apps.account) == 2

    async def test_a_resent_escalation_in_one_call_reaches_the_agent_once(self, hub, apps):
        message = apps.start(messageId="bot-1")
        message["type"] = {"value": "escalation.transfer"}
        del message["content"]
        message["sender"] = {"type": "custom_bot", "participant": {"name": "eva"}}
        first = _accepted(await send(hub, message))
        again = _accepted(await send(hub, message))
        assert again == first
        [(transfer_id, conversation_id)] = first
        await send(hub, say(conversation_id, "customer", "Hello agent"))
        bodies = await received(apps.agent, 2)
        assert only(bodies[0])["id"] == transfer_id
        assert only(bodies[1])["content"] == {"text": "Hello agent"}
