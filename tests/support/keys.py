"""Helpers for the secret-key tests: settings without a configured key, seeded encrypted data, raw tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from bot.app.cli import cli
from bot.concerns.case_keys import hash_case_key, new_case_key
from bot.concerns.sender import find_by_key
from bot.kernel.deps import Deps
from bot.kernel.settings import Settings, get_settings
from storage.keyring import encrypted_columns, raw_text
from storage.models import Concern, ConcernMessage
from tests.support.digests import WEEK, add_session, pair_up
from tests.support.people import PROGRAMS_FILE

OTHER_KEY = "another-secret-key-that-is-long-enough-9876543210"
NEW_KEY = "the-new-secret-key-after-rotation-0123456789abcdef"


def sqlite_settings(path: Path) -> Settings:
    """Settings for a SQLite database at `path` without MENTORBOT_SECRET_KEY: the key file is used."""
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{path}",
        programs_file=PROGRAMS_FILE,
        secret_key=None,
        old_secret_key=None,
        slack_bot_token=SecretStr("xoxb-test-token"),
    )


def seed(deps: Deps, *, concerns: int = 5) -> dict[str, str]:
    """Concerns with replies and a reflection; returns each case key with its concern's text."""
    opened = add_concerns(deps, concerns)
    pair_id = pair_up(deps, "U0MENTOR1", "U0MENTEE1")
    add_session(
        deps, pair_id=pair_id, mentor="U0MENTOR1", mentee="U0MENTEE1", day=date(2026, 11, 18), learned="x"
    )
    return opened


def add_concerns(deps: Deps, count: int, *, label: str = "concern") -> dict[str, str]:
    """Concerns, each with one coordinator reply, hashed with deps.keys; returns case key -> text."""
    opened: dict[str, str] = {}
    with deps.sessions.begin() as session:
        for n in range(count):
            case_key, text = new_case_key(), f"{label} number {n} about the night shift"
            concern = Concern(
                program_id="img-2026",
                category="other",
                urgent=False,
                escalated=False,
                text=text,
                week=WEEK,
                status="open",
                key_hash=hash_case_key(deps.keys, case_key),
                replies_allowed=True,
            )
            session.add(concern)
            session.flush()
            session.add(
                ConcernMessage(concern_id=concern.id, seq=1, from_sender=False, text=f"reply {n}", week=WEEK)
            )
            opened[case_key] = text
    return opened


def opens_every_case(deps: Deps, opened: dict[str, str]) -> bool:
    """Whether every case key still finds its concern, with its text readable."""
    with deps.sessions.begin() as session:
        found = {key: find_by_key(session, deps=deps, typed=key) for key in opened}
        return all(concern is not None and concern.text == opened[key] for key, concern in found.items())


def stored_tokens(engine: Engine) -> list[str]:
    """Every non-null EncryptedText value as stored (Fernet tokens), from every encrypted column."""
    tokens: list[str] = []
    with Session(engine) as session:
        for table, columns in encrypted_columns(session.connection()):
            for column in columns:
                query = select(raw_text(column)).select_from(table).where(column.is_not(None))
                tokens.extend(str(token) for token in session.execute(query).scalars())
    return tokens


@contextmanager
def environment(monkeypatch: pytest.MonkeyPatch, cwd: Path, **variables: str) -> Iterator[None]:
    """The process environment the CLI reads: exactly these mentorbot variables, no `.env`."""
    for name in ("MENTORBOT_SECRET_KEY", "MENTORBOT_OLD_SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MENTORBOT_PROGRAMS", str(PROGRAMS_FILE))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))
