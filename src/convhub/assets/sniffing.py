"""What a file is, from its first bytes (puremagic's signature database), and whether that
contradicts its name's extension (DECISIONS §9).

- Bytes that a signature recognizes must carry one of that type's extensions (a ``.jpg`` that
  starts like a Windows executable is refused; ``.jpeg``, ``.jpe``, ``.jfif`` all fit JPEG).
- Text (UTF-8 without NULs) fits any extension of a format that has no binary signature
  (``.txt``, ``.csv``, ``.json``, ``.md``, none), never that of a binary format (``.png``).
- Unrecognized binary fits only an extension that no binary signature claims (``.bin``, ``.dat``).
"""

from __future__ import annotations

import functools
import mimetypes
import string
from dataclasses import dataclass
from pathlib import PurePosixPath

import puremagic

from convhub.assets.errors import ContentMismatch

# Enough for every signature puremagic checks near the start (Office formats look a few
# kilobytes into the ZIP).
HEAD = 64 * 1024
_PRINTABLE = frozenset(string.printable.encode())


@dataclass(frozen=True)
class Sniffed:
    content_type: str


def extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


@functools.cache
def _binary_extensions() -> frozenset[str]:
    """Extensions of formats with a signature holding a byte that is not printable ASCII."""
    found: set[str] = set()
    for row in [*puremagic.magic_header_array, *puremagic.magic_footer_array]:
        if row.extension and not set(row.byte_match) <= _PRINTABLE:
            found.add(row.extension.lower().lstrip("."))
    return frozenset(found)


def _is_text(head: bytes, *, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the head is still text.
        return (
            not complete and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
        )
    return True


def sniff(head: bytes, *, name: str, complete: bool) -> Sniffed:
    """The content type of a file named ``name`` that starts with ``head`` (all of it when
    ``complete``), or :class:`ContentMismatch`."""
    ext = extension(name)
    guessed = mimetypes.guess_type(name)[0]
    try:
        candidates = [c for c in puremagic.magic_string(head) if c.extension]
    except (puremagic.PureError, ValueError):
        candidates = []
    for candidate in candidates:
        if candidate.extension.lower().lstrip(".") == ext or (
            guessed and candidate.mime_type == guessed
        ):
            return Sniffed(candidate.mime_type or guessed or "application/octet-stream")
    text = _is_text(head, complete=complete)
    if text and ext not in _binary_extensions():
        return Sniffed(guessed or "text/plain")
    if not text and not candidates and ext not in _binary_extensions():
        return Sniffed(guessed or "application/octet-stream")
    found = candidates[0].name if candidates and not text else ("text" if text else "unknown data")
    raise ContentMismatch(extension=ext or "(none)", found=found)
