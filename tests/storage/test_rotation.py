import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from pydantic import SecretStr
from sqlalchemy import select

from bot.app.bootstrap import bootstrap
from bot.kernel.deps import Deps
from bot.kernel.settings import Settings
from storage.crypto import SecretKeyError, key_check, secret_fernet
from storage.keyring import encrypted_columns
from storage.models import KeyCheck, KeyRotation, KeyRotationCursor
from storage.rotation import BatchDone, rotate_key, rotation_secrets
from tests.support.keys import (
    NEW_KEY,
    add_concerns,
    environment,
    opens_every_case,
    run_cli,
    seed,
    sqlite_settings,
    stored_tokens,
)
from tests.support.people import BACKEND, SECRET_KEY

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Interrupted(Exception):
    """Stands for a crash or Ctrl-C between two batches."""


def readable_under(secret: str, tokens: list[str]) -> list[bool]:
    fernet = secret_fernet(secret)
    readable = []
    for token in tokens:
        try:
            fernet.decrypt(token.encode())
        except InvalidToken:
            readable.append(False)
        else:
            readable.append(True)
    return readable


def with_keys(settings: Settings, current: str, old: str | None = None) -> Settings:
    return settings.model_copy(
        update={"secret_key": SecretStr(current), "old_secret_key": SecretStr(old) if old else None}
    )


def interrupt_after_first_rows(done: BatchDone) -> None:
    if done.rows:
        raise Interrupted


