"""The outcome report a program shows its GME committee: per quarter, as CSV, with a Markdown summary.

Wellbeing and psychological safety come from the same frozen weekly figures as the digest: a week
counts toward its quarter (the quarter holding its Monday) only if the digest rule shows it, so a
quarter's mean never lets a reader recover a week the digest hid. Column meanings are documented
in README.md, "Outcome report columns".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy.orm import Session

from bot.digests.figures import WeeklySeries, weekly_series
from bot.digests.weeks import WEEK, latest_due_week, monday_of
from bot.ideas.stats import IdeaFigures, report_ideas
from bot.kernel.programs import Program
from bot.kernel.text import plural
from bot.reflections.ledger import ledgers_between
from bot.reports.first_meeting import FirstMeetings, first_meetings
from bot.reports.quarter_scores import WEEKS_HIDDEN, QuarterScores, quarter_scores
from bot.reports.stats import (
    ConcernFigures,
    Demonstrations,
    Quarter,
    concern_figures,
    confirmed_sessions,
    demonstrations,
    enrolment,
    quarters,
)
from bot.tracks.readiness import CohortReadiness


@dataclass(frozen=True)
class QuarterRow:
    """One CSV row; None is written as an empty cell (no data, or hidden to protect anonymity)."""

    quarter: str
    first_day: date
    last_day: date
    mentees_enrolled: int
    mentees_at_start: int
    mentees_retained: int
    retention_rate: float | None
    prompts_sent: int
    prompts_answered: int
    response_rate: float | None
    wellbeing_mean: float | None
    wellbeing_answers: int
    psych_safety_mean: float | None
    psych_safety_answers: int
    weeks_reported: int
    wellbeing_weeks_hidden: int
    psych_safety_weeks_hidden: int
    pairs_active: int
    confirmed_sessions: int
    sessions_per_pair: float | None
    confirmed_hours: float
    mentors_active: int
    cme_credits: float | None
    cme_credits_per_mentor: float | None
    competencies_demonstrated: int
    median_days_to_demonstration: float | None
    concerns: int
    concerns_by_category: str
    concerns_resolved: int
    median_days_to_resolution: float | None
    ideas_raised: int
    ideas_tested: int
    ideas_adopted: int
    adopted_changes: tuple[str, ...]  # people's one-line summaries: one cell, "; " between them
    wellbeing_low: float | None = None  # 95% interval (bot.reports.intervals)
    wellbeing_high: float | None = None
    wellbeing_change: float | None = None  # from the quarter before, when both are shown
    wellbeing_people: int = 0
    wellbeing_hidden: str = ""  # why the quarter's mean is hidden (bot.kernel.suppression reasons)
    psych_safety_low: float | None = None
    psych_safety_high: float | None = None
    psych_safety_change: float | None = None
    psych_safety_people: int = 0
    psych_safety_hidden: str = ""
    pairs_started: int = 0
    pairs_not_met: int = 0
    first_meeting_median_days: float | None = None
    first_meeting_q1_days: float | None = None
    first_meeting_q3_days: float | None = None
    first_meeting_hidden: str = ""


COLUMNS = list(QuarterRow.__dataclass_fields__)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _weeks_of(quarter: Quarter, series: WeeklySeries) -> list[date]:
    return [w.start for w in series.weeks if quarter.start <= w.start <= quarter.end]


def _mean(series: WeeklySeries, weeks: list[date], metric: str) -> tuple[float | None, int, int]:
    """Mean over the quarter's shown weeks, the answers behind it, and weeks with answers left hidden."""
    figures = [series.figure(w, "all", metric) for w in weeks]
    shown = [f for f in figures if f.shown]
    n, total = sum(f.n for f in shown), sum(f.total for f in shown)
    return _ratio(total, n), n, sum(1 for f in figures if f.n and not f.shown)


@dataclass(frozen=True)
class _Activity:
    sessions: dict[int, tuple[int, int]]
    demonstrated: dict[int, Demonstrations]
    concerns: dict[int, ConcernFigures]
    credits: dict[int, Fraction] | None
    ideas: list[IdeaFigures]


