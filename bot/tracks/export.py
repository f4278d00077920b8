"""The board-ready evidence export of one licensee on one track: the data, and its CSV.

Per competency and date: the confirmed sessions whose observations evidence it (day, format, protected
minutes, the level observed, who mentored and who confirmed), and the attestations of each review with
their amendments; the track's citation and whether it was verified. Built only from confirmed sessions,
competency observations and signed attestations: private notes, "what I learned", check-in answers and
anything anonymous (concerns, team climate) are never read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.kernel.people import display_name
from bot.kernel.programs import Program
from bot.reflections.terms import FORMATS
from bot.tracks.blocks import MILESTONE_LEVELS
from bot.tracks.calendar import REVIEW, shifted
from bot.tracks.catalog import Citation
from bot.tracks.evidence import Evidence, evidence_between, track_of
from bot.tracks.readiness import readiness_of
from storage.models import Person, TrackAttestation, TrackEnrolment, TrackMilestone
from storage.repositories.people import people_by_id
from storage.repositories.tracks import attestations_of, milestones_of


@dataclass(frozen=True)
class SessionEvidence:
    """One observation of a competency in a confirmed session."""

    day: date
    session_id: int
    format: str
    minutes: int
    level: str
    recorded_as: str
    mentor: str
    confirmed_by: str


@dataclass(frozen=True)
class Signature:
    """One attestation row as the board reads it."""

    attestation_id: int
    review: str
    status: str  # attested | returned
    signed_by: str
    signed_at: datetime  # in the program's timezone
    levels: tuple[tuple[str, str], ...]  # (competency id, level label)
    comments: str | None
    amends: int | None


@dataclass(frozen=True)
class CompetencyRecord:
    competency_id: str
    name: str
    recorded_as: tuple[str, ...]
    sessions: tuple[SessionEvidence, ...]
    attested: tuple[tuple[Signature, str], ...]  # (signature, level label)
    gap_reviews: tuple[str, ...]  # closed reviews in which nothing evidenced it


@dataclass(frozen=True)
class Report:
    """Everything the PDF and the CSV show."""

    licensee_id: str
    licensee_name: str
    program_name: str
    track_name: str
    track_kind: str
    jurisdiction: str | None
    citation: Citation | None
    summary: str
    start_on: date
    end_on: date
    supervisor: str
    attested_by: str
    ready_level: int | None
    ready_on: date | None
    generated_at: datetime
    sessions: int
    minutes: int
    competencies: tuple[CompetencyRecord, ...]
    signatures: tuple[Signature, ...]


def build_report(session: Session, *, program: Program, enrolment: TrackEnrolment, now: datetime) -> Report:
    """The export of one enrolment as of `now` (dates in the program's timezone)."""
    track = track_of(enrolment)
    zone = program.tz
    end = shifted(enrolment.start_on, track.length)
    evidence = evidence_between(
        session, enrolment=enrolment, track=track, opens=enrolment.start_on, closes=end
    )
    milestones = milestones_of(session, enrolment_id=enrolment.id)
    names = _names(session, evidence, enrolment)
    signatures = tuple(
        _signature(row, milestones, names, zone)
        for row in attestations_of(session, enrolment_id=enrolment.id)
    )
    today = now.astimezone(zone).date()
    return Report(
        licensee_id=enrolment.person_id,
        licensee_name=_name(names, enrolment.person_id),
        program_name=program.name,
        track_name=track.name,
        track_kind=track.kind,
        jurisdiction=track.jurisdiction,
        citation=track.citation,
        summary=track.summary,
        start_on=enrolment.start_on,
        end_on=end - timedelta(days=1),
        supervisor=_name(names, enrolment.supervisor_id),
        attested_by=track.attestation.by if track.attestation else "",
        ready_level=track.attestation.ready_level if track.attestation else None,
        ready_on=readiness_of(session, enrolment=enrolment, zone=zone).ready_on,
        generated_at=now.astimezone(zone),
        sessions=len(evidence.sessions),
        minutes=evidence.minutes,
        competencies=_records(session, enrolment, evidence, milestones, signatures, names, today),
        signatures=signatures,
    )


def _names(session: Session, evidence: Evidence, enrolment: TrackEnrolment) -> dict[str, Person]:
    ids = {enrolment.person_id, enrolment.supervisor_id}
    ids |= {s.mentor_id for s in evidence.sessions} | {
        s.confirmed_by for s in evidence.sessions if s.confirmed_by
    }
    return people_by_id(session, user_ids=sorted(ids))


def _name(names: dict[str, Person], user_id: str | None) -> str:
    return display_name(names.get(user_id or ""), user_id or "")


def _signature(
    row: TrackAttestation, milestones: list[TrackMilestone], names: dict[str, Person], zone: ZoneInfo
) -> Signature:
    review = next((m.title for m in milestones if m.id == row.milestone_id), "")
    levels = tuple((cid, MILESTONE_LEVELS.get(int(level), str(level))) for cid, level in row.levels.items())
    return Signature(
        row.id,
        review,
        row.status,
        row.supervisor_name,
        row.signed_at.astimezone(zone),
        levels,
        row.comments,
        row.amends_id,
    )


def _records(
    session: Session,
    enrolment: TrackEnrolment,
    evidence: Evidence,
    milestones: list[TrackMilestone],
    signatures: tuple[Signature, ...],
    names: dict[str, Person],
    today: date,
) -> tuple[CompetencyRecord, ...]:
    closed = [m for m in milestones if m.kind == REVIEW and m.due_on <= today and m.period_start is not None]
    records = []
    for competency in evidence.competencies:
        seen = _seen(evidence, competency.id, names)
        attested = tuple(
            (sig, dict(sig.levels)[competency.id]) for sig in signatures if competency.id in dict(sig.levels)
        )
        gaps = tuple(m.title for m in closed if not any(_within(m, s.day) for s in seen))
        records.append(
            CompetencyRecord(competency.id, competency.name, competency.observed_as, seen, attested, gaps)
        )
    return tuple(records)


def _within(review: TrackMilestone, day: date) -> bool:
    return review.period_start is not None and review.period_start <= day < review.due_on


def _seen(evidence: Evidence, competency_id: str, names: dict[str, Person]) -> tuple[SessionEvidence, ...]:
    sessions = {s.session_id: s for s in evidence.sessions}
    found = []
    for seen in evidence.of(competency_id):
        row = sessions.get(seen.session_id)
        if row is None:
            continue
        found.append(
            SessionEvidence(
                day=seen.day,
                session_id=seen.session_id,
                format=FORMATS.get(row.format, row.format),
                minutes=row.minutes,
                level=seen.level_text,
                recorded_as=seen.source_label,
                mentor=_name(names, row.mentor_id),
                confirmed_by=_name(names, row.confirmed_by),
            )
        )
    return tuple(found)


# -- CSV -----------------------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "licensee",
    "track",
    "citation_url",
    "citation_verified",
    "competency",
    "date",
    "record",
    "review",
    "level",
    "minutes",
    "format",
    "recorded_as",
    "person",
    "attestation_id",
    "amends",
    "comments",
]


