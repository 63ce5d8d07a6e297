"""Channel rules: localized system messages are unambiguous.

Channels reference nothing; accounts reference channels, so a channel in use cannot be deleted
(400-160, enforced by the shared machinery).
"""

from __future__ import annotations

from convhub.configuration.spec import Body, Context, Resolver
from convhub.core.errors import DuplicateResource
from convhub.models import ConfigObject


def _check_l10n(body: Body) -> None:
    """One entry per language, one value per property name within it: otherwise which text the
    hub sends (off hours, retain and retry, ...) would depend on order (400-138)."""
    languages: set[str] = set()
    for index, entry in enumerate(body.get("l10nProperties", [])):
        if entry["language"] in languages:
            raise DuplicateResource(f"l10nProperties[{index}].language={entry['language']}")
        languages.add(entry["language"])
        names: set[str] = set()
        for position, prop in enumerate(entry["properties"]):
            if prop["name"] in names:
                raise DuplicateResource(
                    f"l10nProperties[{index}].properties[{position}].name={prop['name']}"
                )
            names.add(prop["name"])


async def rules(
    _ctx: Context, body: Body, _existing: ConfigObject | None, _resolve: Resolver
) -> Body:
    _check_l10n(body)
    return body
