"""The README's curl walk-through runs as written against a real server and creates an account."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from pathlib import Path

from convhub.identity import service as identity

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough() -> str:
    block = re.search(
        r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->",
        README.read_text(),
        re.S,
    )
    assert block, "the README lost its walk-through markers"
    return block.group(1)


async def test_walkthrough_creates_an_account(server_url, database, box):
    async with database.session() as session:
        admin = await identity.create_client(
            session, name="admin", tenant=f"readme-{uuid.uuid4().hex}", permissions=None, box=box
        )
    env = {
        **os.environ,
        "HUB": server_url,
        "CLIENT_ID": admin.client_id,
        "CLIENT_SECRET": admin.client_secret,
    }
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        walkthrough(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    account = json.loads(out.decode().strip().splitlines()[-1])
    assert account["name"] == "order_account"
    assert account["chatConfigurations"]["timeout"] == 30
    assert account["chatConfigurations"]["onAgentUnavailability"] == "off_hours"
