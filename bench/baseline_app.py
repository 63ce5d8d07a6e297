"""The baseline: the thinnest endpoint on convhub's stack that does what accepting a message
must do at the least, so that our figure can be read against it.

FastAPI, Pydantic parsing of a send-message body, and one transaction through convhub's own
``Database`` (same driver, same SQLite PRAGMAs and BEGIN IMMEDIATE, same PostgreSQL pool) that
inserts a message row and an outbox row; served by uvicorn with ``convhub serve``'s settings.
No authentication, no routing, no configuration lookups: everything convhub adds on top is what
the ratio measures.

    python -m bench.baseline_app PORT    (CONVHUB_DATABASE_URL names the database)
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import uvicorn
from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from convhub.core.database import Database, UTCDateTime, utcnow


class _Base(DeclarativeBase):
    pass


class BaselineMessage(_Base):
    __tablename__ = "baseline_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class BaselineOutbox(_Base):
    __tablename__ = "baseline_outbox"
    # In the order written: bench/baseline_worker.py delivers oldest first.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(36))
    conversation_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What the worker's claim looks for (convhub's outbox has its like).
    __table_args__ = (
        Index(
            "baseline_outbox_due",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )


# convhub's migration 0008: a statement trigger wakes listening workers at commit.
_NOTIFY = (
    """
    CREATE OR REPLACE FUNCTION baseline_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('baseline_outbox', '');
        RETURN NULL;
    END
    $$
    """,
    "CREATE OR REPLACE TRIGGER baseline_outbox_notify AFTER INSERT ON baseline_outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION baseline_outbox_notify()",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Value(_Strict):
    value: str


class _Content(_Strict):
    text: str = Field(max_length=4000)


class _Participant(_Strict):
    name: str


class _Sender(_Strict):
    type: str
    participant: _Participant | None = None


class _Conversation(_Strict):
    id: str


class _Message(_Strict):
    type: _Value
    content: _Content
    sender: _Sender
    conversation: _Conversation


class _Messages(_Strict):
    message: list[_Message] = Field(min_length=1, max_length=10)


class SendRequest(_Strict):
    messages: _Messages


def create_app(url: str) -> FastAPI:
    state: dict[str, Database] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        db = Database(url)
        async with db.engine.begin() as connection:
            await connection.run_sync(_Base.metadata.create_all)
            if connection.dialect.name == "postgresql":
                for statement in _NOTIFY:
                    await connection.exec_driver_sql(statement)
        state["db"] = db
        yield
        await db.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/messages", status_code=202)
    async def send(body: Annotated[SendRequest, Body()]) -> JSONResponse:
        accepted: list[dict[str, Any]] = []
        now = utcnow()
        async with state["db"].session() as session:
            for message in body.messages.message:
                document = message.model_dump(mode="json")
                message_id = str(uuid.uuid4())
                session.add(
                    BaselineMessage(
                        id=message_id,
                        conversation_id=message.conversation.id,
                        document=json.dumps(document),
                        created=now,
                    )
                )
                session.add(
                    BaselineOutbox(
                        message_id=message_id,
                        conversation_id=message.conversation.id,
                        payload=json.dumps({"messages": {"message": [document]}}),
                        state="pending",
                        next_attempt_at=now,
                    )
                )
                accepted.append({"id": message_id, "conversation": {"id": message.conversation.id}})
        return JSONResponse({"messages": {"message": accepted}}, status_code=202)

    return app


def main() -> None:
    port = int(sys.argv[1])
    app = create_app(os.environ["CONVHUB_DATABASE_URL"])
    # convhub serve's uvicorn settings (cli.py): defaults, log level from the settings.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
