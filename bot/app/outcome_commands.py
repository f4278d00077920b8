"""What the outcome commands print: `mentorbot roster snapshot` and the annual report's formats."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from bot.app.commands import err, out, program_or_none
from bot.kernel.authz import Action, require
from bot.kernel.deps import Deps
from bot.kernel.roles import operator_roles
from bot.pairs.roster_csv import RosterRejected
from bot.reports.annual_data import build_annual_report
from bot.reports.annual_pdf import render_annual_pdf
from bot.reports.outcomes import to_markdown
from bot.reports.retention_cohorts import RetentionFigure, RetentionRow, retention_table, snapshot_employment
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
    deps: Deps, *, program_id: str, start: date, end: date, out_file: Path | None, format_: str
) -> int:
    """`mentorbot report --format md|pdf`: the Markdown summary (stdout or file), or the annual PDF (file)."""
    program = program_or_none(deps, program_id, command="report")
    if program is None:
        return 1
    if end < start:
        err(f"mentorbot report: --to {end} is before --from {start}")
        return 1
    if format_ == "pdf" and out_file is None:
        err("mentorbot report: --format pdf needs --out FILE.pdf (a PDF is not written to a terminal)")
        return 1
    with deps.sessions.begin() as session:
        report = build_annual_report(session, program=program, start=start, end=end, now=deps.clock())
    if format_ == "md":
        text = to_markdown(program, report.rows, start=start, end=end, readiness=report.readiness)
        text += "\n" + "\n".join(retention_lines(report.retention.table, as_of=report.retention.as_of)) + "\n"
        if out_file is None:
            out(text.rstrip("\n"))
        else:
            out_file.write_text(text, encoding="utf-8")
            out(f"{out_file}: Markdown summary, {len(report.rows)} quarters")
        return 0
    assert out_file is not None
    out_file.write_bytes(render_annual_pdf(report))
    out(f"{out_file}: annual report PDF, {len(report.rows)} quarters")
    return 0
