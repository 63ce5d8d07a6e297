"""Client application rules: roles name existing authentications, appear once each, and call
back to URLs this service may reach."""

from __future__ import annotations

from convhub.configuration.spec import Body, Context, Reference, Resolver
from convhub.core.errors import DuplicateResource
from convhub.core.urls import check_callback_url
from convhub.models import ConfigObject


def references(body: Body) -> list[Reference]:
    return [
        Reference(f"roles[{i}].authentication.id", "authentication", role["authentication"]["id"])
        for i, role in enumerate(body["roles"])
        if "authentication" in role
    ]


async def rules(
    ctx: Context, body: Body, _existing: ConfigObject | None, _resolve: Resolver
) -> Body:
    """A role name appears once per application (routing picks the callback by role), and every
    callback is an http(s) URL outside private ranges unless the deployment allows them."""
    allow_private = ctx.runtime.settings.allow_private_callbacks
    seen: set[str] = set()
    for i, role in enumerate(body["roles"]):
        if role["name"] in seen:
            raise DuplicateResource(f"roles[{i}].name={role['name']}")
        seen.add(role["name"])
        check_callback_url(
            role["callback"], attribute=f"roles[{i}].callback", allow_private=allow_private
        )
    return body
