"""`mentorbot cme`: per-mentor hours and CME credits for a year, with the sessions behind them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app.cli import cli
from bot.app.commands import cme_command
from bot.kernel.deps import Deps
from tests.reflections.test_ledger import confirmed
from tests.support.factories import make_pair
from tests.support.people import PROGRAMS_FILE, SECRET_KEY


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def year_of_sessions(deps: Deps) -> None:
    ana = make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    wei = make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    confirmed(deps, ana, "2026-01-31", 90)
    confirmed(deps, ana, "2026-02-01", 30)
    confirmed(deps, ana, "2026-03-02", 60 * 19)  # fills the 20-credit cap
    confirmed(deps, ana, "2026-03-09", 60)  # earns nothing more
    confirmed(deps, ana, "2026-04-01", 60, confirm=False)  # pending: not exported
    confirmed(deps, wei, "2026-06-15", 45)
    confirmed(deps, wei, "2025-12-30", 45)  # another year


def test_export_lists_sessions_months_and_year_per_mentor(
    deps: Deps, year_of_sessions: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cme.csv"
    assert cme_command(deps, program_id="img-2026", year=2026, out_file=out) == 0
    assert capsys.readouterr().out == f"{out}: 2 mentors, 5 confirmed sessions in 2026\n"
    found = rows(out.read_text())
    ana = [r for r in found if r["mentor_id"] == "U0MENTOR1"]
    assert [(r["kind"], r["month"], r["minutes"], r["hours"], r["credits"]) for r in ana] == [
        ("session", "2026-01", "90", "1.5", "1.5"),
        ("session", "2026-02", "30", "0.5", "0.5"),
        ("session", "2026-03", "1140", "19", "18"),
        ("session", "2026-03", "60", "1", "0"),
        ("month", "2026-01", "90", "1.5", "1.5"),
        ("month", "2026-02", "30", "0.5", "0.5"),
        ("month", "2026-03", "1200", "20", "18"),
        ("year", "2026", "1320", "22", "20"),
    ]
    assert (
        ana[0]["mentor_name"] == "Ana Mendes"
        and ana[0]["mentee_name"] == "Amara Okafor"
        and ana[0]["session_date"] == "2026-01-31"
    )
    wei = [(r["kind"], r["hours"], r["credits"]) for r in found if r["mentor_id"] == "U0MENTOR2"]
    assert wei == [("session", "0.75", "0.75"), ("month", "0.75", "0.75"), ("year", "0.75", "0.75")]


def test_without_out_the_csv_goes_to_stdout(
    deps: Deps, year_of_sessions: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cme_command(deps, program_id="img-2026", year=2025, out_file=None) == 0
    found = rows(capsys.readouterr().out)
    assert [(r["mentor_id"], r["kind"], r["session_date"]) for r in found] == [
        ("U0MENTOR2", "session", "2025-12-30"),
        ("U0MENTOR2", "month", ""),
        ("U0MENTOR2", "year", ""),
    ]


def test_a_program_without_cme_exports_hours_and_says_why_credits_are_empty(
    deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    pair = make_pair(deps, "U0MENTOR2", "U0MENTEE2", program_id="nursing-2026")
    confirmed(deps, pair, "2026-05-05", 120)
    assert cme_command(deps, program_id="nursing-2026", year=2026, out_file=None) == 0
    captured = capsys.readouterr()
    assert [(r["kind"], r["hours"], r["credits"]) for r in rows(captured.out)][-1] == ("year", "2", "")
    assert "nursing-2026 has no `cme:` in programs.yml" in captured.err


def test_unknown_program_names_the_known_ones(deps: Deps, capsys: pytest.CaptureFixture[str]) -> None:
    assert cme_command(deps, program_id="img-2062", year=2026, out_file=None) == 1
    err = capsys.readouterr().err
    assert err == "mentorbot cme: unknown program 'img-2062' (programs.yml has: img-2026, nursing-2026)\n"


def test_names_cannot_smuggle_spreadsheet_formulas(deps: Deps, capsys: pytest.CaptureFixture[str]) -> None:
    from storage.repositories.people import upsert_person

    pair = make_pair(deps)
    confirmed(deps, pair, "2026-05-05", 60)
    with deps.sessions.begin() as session:
        upsert_person(session, user_id="U0MENTOR1", now=deps.clock(), real_name="=HYPERLINK(1)")
    cme_command(deps, program_id="img-2026", year=2026, out_file=None)
    assert rows(capsys.readouterr().out)[0]["mentor_name"] == "'=HYPERLINK(1)"


def test_the_cli_command(
    deps: Deps, year_of_sessions: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "DATABASE_URL": deps.settings.database_url,
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": deps.settings.slack_api_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    out = tmp_path / "cme.csv"
    result = CliRunner().invoke(cli, ["cme", "img-2026", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert rows(out.read_text())[-1]["kind"] == "year"
    bad = CliRunner().invoke(cli, ["cme", "nope", "--year", "2026"])
    assert bad.exit_code == 1 and "unknown program 'nope'" in bad.stderr
