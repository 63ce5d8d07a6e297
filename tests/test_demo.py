"""``convhub demo`` end to end: the installed command, run as a subprocess as a newcomer runs it,
starts the hub and the programs of examples/, plays the conversation and prints each hop and
the transcript; it fails with a clear message when a hop does not arrive.

The demo always uses a fresh SQLite database of its own, whatever CONVHUB_TEST_DATABASE_URL
says: these tests are the same on both runs of the suite. About 10 s on a quiet machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path
from typing import Any

import pytest

# The demo runs on a SQLite file of its own, whatever CONVHUB_TEST_DATABASE_URL says.
pytestmark = pytest.mark.database_free

CONVHUB = Path(sys.executable).parent / "convhub"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

HOP = re.compile(r"^  \+\d+\.\d{3} s  (?P<sender>.+?) -> (?P<recipient>.+?): (?P<what>.+)$")
DELIVERED = re.compile(r"^ {12}(?P<app>the .+?)'s callback (?P<url>\S+): delivered in \d+ ms$")
APP = re.compile(r"^  (?P<app>the .+?app|the bot) +(?P<url>http://127\.0\.0\.1:\d+) ")
TRANSCRIPT_LINE = re.compile(r"^  (\d)\. \d\d:\d\d:\d\d\.\d{3}  (?P<sender>.+?) {2,}(?P<what>.+)$")

BOT_GREETING = "I am eva, the order assistant: ask me about your order, or ask for a person."
ESCALATING = 'text "Of course. Let me find someone who can help you."'
ANSWER = 'text "I am eva. Orders arrive within three days. Or would you like a person?"'
AGENT_ANSWER = (
    'text "Hello John, I am Ann. You asked: Where is my order? '
    'Your parcel left today, it arrives tomorrow."'
)
# (sender, recipient, what): the conversation as the demo plays it.
CONVERSATION = [
    ("John (customer)", "eva (custom_bot)", 'text "Where is my order?"'),
    ("eva (custom_bot)", "web-chat (customer)", ANSWER),
    ("John (customer)", "eva (custom_bot)", 'text "Can I talk to a person, please?"'),
    ("eva (custom_bot)", "web-chat (customer)", ESCALATING),
    ("eva (custom_bot)", "agent-desk (custom_agent)", "escalation.transfer"),
    ("Ann (custom_agent)", "web-chat (customer)", AGENT_ANSWER),
    ("Ann (custom_agent)", "web-chat (customer)", "conversation.end"),
]
# Who receives each recipient's callbacks.
RECEIVERS = {
    "eva (custom_bot)": "the bot",
    "web-chat (customer)": "the customer app",
    "agent-desk (custom_agent)": "the agent app",
}


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
    return subprocess.run(
        [str(CONVHUB), "demo", *args],
        cwd=cwd,  # no .env of the developer's
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Hop:
    sender: str
    recipient: str
    what: str
    app: str
    url: str


def hops(out: str) -> list[Hop]:
    """Each hop's line and the line saying where it was delivered (an escalation has a note
    between them)."""
    found: list[Hop] = []
    lines = out.splitlines()
    for number, line in enumerate(lines):
        hop = HOP.match(line)
        if hop:
            delivered = next(d for d in map(DELIVERED.match, lines[number + 1 :]) if d)
            found.append(Hop(**hop.groupdict(), **delivered.groupdict()))
    return found


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    return demo(cwd=tmp_path_factory.mktemp("demo"))


class TestDemo:
    def test_it_succeeds(self, played):
        assert played.returncode == 0, played.stderr
        assert played.stderr == ""

    def test_it_creates_the_configuration_through_the_api(self, played):
        created = re.findall(r"^  POST (/\w+) +201  ", played.stdout, re.M)
        assert created == [
            "/authentications",
            "/clientapplications",
            "/clientapplications",
            "/clientapplications",
            "/participants",
            "/channels",
            "/orchestrations",
            "/accounts",
        ]

    def test_it_prints_each_hop_in_order(self, played):
        assert [(h.sender, h.recipient, h.what) for h in hops(played.stdout)] == CONVERSATION

    def test_each_hop_names_the_callback_that_received_it(self, played):
        apps = {m["app"]: m["url"] for m in map(APP.match, played.stdout.splitlines()) if m}
        assert set(apps) == {"the customer app", "the bot", "the agent app"}
        for hop in hops(played.stdout):
            assert hop.app == RECEIVERS[hop.recipient]
            assert hop.url == f"{apps[hop.app]}/callback"

    def test_john_writes_through_the_customer_app(self, played):
        typed = re.findall(r'^  John types "(.+)": POST http://\S+/chat ', played.stdout, re.M)
        assert typed == ["Where is my order?", "Can I talk to a person, please?"]

    def test_the_agent_received_the_transcript(self, played):
        # Ann quotes the customer's first question, which only the transcript told her.
        [escalation_note] = [line for line in played.stdout.splitlines() if "so far" in line]
        assert "the conversation so far" in escalation_note
        assert hops(played.stdout)[5].what == AGENT_ANSWER

    def test_it_prints_the_transcript(self, played):
        [_, transcript] = played.stdout.split("Transcript: GET ")
        header, *lines = transcript.splitlines()
        assert re.fullmatch(r"/conversation/conversationmgr/v3/conversations/[0-9a-f-]{36}", header)
        shown = [TRANSCRIPT_LINE.match(line) for line in lines]
        assert all(shown), lines
        assert [(m["sender"], m["what"]) for m in shown if m] == [
            (sender, f"{what}  [sent]") for sender, _, what in CONVERSATION
        ]

    def test_it_stops_everything(self, played):
        urls = re.findall(r"^  (?:hub|the \w+(?: app)?) +(http://\S+)", played.stdout, re.M)
        assert len(urls) == 4
        assert not any(listening(url) for url in urls)
        database = re.search(r"database sqlite\+aiosqlite:///(\S+)\)", played.stdout)
        assert database
        assert not Path(database.group(1)).parent.exists()


class TestKeepRunning:
    def test_it_keeps_running_for_a_chat_until_ctrl_c(self, tmp_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
        process = subprocess.Popen(
            [str(CONVHUB), "demo", "--keep-running"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            lines = iter(process.stdout.readline, "")
            before = list(takewhile(lambda line: "keeps running" not in line, lines))
            post, get = next(lines).strip(), next(lines).strip()
            # The commands it prints chat with the bot, as they say.
            said = subprocess.run(["bash", "-c", post], capture_output=True, text=True, check=True)
            assert json.loads(said.stdout)["conversation"]["id"]
            inbox = wait_for_json(["bash", "-c", get])
            assert inbox == [{"from": "eva", "type": "text", "text": BOT_GREETING}]

            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
            process.wait()
        assert process.returncode == 0, err
        assert out.splitlines()[-1] == "Stopped."
        urls = re.findall(r"^  (?:hub|the \w+(?: app)?) +(http://\S+)", "".join(before), re.M)
        assert len(urls) == 4
        assert not any(listening(url) for url in urls)


def wait_for_json(command: list[str]) -> Any:
    """The command's JSON output once it is not empty (the bot answers in its own time)."""
    deadline = time.monotonic() + 30
    while True:
        answer = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


