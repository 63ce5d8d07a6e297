"""How a message is written: a continued conversation's message costs one read (the
conversation, locked, with its tenant's configuration version) and then its writes, the
conversation's changes, the message and its delivery, as one statement (conversations/writes.py:
data-modifying CTEs on PostgreSQL, an INSERT into a view with an INSTEAD OF trigger on SQLite).
Each statement is a round trip, and on this path a round trip costs more than the work it
carries."""

from __future__ import annotations

from tests.conversations.conftest import only, received, say, send


async def test_a_continued_message_is_one_read_and_its_writes(hub, apps, in_process):
    client, statements = in_process.client, in_process.statements
    started = await send(hub, apps.start())
    conversation = started["messages"]["message"][0]["conversation"]["id"]
    # The first message of this process reads what it then keeps: the API client's state and
    # the tenant's configuration.
    await send(client, say(conversation, "customer", "second"))
    statements.clear()
    await send(client, say(conversation, "customer", "third"))
    assert len(statements) == 2, statements
    assert statements[0].lstrip().upper().startswith("SELECT")
    # Written whole: the hub's worker delivers them, in order, after the first.
    texts = [only(body)["content"]["text"] for body in await received(apps.bot, 3)]
    assert texts == ["Hello", "second", "third"]
