"""`mentorbot roster import`: all or nothing, idempotent, emails and ids, --replace, welcome DMs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.app.cli import cli
from bot.app.commands import roster_import_command
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.settings import get_settings
from storage.models import AuditEntry, Pair, Person
from tests.support.factories import make_pair
from tests.support.people import PROGRAMS_FILE, SECRET_KEY

GOOD = """mentor,mentee,focus
U0MENTOR1,amara@example.org,EHR documentation
dr.chen@example.org,U0MENTEE2,
<@U0MENTOR1>,Lin@Example.org,
"""


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(deps: Deps, path: Path, *, program_id: str = "img-2026", replace: bool = False) -> int:
    return roster_import_command(deps, program_id=program_id, path=path, replace=replace, now=deps.clock())


def count(deps: Deps, model: Any) -> int:
    with deps.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def pairs(deps: Deps) -> set[tuple[str, str, str | None, bool]]:
    with deps.sessions.begin() as session:
        return {
            (p.mentor_id, p.mentee_id, p.focus, p.ended_at is None) for p in session.scalars(select(Pair))
        }


def test_import_resolves_ids_and_emails_and_a_second_import_adds_nothing(
    deps: Deps, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert run(deps, path) == 0
    out = capsys.readouterr().out
    assert "img-2026: 3 rows; 3 added, 0 unchanged, 0 ended." in out
    assert "Sent 6 of 6 messages." in out
    assert pairs(deps) == {
        ("U0MENTOR1", "U0MENTEE1", "EHR documentation", True),
        ("U0MENTOR2", "U0MENTEE2", None, True),
        ("U0MENTOR1", "U0MENTEE3", None, True),
    }
    assert len(fake_slack.messages("U0MENTOR1")) == 2 and len(fake_slack.messages("U0MENTEE3")) == 1
    lookups = len(fake_slack.calls_to("users.lookupByEmail")) + len(fake_slack.calls_to("users.info"))
    assert lookups == 5  # one per distinct person; nobody twice

    assert run(deps, path) == 0
    assert "3 rows; 0 added, 3 unchanged, 0 ended." in capsys.readouterr().out
    assert count(deps, Pair) == 3 and len(fake_slack.calls_to("chat.postMessage")) == 6
    # Everyone was cached a moment ago: the second import asks Slack nothing.
    assert len(fake_slack.calls_to("users.lookupByEmail")) + len(fake_slack.calls_to("users.info")) == lookups


def test_two_bad_rows_are_named_by_line_and_nothing_is_written(
    deps: Deps, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "mentor,mentee\nU0MENTOR1,amara@example.org\nU0MENTOR2,nobody@example.org\n"
        "U0MENTOR2,diego@example.org\nU0MENTOR1,dr.mendes@example.org\n",
    )
    assert run(deps, path) == 1
    err = capsys.readouterr().err
    assert f"{path}: nothing was imported; 2 problem(s):" in err
    assert "  line 3: mentee 'nobody@example.org': no Slack user has this email" in err
    assert "  line 5: Ana Mendes (U0MENTOR1) can't be their own mentor" in err
    assert count(deps, Pair) == 0 and count(deps, Person) == 0 and count(deps, AuditEntry) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty; expected a header row mentor,mentee[,focus]"),
        ("U0MENTOR1,U0MENTEE1\n", "line 1: the first row must name the columns"),
        (
            "mentor,mentee,colour\n",
            "line 1: the first row must name the columns: mentor,mentee and optionally focus "
            "(found 'colour')",
        ),
        ("mentor,mentee\nU0MENTOR1\n", "line 2: mentee is empty"),
        ("mentor,mentee\nU0MENTOR1,U0MENTEE1,extra\n", "line 2: 3 values but the header names 2 columns"),
        (
            "mentor,mentee\nbob,U0MENTEE1\n",
            "line 2: mentor 'bob' is neither a Slack user id (like U0123ABCD) nor an email",
        ),
        ("mentor,mentee,focus\nU0MENTOR1,U0MENTEE1," + "x" * 201 + "\n", "line 2: focus is 201 characters"),
        (
            "mentor,mentee\n\nU0MENTOR1,U0MENTEE1\nU0MENTOR1,amara@example.org\n",
            "line 4: the same pair as line 3",
        ),
        ("mentor,mentee\nU0MENTOR1,U0NOBODY9\n", "line 2: mentee 'U0NOBODY9': no Slack user has this id"),
        (
            "mentor,mentee\nU0MENTOR1,U0MENTEE1\nU0MENTEE1,U0MENTOR1\n",
            "line 3: Ana Mendes (U0MENTOR1) already mentors",
        ),
    ],
)
def test_each_kind_of_bad_file_is_explained(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    assert run(deps, write(tmp_path, text)) == 1
    assert problem in capsys.readouterr().err
    assert count(deps, Pair) == 0


def test_a_missing_file_and_an_unknown_program(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(deps, tmp_path / "nope.csv") == 1
    assert "nope.csv: file not found" in capsys.readouterr().err
    assert run(deps, write(tmp_path, GOOD), program_id="mars-2030") == 1
    assert "unknown program 'mars-2030' (programs.yml has: img-2026, nursing-2026)" in capsys.readouterr().err


def test_replace_ends_pairs_missing_from_the_file_and_tells_them(
    deps: Deps, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pair(deps, "U0MENTOR2", "U0MENTEE3")
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE2", program_id="nursing-2026")  # another program: untouched
    path = write(tmp_path, "mentor,mentee\nU0MENTOR1,U0MENTEE1\nU0MENTOR2,U0MENTEE2\n")
    assert run(deps, path, replace=True) == 0
    assert "2 rows; 1 added, 1 unchanged, 1 ended." in capsys.readouterr().out
    assert ("U0MENTOR2", "U0MENTEE3", None, False) in pairs(deps)
    assert [p for p in pairs(deps) if p[3]] and count(deps, Pair) == 4
    assert "has ended" in fake_slack.messages("U0MENTEE3")[0]["text"]
    with deps.sessions.begin() as session:
        actions = sorted(session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == "cli")))
    assert actions == ["pair", "roster.import", "unpair"]


def test_max_mentees_per_mentor_counts_the_file_in_order(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = deps.programs.model_dump()
    data["programs"][0]["max_mentees_per_mentor"] = 2
    limited = dataclasses.replace(deps, programs=ProgramsConfig.model_validate(data))
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    path = write(tmp_path, "mentor,mentee\nU0MENTOR1,U0MENTEE1\nU0MENTOR1,U0MENTEE2\nU0MENTOR1,U0MENTEE3\n")
    assert run(limited, path) == 1
    err = capsys.readouterr().err
    assert "line 4: Ana Mendes (U0MENTOR1) already has 2 mentees in img-2026" in err
    assert "line 3" not in err


def test_a_changed_focus_is_updated_and_reported(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(deps, write(tmp_path, "mentor,mentee,focus\nU0MENTOR1,U0MENTEE1,EHR\n")) == 0
    assert run(deps, write(tmp_path, "mentor,mentee,focus\nU0MENTOR1,U0MENTEE1,Handover\n")) == 0
    assert "0 added, 1 unchanged, 0 ended, 1 with a new focus." in capsys.readouterr().out
    assert pairs(deps) == {("U0MENTOR1", "U0MENTEE1", "Handover", True)}


def test_the_cli_command_imports(
    deps: Deps, fake_slack: FakeSlack, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
        "MENTORBOT_SEND_RATE": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["roster", "import", "img-2026", str(write(tmp_path, GOOD))])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "3 added" in result.stdout
    assert count(deps, Pair) == 3
