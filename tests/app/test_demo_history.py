"""The demo's synthetic year (bot.app.demo.history): the digest's trend chart and the annual report show
real figures, small groups stay hidden, and nothing anonymous it writes names a person."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.app.demo import history
from bot.app.demo.history_plan import CONCERNS, FAMILY, WEEKS
from bot.app.demo.run import CHAPTERS
from bot.app.demo.world import PROGRAM_ID, World, open_world
from bot.app.outcome_commands import annual_markdown
from bot.digests.content import Digest, build_digest
from bot.digests.weeks import WEEK
from bot.kernel.programs import Program
from bot.reports.annual_data import AnnualReport, build_annual_report
from bot.reports.annual_pdf import SECTIONS, render_annual_pdf
from bot.reports.outcomes import to_csv
from bot.reports.quarter_scores import WEEKS_HIDDEN
from storage.models import Concern, DigestPost, Person
from tests.support import forensics

# Tables whose rows are promised to name nobody (concern_messages may name the coordinator who replied).
ANONYMOUS = (
    "climate_answers", "climate_weeks", "answer_rollups", "digest_figures", "concerns", "instrument_answers",
)  # fmt: skip


@dataclass(frozen=True)
class DemoYear:
    world: World
    program: Program
    transcript: str
    # The SQLite files right after the history chapter, before a later checkpoint folds its WAL away.
    units: list[list[bytes]]
    everything: bytes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoYear]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    with open_world(out) as world:
        units: list[list[bytes]] = []
        everything = b""
        for chapter in CHAPTERS:
            chapter(world)
            if chapter is history.run:
                units, everything = forensics.sqlite_units(out / "demo.db")
        program = world.deps.programs.get(PROGRAM_ID)
        assert program is not None
        yield DemoYear(world, program, "\n".join(world.lines), units, everything)


def _last_digest(demo: DemoYear) -> Digest:
    with demo.world.deps.sessions.begin() as session:
        week = session.scalar(select(func.max(DigestPost.week)).where(DigestPost.program_id == PROGRAM_ID))
        assert week is not None
        return build_digest(session, program=demo.program, week=week, now=demo.world.clock())


def _year_report(demo: DemoYear, last_week: date) -> AnnualReport:
    start, end = last_week - (WEEKS - 1) * WEEK, last_week + timedelta(days=6)
    with demo.world.deps.sessions.begin() as session:
        return build_annual_report(
            session, program=demo.program, start=start, end=end, now=demo.world.clock()
        )


def test_the_history_chapter_prints_a_short_summary_and_the_demo_writes_chart_and_report(
    demo: DemoYear,
) -> None:
    transcript = demo.transcript
    chapter = transcript[transcript.index("== A year of history") :].split("\n\n")[0].splitlines()
    assert 3 <= len(chapter) <= 5, chapter  # the heading and a few lines, never a row per answer
    assert (demo.world.out_dir / "digest-trend.png").read_bytes().startswith(b"\x89PNG")
    assert (demo.world.out_dir / f"annual-report-{PROGRAM_ID}.pdf").read_bytes().startswith(b"%PDF")


def test_the_digest_trend_chart_shows_at_least_eight_weekly_figures(demo: DemoYear) -> None:
    digest = _last_digest(demo)
    wellbeing = digest.trend("wellbeing")
    assert len(wellbeing) == 8 and sum(value is not None for value in wellbeing) >= 8, wellbeing
    shown = [value for value in wellbeing if value is not None]
    assert shown[-1] > shown[0]  # wellbeing improves over the eight weeks, with noise
    # The narrative's own week had one team-climate answer: its figure stays hidden, the others show.
    psych = digest.trend("psych")
    assert sum(value is not None for value in psych) >= 6 and True in digest.hidden("psych")


def test_the_annual_report_shows_big_cohorts_and_hides_small_groups(demo: DemoYear) -> None:
    report = _year_report(demo, _last_digest(demo).week)
    rows = report.rows
    assert len(rows) == 5
    # The pilot quarter: five mentees whose mentors each see one of their answers.
    assert rows[0].wellbeing_mean is None and rows[0].wellbeing_weeks_hidden >= 8
    assert all(row.wellbeing_mean is not None for row in rows[1:]), [r.wellbeing_mean for r in rows]
    assert sum(row.psych_safety_mean is not None for row in rows) >= 4
    assert sum(row.confirmed_sessions for row in rows) > 300
    k = demo.program.privacy.min_group_size
    by_category: dict[str, int] = {}
    for row in rows:
        for part in filter(None, row.concerns_by_category.split("; ")):
            category, _, count = part.partition("=")
            by_category[category] = by_category.get(category, 0) + int(count)
    assert any(n >= k for n in by_category.values()) and any(n < k for n in by_category.values())
    twelve = next(r for r in report.retention.table if r.months == 12)
    assert twelve.participants.rate is not None and twelve.others.rate is not None


def test_the_report_shows_instrument_scores_and_says_which_small_batches_were_discarded(
    demo: DemoYear,
) -> None:
    report = _year_report(demo, _last_digest(demo).week)
    burnout = [c for c in report.instrument_cells if c.instrument == "Burnout (Mini-Z)"]
    shown = [c for c in burnout if c.mean is not None and c.share is not None]
    assert len(shown) >= 3 and all(c.people >= demo.program.privacy.min_group_size for c in shown)
    shares = [c.share for c in shown if c.share is not None]
    assert shares[-1] < shares[1]  # burnout less common as the year goes on
    safety = [c for c in report.instrument_cells if c.instrument == "Psychological safety"]
    assert any(c.mean is not None for c in safety)
    # Quarters are compared by who answered (the claims), not by answer rows: one whose respondents
    # differ from a shown quarter's by fewer than k people is hidden.
    assert any(c.hidden == "combination" for c in safety)
    discarded = [c for c in report.instrument_cells if c.withheld and c.mean is None and not c.people]
    assert discarded  # a quarter whose every batch had fewer than k answers: said so, not "no data"
    flat = " ".join(pdf_text(demo, render_annual_pdf(report)).split())
    table = flat[flat.index("Instrument Quarter Mean") : flat.index("Validated instruments")]
    assert "Burnout (Mini-Z) 2026-Q2" in table and "hidden (fewer than 5)" in table
    assert "Mentor competency (MCA-21) 2026-Q2" in table  # the long name beside its quarter, not over it
    hidden = flat[flat.index("Figures hidden in this report") :]
    assert f"{discarded[0].instrument} {discarded[0].quarter} fewer than 5 answered" in hidden


def test_a_quarter_whose_weeks_the_digest_hid_says_hidden_with_why_in_every_format(demo: DemoYear) -> None:
    report = _year_report(demo, _last_digest(demo).week)
    pilot = report.rows[0]
    assert pilot.wellbeing_hidden == WEEKS_HIDDEN and pilot.wellbeing_weeks_hidden == 8
    flat = " ".join(pdf_text(demo, render_annual_pdf(report)).split())
    assert f"{pilot.quarter} hidden (8 weeks hidden)" in flat
    hidden = flat[flat.index("Figures hidden in this report") :]
    why = "all 8 weeks with answers hidden by the weekly rule"
    assert f"Wellbeing (check-ins) {pilot.quarter} {why}" in hidden
    assert "first_meeting" not in flat and "psychological_safety" not in flat
    assert "Workload and fatigue" in flat  # the concern form's label, not its key
    markdown = annual_markdown(report).splitlines()
    assert "hidden (8 weeks hidden)" in next(
        line for line in markdown if line.startswith(f"| {pilot.quarter} ")
    )
    assert f",{WEEKS_HIDDEN}," in to_csv(report.rows).splitlines()[1]


def test_the_report_names_nobody_after_its_cover_line(demo: DemoYear) -> None:
    report = _year_report(demo, _last_digest(demo).week)
    flat = " ".join(pdf_text(demo, render_annual_pdf(report)).split())
    anonymous = flat[flat.index(SECTIONS[1]) :]
    with demo.world.deps.sessions.begin() as session:
        people = session.scalars(select(Person)).all()
    names = {p.id for p in people} | {p.real_name for p in people if p.real_name} | set(FAMILY)
    assert len(names) > 100 and not [name for name in names if name in anonymous]


def pdf_text(demo: DemoYear, pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text cannot be read back")
    path = demo.world.out_dir / "report-under-test.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_no_anonymous_row_carries_a_person(demo: DemoYear) -> None:
    with demo.world.deps.sessions.begin() as session:
        people = session.scalars(select(Person)).all()
        names = {p.id for p in people} | {p.real_name for p in people} | {p.email for p in people if p.email}
        texts = [concern.text for concern in session.scalars(select(Concern))]
        cells = [
            str(value)
            for table in ANONYMOUS
            for row in session.execute(text(f"SELECT * FROM {table}"))
            for value in row
            if value is not None
        ]
    assert len(people) > 50 and len(cells) > 1000
    assert not [cell for cell in cells + texts if any(name in cell for name in names)]
    assert {text for _, text in CONCERNS} <= set(texts)


def test_the_history_concerns_share_no_transaction_with_a_user_id(demo: DemoYear) -> None:
    with demo.world.deps.sessions.begin() as session:
        user_ids = list(session.scalars(select(Person.id)))
    # Each transaction or page as one blob: the same search (a derived value inside any stored value is
    # inside their join), but a few thousand substring scans instead of millions of comparisons.
    named = forensics.link_senders(
        [[b"\0".join(unit)] for unit in demo.units],
        keys=demo.world.deps.keys,
        texts=[text for _, text in CONCERNS],
        user_ids=user_ids,
        everything=demo.everything,
    )
    assert named and all(not ids for ids in named.values()), named


def test_the_year_is_the_same_every_run(tmp_path: Path) -> None:
    def summary(out: Path) -> list[object]:
        with open_world(out) as world:
            history.run(world)
            with world.deps.sessions.begin() as session:
                figures = session.execute(
                    text("SELECT week, metric, grp, n, total, shown FROM digest_figures")
                )
                return [*world.lines, *sorted(tuple(row) for row in figures)]

    assert summary(tmp_path / "a") == summary(tmp_path / "b")
