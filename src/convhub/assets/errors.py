"""The errors of assets, under :mod:`convhub.core.errors`'s tree::

InvalidValue (400-152)
├── AttachmentRefused     the channel's attachment policy refuses it; userMessage is the
│                         channel's localized text (msg_hub_blocked_file_extension, ...)
├── SizeMismatch          the uploaded bytes are not the declared size
└── ContentMismatch       the bytes contradict the name's extension
Unauthorized (401-104)
├── InvalidSignature      a signed URL that is tampered with or expired
└── UploadUsed            an upload URL whose bytes were already received (single use)
"""

from __future__ import annotations

from convhub.core.errors import InvalidValue, Unauthorized


class AttachmentRefused(InvalidValue):
    def __init__(self, attribute: str, reason: str, *, user_message: str) -> None:
        super().__init__(attribute, reason)
        # The text the channel gives its customers for this case, in the conversation's
        # language: a client shows it when it asks for userMessage (X-egain-error-message).
        self.user_message = user_message


class SizeMismatch(InvalidValue):
    def __init__(self, *, declared: int, received: int | None = None) -> None:
        reason = (
            f"more bytes were sent than the {declared} declared"
            if received is None
            else f"{received} bytes were sent, {declared} were declared"
        )
        super().__init__("size", reason)


class ContentMismatch(InvalidValue):
    def __init__(self, *, extension: str, found: str) -> None:
        super().__init__("name", f"the content ({found}) does not match the extension .{extension}")


class InvalidSignature(Unauthorized):
    def __init__(self) -> None:
        super().__init__()
        self.developer_message = self.user_message = (
            "The signature of this URL is not valid or has expired."
        )
        self.args = (self.developer_message,)


class UploadUsed(Unauthorized):
    def __init__(self) -> None:
        super().__init__()
        self.developer_message = self.user_message = (
            "This upload URL was already used: the asset's content is uploaded."
        )
        self.args = (self.developer_message,)
