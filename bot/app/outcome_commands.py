"""What the outcome commands print: `mentorbot roster snapshot` and the annual report's formats."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from bot.app.commands import err, out, program_or_none
from bot.kernel.authz import Action, require
from bot.kernel.deps import Deps
from bot.kernel.roles import operator_roles
from bot.pairs.roster_csv import RosterRejected
from bot.reports.annual_data import AnnualReport, build_annual_report
from bot.reports.annual_pdf import render_annual_pdf, unit_participants
from bot.reports.hidden_figures import hidden_text
from bot.reports.outcomes import days_text, to_csv, to_markdown
from bot.reports.patient_experience import (
    PatientExperienceRejected,
    association_text,
    read_patient_experience,
)
from bot.reports.retention_cohorts import (
    ROLE_HORIZON,
    RetentionFigure,
    RetentionRow,
    retention_table,
    snapshot_employment,
)
from bot.reports.roster_snapshots import read_snapshot, store_snapshot


def roster_snapshot_command(deps: Deps, *, program_id: str, path: Path, now: datetime) -> int:
    """Store an HR roster snapshot whole (or nothing, naming every bad line) and print retention from it."""
    program = program_or_none(deps, program_id, command="roster snapshot")
    if program is None:
        return 1
    # The same operator permission as `roster import`: both load HR's people into the program.
    require(operator_roles(deps.programs), Action.ROSTER_IMPORT, program_id=program_id)
    try:
        rows = read_snapshot(path)
    except RosterRejected as rejected:
        err(f"{path}: nothing was stored; {len(rejected.problems)} problem(s):")
        for problem in rejected.problems:
            err(f"  {problem}")
        return 1
    with deps.sessions.begin() as session:
        store_snapshot(session, program_id=program.id, rows=rows, source=path.name, now=now)
        _, people = snapshot_employment(session, program_id=program.id)
    flagged = sum(1 for row in rows if row.participant is not None)
    out(f"roster snapshot {program.id}: {len(rows)} employees stored ({flagged} with a participant flag)")
    as_of = now.astimezone(program.tz).date()
    table = retention_table(people, as_of=as_of, min_group_size=program.privacy.min_group_size)
    for line in retention_lines(table, as_of=as_of):
        out(line)
    return 0


def retention_lines(table: list[RetentionRow], *, as_of: date) -> list[str]:
    """One line per horizon: both sides with their 95% intervals, and the difference said plainly."""
    lines = [f"retention as of {as_of} (95% Wilson intervals; participants vs non-participants):"]
    for row in table:
        lines.append(
            f"  {row.months:>2} months: participants {figure_text(row.participants)}; "
            f"non-participants {figure_text(row.others)}; difference {difference_text(row)}"
        )
    return lines


def figure_text(figure: RetentionFigure) -> str:
    """`83% (10/12, 55–95%)`, or why it is not shown."""
    if figure.rate is None or figure.low is None or figure.high is None:
        return f"hidden ({figure.hidden})" if figure.eligible else "null (none eligible yet)"
    return (
        f"{figure.rate:.0%} ({figure.retained}/{figure.eligible}, {figure.low * 100:.0f}–{figure.high:.0%})"
    )


def difference_text(row: RetentionRow) -> str:
    """The difference in points with its interval and verdict; null when either side is not shown."""
    if row.difference is None or row.low is None or row.high is None:
        return "null"
    return (
        f"{row.difference * 100:+.0f} points ({row.low * 100:+.0f} to {row.high * 100:+.0f}; {row.verdict})"
    )


def annual_report_command(
    deps: Deps,
    *,
    program_id: str,
    start: date,
    end: date,
    out_file: Path | None,
    format_: str,
    patient_experience: Path | None = None,
) -> int:
    """`mentorbot report --format md|pdf` (and csv with --patient-experience): the Markdown summary (stdout
    or file), the annual PDF (file), or the quarterly CSV with the unit table beside it (files)."""
    program = program_or_none(deps, program_id, command="report")
    if program is None:
        return 1
    if end < start:
        err(f"mentorbot report: --to {end} is before --from {start}")
        return 1
    if format_ in ("pdf", "csv") and out_file is None:
        why = "a PDF is not written to a terminal" if format_ == "pdf" else "the unit table goes beside it"
        err(f"mentorbot report: --format {format_} needs --out FILE.{format_} ({why})")
        return 1
    try:
        units = None if patient_experience is None else read_patient_experience(patient_experience)
    except PatientExperienceRejected as rejected:
        err(f"mentorbot report: {rejected}")
        return 1
    unit_scores = None if units is None or patient_experience is None else (patient_experience.name, units)
    with deps.sessions.begin() as session:
        report = build_annual_report(
            session, program=program, start=start, end=end, now=deps.clock(), unit_scores=unit_scores
        )
    if format_ == "md":
        return _write_markdown(report, out_file)
    assert out_file is not None
    if format_ == "csv":
        return _write_csv(report, out_file)
    out_file.write_bytes(render_annual_pdf(report))
    out(f"{out_file}: annual report PDF, {len(report.rows)} quarters")
    return 0


def annual_markdown(report: AnnualReport) -> str:
    """The quarterly summary, retention (program and roles), patient experience and what was hidden."""
    program = report.program
    text = to_markdown(program, report.rows, start=report.start, end=report.end, readiness=report.readiness)
    whole = report.first_meetings.period
    lines = [
        "",
        f"Time to first meeting, whole period: {whole.started} pairs started, {whole.not_met} not met yet; "
        f"days to first session {days_text(whole.median, whole.q1, whole.q3, whole.hidden)}.",
        "",
        *retention_lines(report.retention.table, as_of=report.retention.as_of),
    ]
    if report.retention.roles:
        lines.append(f"retention by HR role at {ROLE_HORIZON} months:")
        lines += [
            f"  {r.role}: participants {figure_text(r.row.participants)}; "
            f"non-participants {figure_text(r.row.others)}; difference {difference_text(r.row)}"
            for r in report.retention.roles
        ]
    lines += _unit_lines(report)
    lines += ["", "## Figures hidden in this report", "", hidden_text(report)]
    return text + "\n".join(lines) + "\n"


def _unit_lines(report: AnnualReport) -> list[str]:
    found = report.patient_experience
    if found is None:
        return []
    k = report.program.privacy.min_group_size
    enrolled = {r.quarter: r.mentees_enrolled for r in report.rows}
    lines = ["", f"## Patient experience by unit ({found.source}): association, not effect", ""]
    lines += [
        "| Quarter | Unit | Score | Respondents | Participants | Program mentees |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {u.quarter} | {u.unit} | {u.score:g} | {u.respondents} | {unit_participants(u.participants, k)} "
        f"| {enrolled.get(u.quarter, '–')} |"
        for u in found.rows
    ]
    return [*lines, "", association_text(found)]


def _write_markdown(report: AnnualReport, out_file: Path | None) -> int:
    text = annual_markdown(report)
    if out_file is None:
        out(text.rstrip("\n"))
    else:
        out_file.write_text(text, encoding="utf-8")
        out(f"{out_file}: Markdown summary, {len(report.rows)} quarters")
    return 0


def _write_csv(report: AnnualReport, out_file: Path) -> int:
    """The quarterly CSV, and the unit table beside it as FILE-patient-experience.csv."""
    out_file.write_text(to_csv(report.rows), encoding="utf-8")
    out(f"{out_file}: {len(report.rows)} quarters (columns explained in README.md)")
    found = report.patient_experience
    if found is not None:
        beside = out_file.with_name(f"{out_file.stem}-patient-experience.csv")
        beside.write_text(unit_csv(report), encoding="utf-8")
        out(f"{beside}: {len(found.rows)} unit-quarters; {association_text(found)}")
    return 0


def unit_csv(report: AnnualReport) -> str:
    """Unit-level rows beside the program's participation: never a person."""
    assert report.patient_experience is not None
    k = report.program.privacy.min_group_size
    enrolled = {r.quarter: r.mentees_enrolled for r in report.rows}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["quarter", "unit", "score", "respondents", "participants", "program_mentees", "note"])
    for u in report.patient_experience.rows:
        writer.writerow([
            u.quarter, u.unit, f"{u.score:g}", u.respondents, unit_participants(u.participants, k),
            enrolled.get(u.quarter, ""), "association, not effect",
        ])  # fmt: skip
    return buffer.getvalue()
