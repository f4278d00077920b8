import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app.outcome_commands import annual_report_command, roster_snapshot_command
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.reports.annual_pdf import SECTIONS
from tests.support.digests import PROGRAM, add_concern, add_people, add_session, answer_week, mentee_ids
from tests.support.factories import make_pair
from tests.support.people import USERS

PEOPLE = mentee_ids(6)
ANONYMOUS = SECTIONS[1:]  # everything after the cover line names nobody


def seed_year(deps: Deps, clock: Clock, tmp_path: Path) -> None:
    first = make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=datetime(2026, 6, 15, 12, tzinfo=UTC))
    add_people(deps, PEOPLE)
    answer_week(deps, date(2026, 9, 7), dict.fromkeys(PEOPLE, (4, 5, True)))
    add_session(deps, pair_id=first, mentor="U0MENTOR1", mentee="U0MENTEE1", day=date(2026, 8, 4),
                learned="How a new health system's referral letters are read", share="anonymous",
                competencies={"ethics": "demonstrated"})  # fmt: skip
    add_session(deps, pair_id=first, mentor="U0MENTOR1", mentee="U0MENTEE1", day=date(2026, 9, 1),
                learned="private words", share="private")  # fmt: skip
    add_concern(deps, week=date(2026, 8, 3), category="workload", text="a", resolved_on=date(2026, 8, 10))
    rows = ["employee,start_date,end_date,participant"]
    rows += [f"U0PP{n:02d},2024-01-15,{'2024-05-01' if n < 3 else ''},yes" for n in range(10)]
    rows += [f"np{n:02d}@hospital.example,2024-01-15,{'2024-05-01' if n < 5 else ''},no" for n in range(10)]
    path = tmp_path / "hr.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert roster_snapshot_command(deps, program_id=PROGRAM, path=path, now=clock.now) == 0


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text cannot be read back")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_annual_pdf_has_every_section_and_names_nobody_in_the_anonymous_ones(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    seed_year(deps, clock, tmp_path)
    out = tmp_path / "annual.pdf"
    code = annual_report_command(
        deps, program_id=PROGRAM, start=date(2026, 1, 1), end=date(2026, 12, 31), out_file=out, format_="pdf"
    )
    assert code == 0 and out.read_bytes().startswith(b"%PDF")
    text = pdf_text(out)
    flat = " ".join(text.split())
    for section in SECTIONS:
        assert section in flat
    anonymous = flat[flat.index(ANONYMOUS[0]) :]
    for user in USERS:
        for name in (user.real_name, *user.real_name.split(), user.name, user.id):
            assert re.search(rf"\b{re.escape(name)}\b", anonymous) is None, name
    assert "How a new health system's referral letters are read" in anonymous  # shared with consent
    assert "private words" not in flat
    assert "70% of 10" in flat and "50% of 10" in flat  # 12-month retention, both sides
    assert "no detectable difference" in flat


def test_markdown_format_adds_retention_lines_and_pdf_needs_an_out_file(
    deps: Deps, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_year(deps, clock, tmp_path)
    capsys.readouterr()
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    assert (
        annual_report_command(deps, program_id=PROGRAM, start=start, end=end, out_file=None, format_="md")
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith("# Outcome report") and "12 months: participants 70% (7/10" in printed
    assert (
        annual_report_command(deps, program_id=PROGRAM, start=start, end=end, out_file=None, format_="pdf")
        == 1
    )
    assert "--format pdf needs --out" in capsys.readouterr().err