def test_rotate_key_makes_all_text_readable_under_the_new_key_alone_and_case_keys_still_open_their_cases(
    deps: Deps, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = seed(deps)
    with environment(
        monkeypatch,
        tmp_path,
        DATABASE_URL=settings.database_url,
        MENTORBOT_OLD_SECRET_KEY=SECRET_KEY,
        MENTORBOT_SECRET_KEY=NEW_KEY,
    ):
        result = run_cli("rotate-key", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "rotate-key: done, 11 values re-encrypted; the database is now under the new key; "
        "unset MENTORBOT_OLD_SECRET_KEY and restart the bot"
    )
    tokens = stored_tokens(deps.engine)
    assert len(tokens) == 11
    assert readable_under(NEW_KEY, tokens) == [True] * 11
    assert readable_under(SECRET_KEY, tokens) == [False] * 11
    rotated = bootstrap(with_keys(settings, NEW_KEY))
    assert opens_every_case(rotated, opened)
    with rotated.sessions.begin() as session:
        assert session.scalars(select(KeyCheck.check)).one() == key_check(NEW_KEY)
        assert session.scalars(select(KeyRotation)).first() is None
    rotated.engine.dispose()
    with pytest.raises(SecretKeyError, match="^MENTORBOT_SECRET_KEY: does not match the key"):
        bootstrap(settings)


def test_an_interrupted_rotation_resumes_where_it_stopped(deps: Deps, settings: Settings) -> None:
    seed(deps)
    given = rotation_secrets(
        deps.engine, configured=NEW_KEY, old=SECRET_KEY, database_url=settings.database_url, now=NOW
    )
    batches: list[BatchDone] = []
    with pytest.raises(Interrupted):
        rotate_key(deps.engine, given, now=NOW, batch_size=2, after_batch=interrupt_after_first_rows)
    with deps.sessions.begin() as session:
        assert session.scalars(select(KeyRotation.new_check)).one() == key_check(NEW_KEY)
        cursors = session.scalars(select(KeyRotationCursor).where(KeyRotationCursor.after.is_not(None))).all()
        assert [(c.table_name, c.done) for c in cursors] == [("concern_messages", False)]
        assert session.scalars(select(KeyCheck.check)).one() == key_check(SECRET_KEY)
    first = rotate_key(deps.engine, given, now=NOW, batch_size=2, max_batches=1, after_batch=batches.append)
    assert not first.finished and first.batches == 1
    last = rotate_key(deps.engine, given, now=NOW, batch_size=2, after_batch=batches.append)
    assert last.finished and not last.already_done
    # 11 rows: 2 before the interruption, every other one exactly once after it.
    assert sum(done.rows for done in batches) == 9
    tokens = stored_tokens(deps.engine)
    assert readable_under(NEW_KEY, tokens) == [True] * 11
    again = rotate_key(deps.engine, given, now=NOW)
    assert again.already_done and again.finished


def test_the_bot_keeps_working_in_the_middle_of_a_rotation(deps: Deps, settings: Settings) -> None:
    opened = seed(deps)
    given = rotation_secrets(
        deps.engine, configured=NEW_KEY, old=SECRET_KEY, database_url=settings.database_url, now=NOW
    )
    with pytest.raises(Interrupted):
        rotate_key(deps.engine, given, now=NOW, batch_size=2, after_batch=interrupt_after_first_rows)
    during = bootstrap(with_keys(settings, NEW_KEY, old=SECRET_KEY))
    assert opens_every_case(during, opened)
    opened |= add_concerns(during, 3, label="raised during the rotation")
    during.engine.dispose()
    assert rotate_key(deps.engine, given, now=NOW, batch_size=2).finished
    after = bootstrap(with_keys(settings, NEW_KEY))
    assert opens_every_case(after, opened)
    assert all(readable_under(NEW_KEY, stored_tokens(after.engine)))
    after.engine.dispose()


def test_rotate_key_without_the_old_key_says_which_variable_to_set(
    deps: Deps, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with environment(monkeypatch, tmp_path, DATABASE_URL=settings.database_url, MENTORBOT_SECRET_KEY=NEW_KEY):
        result = run_cli("rotate-key")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "MENTORBOT_OLD_SECRET_KEY: required by rotate-key; set it to the key the database was written "
        "with and MENTORBOT_SECRET_KEY to the new key"
    ]


@pytest.mark.skipif(BACKEND != "sqlite", reason="the generated key file is SQLite's")
def test_rotating_the_generated_key_file_replaces_it_with_a_new_key_once_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, key_file = tmp_path / "mentorbot.db", tmp_path / "mentorbot.db.key"
    pending = tmp_path / "mentorbot.db.key.new"
    deps = bootstrap(sqlite_settings(database))
    opened = seed(deps)
    deps.engine.dispose()
    old_key = key_file.read_text().strip()
    with environment(monkeypatch, tmp_path, DATABASE_URL=f"sqlite:///{database}"):
        stopped = run_cli("rotate-key", "--batch-size", "2", "--max-batches", "2")
        assert stopped.exit_code == 1
        assert stopped.stderr.splitlines() == [
            "rotate-key: stopped after 2 batches; run it again to continue"
        ]
        assert stat.S_IMODE(pending.stat().st_mode) == 0o600
        during = bootstrap(sqlite_settings(database))  # reads both key files
        assert opens_every_case(during, opened)
        during.engine.dispose()
        finished = run_cli("rotate-key")
    assert finished.exit_code == 0, finished.output
    assert finished.stdout.splitlines()[-1].endswith(f"{key_file} now holds it (start the bot again)")
    assert not pending.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    new_key = key_file.read_text().strip()
    assert new_key != old_key
    after = bootstrap(sqlite_settings(database))
    assert opens_every_case(after, opened)
    tokens = stored_tokens(after.engine)
    assert all(readable_under(new_key, tokens)) and not any(readable_under(old_key, tokens))
    after.engine.dispose()


def test_rotation_finds_the_encrypted_columns_by_introspecting_the_models(deps: Deps) -> None:
    with deps.engine.connect() as connection:
        found = {
            (table.name, column.name)
            for table, columns in encrypted_columns(connection)
            for column in columns
        }
    assert {("concerns", "text"), ("concern_messages", "text"), ("reflections", "learned")} <= found
