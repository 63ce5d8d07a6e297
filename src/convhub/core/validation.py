"""Pydantic validation errors turned into eGain's codes (DECISIONS §4).

The first problem found is reported. Model validators that enforce rules the schema cannot say
(a ``oneOf``, "required if the other is absent") raise :func:`missing`, :func:`invalid`,
:func:`unknown` or :func:`unallowed` so their errors map to the same codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import PydanticCustomError

from convhub.core.errors import (
    ApiError,
    BodyNotJson,
    InvalidValue,
    MaxLengthExceeded,
    PatternMismatch,
    RequiredAttributeMissing,
    UnallowedValue,
    UnknownAttribute,
)

_MISSING = "convhub_missing"
_INVALID = "convhub_invalid"
_UNKNOWN = "convhub_unknown"
_UNALLOWED = "convhub_unallowed"
_OURS = {_MISSING, _INVALID, _UNKNOWN, _UNALLOWED}
_ID_LENGTH = 36


def missing(attribute: str) -> PydanticCustomError:
    """Error for a model validator: ``attribute`` (relative to the model) is required."""
    return PydanticCustomError(_MISSING, "{attribute} is required", {"attribute": attribute})


def invalid(attribute: str, reason: str) -> PydanticCustomError:
    """Error for a model validator: ``attribute`` (relative to the model) is invalid."""
    return PydanticCustomError(
        _INVALID, "{attribute}: {reason}", {"attribute": attribute, "reason": reason}
    )


def unknown(attribute: str) -> PydanticCustomError:
    """Error for a model validator: ``attribute`` is not allowed in this variant (a oneOf)."""
    return PydanticCustomError(_UNKNOWN, "{attribute} is not allowed", {"attribute": attribute})


def unallowed(attribute: str, allowed: Sequence[str]) -> PydanticCustomError:
    """Error for a model validator: ``attribute`` is none of the ``allowed`` values (an enum
    the schema cannot say as a ``Literal``, such as "these types, or ``custom.*``")."""
    return PydanticCustomError(
        _UNALLOWED,
        "{attribute}: not an allowed value",
        {"attribute": attribute, "allowed": list(allowed)},
    )


def dotted(loc: Sequence[int | str]) -> str:
    """``("roles", 0, "callback")`` → ``roles[0].callback``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _join(path: str, attribute: str) -> str:
    return f"{path}.{attribute}" if path else attribute


def api_error_from(errors: Sequence[Any]) -> ApiError:
    """The eGain error for the first of FastAPI's/Pydantic's validation errors."""
    error = errors[0]
    loc = tuple(error.get("loc", ()))
    if loc[:1] == ("body",):
        loc = loc[1:]
        if not loc and error["type"] not in _OURS:
            return BodyNotJson()
    if error["type"] in {"json_invalid", "json_type"}:
        return BodyNotJson()
    return _map(error, dotted(loc), loc)


def _map(error: Any, path: str, loc: tuple[Any, ...]) -> ApiError:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return RequiredAttributeMissing(path)
    if kind == _MISSING:
        return RequiredAttributeMissing(_join(path, ctx["attribute"]))
    if kind == _INVALID:
        return InvalidValue(_join(path, ctx["attribute"]), str(ctx["reason"]))
    if kind == _UNKNOWN:
        return UnknownAttribute(_join(path, ctx["attribute"]))
    if kind == _UNALLOWED:
        return UnallowedValue(_join(path, ctx["attribute"]), ctx["allowed"])
    if kind == "extra_forbidden":
        return UnknownAttribute(path)
    if kind in {"literal_error", "enum"} and not isinstance(error.get("input"), str):
        return InvalidValue(path, "not a string")
    if kind in {"literal_error", "enum"}:
        expected = str(ctx.get("expected", ""))
        return UnallowedValue(
            path, [v.strip().strip("'") for v in expected.replace(" or ", ",").split(",")]
        )
    # ObjectId is exactly 36 characters: a wrong length is a format error, not "too long".
    limit = ctx.get("max_length", ctx.get("min_length"))
    is_id = bool(loc) and loc[-1] == "id" and limit == _ID_LENGTH
    if is_id and kind in {"string_too_short", "string_too_long"}:
        return PatternMismatch(path, f"a string of exactly {_ID_LENGTH} characters")
    if kind == "string_too_long":
        return MaxLengthExceeded(path, int(ctx["max_length"]))
    if kind == "string_pattern_mismatch":
        return PatternMismatch(path, str(ctx.get("pattern", "")))
    return InvalidValue(path, str(error.get("msg", "")))