class TestDatabaseOption:
    def test_a_database_of_ones_own_is_used_and_kept(self, tmp_path):
        database = tmp_path / "mine.db"
        done = demo("--database", f"sqlite+aiosqlite:///{database}", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"database sqlite+aiosqlite:///{database})" in done.stdout
        with closing(sqlite3.connect(database)) as db:
            [(tenant,)] = db.execute("SELECT name FROM tenants").fetchall()
            [(messages,)] = db.execute("SELECT count(*) FROM messages").fetchall()
        assert re.fullmatch(r"demo-[0-9a-f]{8}", tenant)  # a tenant of its own
        assert messages == len(CONVERSATION)


SILENT_BOT = """
import http.server, sys

class Silent(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST

port = int(sys.argv[sys.argv.index("--port") + 1])
print("a bot that never answers", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Silent).serve_forever()
"""


class TestFailures:
    def test_a_hop_that_does_not_arrive_fails_with_a_clear_message(self, tmp_path):
        examples = tmp_path / "examples"
        examples.mkdir()
        for name in ("hub.py", "customer_app.py", "agent_app.py"):
            (examples / name).write_text((EXAMPLES / name).read_text())
        (examples / "bot.py").write_text(SILENT_BOT)

        done = demo("--examples", str(examples), "--timeout", "4", cwd=tmp_path)

        assert done.returncode == 1
        first, *_ = done.stderr.splitlines()
        assert first == "error: nothing after 4 s: waiting for the answer of the bot"
        assert "a bot that never answers" in done.stderr  # its output, for the diagnosis
        [hop] = hops(done.stdout)
        assert (hop.sender, hop.recipient) == ("John (customer)", "eva (custom_bot)")
        assert "Transcript" not in done.stdout

    def test_without_the_examples_it_says_where_it_looked(self, tmp_path):
        done = demo("--examples", str(tmp_path / "nowhere"), cwd=tmp_path)
        assert done.returncode == 1
        assert done.stderr.startswith(f"error: no sample applications in {tmp_path / 'nowhere'}")
        assert done.stdout == ""


README = Path(__file__).resolve().parents[1] / "README.md"
# What changes from one run to the next.
VARIABLE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\d+ ms\b"), "N ms"),
    (re.compile(r"\+\d+\.\d{3} s"), "+T s"),
    (re.compile(r"\d\d:\d\d:\d\d\.\d{3}"), "HH:MM:SS.mmm"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "ID"),
]


def readme_block(name: str, language: str) -> list[str]:
    found = re.search(
        rf"<!-- {name}:start -->\n```{language}\n(.*?)```\n<!-- {name}:end -->",
        README.read_text(),
        re.S,
    )
    assert found, f"the README lost its {name} markers"
    return found.group(1).splitlines()


def normalised(lines: list[str]) -> list[str]:
    for pattern, replacement in VARIABLE:
        lines = [pattern.sub(replacement, line) for line in lines]
    return lines


class TestReadme:
    def test_two_commands_from_a_fresh_clone(self):
        clone, demo_command = readme_block("demo-commands", "sh")
        assert re.fullmatch(r"git clone \S.* convhub && cd convhub", clone)
        assert demo_command == "make demo"

    def test_make_demo_runs_convhub_demo_after_building_the_venv(self):
        # Not the variables of a `make test` this may run under: they make make chattier.
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        dry_run = subprocess.run(
            ["make", "--no-print-directory", "-n", "demo"],
            cwd=README.parent,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert dry_run.stdout.splitlines()[-1] == ".venv/bin/convhub demo"
        makefile = (README.parent / "Makefile").read_text()
        assert re.search(r"^demo: venv$", makefile, re.M)

    def test_its_sample_is_the_end_of_the_demos_output(self, played):
        sample = readme_block("demo-output", "text")
        lines = played.stdout.splitlines()
        tail = lines[lines.index(sample[0]) :]
        assert normalised(sample) == normalised(tail)
