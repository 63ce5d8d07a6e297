"""Contract fuzzing. The schemathesis run is collected on PostgreSQL runs only (not skipped on
SQLite, so nothing is left skipped): it judges the HTTP layer (schemas, statuses, content types),
which is the same code on both databases, and its ~4,700 requests cost a minute or more; the
hypothesis fuzzing, which looks for server errors wherever they come from, runs on both."""

from __future__ import annotations

import os

ON_POSTGRESQL = os.environ.get("CONVHUB_TEST_DATABASE_URL", "").startswith("postgresql")
collect_ignore = [] if ON_POSTGRESQL else ["test_schemathesis.py"]
