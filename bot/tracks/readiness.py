"""Time to readiness: from a licensee's start to the day every competency of their track was both
demonstrated (in a confirmed session) and attested at the track's ready level.

The day is the signing day, in the program's timezone, of the first attestation after which every
competency's latest attested level is at least `attestation.ready_level` and every competency has a
"demonstrated" observation on or before it. An amendment counts from its own signing day; a return
changes no level. Per cohort (a program's enrolments on one track): how many are ready, and the
median days it took them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.kernel.programs import Program
from bot.tracks.catalog import Track
from bot.tracks.evidence import DEMONSTRATED, track_of
from storage.models import TrackEnrolment
from storage.repositories.tracks import attestations_of, confirmed_observations_of, enrolments_in


@dataclass(frozen=True)
class Readiness:
    enrolment_id: int
    person_id: str
    track_id: str
    start_on: date
    ready_on: date | None

    @property
    def days(self) -> int | None:
        return None if self.ready_on is None else (self.ready_on - self.start_on).days


@dataclass(frozen=True)
class CohortReadiness:
    """One program's enrolments on one track."""

    program_id: str
    track_id: str
    track_name: str
    people: tuple[Readiness, ...]

    @property
    def enrolled(self) -> int:
        return len(self.people)

    @property
    def ready(self) -> int:
        return sum(1 for r in self.people if r.ready_on is not None)

    @property
    def median_days(self) -> float | None:
        days = [r.days for r in self.people if r.days is not None]
        return float(median(days)) if days else None


def readiness_of(session: Session, *, enrolment: TrackEnrolment, zone: ZoneInfo) -> Readiness:
    """When this licensee became ready, if they have."""
    track = track_of(enrolment)
    ready_on = _ready_on(session, enrolment=enrolment, track=track, zone=zone) if track.attestation else None
    return Readiness(enrolment.id, enrolment.person_id, enrolment.track_id, enrolment.start_on, ready_on)


def _ready_on(session: Session, *, enrolment: TrackEnrolment, track: Track, zone: ZoneInfo) -> date | None:
    assert track.attestation is not None
    demonstrated = _first_demonstrated(session, enrolment=enrolment, track=track)
    levels: dict[str, int] = {}
    for row in attestations_of(session, enrolment_id=enrolment.id):
        if row.status != "attested":
            continue
        levels.update({k: int(v) for k, v in row.levels.items()})
        signed = row.signed_at.astimezone(zone).date()
        if _all_ready(track, levels, demonstrated, signed, track.attestation.ready_level):
            return signed
    return None


def _all_ready(
    track: Track, levels: dict[str, int], demonstrated: dict[str, date], on: date, level: int
) -> bool:
    return all(
        levels.get(c.id, 0) >= level and c.id in demonstrated and demonstrated[c.id] <= on
        for c in track.competencies
    )


def _first_demonstrated(session: Session, *, enrolment: TrackEnrolment, track: Track) -> dict[str, date]:
    observations = confirmed_observations_of(
        session,
        program_id=enrolment.program_id,
        mentee_id=enrolment.person_id,
        start=date.min,
        end=date.max,
    )
    first: dict[str, date] = {}
    for obs in observations:
        if obs.level != DEMONSTRATED:
            continue
        for competency in track.competencies:
            if obs.competency in competency.observed_as and competency.id not in first:
                first[competency.id] = obs.observed_on
    return first


def cohort_readiness(
    session: Session, *, program: Program, start: date | None = None, end: date | None = None
) -> list[CohortReadiness]:
    """Per track, the program's enrolments (started between `start` and `end` when given) and readiness."""
    by_track: dict[str, list[TrackEnrolment]] = {}
    for enrolment in enrolments_in(session, program_id=program.id):
        if (start is None or enrolment.start_on >= start) and (end is None or enrolment.start_on <= end):
            by_track.setdefault(enrolment.track_id, []).append(enrolment)
    return [
        CohortReadiness(
            program.id,
            track_id,
            track_of(enrolments[-1]).name,
            tuple(readiness_of(session, enrolment=e, zone=program.tz) for e in enrolments),
        )
        for track_id, enrolments in sorted(by_track.items())
    ]
