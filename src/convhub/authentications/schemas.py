"""Authentication wire models, field for field as the contract's ``Oauth2Authentication`` and
``BasicAuthentication`` (a ``oneOf`` on ``type``).

One model with both variants' attributes and a validator, rather than a Pydantic tagged union:
a tagged union reports errors under the tag (``oauth2.oauth2.method``), and eGain's error
messages name the attribute as the client wrote it (``oauth2.method``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StrictStr, model_validator

from convhub.core.schemas import (
    Active,
    Attribute,
    Description,
    Name,
    ObjectId,
    RequestModel,
    Timestamp,
)
from convhub.core.validation import missing, unknown

Text1024 = Annotated[StrictStr, Field(min_length=1, max_length=1024)]


class OAuth2Settings(RequestModel):
    tokenRequestUrl: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    method: Literal["POST", "GET"]
    headers: Annotated[list[Attribute], Field(min_length=1, max_length=25)]
    payload: Text1024
    accessTokenPath: Text1024


class BasicAuthSettings(RequestModel):
    username: Name
    password: Name


class AuthenticationCreate(RequestModel):
    name: Name
    description: Description | None = None
    active: Active = True
    type: Literal["oauth2", "basic"]
    oauth2: OAuth2Settings | None = None
    basicAuth: BasicAuthSettings | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        wanted, other = (
            ("oauth2", "basicAuth") if self.type == "oauth2" else ("basicAuth", "oauth2")
        )
        if getattr(self, wanted) is None:
            raise missing(wanted)
        if getattr(self, other) is not None:
            raise unknown(other)
        return self


class AuthenticationReplace(AuthenticationCreate):
    modified: Timestamp | None = None


class AuthenticationRead(AuthenticationCreate):
    id: ObjectId
    created: Timestamp
    modified: Timestamp
