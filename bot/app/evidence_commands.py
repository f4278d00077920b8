"""What `mentorbot evidence` prints and writes, and its exit code."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from bot.kernel.authz import Action, require
from bot.kernel.deps import Deps
from bot.kernel.roles import operator_roles
from bot.tracks.export import Report, build_report, to_csv
from bot.tracks.pdf import write_pdf
from storage.repositories.people import get_person, people_by_email
from storage.repositories.tracks import enrolments_of

FORMATS = (".pdf", ".csv")


def err(line: str) -> None:
    sys.stderr.write(line + "\n")


def evidence_command(deps: Deps, *, person: str, track_id: str, out_file: Path | None, now: datetime) -> int:
    """`mentorbot evidence PERSON --track TRACK [--out FILE.pdf|.csv]`: 0 when written, 1 naming why not."""
    if out_file is not None and out_file.suffix.lower() not in FORMATS:
        err(f"mentorbot evidence: --out {out_file}: write a .pdf or a .csv file")
        return 1
    report = _report(deps, person=person, track_id=track_id, now=now)
    if report is None:
        return 1
    if out_file is None:
        sys.stdout.write(to_csv(report))
        return 0
    if out_file.suffix.lower() == ".pdf":
        write_pdf(report, out_file)
    else:
        out_file.write_text(to_csv(report), encoding="utf-8")
    signed = len(report.signatures)
    sys.stdout.write(
        f"{out_file}: {report.licensee_name} on {report.track_name}, {report.sessions} confirmed sessions, "
        f"{signed} attestation{'s' if signed != 1 else ''}\n"
    )
    return 0


def _report(deps: Deps, *, person: str, track_id: str, now: datetime) -> Report | None:
    with deps.read_sessions.begin() as session:
        found = get_person(session, user_id=person) or people_by_email(session, emails=[person.lower()]).get(
            person.lower()
        )
        if found is None:
            err(f"mentorbot evidence: nobody known as '{person}' (give a Slack user id or an email)")
            return None
        enrolments = enrolments_of(session, person_id=found.id, track_id=track_id)
        if not enrolments:
            err(f"mentorbot evidence: {found.id} is not enrolled on '{track_id}'")
            return None
        program = deps.programs.get(enrolments[0].program_id)
        if program is None:
            err(f"mentorbot evidence: program '{enrolments[0].program_id}' is no longer in programs.yml")
            return None
        require(operator_roles(deps.programs), Action.TRACK_EVIDENCE, program_id=program.id)
        return build_report(session, program=program, enrolment=enrolments[0], now=now)
