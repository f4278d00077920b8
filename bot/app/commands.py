"""What the CLI's feature commands print and which exit code they return.

Services return data; this module turns it into lines on stdout/stderr. An unknown program is worded
once, here, for every command.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

from bot.digests.blocks import render_digest
from bot.digests.content import build_digest
from bot.digests.posting import post_week
from bot.digests.weeks import latest_due_week
from bot.kernel.authz import Action, require
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import operator_roles
from bot.pairs.pairing import send_messages
from bot.pairs.roster import run_import
from bot.pairs.roster_csv import RosterRejected
from bot.reports.cme import cme_rows, render_csv
from bot.reports.outcomes import build_report, to_csv, to_markdown
from bot.retention.purge import Purge, begin_purge, purge_program, run_program
from bot.tracks.readiness import cohort_readiness


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def err(line: str) -> None:
    sys.stderr.write(line + "\n")


def program_or_none(deps: Deps, program_id: str, *, command: str) -> Program | None:
    """The program, or None after telling the operator which ids programs.yml has."""
    program = deps.programs.get(program_id)
    if program is None:
        known = ", ".join(deps.programs.ids)
        err(f"mentorbot {command}: unknown program '{program_id}' (programs.yml has: {known})")
    return program


def digest_command(deps: Deps, *, program_id: str, dry_run: bool, now: datetime) -> int:
    """`mentorbot digest PROGRAM [--dry-run]`: post the latest due digest now, or print its Block Kit."""
    program = program_or_none(deps, program_id, command="digest")
    if program is None:
        return 1
    week = latest_due_week(program, now)
    if dry_run:
        with deps.sessions.begin() as session:
            message = render_digest(
                build_digest(session, program=program, week=week, now=now), text_trend=True
            )
        body = {"channel": program.digest.channel, "text": message.text, "blocks": message.blocks}
        out(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    line = post_week(deps, program=program, week=week, now=now)
    if line is None:
        out(f"digest {program.id} week of {week}: already posted (or being posted) once")
        return 0
    out(line)
    return 1 if "not posted" in line else 0


def report_command(deps: Deps, *, program_id: str, start: date, end: date, out_file: Path | None) -> int:
    """`mentorbot report`: CSV to `out_file` and the Markdown summary to stdout; without `out_file`, CSV to
    stdout and the summary to stderr so the CSV can be piped."""
    program = program_or_none(deps, program_id, command="report")
    if program is None:
        return 1
    if end < start:
        err(f"mentorbot report: --to {end} is before --from {start}")
        return 1
    with deps.sessions.begin() as session:
        rows = build_report(session, program=program, start=start, end=end, now=deps.clock())
        readiness = cohort_readiness(session, program=program, start=start, end=end)
    summary = to_markdown(program, rows, start=start, end=end, readiness=readiness)
    if out_file is None:
        sys.stdout.write(to_csv(rows))
        sys.stderr.write(summary)
        return 0
    out_file.write_text(to_csv(rows), encoding="utf-8")
    out(summary + f"\nCSV: {out_file} ({len(rows)} quarters; columns explained in README.md)")
    return 0


def cme_command(deps: Deps, *, program_id: str, year: int, out_file: Path | None) -> int:
    """Write the year's CSV to `out_file` (or stdout); exit 1 naming the problem for an unknown program."""
    program = program_or_none(deps, program_id, command="cme")
    if program is None:
        return 1
    if not 1900 < year < 3000:
        err(f"mentorbot cme: --year {year} is not a calendar year like 2026")
        return 1
    with deps.read_sessions.begin() as session:
        ledgers, names = cme_rows(session, program=program, year=year)
    text = render_csv(ledgers, names=names, program=program)
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        sessions = sum(len(ledger.entries) for ledger in ledgers)
        out(f"{out_file}: {len(ledgers)} mentors, {sessions} confirmed sessions in {year}")
    if program.cme is None:
        err(f"mentorbot cme: {program_id} has no `cme:` in programs.yml; credits are left empty")
    return 0


def purge_command(deps: Deps, *, dry_run: bool, now: datetime) -> int:
    """`mentorbot purge [--dry-run]`: one line per program saying what goes (or went)."""
    for program in deps.programs.programs:
        if program.privacy.retention_days is None:
            out(f"retention {program.id}: no privacy.retention_days; everything is kept")
            continue
        if dry_run:
            with deps.read_sessions.begin() as session:
                planned, window = begin_purge(session, program=program, now=now)
                purge_program(session, planned, window, program=program, dry_run=True)
            purge: Purge | None = planned
        else:
            purge = run_program(deps, program=program, now=now, force=True)
        if purge is None:
            err(f"retention {program.id}: another process is purging right now; try again")
            return 1
        out(purge.line(dry_run=dry_run))
    return 0


def roster_import_command(deps: Deps, *, program_id: str, path: Path, replace: bool, now: datetime) -> int:
    """`mentorbot roster import`: import, print a summary, then send the DMs. Exit 1 when the file is
    rejected."""
    program = program_or_none(deps, program_id, command="roster import")
    if program is None:
        return 1
    require(operator_roles(deps.programs), Action.ROSTER_IMPORT, program_id=program_id)
    try:
        result = run_import(deps, program=program, path=path, replace=replace, now=now)
    except RosterRejected as rejected:
        err(f"{path}: nothing was imported; {len(rejected.problems)} problem(s):")
        for problem in rejected.problems:
            err(f"  {problem}")
        return 1
    out(result.summary(program_id))
    if result.messages:
        rate = deps.settings.send_rate_per_second
        out(
            f"Sending {len(result.messages)} messages to the people paired or unpaired ({rate:g} per second)…"
        )
        failures = send_messages(deps.client, result.messages, rate_per_second=rate)
        out(f"Sent {len(result.messages) - len(failures)} of {len(result.messages)} messages.")
        for failure in failures:
            err(f"  not delivered: {failure}")
    return 0