@dataclass(frozen=True)
class ReportBuild:
    """The quarterly rows and the decided figures over people behind them (for the PDF and its tests)."""

    rows: list[QuarterRow]
    scores: QuarterScores
    first_meetings: FirstMeetings


def build_report(
    session: Session, *, program: Program, start: date, end: date, now: datetime
) -> list[QuarterRow]:
    """One row per calendar quarter touching [start, end]; weekly figures only for weeks already closed."""
    return build_report_figures(session, program=program, start=start, end=end, now=now).rows


def build_report_figures(
    session: Session, *, program: Program, start: date, end: date, now: datetime
) -> ReportBuild:
    """The rows of `build_report` with the figures over people decided for them."""
    periods = quarters(start, end)
    first_week = monday_of(start) + (WEEK if monday_of(start) < start else timedelta(0))
    last_week = min(monday_of(end), latest_due_week(program, now))
    series = weekly_series(session, program=program, first=first_week, last=last_week, split=set(), now=now)
    activity = _Activity(
        confirmed_sessions(session, program_id=program.id, periods=periods),
        demonstrations(session, program_id=program.id, periods=periods),
        concern_figures(session, program_id=program.id, periods=periods),
        _credits(session, program=program, periods=periods),
        report_ideas(
            session, program_id=program.id, zone=program.tz, periods=[(q.start, q.end) for q in periods]
        ),
    )
    rows = [_row(session, program, index, quarter, series, activity) for index, quarter in enumerate(periods)]
    scores = quarter_scores(session, program=program, periods=periods, series=series)
    meetings = first_meetings(session, program=program, start=start, end=end, periods=periods)
    rows = [_with_people_figures(row, scores, meetings) for row in rows]
    return ReportBuild(rows, scores, meetings)


def _with_people_figures(row: QuarterRow, scores: QuarterScores, meetings: FirstMeetings) -> QuarterRow:
    """The row's means replaced by the quarter-level decisions, with intervals, changes and first meetings."""
    wellbeing, psych = scores.of(row.quarter, "wellbeing"), scores.of(row.quarter, "psych")
    first = meetings.quarters[row.quarter]
    return replace(
        row,
        wellbeing_mean=wellbeing.mean, wellbeing_low=wellbeing.low, wellbeing_high=wellbeing.high,
        wellbeing_change=wellbeing.change, wellbeing_people=wellbeing.people,
        wellbeing_hidden=wellbeing.hidden,
        psych_safety_mean=psych.mean, psych_safety_low=psych.low, psych_safety_high=psych.high,
        psych_safety_change=psych.change, psych_safety_people=psych.people, psych_safety_hidden=psych.hidden,
        pairs_started=first.started, pairs_not_met=first.not_met, first_meeting_median_days=first.median,
        first_meeting_q1_days=first.q1, first_meeting_q3_days=first.q3, first_meeting_hidden=first.hidden,
    )  # fmt: skip


def _credits(session: Session, *, program: Program, periods: list[Quarter]) -> dict[int, Fraction] | None:
    """CME credits per quarter from the ledger (the accrual and yearly cap of `mentorbot cme`)."""
    if program.cme is None:
        return None
    found: dict[int, Fraction] = {}
    for ledger in ledgers_between(session, program=program, start=periods[0].start, end=periods[-1].end):
        for entry in ledger.entries:
            index = next(i for i, q in enumerate(periods) if q.start <= entry.row.session_date <= q.end)
            found[index] = found.get(index, Fraction(0)) + entry.credits
    return found


