"""The contract's five operations for one configuration resource, built from its spec.

Not ``from __future__ import annotations``: FastAPI reads the body models from the annotations
of the handlers defined inside :func:`config_router`. Each handler opens the transaction around
its one service call, so it is committed before the response is sent.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model

from convhub.configuration import registry, service
from convhub.configuration.spec import Context, ResourceSpec
from convhub.core.dependencies import ConfigManager, ConfigReader, NoQuery, RuntimeDep
from convhub.core.openapi import responses_for
from convhub.core.pagination import PageDep
from convhub.core.schemas import Created, PaginationInfo


def list_model(spec: ResourceSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "paginationInfo": (PaginationInfo, ...),
        spec.kind: (list[spec.read_model], ...),  # type: ignore[name-defined]
    }
    name = spec.read_model.__name__.removesuffix("Read")
    return create_model(f"{name}List", **fields)


def config_router(spec: ResourceSpec) -> APIRouter:
    registry.register(spec)
    router = APIRouter(prefix=spec.path, tags=[spec.tag])
    CreateBody = Annotated[spec.create_model, Body()]  # type: ignore[name-defined]
    ReplaceBody = Annotated[spec.replace_model, Body()]  # type: ignore[name-defined]

    def op(name: str) -> dict[str, Any]:
        meta = spec.operations[name]
        return {
            "operation_id": meta.operation_id,
            "summary": meta.summary,
            "description": meta.description,
            "responses": responses_for(meta.statuses),
        }

    @router.post("", status_code=status.HTTP_201_CREATED, **op("create"))
    async def create(
        caller: ConfigManager, _: NoQuery, runtime: RuntimeDep, body: CreateBody
    ) -> Created:
        async with runtime.db.session() as session:
            ctx = Context(session=session, tenant_id=caller.tenant_id, runtime=runtime)
            new_id = await service.create(ctx, spec, body)
        return Created(id=new_id)

    # GETs declare their models for the OpenAPI document and answer the stored documents as they
    # are (see service.present), so FastAPI does not validate them a second time.
    @router.get("", response_model=list_model(spec), **op("list"))
    async def list_all(caller: ConfigReader, page: PageDep, runtime: RuntimeDep) -> JSONResponse:
        async with runtime.db.session(write=False) as session:
            ctx = Context(session=session, tenant_id=caller.tenant_id, runtime=runtime)
            total, items = await service.list_page(ctx, spec, page)
        info = {"count": total, "pagenum": page.number, "pagesize": page.size}
        return JSONResponse({"paginationInfo": info, spec.kind: items})

    @router.get("/{id}", response_model=spec.read_model, **op("get"))
    async def read(id: str, caller: ConfigReader, _: NoQuery, runtime: RuntimeDep) -> JSONResponse:
        async with runtime.db.session(write=False) as session:
            ctx = Context(session=session, tenant_id=caller.tenant_id, runtime=runtime)
            return JSONResponse(await service.read(ctx, spec, id))

    @router.put("/{id}", status_code=status.HTTP_204_NO_CONTENT, **op("replace"))
    async def replace(
        id: str,
        caller: ConfigManager,
        _: NoQuery,
        runtime: RuntimeDep,
        body: ReplaceBody,
    ) -> Response:
        async with runtime.db.session() as session:
            ctx = Context(session=session, tenant_id=caller.tenant_id, runtime=runtime)
            await service.replace(ctx, spec, id, body)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, **op("delete"))
    async def remove(id: str, caller: ConfigManager, _: NoQuery, runtime: RuntimeDep) -> Response:
        async with runtime.db.session() as session:
            ctx = Context(session=session, tenant_id=caller.tenant_id, runtime=runtime)
            await service.delete(ctx, spec, id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
