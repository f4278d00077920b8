"""`/idea`: recording an idea, each step of its PDSA cycles, comments, and who it is shared with.

Every write queues the DM it owes in the same transaction (an idea_notices row, see bot.ideas.notices),
so nothing said in a modal is lost if the DM cannot go out at once; the DM itself is sent after the
transaction, never inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from bot.ideas.blocks import PAIR_BLOCK, CommentSpec, NewIdeaSpec, StepSpec, parse_comment_value
from bot.ideas.cards import idea_of_member, idea_view, local_now, name_of, other_member
from bot.ideas.form import (
    ActForm,
    CommentForm,
    DoForm,
    NewIdeaForm,
    Parsed,
    PlanForm,
    StudyForm,
    parse,
)
from bot.ideas.terms import (
    ACT,
    ADOPTED,
    CLOSED,
    DECISION_STAGES,
    DO,
    IDEA,
    NEXT_STEP,
    PLAN,
    RAISED,
    STAGE_AFTER,
    STEP_NAMES,
    STUDY,
    cycle_step,
    nudge_due_at,
)
from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from bot.slack.view_state import state_values
from storage.models import Idea, IdeaComment, IdeaCycle, Pair
from storage.repositories.ideas import add_comment, add_cycle, add_idea, add_notice, cycles_of, drop_nudges
from storage.repositories.pairs import active_pairs_of
from storage.repositories.people import people_by_id

NO_PAIR = (
    "You have no active mentor or mentee, so there is nobody to work an idea through with. "
    "Your program coordinator can pair you; `/mentorship status` shows your pairs."
)
ONLY_AUTHOR = "Only the idea's author records its steps. You can comment on it instead."
STALE = (
    "That step was already recorded (perhaps from another window), so this one was not saved. "
    "Open the idea from your App Home to see where it stands."
)
CLOSED_IDEA = (
    "This idea was adopted or set aside, so it has no step left to record. Type `/idea` for a new one."
)


@dataclass(frozen=True)
class Saved:
    """The outcome of a modal submission: field errors, or what was saved."""

    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    idea_id: int | None = None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's private_metadata (what it is about); empty when unreadable."""
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


# -- a new idea -----------------------------------------------------------------------------------------


def idea_pairs(session: Session, *, deps: Deps, user_id: str) -> list[Pair]:
    """The caller's active pairs in programs still in programs.yml."""
    return [p for p in active_pairs_of(session, user_id=user_id) if deps.programs.get(p.program_id)]


def new_idea_spec(session: Session, *, deps: Deps, user_id: str) -> NewIdeaSpec | None:
    """What the /idea modal offers; None when the caller has no active pair."""
    pairs = idea_pairs(session, deps=deps, user_id=user_id)
    if not pairs:
        return None
    require(roles_of(session, programs=deps.programs, user_id=user_id), Action.IDEA)
    people = people_by_id(session, user_ids=[other_member(p, user_id) for p in pairs])
    labels = []
    for pair in pairs:
        other = other_member(pair, user_id)
        role = "your mentee" if pair.mentor_id == user_id else "your mentor"
        name = people[other].real_name if other in people and people[other].real_name else f"<@{other}>"
        labels.append((pair.id, f"{name} ({role}, {pair.program_id})"))
    return NewIdeaSpec(pairs=tuple(labels))


def create_idea(session: Session, *, deps: Deps, user_id: str, view: dict[str, Any], now: datetime) -> Saved:
    """Validate the /idea modal and store the idea; its DM to the other member of the pair is queued."""
    values = state_values(view)
    parsed = parse(NewIdeaForm, values)
    errors = dict(parsed.errors)
    if PAIR_BLOCK in values and values[PAIR_BLOCK] is None:
        errors[PAIR_BLOCK] = "Choose the pair this idea is for."
    if parsed.form is None or errors:
        return Saved(errors=errors)
    form = parsed.form
    pair_id = form.idea_pair or metadata(view).get("pair")
    pair = _chosen_pair(session, deps=deps, user_id=user_id, pair_id=pair_id)
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    require(roles, Action.IDEA, program_id=pair.program_id)
    idea = add_idea(session, idea=_new_idea(pair, user_id, form, now))
    other = other_member(pair, user_id)
    add_notice(
        session,
        key=f"shared:{idea.id}",
        idea_id=idea.id,
        kind="shared",
        recipient_id=other,
        actor_id=user_id,
        now=now,
    )
    return Saved(message=_created_message(session, other, shared=bool(form.share)), idea_id=idea.id)


