"""What the six configuration resources share: storage, references, the five operations.

Each resource package (``authentications``, ``client_applications``, ``participants``,
``channels``, ``orchestrations``, ``accounts``) declares its schemas and rules in a
:class:`~convhub.configuration.spec.ResourceSpec`; this package turns a spec into the contract's
create / list / get / replace / delete operations. ``accounts`` is the canonical example.
"""
