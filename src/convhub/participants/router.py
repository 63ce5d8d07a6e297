"""``/participants``: the contract's five Participant operations."""

from __future__ import annotations

from convhub.configuration.router import config_router
from convhub.configuration.spec import Operation, ResourceSpec
from convhub.participants import service
from convhub.participants.schemas import ParticipantCreate, ParticipantRead, ParticipantReplace

SPEC = ResourceSpec(
    kind="participant",
    label="participant",
    path="/participants",
    tag="Participant",
    create_model=ParticipantCreate,
    replace_model=ParticipantReplace,
    read_model=ParticipantRead,
    references=service.references,
    operations={
        "create": Operation(
            "createParticipant",
            "Create Participant",
            (201, 400, 401, 403, 500),
            "Register a custom bot participant, bound to the client application whose callback "
            "receives its messages. Third step of the flow Authentication > Client Application > "
            "Participant > Channel > Orchestration > Account.",
        ),
        "list": Operation(
            "getAllParticipant",
            "Get Participants",
            (200, 400, 401, 403, 500),
            "List the participants, ordered by creation, with `$pagenum` and `$pagesize`.",
        ),
        "get": Operation(
            "getParticipant",
            "Get Participant",
            (200, 400, 401, 403, 500),
            "Get one participant.",
        ),
        "replace": Operation(
            "updateParticipant",
            "Update Participant",
            (204, 400, 401, 403, 404, 500),
            "Replace a participant. With `modified`, the update is refused (409-100) unless it "
            "matches the stored value.",
        ),
        "delete": Operation(
            "deleteParticipant",
            "Delete Participant",
            (204, 400, 401, 403, 404, 500),
            "Delete a participant. Refused (400-160) while an orchestration references it.",
        ),
    },
)

router = config_router(SPEC)
