"""Participant rules: the client application it names must exist in the tenant."""

from __future__ import annotations

from convhub.configuration.spec import Body, Reference


def references(body: Body) -> list[Reference]:
    return [Reference("application.id", "clientApplication", body["application"]["id"])]
