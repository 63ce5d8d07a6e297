"""Account rules: what an account references, and one active account per channel address."""

from __future__ import annotations

from convhub.configuration import repository
from convhub.configuration.spec import Body, Context, Reference, Resolver
from convhub.core.errors import DuplicateResource
from convhub.models import ConfigObject


def references(body: Body) -> list[Reference]:
    return [
        Reference("channel.id", "channel", body["channel"]["id"]),
        Reference(
            "chatConfigurations.orchestration.id",
            "orchestration",
            body["chatConfigurations"]["orchestration"]["id"],
        ),
    ]


async def rules(
    ctx: Context, body: Body, existing: ConfigObject | None, _resolve: Resolver
) -> Body:
    """Conversations find their account by (channel, address): two active accounts with the same
    pair would make that ambiguous, so the second is refused as a duplicate (400-138)."""
    if not body.get("active", True):
        return body
    same_channel = await repository.referrers(
        ctx.session, target_id=body["channel"]["id"], kind="account"
    )
    for other in same_channel:
        if existing is not None and other.id == existing.id:
            continue
        if other.body.get("active", True) and other.body["address"] == body["address"]:
            raise DuplicateResource(f"address={body['address']}")
    return body
