""" "Log a session on this": which pair a journey topic belongs to, and what /reflect is pre-filled with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.kernel.authz import NotAllowed
from bot.tracks.audience import pair_of
from storage.models import Pair, TrackEnrolment, TrackMilestone
from storage.repositories.pairs import active_pairs_of

NOT_YOURS = (
    "This topic belongs to a pairing you are not part of (any more), so you can't log a session on it."
)


@dataclass(frozen=True)
class Prefill:
    pair_id: int
    topics: tuple[str, ...]  # /reflect topics to choose
    about: str  # the journey topic, shown at the top of the modal


def topic_prefill(session: Session, *, milestone_id: int, user_id: str) -> Prefill:
    """The pair (mentor and licensee now) and the topic; NotAllowed for anyone outside the pair."""
    milestone = session.get(TrackMilestone, milestone_id)
    enrolment = session.get(TrackEnrolment, milestone.enrolment_id) if milestone is not None else None
    if milestone is None or enrolment is None or user_id not in pair_of(session, enrolment):
        raise NotAllowed(NOT_YOURS)
    pairs = active_pairs_of(session, user_id=enrolment.person_id, program_id=enrolment.program_id)
    pair: Pair | None = next(
        (p for p in pairs if p.mentee_id == enrolment.person_id and user_id in (p.mentor_id, p.mentee_id)),
        None,
    )
    if pair is None:
        raise NotAllowed(NOT_YOURS)
    topics = (milestone.reflect_topic,) if milestone.reflect_topic else ()
    return Prefill(pair.id, topics, milestone.title)