def to_csv(report: Report) -> str:
    """One row per competency and dated record (a session observation, an attestation or an amendment),
    then one per return (which carries no levels)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in report.competencies:
        for s in record.sessions:
            writer.writerow(
                _csv_row(
                    report,
                    record.name,
                    s.day,
                    "session",
                    level=s.level,
                    minutes=s.minutes,
                    format=s.format,
                    recorded_as=s.recorded_as,
                    person=s.mentor,
                )
            )
        for sig, level in record.attested:
            writer.writerow(_signature_row(report, record.name, sig, level))
    for sig in report.signatures:
        if sig.status == "returned":
            writer.writerow(_signature_row(report, "", sig, ""))
    return buffer.getvalue()


def _signature_row(report: Report, competency: str, sig: Signature, level: str) -> list[object]:
    kind = "return" if sig.status == "returned" else ("amendment" if sig.amends else "attestation")
    return _csv_row(
        report,
        competency,
        sig.signed_at.date(),
        kind,
        review=sig.review,
        level=level,
        person=sig.signed_by,
        attestation_id=sig.attestation_id,
        amends=sig.amends or "",
        comments=sig.comments or "",
    )


def _csv_row(report: Report, competency: str, day: date, record: str, **cells: object) -> list[object]:
    citation = report.citation
    fixed = {
        "licensee": report.licensee_name,
        "track": report.track_name,
        "citation_url": citation.url if citation else "",
        "citation_verified": "" if citation is None else str(citation.verified).lower(),
        "competency": competency,
        "date": day.isoformat(),
        "record": record,
    }
    values = fixed | cells
    return [values.get(column, "") for column in CSV_COLUMNS]
