"""Competency progression: per mentee and competency, the levels observed and the session behind each.

Only confirmed sessions are evidence: a level observed in a session still awaiting the other side's
confirmation is shown as pending, and one from a disputed session is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.kernel.programs import Program
from bot.reflections.terms import CONFIRMED, DISPUTED, LEVELS, competency_label, short_day
from storage.repositories.reflections import observations_of


@dataclass(frozen=True)
class Observation:
    """One level seen in one session."""

    competency: str
    level: str
    observed_on: date
    session_id: int
    session_status: str

    @property
    def confirmed(self) -> bool:
        return self.session_status == CONFIRMED


@dataclass(frozen=True)
class Timeline:
    """A mentee's levels in one competency, ordered by session day."""

    competency: str
    entries: tuple[Observation, ...]

    @property
    def current(self) -> Observation | None:
        """The latest level with a confirmed session behind it."""
        return next((entry for entry in reversed(self.entries) if entry.confirmed), None)

    @property
    def pending(self) -> Observation | None:
        """A newer level whose session is not confirmed yet, if any."""
        latest = self.entries[-1] if self.entries else None
        return latest if latest is not None and not latest.confirmed else None


def timelines(session: Session, *, program: Program, mentee_id: str) -> list[Timeline]:
    """One timeline per competency of the program (in programs.yml order), disputed sessions left out.

    Competencies observed earlier but since removed from programs.yml follow, so no evidence is hidden.
    """
    by_competency: dict[str, list[Observation]] = {slug: [] for slug in program.competencies}
    for obs, mentoring_session in observations_of(session, program_id=program.id, mentee_id=mentee_id):
        if mentoring_session.status == DISPUTED:
            continue
        by_competency.setdefault(obs.competency, []).append(
            Observation(obs.competency, obs.level, obs.observed_on, obs.session_id, mentoring_session.status)
        )
    return [Timeline(slug, tuple(entries)) for slug, entries in by_competency.items()]


def level_line(timeline: Timeline, *, today: date) -> str:
    """`Clinical reasoning — demonstrated (Thu 3 Dec)`, with a pending newer level if there is one."""
    label = competency_label(timeline.competency)
    current = timeline.current
    text = f"{label} — not observed yet"
    if current is not None:
        text = f"{label} — *{LEVELS[current.level]}* ({short_day(current.observed_on, today=today)})"
    pending = timeline.pending
    if pending is not None:
        text += f" · {LEVELS[pending.level]} awaiting confirmation"
    return text
