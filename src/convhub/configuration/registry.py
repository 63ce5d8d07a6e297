"""Which ResourceSpec describes each kind, so that one resource's change can re-check the
objects of other kinds that reference it."""

from __future__ import annotations

from convhub.configuration.spec import ResourceSpec

_SPECS: dict[str, ResourceSpec] = {}


def register(spec: ResourceSpec) -> None:
    _SPECS[spec.kind] = spec


def spec_for(kind: str) -> ResourceSpec:
    return _SPECS[kind]
