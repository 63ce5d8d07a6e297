"""``/assets``: the contract's three Asset operations, and the signed URLs their answers give
for the bytes (``/assets/{id}/upload``, ``/assets/{id}/download``; no bearer token)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from convhub.assets import content, service
from convhub.assets.errors import InvalidSignature
from convhub.assets.schemas import AssetCreate, PreDownloadAsset, PreUploadAsset, UploadedContent
from convhub.assets.signing import AssetLinks, links_for
from convhub.configuration.service import check_id
from convhub.core.database import utcnow
from convhub.core.dependencies import NoQuery, RuntimeDep, require
from convhub.core.errors import UnknownQueryParameter
from convhub.core.openapi import responses_for
from convhub.core.runtime import Runtime
from convhub.core.security import permissions as perms
from convhub.core.security.tokens import Caller

router = APIRouter(prefix="/assets", tags=["Assets"])

Manager = Annotated[Caller, Depends(require(perms.INTERACTION_MANAGE))]
Reader = Annotated[Caller, Depends(require(perms.INTERACTION_MANAGE, perms.INTERACTION_READ))]


# async: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per request.
async def request_links(request: Request, runtime: RuntimeDep) -> AssetLinks:
    return links_of(request, runtime)


def links_of(request: Request, runtime: Runtime) -> AssetLinks:
    """The links of answers to ``request``, kept per base URL (there are one or two).

    Looked up by what the base URL is made of (scheme, Host header or server, root path):
    building it (``request.base_url``) parses a URL, on every sendMessage."""
    scope = request.scope
    host = request.headers.get("host")
    key = (scope.get("scheme"), host, None if host else scope.get("server"), scope.get("root_path"))
    links = runtime.asset_links.get(key)
    if links is None:
        if len(runtime.asset_links) > 100:  # Host headers are the client's to choose
            runtime.asset_links.clear()
        base = str(request.base_url)
        links = runtime.asset_links[key] = links_for(runtime.settings, request_base=base)
    return links


LinksDep = Annotated[AssetLinks, Depends(request_links)]


@router.post(
    "",
    operation_id="createAsset",
    summary="Create Asset",
    responses=responses_for((200, 400, 401, 403, 500)),
    response_model=PreUploadAsset,
)
async def create_asset(
    caller: Manager,
    _: NoQuery,
    runtime: RuntimeDep,
    links: LinksDep,
    body: Annotated[AssetCreate, Body()],
) -> JSONResponse:
    """Declare an asset (name with its extension, size, the channel and the sender type) and get
    a signed `contentUrl`, valid 30 minutes, to `PUT` or `POST` its bytes to. The name and size
    are checked against the channel's attachment policy (inbound for a customer, outbound for
    the others)."""
    async with runtime.db.session() as session:
        ctx = service.AssetContext(session, caller.tenant_id, links, utcnow())
        created = await service.create(ctx, body)
    return JSONResponse(created.model_dump())


@router.get(
    "/{id}",
    operation_id="getAsset",
    summary="Get Asset",
    responses=responses_for((200, 400, 401, 403, 404, 500)),
    response_model=PreDownloadAsset,
    response_model_exclude_none=True,
)
async def get_asset(
    id: str, caller: Reader, _: NoQuery, runtime: RuntimeDep, links: LinksDep
) -> JSONResponse:
    """An asset's name, size and sniffed content type, with a signed `contentUrl` to download
    its bytes (until `contentUrlExpiry`). Before its bytes are uploaded it has neither."""
    async with runtime.db.session(write=False) as session:
        ctx = service.AssetContext(session, caller.tenant_id, links, utcnow())
        shown = await service.read(ctx, id)
    return JSONResponse(shown.model_dump(exclude_none=True))


@router.delete(
    "/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteAsset",
    summary="Delete Asset",
    responses=responses_for((204, 400, 401, 403, 404)),
)
async def delete_asset(
    id: str, caller: Manager, _: NoQuery, runtime: RuntimeDep, links: LinksDep
) -> Response:
    """Delete an asset and its bytes. Once a message has carried it, it cannot be deleted."""
    async with runtime.db.session() as session:
        ctx = service.AssetContext(session, caller.tenant_id, links, utcnow())
        storage_key = await service.delete(ctx, id)
    await content.remove_bytes(runtime, storage_key)
    return Response(status_code=204)


async def _signed(request: Request) -> tuple[str, str]:
    """``expires`` and ``signature``, the only query parameters a signed URL has."""
    unknown = [name for name in request.query_params if name not in {"expires", "signature"}]
    if unknown:
        raise UnknownQueryParameter(unknown)
    if not (request.query_params.get("expires") and request.query_params.get("signature")):
        raise InvalidSignature()
    return request.query_params["expires"], request.query_params["signature"]


Signed = Annotated[tuple[str, str], Depends(_signed)]


_UPLOAD = {
    "summary": "Upload an asset's bytes (signed URL)",
    "responses": responses_for((200, 400, 401, 404, 500)),
    "response_model": UploadedContent,
}


# PUT or POST alike (DECISIONS §9); one operation id each, as OpenAPI wants.
@router.put("/{id}/upload", operation_id="uploadAssetContent", **_UPLOAD)  # type: ignore[arg-type]
@router.post("/{id}/upload", operation_id="uploadAssetContentByPost", **_UPLOAD)  # type: ignore[arg-type]
async def upload_content(
    id: str,
    request: Request,
    runtime: RuntimeDep,
    signed: Signed,
) -> JSONResponse:
    """The raw bytes of the asset as the body (any content type). Exactly the declared size;
    the content type is sniffed from the bytes, which must not contradict the name's extension.
    The URL works once: after a successful upload it is spent."""
    check_id(id)
    content.check_signature(
        runtime, asset_id=id, purpose="upload", expires=signed[0], given=signed[1]
    )
    length = request.headers.get("content-length")
    uploaded = await content.upload(
        runtime,
        asset_id=id,
        body=request.stream(),
        declared_length=int(length) if length and length.isdigit() else None,
    )
    return JSONResponse(uploaded.model_dump())


@router.get(
    "/{id}/download",
    operation_id="downloadAssetContent",
    summary="Download an asset's bytes (signed URL)",
    responses=responses_for((200, 400, 401, 404, 500)),
    response_class=StreamingResponse,
)
async def download_content(
    id: str,
    runtime: RuntimeDep,
    signed: Signed,
) -> StreamingResponse:
    """The asset's bytes, streamed, with its sniffed content type."""
    check_id(id)
    content.check_signature(
        runtime, asset_id=id, purpose="download", expires=signed[0], given=signed[1]
    )
    found = await content.download(runtime, asset_id=id)
    asset = found.asset
    return StreamingResponse(
        found.chunks,
        media_type=asset.content_type or "application/octet-stream",
        headers={
            "Content-Length": str(asset.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(asset.name, safe='')}",
            # The browser must not second-guess the sniffed type (an HTML "image").
            "X-Content-Type-Options": "nosniff",
        },
    )
