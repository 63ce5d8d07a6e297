"""Typed errors, rendered as eGain's ``WSErrorCommon`` by one handler.

Every error a caller can see is an :class:`ApiError`; the code is eGain's ``<status>-<number>``::

    ApiError                      status, code, developerMessage, details
    ├── BadRequest (400)
    │   ├── BodyNotJson               400-264
    │   ├── UnknownQueryParameter     400-101
    │   ├── InvalidQueryValue         400-244
    │   ├── RequiredAttributeMissing  400-143
    │   ├── UnknownAttribute          400-420
    │   ├── MaxLengthExceeded         400-358
    │   ├── UnallowedValue            400-196
    │   ├── PatternMismatch           400-414
    │   ├── InvalidValue              400-152
    │   ├── DuplicateResource         400-138
    │   ├── BreaksReferrer            400-152
    │   ├── ReferenceNotFound         400-194
    │   ├── MessageTypeNotAllowed     400-199
    │   ├── SenderNotInConversation   400-240
    │   ├── ConversationNotActive     400-630
    │   └── ResourceInUse             400-160
    ├── Unauthorized (401-104)
    ├── Forbidden (403-197)
    ├── SenderMayNotStart (403-103)
    ├── NotFound (404-101)
    ├── ModifiedMismatch (409-100)
    ├── NothingToRedeliver (409-901)   our own operator endpoints (convhub.operations)
    ├── ContentRedacted (409-902)
    ├── InternalError (500-100)
    └── ServiceBusy (503-100)

Services raise these; they never raise HTTPException. ``userMessage`` is only rendered when the
request carries ``X-egain-error-message: yes`` (see :mod:`convhub.core.error_handlers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "500-100"

    def __init__(
        self,
        developer_message: str,
        *,
        details: Iterable[tuple[str, str]] = (),
        user_message: str | None = None,
    ) -> None:
        super().__init__(developer_message)
        self.developer_message = developer_message
        self.details = list(details)
        self.user_message = user_message or developer_message

    def body(self, *, with_user_message: bool) -> dict[str, Any]:
        # The contract caps these lengths (WSErrorCommon): long names and values are cut.
        body: dict[str, Any] = {
            "code": self.code,
            "developerMessage": _cut(self.developer_message, 255),
        }
        if self.details:
            body["details"] = [
                {"key": _cut(k, 255), "value": _cut(v, 255)} for k, v in self.details[:30]
            ]
        if with_user_message:
            body["userMessage"] = _cut(self.user_message, 1024)
        return body


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class BadRequest(ApiError):
    status = 400
    code = "400-152"


class BodyNotJson(BadRequest):
    code = "400-264"

    def __init__(self) -> None:
        super().__init__("The request body is missing or is not valid JSON.")


class UnknownQueryParameter(BadRequest):
    code = "400-101"

    def __init__(self, names: Iterable[str]) -> None:
        joined = "', '".join(names)
        super().__init__(f"Unsupported query parameter(s) supplied: '{joined}'.")


class InvalidQueryValue(BadRequest):
    code = "400-244"

    def __init__(self, name: str, value: str) -> None:
        super().__init__(
            f"Invalid value '{value}' provided for query parameter '{name}'.",
            details=[(name, value[:255])],
        )


class RequiredAttributeMissing(BadRequest):
    code = "400-143"

    def __init__(self, attribute: str) -> None:
        super().__init__(f"Required attribute is missing in the request body: {attribute}")


class UnknownAttribute(BadRequest):
    code = "400-420"

    def __init__(self, attribute: str) -> None:
        super().__init__(
            f"{attribute}: is not defined in the schema and the schema does not allow "
            "additional properties"
        )


class MaxLengthExceeded(BadRequest):
    code = "400-358"

    def __init__(self, attribute: str, limit: int) -> None:
        super().__init__(
            f"The value provided for {attribute} is more than the maximum allowed length of {limit}"
        )


class UnallowedValue(BadRequest):
    code = "400-196"

    def __init__(self, attribute: str, allowed: Iterable[str]) -> None:
        super().__init__(
            f"Invalid value of attribute {attribute}, expected values are: [{', '.join(allowed)}]."
        )


class PatternMismatch(BadRequest):
    code = "400-414"

    def __init__(self, attribute: str, expected: str) -> None:
        super().__init__(
            f"Value(s) of request body attribute {attribute} must match the following format: "
            f"{expected}."
        )


class InvalidValue(BadRequest):
    code = "400-152"

    def __init__(self, attribute: str, reason: str | None = None) -> None:
        message = (
            "Invalid value is provided in the request body for the following attribute:"
            f"'{attribute}'."
        )
        super().__init__(message, details=[("reason", reason[:255])] if reason else ())


class DuplicateResource(BadRequest):
    code = "400-138"

    def __init__(self, value: str) -> None:
        super().__init__(f"Duplicate resource present in request body: {value}")


class ReferenceNotFound(BadRequest):
    code = "400-194"

    def __init__(self, attribute: str, ref_id: str) -> None:
        super().__init__(
            f"The resource referenced by '{attribute}' does not exist: {ref_id}",
            details=[(attribute, ref_id)],
        )


class ResourceInUse(BadRequest):
    code = "400-160"

    def __init__(self, resource: str, resource_id: str, *, used_by: str, user_id: str) -> None:
        super().__init__(
            f"The {resource} {resource_id} cannot be deleted: it is referenced by "
            f"{used_by} {user_id}.",
            details=[(used_by, user_id)],
        )


class BreaksReferrer(BadRequest):
    """A replace that would make an object referring to this one invalid (a bot application that
    loses its ``custom_bot`` role while an orchestration names it as the bot)."""

    code = "400-152"

    def __init__(self, resource: str, *, referrer: str, referrer_id: str, problem: str) -> None:
        super().__init__(
            f"Invalid value: the {referrer} {referrer_id}, which references this {resource}, "
            f"would no longer be valid: {problem}",
            details=[(referrer, referrer_id)],
        )


class MessageTypeNotAllowed(BadRequest):
    code = "400-199"

    def __init__(self, attribute: str, value: str) -> None:
        super().__init__(f"Invalid value of attribute '{attribute}'='{value}'.")


class SenderNotInConversation(BadRequest):
    code = "400-240"

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"Sender is not part of following conversation :  {conversation_id}")


class ConversationNotActive(BadRequest):
    code = "400-630"

    def __init__(self, conversation_id: str) -> None:
        super().__init__(
            f"Following conversation id is invalid, completed or expired : {conversation_id}."
        )


class Unauthorized(ApiError):
    status = 401
    code = "401-104"

    def __init__(self) -> None:
        super().__init__("Invalid or missing 'Authorization' header value.")


class Forbidden(ApiError):
    status = 403
    code = "403-197"

    def __init__(self) -> None:
        super().__init__("Not authorized to perform the action.")


class SenderMayNotStart(ApiError):
    status = 403
    code = "403-103"

    def __init__(self) -> None:
        super().__init__("Sender is not allowed to start conversation.")


class NotFound(ApiError):
    status = 404
    code = "404-101"

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"The following id does not exist: {resource_id}")


class ModifiedMismatch(ApiError):
    status = 409
    code = "409-100"

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(
            "Last modified date provided in the request body for the following "
            f"{resource} do not match: {resource_id}"
        )


class InternalError(ApiError):
    status = 500
    code = "500-100"

    def __init__(self) -> None:
        super().__init__(
            "System is unable to process this request. Please contact your administrator."
        )


class ServiceBusy(ApiError):
    """Shed by admission control (core/admission.py): too many requests in flight. 503, not 429:
    the caller broke no limit of its own (429 is for per-client rate plans, DECISIONS §10); the
    contract names no 503 code, so the first of the family, as 500-100 is for 500."""

    status = 503
    code = "503-100"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"The service is busy. Retry the request after {retry_after} seconds.",
            user_message="The service is busy. Please try again shortly.",
        )


# --- convhub's own operator endpoints (extension): codes in eGain's style, numbers 9xx ---------


class NothingToRedeliver(ApiError):
    status = 409
    code = "409-901"

    def __init__(self, message_id: str) -> None:
        super().__init__(
            f"The message has no failed or dead-lettered delivery to re-deliver: {message_id}"
        )


class ContentRedacted(ApiError):
    status = 409
    code = "409-902"

    def __init__(self, message_id: str) -> None:
        super().__init__(
            f"The message's content was redacted (content.redact): it cannot be re-delivered: "
            f"{message_id}"
        )
