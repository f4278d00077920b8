from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app.matching_commands import match_command, profiles_import_command
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.matching.proposals import propose
from storage.models import AuditEntry, MatchingProfile, MatchProposal, Pair
from storage.repositories.matching import avoid_list, get_profile
from tests.support.matching import add_profile

PROGRAM = "img-2026"
HEADER = "user,role,specialty,languages,focus,formats,capacity,reports_to,avoid,ranked\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.csv"
    path.write_text(text, encoding="utf-8")
    return path


def count(deps: Deps, model: type) -> int:
    with deps.read_sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stored(deps: Deps, user_id: str) -> MatchingProfile | None:
    with deps.read_sessions.begin() as session:
        found = get_profile(session, program_id=PROGRAM, user_id=user_id)
        if found is not None:
            session.expunge(found)
        return found


def test_profiles_import_adds_then_updates_and_audits(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = HEADER + (
        "U0MENTOR1,mentor,Surgery,Portuguese;English,Ethics;Career,video,3,,,\n"
        "amara@example.org,mentee,Surgery,Portuguese,ethics,video,,,,U0MENTOR1\n"
    )
    path = write(tmp_path, csv)
    assert profiles_import_command(deps, program_id=PROGRAM, path=path, now=deps.clock()) == 0
    assert capsys.readouterr().out.strip() == "img-2026: 2 profiles; 2 added, 0 updated."
    mentee = stored(deps, "U0MENTEE1")  # found by email through users.lookupByEmail
    assert mentee is not None and mentee.ranked == ["U0MENTOR1"] and mentee.focus == ["Ethics"]
    mentor = stored(deps, "U0MENTOR1")
    assert mentor is not None and (mentor.capacity, mentor.languages) == (3, ["Portuguese", "English"])
    assert profiles_import_command(deps, program_id=PROGRAM, path=path, now=deps.clock()) == 0
    assert capsys.readouterr().out.strip() == "img-2026: 2 profiles; 0 added, 2 updated."
    with deps.read_sessions.begin() as session:
        assert session.scalars(select(AuditEntry.action)).all() == ["profiles.import", "profiles.import"]


def test_a_bad_file_imports_nothing_and_names_every_bad_line(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = HEADER + (
        "U0MENTOR1,mentor,Surgery,,,,three,,,\n"
        "U0MENTEE1,intern,Surgery,,,,,,,\n"
        "U0MENTEE2,mentee,Surgery,,Knitting,,,,,\n"
        "U0MENTEE3,mentee,Surgery,,,,,,,\n"
        "not-a-person,mentee,,,,,,,,\n"
    )
    assert profiles_import_command(deps, program_id=PROGRAM, path=write(tmp_path, csv), now=deps.clock()) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("nothing was imported; 4 problem(s):")
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["line 2", "line 3", "line 4", "line 6"]
    assert "capacity 'three' is not a whole number from 1 to 20" in lines[1]
    assert "focus 'Knitting' is not one of: Clinical reasoning;" in lines[3]
    assert count(deps, MatchingProfile) == 0


def test_an_import_never_signs_up_again_someone_who_left(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_profile(deps, "U0MENTEE1")
    program = deps.programs.get(PROGRAM)
    assert program is not None
    from bot.matching.profiles import leave

    with deps.sessions.begin() as session:
        leave(session, program=program, user_id="U0MENTEE1", now=deps.clock())
    csv = HEADER + "U0MENTOR1,mentor,Surgery,,,,2,,,\nU0MENTEE1,mentee,Surgery,,,,,,,\n"
    assert profiles_import_command(deps, program_id=PROGRAM, path=write(tmp_path, csv), now=deps.clock()) == 1
    assert (
        "line 3: U0MENTEE1 left matching on 23 November 2026; only they can rejoin" in capsys.readouterr().err
    )
    assert count(deps, MatchingProfile) == 0


def test_an_import_adds_to_a_persons_own_avoid_list_and_never_shortens_it(deps: Deps, tmp_path: Path) -> None:
    add_profile(deps, "U0MENTEE1", avoid=["U0MENTOR2"])
    csv = HEADER + "U0MENTEE1,mentee,Surgery,,,,,,U0MENTOR1,\n"
    assert profiles_import_command(deps, program_id=PROGRAM, path=write(tmp_path, csv), now=deps.clock()) == 0
    mentee = stored(deps, "U0MENTEE1")
    assert mentee is not None and avoid_list(mentee) == ["U0MENTOR1", "U0MENTOR2"]


def test_a_reporting_line_from_the_csv_keeps_a_supervisor_from_being_proposed(
    deps: Deps, tmp_path: Path
) -> None:
    csv = HEADER + (
        "U0MENTOR1,mentor,Surgery,,,,2,,,\n"
        "U0MENTOR2,mentor,Pediatrics,,,,2,U0MENTOR1,,\n"
        "U0MENTEE1,mentee,Surgery,,,,,U0MENTOR2,,U0MENTOR1\n"
    )
    assert profiles_import_command(deps, program_id=PROGRAM, path=write(tmp_path, csv), now=deps.clock()) == 0
    program = deps.programs.get(PROGRAM)
    assert program is not None
    proposal = propose(deps, program=program, actor_id="cli", now=deps.clock())
    assert proposal.pairs == ()  # U0MENTOR2 supervises U0MENTEE1, and U0MENTOR1 supervises U0MENTOR2
    assert proposal.unmatched == (("U0MENTEE1", "no mentor may be theirs: 2 in their reporting line"),)


def test_match_dry_run_prints_every_pair_with_its_factors_and_stores_nothing(
    deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Surgery", times=["evening"])
    add_profile(deps, "U0MENTEE1", specialty="Surgery", times=["evening"])
    add_profile(deps, "U0MENTEE2", specialty="Surgery", department="ICU")
    add_profile(deps, "U0MENTEE3", specialty="Surgery")
    assert match_command(deps, program_id=PROGRAM, dry_run_only=True, approve_id=None, now=deps.clock()) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Proposal (dry run) for img-2026: 2 of 3 waiting mentees matched; 1 mentors with a free place; "
        "total score 11."
    )
    assert "  Amara Okafor (U0MENTEE1) <- Ana Mendes (U0MENTOR1)  6: same specialty (Surgery) +5; " in out[1]
    assert out[-1] == "Dry run: nothing was stored."
    assert any(line.startswith("  Lin Park (U0MENTEE3): the 1 mentor who fit") for line in out)
    assert count(deps, MatchProposal) == 0


def test_match_stores_a_proposal_that_approve_turns_into_pairs_and_welcome_messages(
    deps: Deps, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Surgery")
    add_profile(deps, "U0MENTEE1", specialty="Surgery")
    assert match_command(deps, program_id=PROGRAM, dry_run_only=False, approve_id=None, now=deps.clock()) == 0
    assert "Stored as proposal #1." in capsys.readouterr().out
    assert match_command(deps, program_id=PROGRAM, dry_run_only=False, approve_id=1, now=deps.clock()) == 0
    out = capsys.readouterr().out
    assert "Approved proposal #1: 1 pairs created" in out and "Sent 2 of 2 messages." in out
    assert count(deps, Pair) == 1
    assert "Why you were matched" in str(fake_slack.messages("U0MENTEE1")[-1]["blocks"])
    assert match_command(deps, program_id=PROGRAM, dry_run_only=False, approve_id=1, now=deps.clock()) == 1
    assert "already approved" in capsys.readouterr().err


def test_match_refuses_a_program_without_matching(deps: Deps, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        match_command(deps, program_id="nursing-2026", dry_run_only=True, approve_id=None, now=deps.clock())
        == 1
    )
    assert "nursing-2026 has no `matching:` in programs.yml" in capsys.readouterr().err
    assert match_command(deps, program_id="mars", dry_run_only=True, approve_id=None, now=deps.clock()) == 1
    assert "unknown program 'mars'" in capsys.readouterr().err