def _new_idea(pair: Pair, user_id: str, form: NewIdeaForm, now: datetime) -> Idea:
    return Idea(
        program_id=pair.program_id,
        pair_id=pair.id,
        author_id=user_id,
        summary=form.summary,
        observation=form.observation,
        change=form.change,
        affects=list(form.affects),
        shared_with_coordinators=bool(form.share),
        stage=RAISED,
        created_at=now,
        updated_at=now,
    )


def _chosen_pair(session: Session, *, deps: Deps, user_id: str, pair_id: object) -> Pair:
    pairs = {p.id: p for p in idea_pairs(session, deps=deps, user_id=user_id)}
    pair = pairs.get(pair_id) if isinstance(pair_id, int) else None
    if pair is None:
        raise NotAllowed(
            "That pairing is not active any more. Type `/idea` again to choose one of your pairs."
        )
    return pair


def _created_message(session: Session, other: str, *, shared: bool) -> str:
    audience = (
        f"*{name_of(session, other)}* and the program's coordinators"
        if shared
        else f"*{name_of(session, other)}*"
    )
    return (
        f"Your idea is saved and shared with {audience}.\n"
        "When you are ready to test it, press *Plan a test* beside it on your App Home."
    )


# -- the steps of a cycle -------------------------------------------------------------------------------


def step_spec(session: Session, *, deps: Deps, user_id: str, idea_id: int, now: datetime) -> StepSpec:
    """The modal for the author's next step of an idea; raises NotAllowed when there is none for them."""
    idea, pair = idea_of_member(session, deps=deps, idea_id=idea_id, user_id=user_id)
    step, number, _cycles = _next_step(session, idea, user_id)
    today = local_now(session, deps=deps, user_id=user_id, program_id=pair.program_id, now=now).date()
    return StepSpec(idea=idea_view(session, idea), step=step, cycle_number=number, today=today)


def _next_step(session: Session, idea: Idea, user_id: str) -> tuple[str, int, list[IdeaCycle]]:
    """The author's next step, the number of the cycle it belongs to (a Plan starts one), the cycles."""
    if idea.author_id != user_id:
        raise NotAllowed(ONLY_AUTHOR)
    step = NEXT_STEP.get(idea.stage)
    if step is None:
        raise NotAllowed(CLOSED_IDEA)
    cycles = cycles_of(session, idea_ids=[idea.id])[idea.id]
    return step, len(cycles) + 1 if step == PLAN else len(cycles), cycles


STEP_FORMS: dict[str, type[BaseModel]] = {PLAN: PlanForm, DO: DoForm, STUDY: StudyForm, ACT: ActForm}


def record_step(session: Session, *, deps: Deps, user_id: str, view: dict[str, Any], now: datetime) -> Saved:
    """Validate and store one PDSA step from its modal; the DM to the other member is queued.

    Raises NotAllowed when the step is not the idea's next one any more (a second window, a double submit).
    """
    meta = metadata(view)
    idea_id = int(meta.get("idea") or 0)
    idea, pair = idea_of_member(session, deps=deps, idea_id=idea_id, user_id=user_id, for_update=True)
    step, number, cycles = _next_step(session, idea, user_id)
    if (meta.get("step"), meta.get("cycle")) != (step, number):
        raise NotAllowed(STALE)
    local = local_now(session, deps=deps, user_id=user_id, program_id=pair.program_id, now=now)
    parsed: Parsed[Any] = parse(STEP_FORMS[step], state_values(view), today=local.date())
    if parsed.form is None:
        return Saved(errors=parsed.errors)
    if step == PLAN:
        cycle = add_cycle(session, cycle=_planned(idea, number, parsed.form, local, now))
    else:
        cycle = _apply(session, cycles[-1], step, parsed.form, now)
    _advance(idea, step, cycle, now)
    other = other_member(pair, user_id)
    key, kind = f"step:{cycle.id}:{step}", "step"
    add_notice(
        session,
        key=key,
        idea_id=idea.id,
        cycle_id=cycle.id,
        kind=kind,
        step=step,
        recipient_id=other,
        actor_id=user_id,
        now=now,
    )
    return Saved(message=_step_message(session, idea, number, step, other), idea_id=idea.id)


def _advance(idea: Idea, step: str, cycle: IdeaCycle, now: datetime) -> None:
    """The idea's stage after `step`; an Act decides it (adopted, adapted, abandoned)."""
    idea.stage = STAGE_AFTER.get(step) or DECISION_STAGES[cycle.decision or ""]
    idea.updated_at = now
    if idea.stage == ADOPTED:
        idea.adopted_at = now


