"""An idea carried through a cycle as evidence of a competency, when the mentor marks it so.

The evidence is a competency observation in a session linked to the idea (`/reflect` links one): like
every observation, it counts toward the mentee's progression once that session is confirmed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.ideas.blocks import EvidenceSpec
from bot.ideas.cards import idea_of_member, idea_view, viewer
from bot.ideas.form import EvidenceForm, parse
from bot.ideas.record import Saved, metadata
from bot.ideas.terms import LEVELS
from bot.kernel.authz import POLICY, Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from bot.kernel.text import day_label
from bot.slack.view_state import state_values
from storage.models import Idea, MentoringSession, Pair
from storage.repositories.ideas import linked_sessions, record_evidence

NOT_YET = (
    "An idea counts as evidence once it has been through a whole cycle (Plan, Do, Study, Act) "
    "and it is your mentee's idea."
)
NO_SESSION = (
    "Evidence rests on a session: log one with `/reflect` and choose this idea under "
    '"Worked on an idea?", then mark it here.'
)


def evidence_spec(session: Session, *, deps: Deps, user_id: str, idea_id: int) -> EvidenceSpec:
    """What the mentor chooses from; raises NotAllowed for anyone else, or before a whole cycle."""
    idea, pair, sessions = _checked(session, deps=deps, user_id=user_id, idea_id=idea_id)
    program = deps.programs.get(pair.program_id)
    assert program is not None  # idea_of_member refuses unconfigured programs
    choices = tuple((row.id, _session_label(row)) for row in sessions)
    return EvidenceSpec(idea=idea_view(session, idea), sessions=choices, competencies=program.competencies)


def _checked(
    session: Session, *, deps: Deps, user_id: str, idea_id: int
) -> tuple[Idea, Pair, list[MentoringSession]]:
    idea, pair = idea_of_member(session, deps=deps, idea_id=idea_id, user_id=user_id)
    if pair.mentor_id != user_id:
        raise NotAllowed(POLICY[Action.IDEA_EVIDENCE].refusal)
    require(
        roles_of(session, programs=deps.programs, user_id=user_id),
        Action.IDEA_EVIDENCE,
        program_id=pair.program_id,
    )
    if not viewer(idea_view(session, idea), pair, user_id).may_mark_evidence:
        raise NotAllowed(NOT_YET)
    sessions = linked_sessions(session, idea_id=idea.id)
    if not sessions:
        raise NotAllowed(NO_SESSION)
    return idea, pair, sessions


def _session_label(row: MentoringSession) -> str:
    return f"{day_label(row.session_date)}, {row.duration_minutes} min ({row.status})"


def save_evidence(
    session: Session, *, deps: Deps, user_id: str, view: dict[str, Any], now: datetime
) -> Saved:
    """Record the competency and level the mentor chose, in the chosen linked session."""
    idea, pair, sessions = _checked(
        session, deps=deps, user_id=user_id, idea_id=int(metadata(view).get("idea") or 0)
    )
    parsed = parse(EvidenceForm, state_values(view))
    if parsed.form is None:
        return Saved(errors=parsed.errors)
    form, program = parsed.form, deps.programs.get(pair.program_id)
    chosen = next((row for row in sessions if row.id == form.session), None)
    if chosen is None:
        return Saved(errors={"session": "Choose one of the sessions that worked on this idea."})
    if program is None or form.competency not in program.competencies:
        return Saved(errors={"competency": "This competency is no longer in the program."})
    record_evidence(
        session,
        mentoring_session=chosen,
        mentee_id=pair.mentee_id,
        competency=form.competency,
        level=form.level,
    )
    when = "" if chosen.status == "confirmed" else " It counts once the session is confirmed."
    return Saved(message=f"Recorded as {LEVELS[form.level].lower()} evidence.{when}", idea_id=idea.id)
