"""Asset request and response models, field for field as the contract's ``ConversationAsset``,
``PreUploadAssetResponse`` and ``PreDownloadAssetResponse``."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, StrictInt

from convhub.core.schemas import Name, RequestModel, ResponseModel

MAX_ASSET_SIZE: Final = 10485760  # 10 MiB, ConversationAsset.size's maximum


class AssetChannel(RequestModel):
    type: Name


class AssetSender(RequestModel):
    """The application type that will send the asset in a message: a customer's attachment is
    held to the channel's inbound policy, anyone else's to the outbound one."""

    type: Literal["custom_bot", "customer", "egain_agent", "egain_bot", "custom_agent"]


class AssetCreate(RequestModel):
    """``ConversationAsset``: the body of POST /assets."""

    channel: AssetChannel
    sender: AssetSender
    name: Name
    size: Annotated[StrictInt, Field(ge=1, le=MAX_ASSET_SIZE)]


class PreUploadAsset(ResponseModel):
    """``PreUploadAssetResponse``."""

    id: str
    contentUrl: str
    contentUrlExpiry: str


class PreDownloadAsset(ResponseModel):
    """``PreDownloadAssetResponse``. Before its bytes are uploaded an asset has no content type
    and nothing to download: those attributes are left out."""

    id: str
    name: str
    size: int
    contentType: str | None = None
    contentUrl: str | None = None
    contentUrlExpiry: str | None = None


class UploadedContent(ResponseModel):
    """What the upload URL answers (an extension): the asset as stored."""

    id: str
    name: str
    size: int
    contentType: str
