import os
import stat
from pathlib import Path

import pytest

from storage.crypto import Keys, SecretKeyError, resolve_secret


def test_key_file_is_generated_once_with_mode_0600(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = resolve_secret(configured=None, database_url=url, may_generate=lambda: True)
    second = resolve_secret(configured=None, database_url=url, may_generate=lambda: True)
    key_file = tmp_path / "bot.db.key"
    assert first == second
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "generated a secret key" in caplog.text


def test_postgres_without_a_key_is_refused() -> None:
    with pytest.raises(SecretKeyError, match="MENTORBOT_SECRET_KEY: required with PostgreSQL"):
        resolve_secret(
            configured=None, database_url="postgresql+psycopg://db/mentorbot", may_generate=lambda: True
        )


def test_short_secret_is_refused() -> None:
    with pytest.raises(SecretKeyError, match="at least 32"):
        Keys.from_secret("short")


def test_keyed_hash_depends_on_purpose_and_key() -> None:
    a = Keys.from_secret("a" * 40)
    b = Keys.from_secret("b" * 40)
    assert a.keyed_hash("case", "X") == a.keyed_hash("case", "X")
    assert a.keyed_hash("case", "X") != a.keyed_hash("quota", "X")
    assert a.keyed_hash("case", "X") != b.keyed_hash("case", "X")
