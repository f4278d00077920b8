"""Who gets which DM about a milestone: the pair, the coordinators, the supervising physician."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.kernel.programs import Program
from bot.tracks.calendar import CHECKPOINT, REVIEW, TOPIC
from storage.models import Pair, TrackEnrolment, TrackMilestone
from storage.repositories.pairs import active_pairs_of

PROMPT, GAP, ATTEST = "prompt", "gap", "attest"


def audience(
    session: Session, milestone: TrackMilestone, enrolment: TrackEnrolment, program: Program
) -> list[tuple[str, str, date]]:
    """(kind, recipient, day) of every DM a milestone makes: a topic or checkpoint to both sides of the
    pair, a review's gap flag to the coordinators and the mentor on its flag day, and its attestation
    request to the supervising physician on the day it closes."""
    if milestone.kind in (TOPIC, CHECKPOINT):
        return [(PROMPT, who, milestone.due_on) for who in pair_of(session, enrolment)]
    if milestone.kind != REVIEW:
        return []
    found = [(ATTEST, enrolment.supervisor_id, milestone.due_on)]
    flag_to = dict.fromkeys([*program.coordinators, *pair_of(session, enrolment)[1:]])
    if milestone.flag_on is not None:
        found += [(GAP, who, milestone.flag_on) for who in flag_to]
    return found


def pair_of(session: Session, enrolment: TrackEnrolment) -> list[str]:
    """The licensee and their mentor now: the enrolment's pair, or the licensee's current pair in the
    program when that one has ended (a new mentor takes the journey over)."""
    pair = session.get(Pair, enrolment.pair_id)
    if pair is None or pair.ended_at is not None:
        current = active_pairs_of(session, user_id=enrolment.person_id, program_id=enrolment.program_id)
        pair = next((p for p in current if p.mentee_id == enrolment.person_id), None)
    return [enrolment.person_id] + ([pair.mentor_id] if pair is not None else [])
