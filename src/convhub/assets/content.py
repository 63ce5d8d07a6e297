"""The bytes of an asset: upload to the signed ``upload`` URL, download from the ``download``
one. The signature is the credential (no bearer token).

An upload streams the request body into the store while counting bytes and sniffing the first
ones: it is refused as soon as it holds more bytes than declared, at its end if it holds fewer,
and when its bytes contradict the name's extension; then nothing is kept. Single use: the
asset moves ``pending → uploading`` in a transaction of its own before any byte is read (a
second upload with the same URL finds it taken), and ``uploading → uploaded`` after the bytes
are stored. No transaction stays open while bytes flow: a 10 MiB upload must not hold
SQLite's write lock. A failed upload puts the asset back to ``pending``, so the URL can be used
again until it expires.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog

from convhub.assets import repository, signing
from convhub.assets.errors import SizeMismatch, UploadUsed
from convhub.assets.schemas import UploadedContent
from convhub.assets.signing import Purpose
from convhub.assets.sniffing import HEAD, Sniffed, sniff
from convhub.assets.storage import NotStored
from convhub.core.database import utcnow
from convhub.core.errors import NotFound
from convhub.core.runtime import Runtime
from convhub.models import Asset

log = structlog.get_logger(__name__)


@dataclass
class Intake:
    """Counts and sniffs the chunks flowing from the request to the store."""

    name: str
    size: int
    received: int = 0
    head: bytearray = field(default_factory=bytearray)
    sniffed: Sniffed | None = None

    async def checked(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.received += len(chunk)
            if self.received > self.size:
                raise SizeMismatch(declared=self.size)
            if self.sniffed is None:
                self.head += chunk[: HEAD - len(self.head)]
                if len(self.head) >= HEAD:
                    self.sniffed = sniff(bytes(self.head), name=self.name, complete=False)
            yield chunk
        if self.received != self.size:
            raise SizeMismatch(declared=self.size, received=self.received)
        if self.sniffed is None:
            self.sniffed = sniff(bytes(self.head), name=self.name, complete=True)


def check_signature(
    runtime: Runtime, *, asset_id: str, purpose: Purpose, expires: str, given: str
) -> None:
    signing.verify(
        signing.url_key(runtime.settings),
        asset_id=asset_id,
        purpose=purpose,
        expires=expires,
        given=given,
        now=utcnow(),
    )


async def upload(
    runtime: Runtime, *, asset_id: str, body: AsyncIterator[bytes], declared_length: int | None
) -> UploadedContent:
    asset = await _claim(runtime, asset_id)
    try:
        if declared_length is not None and declared_length != asset.size:
            raise SizeMismatch(declared=asset.size, received=declared_length)
        intake = Intake(name=asset.name, size=asset.size)
        await runtime.store.write(asset.storage_key, intake.checked(body))
    except BaseException:
        async with runtime.db.session() as session:
            await repository.release_upload(session, asset_id=asset_id)
        raise
    assert intake.sniffed is not None
    async with runtime.db.session() as session:
        done = await repository.finish_upload(
            session, asset_id=asset_id, content_type=intake.sniffed.content_type, now=utcnow()
        )
    if done is None:  # deleted (or expired and cleaned up) while the bytes were flowing
        await runtime.store.delete(asset.storage_key)
        raise NotFound(asset_id)
    return UploadedContent(
        id=done.id, name=done.name, size=done.size, contentType=intake.sniffed.content_type
    )


async def _claim(runtime: Runtime, asset_id: str) -> Asset:
    async with runtime.db.session() as session:
        asset = await repository.get(session, asset_id=asset_id)
        if asset is None:
            raise NotFound(asset_id)
        if not await repository.claim_upload(session, asset_id=asset_id, now=utcnow()):
            raise UploadUsed()
    return asset


@dataclass
class Download:
    asset: Asset
    chunks: AsyncIterator[bytes]


async def download(runtime: Runtime, *, asset_id: str) -> Download:
    async with runtime.db.session(write=False) as session:
        asset = await repository.get(session, asset_id=asset_id)
    if asset is None or asset.state != "uploaded":
        raise NotFound(asset_id)
    try:
        chunks = await runtime.store.open(asset.storage_key)
    except NotStored as exc:
        raise NotFound(asset_id) from exc
    return Download(asset, chunks)


async def remove_bytes(runtime: Runtime, storage_key: str) -> None:
    """After the asset's row is gone: its bytes go too. A failure leaves an orphan file, logged,
    never an asset without bytes."""
    try:
        await runtime.store.delete(storage_key)
    except Exception as exc:
        log.warning("asset_bytes_not_deleted", key=storage_key, error=type(exc).__name__)
