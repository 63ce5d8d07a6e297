"""Building blocks shared by every request and response model.

Wire names are exactly the contract's (camelCase), so fields are declared with those names.
Scalars are strict: ``"30"`` is not a number and ``"true"`` is not a boolean, as in eGain's API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from convhub.core.validation import invalid


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as in the contract's examples."""
    # isoformat, not strftime: a third of the time, and it truncates to milliseconds too.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _number_out(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class RequestModel(BaseModel):
    """Base of every request body: unknown attributes are refused (400-420), and so is ``null``
    (400-152): the contract declares nothing nullable, and an optional attribute is one that is
    left out."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None and key in cls.model_fields:
                    raise invalid(key, "null is not a valid value")
        return data


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


Name = Annotated[StrictStr, Field(min_length=1, max_length=255)]
Text1023 = Annotated[StrictStr, Field(min_length=1, max_length=1023)]
Description = Text1023
# Ids are exactly 36 characters; a wrong length is a format error (400-414), see core.validation.
ObjectId = Annotated[StrictStr, Field(min_length=36, max_length=36)]
Active = StrictBool


def _as_utc(value: datetime) -> datetime:
    # A timestamp without an offset is read as UTC, the contract's "time in GMT".
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = Annotated[
    datetime, AfterValidator(_as_utc), PlainSerializer(format_timestamp, return_type=str)
]
Integer = StrictInt


# A JSON number (int or float) echoed back as it came: 30 stays 30, not 30.0.
NumberOut = PlainSerializer(_number_out, return_type=int | float)
Minutes = Annotated[StrictFloat, Field(ge=1, le=10080), NumberOut]


class IdRef(RequestModel):
    """``{"id": "<36 characters>"}``: how the contract points at another object."""

    id: ObjectId


class Attribute(RequestModel):
    name: Name
    value: Text1023


class Created(ResponseModel):
    id: str


class PaginationInfo(ResponseModel):
    count: int
    pagenum: int
    pagesize: int
