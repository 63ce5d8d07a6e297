"""The OpenAPI document we publish: the contract's status codes per operation, no FastAPI 422."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_ERROR_REF = {"$ref": "#/components/schemas/WSErrorCommon"}
_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal server error",
}

WS_ERROR_COMMON: dict[str, Any] = {
    "type": "object",
    "title": "Error Response",
    "required": ["code", "developerMessage"],
    "properties": {
        "code": {"type": "string"},
        "developerMessage": {"type": "string", "maxLength": 255},
        "details": {
            "type": "array",
            "maxItems": 30,
            "items": {
                "type": "object",
                "required": ["key"],
                "properties": {
                    "key": {"type": "string", "maxLength": 255},
                    "value": {"type": "string", "maxLength": 255},
                },
            },
        },
        "userMessage": {"type": "string", "maxLength": 1024},
    },
}


def responses_for(statuses: tuple[int, ...]) -> dict[int | str, dict[str, Any]]:
    """Error responses (>= 400) for the route decorator; the success code comes from the route."""
    return {
        code: {
            "description": _DESCRIPTIONS[code],
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
        for code in statuses
        if code >= 400
    }


def install(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            components["WSErrorCommon"] = WS_ERROR_COMMON
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