def _row(
    session: Session,
    program: Program,
    index: int,
    quarter: Quarter,
    series: WeeklySeries,
    activity: _Activity,
) -> QuarterRow:
    people = enrolment(session, program_id=program.id, quarter=quarter, tz=program.tz)
    weeks = _weeks_of(quarter, series)
    counts = [w for w in series.weeks if w.start in weeks]
    sent, answered = sum(w.sent for w in counts), sum(w.answered for w in counts)
    wellbeing, wellbeing_n, wellbeing_hidden = _mean(series, weeks, "wellbeing")
    psych, psych_n, psych_hidden = _mean(series, weeks, "psych")
    sessions, minutes = activity.sessions.get(index, (0, 0))
    shown = activity.demonstrated.get(index, Demonstrations(0, None))
    concerns = activity.concerns[index]
    credits = None if activity.credits is None else float(activity.credits.get(index, Fraction(0)))
    ideas = activity.ideas[index]
    return QuarterRow(
        quarter.label, quarter.start, quarter.end,
        people.enrolled, people.at_start, people.retained, _ratio(people.retained, people.at_start),
        sent, answered, _ratio(answered, sent),
        wellbeing, wellbeing_n, psych, psych_n, len(weeks), wellbeing_hidden, psych_hidden,
        people.pairs, sessions, _ratio(sessions, people.pairs), minutes / 60,
        people.mentors, credits, None if credits is None else _ratio(credits, people.mentors),
        shown.count, shown.median_days,
        sum(concerns.by_category.values()), "; ".join(f"{c}={n}" for c, n in concerns.by_category.items()),
        concerns.resolved, concerns.median_days_to_resolution,
        ideas.raised, ideas.tested, ideas.adopted, ideas.adopted_changes,
    )  # fmt: skip


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        # People's words: a leading = + - @ would make a spreadsheet run them as a formula.
        return "; ".join("'" + text if text.startswith(("=", "+", "-", "@")) else text for text in value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def to_csv(rows: list[QuarterRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(value) for value in asdict(row).values()])
    return buffer.getvalue()


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _number(value: float | None, places: int = 1) -> str:
    return "hidden" if value is None else f"{value:.{places}f}"


def to_markdown(
    program: Program,
    rows: list[QuarterRow],
    *,
    start: date,
    end: date,
    readiness: Sequence[CohortReadiness] = (),
) -> str:
    """A short summary table for people, with the anonymity rule stated under it."""
    lines = [
        f"# Outcome report: {program.name} ({program.id}), {start} to {end}",
        "",
        "| Quarter | Mentees | Retention | Response rate | Wellbeing (1–5) | Psych. safety (1–7) "
        "| Sessions/pair | Protected hours | CME/mentor | Competencies | Concerns |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cme = "–" if r.cme_credits_per_mentor is None else f"{r.cme_credits_per_mentor:.1f}"
        per_pair = "–" if r.sessions_per_pair is None else f"{r.sessions_per_pair:.1f}"
        lines.append(
            f"| {r.quarter} | {r.mentees_enrolled} | {_percent(r.retention_rate)} "
            f"| {_percent(r.response_rate)} "
            f"| {wellbeing_text(r)} | {psych_text(r)} "
            f"| {per_pair} "
            f"| {r.confirmed_hours:.1f} | {cme} | {r.competencies_demonstrated} | {r.concerns} |"
        )
    k = program.privacy.min_group_size
    lines += [
        "",
        f"Averages use only weeks the weekly digest shows: at least {k} mentees answered and no other figure",
        "shown differs from it by fewer than that many people. Hidden weeks are left out of the quarter.",
        f"Brackets hold 95% intervals. A quarter is hidden when it rests on fewer than {k} people, when",
        "every answer was the same, or when set beside one or two other shown quarters it would single",
        f"out fewer than {k} people.",
        *_change_lines(rows),
        *_first_meeting_lines(rows),
        *_adopted_lines(rows),
        *_readiness_lines(readiness),
    ]
    return "\n".join(lines) + "\n"


def score_text(mean: float | None, low: float | None, high: float | None, hidden: str) -> str:
    """`4.0 (3.1–4.9)`; `–` when nobody answered; `hidden` when the anonymity rules withheld it."""
    if mean is None:
        return "–" if hidden in ("", "no data") else "hidden"
    return f"{mean:.1f}" if low is None or high is None else f"{mean:.1f} ({low:.1f}–{high:.1f})"


def wellbeing_text(r: QuarterRow) -> str:
    text = score_text(r.wellbeing_mean, r.wellbeing_low, r.wellbeing_high, r.wellbeing_hidden)
    return _with_weeks(text, r.wellbeing_hidden, r.wellbeing_weeks_hidden)


def psych_text(r: QuarterRow) -> str:
    text = score_text(r.psych_safety_mean, r.psych_safety_low, r.psych_safety_high, r.psych_safety_hidden)
    return _with_weeks(text, r.psych_safety_hidden, r.psych_safety_weeks_hidden)


def _with_weeks(text: str, hidden: str, weeks: int) -> str:
    """A quarter with answers none of whose weeks the digest showed: `hidden (8 weeks hidden)`."""
    return f"hidden ({plural(weeks, 'week')} hidden)" if hidden == WEEKS_HIDDEN else text


def change_text(change: float | None) -> str:
    return "–" if change is None else f"{change:+.1f}"


def _change_lines(rows: list[QuarterRow]) -> list[str]:
    """Quarter-over-quarter changes and why each hidden score is hidden."""
    title = "## Scores per quarter: change and people"
    lines = [
        "",
        title,
        "",
        "| Quarter | Wellbeing change | People | Psych. safety change | People | Hidden |",
    ]
    lines.append("|---|---:|---:|---:|---:|---|")
    for r in rows:
        why = "; ".join(
            f"{name}: {reason}"
            for name, reason in (("wellbeing", r.wellbeing_hidden), ("psych. safety", r.psych_safety_hidden))
            if reason
        )
        lines.append(
            f"| {r.quarter} | {change_text(r.wellbeing_change)} | {r.wellbeing_people} "
            f"| {change_text(r.psych_safety_change)} | {r.psych_safety_people} | {why or '–'} |"
        )
    return lines


def days_text(median: float | None, q1: float | None, q3: float | None, hidden: str) -> str:
    """`12 (IQR 7–20)`, `12` when the quartiles are withheld (fewer than 2k pairs), or why not."""
    if median is None:
        return "–" if hidden in ("", "no data") else f"hidden ({hidden})"
    if q1 is None or q3 is None:
        return f"{median:.0f}"
    return f"{median:.0f} (IQR {q1:.0f}–{q3:.0f})"


def _first_meeting_lines(rows: list[QuarterRow]) -> list[str]:
    if not any(r.pairs_started for r in rows):
        return []
    lines = ["", "## Time to first meeting (pairs starting in the quarter)", ""]
    lines += [
        "| Quarter | Pairs started | Not met yet | Days to first session: median (IQR) |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        days = days_text(
            r.first_meeting_median_days,
            r.first_meeting_q1_days,
            r.first_meeting_q3_days,
            r.first_meeting_hidden,
        )
        lines.append(f"| {r.quarter} | {r.pairs_started} | {r.pairs_not_met} | {days} |")
    return lines


def _readiness_lines(cohorts: Sequence[CohortReadiness]) -> list[str]:
    """Time to readiness per track (bot.tracks.readiness): start to every competency demonstrated and
    attested at the track's ready level."""
    if not cohorts:
        return []
    title = "## Time to readiness (supervised-practice tracks)"
    lines = ["", title, "", "| Track | Enrolled | Ready | Median days |", "|---|---:|---:|---:|"]
    for cohort in cohorts:
        days = "–" if cohort.median_days is None else f"{cohort.median_days:.0f}"
        lines.append(f"| {cohort.track_name} | {cohort.enrolled} | {cohort.ready} | {days} |")
    return lines


def _adopted_lines(rows: list[QuarterRow]) -> list[str]:
    """The report's ideas section: shared ideas raised, tested and adopted, and the adopted changes."""
    raised, tested = sum(r.ideas_raised for r in rows), sum(r.ideas_tested for r in rows)
    adopted = [(r.quarter, change) for r in rows for change in r.adopted_changes]
    if not (raised or tested or adopted):
        return []
    lines = ["", "## Ideas and small tests (those their authors shared)", ""]
    lines.append(f"Raised: {raised} · tested: {tested} · adopted: {len(adopted)}")
    return lines + [f"- {quarter}: {change}" for quarter, change in adopted]
