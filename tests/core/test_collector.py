"""The garbage collector of a long-running process (core/collector.py): what exists at start is
frozen, and cycles are looked for less often. In a process of its own: the settings are global."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.database_free

_PROBE = """
import gc, json
from convhub.core import collector
before = gc.get_threshold()
collector.settle()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def test_settle_freezes_what_exists_and_spaces_collections_out():
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(done.stdout)
    assert found["before"] == [700, 10, 10]
    assert found["after"] == [20_000, 10, 10]
    assert found["frozen"] > 1000  # the imported modules' objects, at least
