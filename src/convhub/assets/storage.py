"""Where asset bytes live: a local directory (default) or an S3-compatible store.

Both stream: a write consumes an async iterator of chunks, a read yields chunks, so a 10 MiB
asset is never held whole in memory (S3 holds one multipart part, 5 MiB, at a time). A write
that fails part way (the iterator raises: wrong size, spoofed content, a client gone) leaves
nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from convhub.core.settings import Settings

if TYPE_CHECKING:
    from aiobotocore.session import AioSession
    from types_aiobotocore_s3 import S3Client

CHUNK = 64 * 1024
# S3 multipart parts must be at least 5 MiB (but the last).
PART = 5 * 1024 * 1024


class NotStored(Exception):
    """The store has no bytes under this key."""


class AssetStore(Protocol):
    async def write(self, key: str, chunks: AsyncIterator[bytes]) -> None: ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The bytes under ``key``, as chunks; raises :class:`NotStored` before the first."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes (and any unfinished upload) under ``key``; absent is fine."""
        ...


class LocalStore:
    """Files under a directory: written to ``<key>.part``, fsynced, then renamed into place."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    async def write(self, key: str, chunks: AsyncIterator[bytes]) -> None:
        path = self._path(key)
        part = path.with_name(path.name + ".part")
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        file = await asyncio.to_thread(part.open, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(file.write, chunk)
            await asyncio.to_thread(_flush, file)
        except BaseException:
            file.close()
            part.unlink(missing_ok=True)
            raise
        file.close()
        await asyncio.to_thread(os.replace, part, path)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        try:
            file = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError as exc:
            raise NotStored(key) from exc
        return _read_file(file)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        for target in (path, path.with_name(path.name + ".part")):
            await asyncio.to_thread(target.unlink, missing_ok=True)


def _flush(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


async def _read_file(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        file.close()


class S3Store:
    """An S3 bucket (AWS, MinIO, Ceph, ...): a small object in one PUT, a larger one in 5 MiB
    multipart parts. A client is opened per operation: nothing to close at shutdown."""

    def __init__(self, settings: Settings) -> None:
        if not settings.asset_s3_bucket:
            raise ValueError("CONVHUB_ASSET_S3_BUCKET is required with CONVHUB_ASSET_STORE=s3")
        self.bucket = settings.asset_s3_bucket
        self.prefix = settings.asset_s3_prefix
        secret = settings.asset_s3_secret_access_key
        self._client_args: dict[str, Any] = {
            "region_name": settings.asset_s3_region,
            "endpoint_url": settings.asset_s3_endpoint_url,
            "aws_access_key_id": settings.asset_s3_access_key_id,
            "aws_secret_access_key": secret.get_secret_value() if secret else None,
        }
        self._session: AioSession | None = None

    def _client(self) -> contextlib.AbstractAsyncContextManager[S3Client]:
        if self._session is None:
            # Imported here: botocore and aiohttp are heavy, and a local store never needs them.
            # One session: it parses the S3 service description once, not per client.
            from aiobotocore.session import get_session

            self._session = get_session()
        return self._session.create_client("s3", **self._client_args)

    async def write(self, key: str, chunks: AsyncIterator[bytes]) -> None:
        name = self.prefix + key
        buffer = bytearray()
        async with self._client() as s3:
            upload_id: str | None = None
            parts: list[dict[str, Any]] = []
            try:
                async for chunk in chunks:
                    buffer += chunk
                    if len(buffer) >= PART:
                        if upload_id is None:
                            started = await s3.create_multipart_upload(Bucket=self.bucket, Key=name)
                            upload_id = started["UploadId"]
                        parts.append(await self._part(s3, name, upload_id, len(parts) + 1, buffer))
                        buffer = bytearray()
                if upload_id is None:
                    await s3.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
                    return
                if buffer:
                    parts.append(await self._part(s3, name, upload_id, len(parts) + 1, buffer))
                await s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                )
            except BaseException:
                if upload_id is not None:
                    with contextlib.suppress(Exception):
                        await s3.abort_multipart_upload(
                            Bucket=self.bucket, Key=name, UploadId=upload_id
                        )
                raise

    async def _part(
        self, s3: S3Client, name: str, upload_id: str, number: int, data: bytearray
    ) -> dict[str, Any]:
        answer = await s3.upload_part(
            Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=bytes(data)
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def open(self, key: str) -> AsyncIterator[bytes]:
        from botocore.exceptions import ClientError

        stack = contextlib.AsyncExitStack()
        s3 = await stack.enter_async_context(self._client())
        try:
            answer = await s3.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            await stack.aclose()
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise NotStored(key) from exc
            raise
        return _read_object(stack, answer["Body"])

    async def delete(self, key: str) -> None:
        name = self.prefix + key
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=name)
            # An upload cut short by a crash leaves its parts: abort them too.
            unfinished = await s3.list_multipart_uploads(Bucket=self.bucket, Prefix=name)
            for upload in unfinished.get("Uploads", []):
                if upload.get("Key") == name and "UploadId" in upload:
                    await s3.abort_multipart_upload(
                        Bucket=self.bucket, Key=name, UploadId=upload["UploadId"]
                    )


async def _read_object(stack: contextlib.AsyncExitStack, body: Any) -> AsyncIterator[bytes]:
    try:
        async with body as stream:
            async for chunk in stream.iter_chunks(CHUNK):
                yield chunk
    finally:
        await stack.aclose()


def build_store(settings: Settings) -> AssetStore:
    if settings.asset_store == "s3":
        return S3Store(settings)
    return LocalStore(settings.asset_dir)