def _planned(idea: Idea, number: int, form: PlanForm, local: datetime, now: datetime) -> IdeaCycle:
    assert local.tzinfo is not None
    return IdeaCycle(
        idea_id=idea.id,
        number=number,
        prediction=form.prediction,
        measure=form.measure,
        scope=form.scope,
        test_date=form.test_date,
        planned_at=now,
        nudge_due_at=nudge_due_at(form.test_date, local.tzinfo),
    )


def _apply(session: Session, cycle: IdeaCycle, step: str, form: Any, now: datetime) -> IdeaCycle:
    if step == DO:
        cycle.happened, cycle.done_at = form.happened, now
        drop_nudges(session, cycle_id=cycle.id)  # the reminder for its date no longer applies
    elif step == STUDY:
        cycle.outcome, cycle.result, cycle.studied_at = form.outcome, form.result, now
    else:
        cycle.decision, cycle.decision_notes, cycle.acted_at = form.decision, form.decision_notes, now
    return cycle


def _step_message(session: Session, idea: Idea, number: int, step: str, other: str) -> str:
    saved = f"Saved {cycle_step(number, step)}. *{name_of(session, other)}* can comment on it."
    if idea.stage in CLOSED:
        return saved + f"\nThe idea is now *{idea.stage}*." + (" Well done." if idea.stage == ADOPTED else "")
    following = NEXT_STEP[idea.stage]
    return saved + f"\nNext: *{STEP_NAMES[following]}* — press it beside the idea on your App Home."


# -- comments and sharing -------------------------------------------------------------------------------


def comment_spec(session: Session, *, deps: Deps, user_id: str, value: str) -> CommentSpec:
    """The comment modal for the step a Comment button names."""
    idea_id, number, step = parse_comment_value(value)
    idea, _pair = idea_of_member(session, deps=deps, idea_id=idea_id, user_id=user_id)
    view = idea_view(session, idea)
    if number and not any(c.number == number for c in view.cycles):
        number, step = 0, IDEA
    return CommentSpec(idea=view, cycle_number=number, step=step if number else IDEA)


def save_comment(session: Session, *, deps: Deps, user_id: str, view: dict[str, Any], now: datetime) -> Saved:
    """Store a comment on a step (or the idea) and queue its DM to the other member of the pair."""
    meta = metadata(view)
    idea, pair = idea_of_member(session, deps=deps, idea_id=int(meta.get("idea") or 0), user_id=user_id)
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    require(roles, Action.IDEA, program_id=pair.program_id)
    parsed = parse(CommentForm, state_values(view))
    if parsed.form is None:
        return Saved(errors=parsed.errors)
    cycle, step = _commented(session, idea, meta)
    comment = IdeaComment(
        idea_id=idea.id,
        cycle_id=cycle,
        step=step,
        author_id=user_id,
        text=parsed.form.comment,
        created_at=now,
    )
    add_comment(session, comment=comment)
    idea.updated_at = now  # a comment is work on the idea: retention counts idleness from here
    other = other_member(pair, user_id)
    add_notice(
        session,
        key=f"comment:{comment.id}",
        idea_id=idea.id,
        cycle_id=cycle,
        comment_id=comment.id,
        kind="comment",
        step=step,
        recipient_id=other,
        actor_id=user_id,
        now=now,
    )
    return Saved(message=f"Sent your comment to *{name_of(session, other)}*.", idea_id=idea.id)


def _commented(session: Session, idea: Idea, meta: dict[str, Any]) -> tuple[int | None, str]:
    """The cycle id and step a comment is about, as the modal says; the idea itself when they are gone."""
    cycles = {c.number: c for c in cycles_of(session, idea_ids=[idea.id])[idea.id]}
    cycle = cycles.get(int(meta.get("cycle") or 0))
    if cycle is None or meta.get("step") not in STEP_FORMS:
        return None, IDEA
    return cycle.id, str(meta["step"])


def toggle_sharing(session: Session, *, deps: Deps, user_id: str, idea_id: int) -> str:
    """The author shares the idea with the program's coordinators, or stops sharing it; says which."""
    idea, _pair = idea_of_member(session, deps=deps, idea_id=idea_id, user_id=user_id, for_update=True)
    if idea.author_id != user_id:
        raise NotAllowed("Only the idea's author chooses whether coordinators see it.")
    idea.shared_with_coordinators = not idea.shared_with_coordinators
    if idea.shared_with_coordinators:
        return "Shared with the program's coordinators: it counts in the weekly digest and the annual report."
    return "No longer shared with the coordinators: the digest and the report leave it out from now on."
