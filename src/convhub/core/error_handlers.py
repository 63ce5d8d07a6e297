"""One place that renders every error as ``WSErrorCommon`` (never FastAPI's default 422)."""

from __future__ import annotations

import re

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from convhub.core.errors import ApiError, BadRequest, InternalError, NotFound
from convhub.core.validation import api_error_from

log = structlog.get_logger(__name__)


def wants_user_message(request: Request) -> bool:
    return request.headers.get("x-egain-error-message", "").strip().lower() == "yes"


def render(request: Request, error: ApiError) -> JSONResponse:
    return JSONResponse(
        error.body(with_user_message=wants_user_message(request)), status_code=error.status
    )


class _MethodNotAllowed(ApiError):
    status = 405
    code = "405-100"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return render(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return render(request, api_error_from(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error: ApiError
    if exc.status_code == 404:
        error = NotFound(request.url.path)
    elif exc.status_code == 405:
        error = _MethodNotAllowed(f"Method {request.method} is not allowed on this resource.")
    elif exc.status_code < 500:
        error = BadRequest(str(exc.detail))
    else:
        error = InternalError()
    response = render(request, error)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API serves on this path. Starlette's own ``Allow`` names only the first
    route that matched the path, and each of our operations is a route of its own; the published
    document has them all (the router's included routers keep theirs out of reach)."""
    methods: set[str] = set()
    for template, item in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}/]+\}", "[^/]+", template), request.url.path):
            methods.update(method.upper() for method in item)
    return sorted(methods)


async def _backend_error(request: Request, exc: Exception) -> JSONResponse:
    # The database failed or is away (a restart, a dropped connection, a timeout): the request's
    # transaction rolled back, and the client may send it again. Handled here rather than by the
    # catch-all below, which Starlette follows by re-raising, so that the server closes the
    # connection and cuts off the next request a client had on its way over it.
    log.error("backend_error", path=request.url.path, error=type(exc).__name__)
    return render(request, InternalError())


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return render(request, InternalError())


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _backend_error)
    # Connecting to a database that is down: refused, reset, timed out (asyncpg raises these
    # unwrapped while it opens a connection), or any other I/O a request depends on.
    app.add_exception_handler(OSError, _backend_error)
    app.add_exception_handler(Exception, _unexpected)
