"""Quiet CLI: a command prints its own output, not libraries' progress lines; an error stays one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.people import PROGRAMS_FILE, SECRET_KEY
from tests.support.running import BIN, clean_env


def _mentorbot(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = clean_env() | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",  # a new database: every migration runs
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
        **extra,
    }
    return subprocess.run(
        [str(BIN / "mentorbot"), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_migrating_a_new_database_prints_one_line_and_no_alembic_progress(tmp_path: Path) -> None:
    result = _mentorbot(tmp_path, "migrate")
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("database at revision ")
    assert result.stderr == ""


def test_an_unknown_program_is_the_only_line_on_stderr(tmp_path: Path) -> None:
    result = _mentorbot(tmp_path, "digest", "no-such-program")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "mentorbot digest: unknown program 'no-such-program' (programs.yml has: img-2026, nursing-2026)"
    ]


def test_debug_logging_shows_the_migrations_again(tmp_path: Path) -> None:
    result = _mentorbot(tmp_path, "migrate", MENTORBOT_LOG_LEVEL="DEBUG")
    assert "Running upgrade" in result.stderr
