"""Demo chapter: the annual outcome report over the synthetic year, written as the PDF a committee reads."""

from __future__ import annotations

from datetime import timedelta

from bot.app.demo.history_plan import WEEKS
from bot.app.demo.world import PROGRAM_ID, World
from bot.digests.weeks import WEEK, latest_due_week
from bot.kernel.text import plural
from bot.reports.annual_data import build_annual_report
from bot.reports.annual_pdf import render_annual_pdf
from bot.reports.outcomes import QuarterRow


def run(world: World) -> None:
    """`mentorbot report img-demo --from … --to … --format pdf` for the year ending with the last digest."""
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    now = world.clock()
    last = latest_due_week(program, now)
    start, end = last - (WEEKS - 1) * WEEK, last + timedelta(days=6)
    path = world.out_dir / f"annual-report-{PROGRAM_ID}.pdf"
    world.heading(f"mentorbot report {PROGRAM_ID} --from {start} --to {end} --format pdf --out {path.name}")
    with world.deps.sessions.begin() as session:
        report = build_annual_report(session, program=program, start=start, end=end, now=now)
    path.write_bytes(render_annual_pdf(report))
    world.say(f"Wellbeing (1–5) by quarter: {_by_quarter(report.rows, 'wellbeing')}")
    world.say(f"Psychological safety (1–7) by quarter: {_by_quarter(report.rows, 'psych_safety')}")
    world.say(f"Annual report (PDF, {len(report.rows)} quarters): {path}")


def _by_quarter(rows: list[QuarterRow], metric: str) -> str:
    """`2026-Q1 3.6 (9 weeks shown, 2 hidden)`: a quarter's mean uses only the weeks the digest shows."""
    parts = []
    for row in rows:
        mean: float | None = getattr(row, f"{metric}_mean")
        hidden: int = getattr(row, f"{metric}_weeks_hidden")
        shown = f"{mean:.1f}" if mean is not None else "hidden"
        parts.append(f"{row.quarter} {shown}" + (f" ({plural(hidden, 'week')} hidden)" if hidden else ""))
    return " · ".join(parts)
