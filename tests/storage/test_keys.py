import dataclasses
import logging
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, select, text

from bot.app.bootstrap import bootstrap
from bot.concerns.sender import find_by_key
from bot.kernel.deps import Deps
from bot.kernel.settings import Settings
from storage.crypto import Keys, SecretKeyError, key_check, legacy_pepper, secret_fernet
from storage.models import Concern, KeyCheck
from tests.support.keys import OTHER_KEY, environment, run_cli, seed, sqlite_settings
from tests.support.people import BACKEND, SECRET_KEY

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="files and key files are SQLite's")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def texts(deps: Deps) -> list[str]:
    with deps.sessions.begin() as session:
        return sorted(session.scalars(select(Concern.text)))


@sqlite_only
def test_bootstrap_creates_the_database_its_wal_and_shm_and_the_key_file_with_mode_0600(
    tmp_path: Path,
) -> None:
    database = tmp_path / "mentorbot.db"
    deps = bootstrap(sqlite_settings(database))
    try:
        seed(deps, concerns=1)
        with deps.engine.connect() as connection:  # -wal and -shm exist while a connection is open
            connection.execute(text("SELECT 1"))
            files = [database, tmp_path / "mentorbot.db-wal", tmp_path / "mentorbot.db-shm"]
            assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        deps.engine.dispose()
    assert mode(tmp_path / "mentorbot.db.key") == 0o600


@sqlite_only
def test_a_database_left_readable_by_others_is_tightened_with_one_warning_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "mentorbot.db"
    bootstrap(sqlite_settings(database)).engine.dispose()
    os.chmod(database, 0o644)
    caplog.set_level(logging.WARNING, logger="storage.engine")
    bootstrap(sqlite_settings(database)).engine.dispose()
    assert mode(database) == 0o600
    warnings = [r.getMessage() for r in caplog.records if r.name == "storage.engine"]
    assert warnings == [f"{database}: was open to group or others; changed to mode 0600"]


@sqlite_only
def test_a_key_file_readable_by_others_stops_the_bot_with_one_line_and_the_data_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, key_file = tmp_path / "mentorbot.db", tmp_path / "mentorbot.db.key"
    deps = bootstrap(sqlite_settings(database))
    seed(deps, concerns=2)
    before = texts(deps)
    deps.engine.dispose()
    os.chmod(key_file, 0o644)
    with environment(monkeypatch, tmp_path, DATABASE_URL=f"sqlite:///{database}"):
        result = run_cli("migrate")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{key_file}: readable by group or others (mode 0644); run chmod 600 {key_file}"
    ]
    os.chmod(key_file, 0o600)
    again = bootstrap(sqlite_settings(database))
    assert texts(again) == before
    again.engine.dispose()


def test_a_wrong_key_stops_the_bot_with_one_line_and_the_data_intact(
    deps: Deps, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = seed(deps, concerns=2)
    with environment(
        monkeypatch, tmp_path, DATABASE_URL=settings.database_url, MENTORBOT_SECRET_KEY=OTHER_KEY
    ):
        result = run_cli("migrate")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "MENTORBOT_SECRET_KEY: does not match the key this database was written with; "
        "set it to that key, or restore the key file and unset MENTORBOT_SECRET_KEY"
    ]
    assert OTHER_KEY not in result.output
    again = bootstrap(settings)
    with again.sessions.begin() as session:
        for case_key, text_ in opened.items():
            concern = find_by_key(session, deps=again, typed=case_key)
            assert concern is not None and concern.text == text_
    again.engine.dispose()


@sqlite_only
def test_a_missing_key_file_in_front_of_existing_data_stops_the_bot_and_generates_no_key(
    tmp_path: Path,
) -> None:
    database, key_file = tmp_path / "mentorbot.db", tmp_path / "mentorbot.db.key"
    deps = bootstrap(sqlite_settings(database))
    seed(deps, concerns=2)
    before = texts(deps)
    deps.engine.dispose()
    saved = key_file.read_text()
    key_file.unlink()
    with pytest.raises(SecretKeyError) as stopped:
        bootstrap(sqlite_settings(database))
    assert str(stopped.value) == (
        f"{key_file}: missing, but {database} already holds data written with a key; "
        "restore the key file from your backup, or set MENTORBOT_SECRET_KEY to that key"
    )
    assert not key_file.exists()
    key_file.write_text(saved)
    key_file.chmod(0o600)
    again = bootstrap(sqlite_settings(database))
    assert texts(again) == before
    again.engine.dispose()


def test_the_key_check_is_stored_at_first_use_and_holds_neither_key_nor_pepper(deps: Deps) -> None:
    with deps.sessions.begin() as session:
        row = session.scalars(select(KeyCheck)).one()
    assert row.check == key_check(SECRET_KEY)
    assert SECRET_KEY not in row.check + row.pepper
    pepper = secret_fernet(SECRET_KEY).decrypt(row.pepper.encode())
    assert pepper == deps.keys.hmac_key
    assert pepper != legacy_pepper(SECRET_KEY), "a fresh database gets a random pepper"


def test_a_database_written_before_the_key_check_keeps_its_case_keys(deps: Deps, settings: Settings) -> None:
    # The code before the key check hashed case keys under a subkey derived from the secret.
    legacy = dataclasses.replace(deps, keys=Keys.from_secret(SECRET_KEY))
    opened = seed(legacy, concerns=3)
    with deps.sessions.begin() as session:
        session.execute(delete(KeyCheck))  # as the database looks right after migration 0007
    upgraded = bootstrap(settings)
    with upgraded.sessions.begin() as session:
        for case_key, text_ in opened.items():
            concern = find_by_key(session, deps=upgraded, typed=case_key)
            assert concern is not None and concern.text == text_
        assert session.scalars(select(KeyCheck.check)).one() == key_check(SECRET_KEY)
    upgraded.engine.dispose()


def test_a_database_written_before_the_key_check_refuses_a_key_that_cannot_read_it(
    deps: Deps, settings: Settings
) -> None:
    seed(deps, concerns=1)
    with deps.sessions.begin() as session:
        session.execute(delete(KeyCheck))
    with pytest.raises(SecretKeyError, match="^MENTORBOT_SECRET_KEY: does not match the key"):
        bootstrap(settings.model_copy(update={"secret_key": SecretStr(OTHER_KEY)}))
    with deps.sessions.begin() as session:
        assert session.scalars(select(KeyCheck)).first() is None, "no check was stored for the wrong key"
