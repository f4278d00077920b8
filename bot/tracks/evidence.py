"""Competency evidence of an enrolment: per review period, which competencies confirmed sessions showed.

Evidence is what a licensing board can rely on: observations a mentor recorded in a session the other
side confirmed (bot.reflections). Pending and disputed sessions are not evidence, and no free text of a
reflection is ever read here (private notes, "what I learned"): only days, minutes, formats, levels.
A track competency is evidenced by observations of any programs.yml competency its `evidence` lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.reflections.terms import LEVELS, competency_label
from bot.tracks.calendar import REVIEW
from bot.tracks.catalog import Competency, Track
from storage.models import TrackEnrolment, TrackMilestone
from storage.repositories.tracks import SessionRow, confirmed_observations_of, confirmed_sessions_of

DEMONSTRATED = "demonstrated"


def track_of(enrolment: TrackEnrolment) -> Track:
    """The track as it read when the licensee was enrolled (validated again from the stored copy)."""
    return Track.model_validate(enrolment.track)


@dataclass(frozen=True)
class Seen:
    """One observed level that counts as evidence for a track competency."""

    competency: str  # the track's competency id
    observed_as: str  # the programs.yml competency the mentor recorded
    level: str  # not_yet | developing | demonstrated
    day: date
    session_id: int

    @property
    def level_text(self) -> str:
        return LEVELS.get(self.level, self.level)

    @property
    def source_label(self) -> str:
        return competency_label(self.observed_as)


@dataclass(frozen=True)
class Evidence:
    """What confirmed sessions showed between `opens` and `closes` (exclusive), per track competency."""

    opens: date
    closes: date
    competencies: tuple[Competency, ...]
    seen: tuple[Seen, ...]
    sessions: tuple[SessionRow, ...]

    def of(self, competency_id: str) -> list[Seen]:
        return [s for s in self.seen if s.competency == competency_id]

    @property
    def gaps(self) -> list[Competency]:
        """Competencies with no observation at all in the period."""
        return [c for c in self.competencies if not self.of(c.id)]

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.sessions)


def evidence_between(
    session: Session, *, enrolment: TrackEnrolment, track: Track, opens: date, closes: date
) -> Evidence:
    """The enrolment's evidence for opens <= day < closes."""
    program_id, mentee_id = enrolment.program_id, enrolment.person_id
    observations = confirmed_observations_of(
        session, program_id=program_id, mentee_id=mentee_id, start=opens, end=closes
    )
    seen = [
        Seen(competency.id, obs.competency, obs.level, obs.observed_on, obs.session_id)
        for obs in observations
        for competency in track.competencies
        if obs.competency in competency.observed_as
    ]
    sessions = confirmed_sessions_of(
        session, program_id=program_id, mentee_id=mentee_id, start=opens, end=closes
    )
    return Evidence(opens, closes, track.competencies, tuple(seen), tuple(sessions))


def review_evidence(
    session: Session, *, enrolment: TrackEnrolment, milestone: TrackMilestone, until: date | None = None
) -> Evidence:
    """The evidence of one review period; `until` cuts it short (a gap check before the period closes)."""
    assert milestone.kind == REVIEW and milestone.period_start is not None
    closes = milestone.due_on if until is None else min(until, milestone.due_on)
    return evidence_between(
        session, enrolment=enrolment, track=track_of(enrolment), opens=milestone.period_start, closes=closes
    )


def unmapped(track: Track, program_competencies: tuple[str, ...]) -> list[Competency]:
    """Track competencies that none of the program's competencies can evidence: always a gap."""
    return [c for c in track.competencies if not set(c.observed_as) & set(program_competencies)]
