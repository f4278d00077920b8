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
    concerns = flat[flat.index("Concerns by category") : flat.index(SECTIONS[-2])]
    assert "Workload and fatigue fewer than 5" in concerns and "workload" not in concerns  # the form's label
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


UNITS = (
    "unit,quarter,score,respondents,participants\n"
    "4 West Medicine,2026Q1,78.5,120,6\n4 West Medicine,2026Q3,81,110,7\n"
    "ICU,2026-Q1,74,60,2\nICU,2026Q3,76.5,58,5\nEmergency,2026Q3,70.2,200,9\n"
    "Emergency,2025Q4,69,190,8\n"
)


def test_the_pdf_shows_intervals_first_meetings_units_beside_participation_and_lists_what_is_hidden(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    from tests.support.report_seed import seed_year as seed_rich_year

    seed_rich_year(deps, clock, tmp_path)
    units = tmp_path / "hcahps.csv"
    units.write_text(UNITS, encoding="utf-8")
    out = tmp_path / "annual.pdf"
    code = annual_report_command(
        deps, program_id=PROGRAM, start=date(2026, 1, 1), end=date(2026, 12, 31), out_file=out,
        format_="pdf", patient_experience=units,
    )  # fmt: skip
    assert code == 0
    flat = " ".join(pdf_text(out).split())
    for section in SECTIONS:
        assert section in flat
    assert "2.8 (1.9–3.7)" in flat  # Q1 wellbeing with its 95% interval
    assert "13 pairs started in the period; 0 had no session" in flat
    assert "fewer than 5" in flat and "Association, not effect" in flat and "ICU" in flat
    assert "1 rows for quarters outside the report were left out" in flat
    methods = flat[flat.rindex("Methods") :]
    assert "Homogeneity guard" in methods
    hidden = methods[methods.index("Figures hidden in this report") :]
    assert "Wellbeing (check-ins) 2026-Q4 with 1 or 2 figures shown, singles out under 5 people" in hidden
    assert "Time to first meeting, pairs started 2026-Q2 fewer than 5 people behind it" in hidden
    assert "pairs started 2026-Q4" not in hidden  # no pair started: no data, not hidden
    assert "first_meeting" not in flat and "wellbeing 2026" not in flat  # never a raw key


def test_a_bad_patient_experience_file_is_one_line_naming_file_line_column_and_reason(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = tmp_path / "hcahps.csv"
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    for text, expected in (
        (
            "unit,quarter,score,respondents\nICU,2026Q5,70,10\n",
            "line 2, column 'quarter': '2026Q5' is not a quarter",
        ),
        (
            "unit,quarter,score,respondents\nICU,2026Q1,high,10\n",
            "line 2, column 'score': 'high' is not a number",
        ),
        ("unit,quarter,score\nICU,2026Q1,70\n", "line 1, column 'respondents': missing from the header"),
        ("unit,quarter,score,respondents,mrn\n", "line 1, column 'mrn': is not one of"),
        ("unit,quarter,score,respondents\nICU,2026Q1,70,0\nICU,2026Q1,71,3\n", "column 'respondents'"),
        ("unit,quarter,score,respondents\nICU,2026Q1,70,9\nicu,2026-Q1,71,3\n", "line 3, column 'unit'"),
    ):
        units.write_text(text, encoding="utf-8")
        code = annual_report_command(
            deps, program_id=PROGRAM, start=start, end=end, out_file=tmp_path / "r.pdf", format_="pdf",
            patient_experience=units,
        )  # fmt: skip
        errors = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and len(errors) == 1
        assert errors[0].startswith(f"mentorbot report: {units}: ") and expected in errors[0], errors[0]
    assert not (tmp_path / "r.pdf").exists()


def test_csv_and_markdown_formats_carry_the_unit_table_beside_participation(
    deps: Deps, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.report_seed import seed_year as seed_rich_year

    seed_rich_year(deps, clock, tmp_path)
    units = tmp_path / "hcahps.csv"
    units.write_text(UNITS, encoding="utf-8")
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    out = tmp_path / "report.csv"
    assert annual_report_command(deps, program_id=PROGRAM, start=start, end=end, out_file=out, format_="csv",
                                 patient_experience=units) == 0  # fmt: skip
    beside = (tmp_path / "report-patient-experience.csv").read_text().splitlines()
    assert beside[0] == "quarter,unit,score,respondents,participants,program_mentees,note"
    assert "2026-Q1,ICU,74,60,fewer than 5,6," in "\n".join(beside)
    assert all(line.endswith('"association, not effect"') for line in beside[1:])
    assert out.read_text().splitlines()[1].startswith("2026-Q1,")
    capsys.readouterr()
    assert annual_report_command(deps, program_id=PROGRAM, start=start, end=end, out_file=None, format_="md",
                                 patient_experience=units) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "## Patient experience by unit (hcahps.csv): association, not effect" in printed
    assert "## Time to first meeting" in printed and "## Figures hidden in this report" in printed
    assert "resident: participants hidden (overlap)" in printed
    assert "whole period: 13 pairs started, 0 not met yet; days to first session 12 (IQR 7–17)" in printed
