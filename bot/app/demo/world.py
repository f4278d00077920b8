"""The demo's simulated workspace: a fake Slack, the real app over HTTP, a settable clock."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app.bolt_app import build_app
from bot.app.bootstrap import bootstrap
from bot.app.http_server import BackgroundServer, make_server
from bot.fake_slack.models import FakeUser
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.settings import Settings

PROGRAMS_FILE = Path(__file__).with_name("programs.yml")
SIGNING_SECRET = "demo-signing-secret"
PROGRAM_ID = "img-demo"
COORDINATOR = "UDEMOCOORD"

# Mentors and mentees of the demo cohort, each in their own timezone.
PEOPLE = [
    FakeUser(id=COORDINATOR, name="cora", real_name="Cora Osei (coordinator)", tz="America/New_York"),
    FakeUser(id="UDEMODIO", name="dio", real_name="Dr. Dana Ito (DIO)", tz="America/New_York"),
    FakeUser(id="UDEMOMR1", name="dr.mendes", real_name="Dr. Ana Mendes", tz="America/New_York"),
    FakeUser(id="UDEMOMR2", name="dr.chen", real_name="Dr. Wei Chen", tz="America/Chicago"),
    FakeUser(id="UDEMOME1", name="amara", real_name="Dr. Amara Okafor", tz="America/New_York"),
    FakeUser(id="UDEMOME2", name="rahul", real_name="Dr. Rahul Iyer", tz="Asia/Kolkata"),
    FakeUser(id="UDEMOME3", name="sofia", real_name="Dr. Sofia Reyes", tz="America/Chicago"),
    FakeUser(id="UDEMOME4", name="yusuf", real_name="Dr. Yusuf Haddad", tz="Europe/London"),
    FakeUser(id="UDEMOME5", name="mei", real_name="Dr. Mei Tanaka", tz="America/Los_Angeles"),
    FakeUser(id="UDEMOME6", name="kwame", real_name="Dr. Kwame Asante", tz="America/New_York"),
]
MENTEES = [p.id for p in PEOPLE if p.id.startswith("UDEMOME")]
MENTORS = [p.id for p in PEOPLE if p.id.startswith("UDEMOMR")]


@dataclass
class World:
    """Everything a demo chapter needs."""

    deps: Deps
    fake: FakeSlack
    slack: SlackRequestSender
    clock: Clock
    out_dir: Path
    lines: list[str] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, flush=True)  # noqa: T201 - the demo's transcript is its output

    def heading(self, text: str) -> None:
        self.say()
        self.say(f"== {text} ==")

    def name(self, user_id: str) -> str:
        return next((p.real_name for p in PEOPLE if p.id == user_id), user_id)


@contextmanager
def open_world(out_dir: Path, *, start: datetime | None = None) -> Iterator[World]:
    """Start a fake Slack and the real app on loopback, with a fresh SQLite database in out_dir."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    clock = Clock(start or datetime(2026, 11, 2, 13, 0, tzinfo=UTC))
    with FakeSlack(bot_user_id="UDEMOBOT", team_id="TDEMO").start() as fake:
        for person in PEOPLE:
            fake.add_user(dataclasses.replace(person, email=f"{person.name}@hospital.example"))
        settings = Settings(
            _env_file=None,
            slack_bot_token="xoxb-demo",
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.url,
            database_url=f"sqlite:///{out_dir / 'demo.db'}",
            programs_file=PROGRAMS_FILE,
            secret_key="demo-secret-key-not-for-production-0123456789",
            send_rate_per_second=200,
        )
        deps = dataclasses.replace(bootstrap(settings), clock=clock)
        server = BackgroundServer(
            make_server(build_app(deps), engine=deps.engine, host="127.0.0.1", port=0, threads=4)
        )
        url = f"http://127.0.0.1:{server.port}/slack/events"
        try:
            yield World(
                deps,
                fake,
                SlackRequestSender(url=url, signing_secret=SIGNING_SECRET, fake=fake),
                clock,
                out_dir,
            )
        finally:
            server.stop()
            deps.engine.dispose()


def block_text(blocks: list[dict[str, Any]] | None, fallback: str = "") -> str:
    """Block Kit flattened to readable lines for the transcript."""
    if not blocks:
        return fallback
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header") and block.get("text"):
            lines.append(block["text"]["text"])
        for item in block.get("fields", []) or []:
            lines.append(item["text"])
        if kind == "context":
            lines.extend(e.get("text", "") for e in block.get("elements", []) if "text" in e)
        if kind == "actions":
            labels = [e["text"]["text"] for e in block.get("elements", []) if e.get("text")]
            lines.append("[" + "] [".join(labels) + "]")
        if kind == "input":
            lines.append(f"<{block['label']['text']}>")
    return "\n".join(lines)
