"""Logging sessions with their reflections, and the two-sided confirmation that makes them count."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.ideas.blocks import LINK_BLOCK
from bot.ideas.links import idea_choices, linked_idea
from bot.kernel.authz import POLICY, Action, NotAllowed, authorize, require
from bot.kernel.deps import Deps
from bot.kernel.people import display_name, valid_timezone
from bot.kernel.programs import Program
from bot.kernel.refusals import Refusal
from bot.kernel.roles import roles_of
from bot.reflections.blocks import (
    COMPETENCY_BLOCK,
    NEW_SESSION,
    PAIR_BLOCK,
    SESSION_BLOCK,
    ModalSpec,
    PairChoice,
    SessionChoice,
    pair_options,
)
from bot.reflections.form import ParsedForm, parse_form
from bot.reflections.terms import DISPUTED, MAX_AGE_DAYS, MENTEE, MENTOR, PENDING, short_day
from bot.slack.view_state import state_values
from storage.models import MentoringSession, Pair, Person, Reflection
from storage.repositories.pairs import active_pairs_of
from storage.repositories.people import get_person, people_by_id
from storage.repositories.reflections import (
    add_observations,
    add_reflection,
    create_session,
    get_session,
    member_of,
    other_member,
    reflection_of,
    reflections_by,
    sessions_to_reflect_on,
)

NO_PAIR = (
    "You have no active mentor or mentee, so there is no session to log. "
    "Your program coordinator can pair you; `/mentorship status` shows your pairs."
)
ONLY_MENTOR = POLICY[Action.REFLECT_COMPETENCIES].refusal
ONLY_OTHER_SIDE = POLICY[Action.SESSION_CONFIRM].refusal
NOT_YOURS = "This session belongs to a pairing you are not part of (any more), so you can't reflect on it."


class FieldRefusal(Refusal):
    """A refusal that belongs next to one field of the modal."""

    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id
        self.message = message


def local_today(session: Session, *, user_id: str, program: Program, now: datetime) -> date:
    """Today in the person's Slack timezone (cached by bot.kernel.people), else the program's."""
    person = get_person(session, user_id=user_id)
    zone = valid_timezone(person.timezone if person else None)
    return now.astimezone(ZoneInfo(zone) if zone else program.tz).date()


def caller_pairs(session: Session, *, deps: Deps, user_id: str) -> list[Pair]:
    """The caller's active pairs in programs still in programs.yml."""
    return [p for p in active_pairs_of(session, user_id=user_id) if deps.programs.get(p.program_id)]


def suggested_pairs(session: Session, *, deps: Deps, user_id: str, query: str) -> list[dict[str, Any]]:
    """The /reflect pair choices matching what the person typed, for the pair select past 100 pairs."""
    pairs = caller_pairs(session, deps=deps, user_id=user_id)
    return pair_options(_pair_choices(session, pairs=pairs, user_id=user_id), query)


def name_of(session: Session, user_id: str) -> str:
    person = get_person(session, user_id=user_id)
    return display_name(person, f"<@{user_id}>")


# -- the modal's contents ---------------------------------------------------------------------------------


def modal_spec(
    session: Session,
    *,
    deps: Deps,
    user_id: str,
    now: datetime,
    pair_id: int | None = None,
    session_id: int | None = None,
    fixed: bool = False,
    topics: tuple[str, ...] = (),
    about: str = "",
) -> ModalSpec | None:
    """What /reflect shows the caller; None when they have no active pair.

    `fixed` (from a DM's "Add my reflection") pins the modal to `session_id` and its pair, and
    raises NotAllowed when that is not an active pair of the caller. `topics` and `about` pre-fill it
    (a track's "Log a session on this").
    """
    spec = _modal_spec(session, deps=deps, user_id=user_id, now=now, pair_id=pair_id, session_id=session_id,
                       fixed=fixed)  # fmt: skip
    return spec if spec is None or not (topics or about) else replace(spec, topics=topics, about=about)


def _modal_spec(
    session: Session,
    *,
    deps: Deps,
    user_id: str,
    now: datetime,
    pair_id: int | None,
    session_id: int | None,
    fixed: bool,
) -> ModalSpec | None:
    if fixed:
        pair_id = _pair_of_session(session, session_id=session_id, user_id=user_id)
    pairs = caller_pairs(session, deps=deps, user_id=user_id)
    choices = _pair_choices(session, pairs=pairs, user_id=user_id)
    only = choices[0] if len(choices) == 1 and not fixed else None
    chosen = next((c for c in choices if c.pair_id == pair_id), only)
    if fixed and chosen is None:
        raise NotAllowed(NOT_YOURS)
    if not pairs:
        return None
    program = _program(deps, chosen.program_id if chosen else pairs[0].program_id)
    today = local_today(session, user_id=user_id, program=program, now=now)
    spec = ModalSpec(pairs=choices, today=today, pair=chosen, fixed_session=fixed)
    if chosen is None:
        return spec
    return _with_pair(session, deps=deps, spec=spec, user_id=user_id, session_id=session_id)


def _pair_choices(session: Session, *, pairs: list[Pair], user_id: str) -> tuple[PairChoice, ...]:
    names = people_by_id(session, user_ids=[other_member(p, user_id) for p in pairs])
    return tuple(
        PairChoice(p.id, p.program_id, _name(names, other_member(p, user_id)), p.mentor_id == user_id)
        for p in pairs
    )


def _pair_of_session(session: Session, *, session_id: int | None, user_id: str) -> int:
    row = get_session(session, session_id=session_id) if session_id is not None else None
    pair = session.get(Pair, row.pair_id) if row is not None else None
    if row is None or pair is None or not member_of(pair, user_id):
        raise NotAllowed(NOT_YOURS)
    return pair.id


def _with_pair(
    session: Session, *, deps: Deps, spec: ModalSpec, user_id: str, session_id: int | None
) -> ModalSpec:
    assert spec.pair is not None
    pair, program = spec.pair, _program(deps, spec.pair.program_id)
    since = spec.today - timedelta(days=MAX_AGE_DAYS)
    rows = sessions_to_reflect_on(session, pair_id=pair.pair_id, author_id=user_id, since=since)
    if spec.fixed_session and session_id is not None and all(r.id != session_id for r in rows):
        raise NotAllowed(_why_not_reflect(session, session_id=session_id, user_id=user_id))
    choices = tuple(SessionChoice(r.id, _session_label(session, r, user_id, spec.today)) for r in rows)
    chosen = next((c for c in choices if c.session_id == session_id), None)
    competencies = program.competencies if _may_record_competencies(session, deps, pair, user_id) else ()
    return ModalSpec(
        pairs=spec.pairs,
        today=spec.today,
        pair=pair,
        sessions=choices,
        session=chosen,
        fixed_session=spec.fixed_session,
        competencies=competencies,
        ideas=idea_choices(session, pair_id=pair.pair_id),
    )


def _may_record_competencies(session: Session, deps: Deps, pair: PairChoice, user_id: str) -> bool:
    if not pair.caller_is_mentor:
        return False
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    return authorize(roles, Action.REFLECT_COMPETENCIES, program_id=pair.program_id).allowed


def _why_not_reflect(session: Session, *, session_id: int, user_id: str) -> str:
    row = get_session(session, session_id=session_id)
    if row is not None and reflection_of(session, session_id=session_id, author_id=user_id) is not None:
        return "You already added your reflection to this session."
    if row is not None and row.status == DISPUTED:
        return "This session was marked as not right, so it takes no reflections. Log it again: `/reflect`."
    return f"This session no longer takes reflections (older than {MAX_AGE_DAYS} days, or the pairing ended)."


def _session_label(session: Session, row: MentoringSession, user_id: str, today: date) -> str:
    who = "you" if row.logged_by == user_id else name_of(session, row.logged_by)
    state = ", awaiting confirmation" if row.status == PENDING else ""
    return f"{short_day(row.session_date, today=today)}, {row.duration_minutes} min (logged by {who}{state})"


def _name(names: dict[str, Person], user_id: str) -> str:
    return display_name(names.get(user_id), f"<@{user_id}>")


def _program(deps: Deps, program_id: str) -> Program:
    program = deps.programs.get(program_id)
    if program is None:
        raise NotAllowed(f"The program {program_id} is no longer configured. Ask your program coordinator.")
    return program


# -- saving a submission ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """The outcome of a modal submission: field errors, or what was saved."""

    errors: dict[str, str] = field(default_factory=dict)
    session_id: int | None = None
    new_session: bool = False
    message: str = ""


@dataclass(frozen=True)
class Target:
    """Which pair and session a submission is about, read from the view."""

    pair_id: int | None
    session_id: int | None  # None: a new session

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> Target:
        meta = _metadata(view)
        values = state_values(view)
        pair_id = _int(values.get(PAIR_BLOCK)) or _int(meta.get("pair"))
        if meta.get("fixed"):
            return cls(pair_id, _int(meta.get("session")))
        choice = values.get(SESSION_BLOCK)
        return cls(pair_id, None if choice in (None, NEW_SESSION) else _int(choice))


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def submit_reflection(
    session: Session, *, deps: Deps, user_id: str, view: dict[str, Any], now: datetime
) -> Submitted:
    """Validate a /reflect submission and store the session, reflection and competencies.

    Raises FieldRefusal for a refusal tied to a field and NotAllowed for one that is not.
    """
    target = Target.from_view(view)
    pair = _submitted_pair(session, deps=deps, user_id=user_id, pair_id=target.pair_id)
    program = _program(deps, pair.program_id)
    require(roles_of(session, programs=deps.programs, user_id=user_id), Action.REFLECT)
    existing = _existing_session(session, pair=pair, user_id=user_id, session_id=target.session_id)
    today = local_today(session, user_id=user_id, program=program, now=now)
    parsed = parse_form(
        state_values(view), new_session=existing is None, today=today, competencies=program.competencies
    )
    errors = dict(parsed.errors)
    if parsed.reflection and parsed.reflection.competencies and not _may_record(session, deps, pair, user_id):
        first = next(iter(parsed.reflection.competencies))
        errors[f"{COMPETENCY_BLOCK}{first}"] = ONLY_MENTOR
    if errors:
        return Submitted(errors=errors)
    idea_id = linked_idea(session, pair_id=pair.id, value=state_values(view).get(LINK_BLOCK))
    row = existing or _new_session(
        session, pair=pair, parsed=parsed, user_id=user_id, now=now, idea_id=idea_id
    )
    _store_reflection(session, row=row, pair=pair, parsed=parsed, user_id=user_id, now=now)
    return Submitted(
        session_id=row.id,
        new_session=existing is None,
        message=_saved_message(
            session, row=row, pair=pair, user_id=user_id, new=existing is None, today=today
        ),
    )


def _submitted_pair(session: Session, *, deps: Deps, user_id: str, pair_id: int | None) -> Pair:
    pair = session.get(Pair, pair_id) if pair_id is not None else None
    if pair_id is None:
        raise FieldRefusal(PAIR_BLOCK, "Choose who the session was with.")
    if pair is None or pair.ended_at is not None or not member_of(pair, user_id):
        raise FieldRefusal(
            PAIR_BLOCK, "You are not in this pairing (any more). Choose one of your current pairs."
        )
    if deps.programs.get(pair.program_id) is None:
        raise FieldRefusal(PAIR_BLOCK, "This pairing's program is no longer configured.")
    return pair


def _existing_session(
    session: Session, *, pair: Pair, user_id: str, session_id: int | None
) -> MentoringSession | None:
    if session_id is None:
        return None
    row = get_session(session, session_id=session_id)
    if row is None or row.pair_id != pair.id:
        raise FieldRefusal(SESSION_BLOCK, "That session is not one of this pair's.")
    if row.status == DISPUTED or reflection_of(session, session_id=row.id, author_id=user_id) is not None:
        raise FieldRefusal(SESSION_BLOCK, _why_not_reflect(session, session_id=row.id, user_id=user_id))
    return row


def _may_record(session: Session, deps: Deps, pair: Pair, user_id: str) -> bool:
    choice = PairChoice(pair.id, pair.program_id, "", pair.mentor_id == user_id)
    return _may_record_competencies(session, deps, choice, user_id)


def _new_session(
    session: Session, *, pair: Pair, parsed: ParsedForm, user_id: str, now: datetime, idea_id: int | None
) -> MentoringSession:
    assert parsed.session is not None
    fields = parsed.session
    return create_session(
        session,
        pair=pair,
        session_date=fields.session_date,
        duration_minutes=fields.duration_minutes,
        format=fields.format,
        logged_by=user_id,
        now=now,
        idea_id=idea_id,
    )


def _store_reflection(
    session: Session, *, row: MentoringSession, pair: Pair, parsed: ParsedForm, user_id: str, now: datetime
) -> None:
    assert parsed.reflection is not None
    form = parsed.reflection
    is_mentor = pair.mentor_id == user_id
    reflection = Reflection(
        session_id=row.id,
        author_id=user_id,
        author_role=MENTOR if is_mentor else MENTEE,
        topics=list(form.topics),
        learned=form.learned,
        share_learned=form.learned is not None and form.share != "private",
        share_named=form.learned is not None and form.share == "named",
        next_steps=form.next_steps,
        private_notes=form.private_notes,
        created_at=now,
    )
    add_reflection(session, reflection=reflection)
    if form.competencies and is_mentor:
        add_observations(
            session, mentoring_session=row, mentee_id=pair.mentee_id, levels=dict(form.competencies)
        )


def _saved_message(
    session: Session, *, row: MentoringSession, pair: Pair, user_id: str, new: bool, today: date
) -> str:
    day = short_day(row.session_date, today=today)
    if not new:
        return f"Your reflection on the session of *{day}* is saved."
    other = name_of(session, other_member(pair, user_id))
    return (
        f"Saved your {row.duration_minutes}-minute session with *{other}* on *{day}*.\n"
        f"{other} will be asked to confirm it; it counts toward protected time once confirmed."
    )


# -- the author's own view ----------------------------------------------------------------------------------

NOTE_PREVIEW = 600


def own_notes_text(session: Session, *, user_id: str, now: datetime, limit: int = 5) -> str:
    """`/reflect notes`: the caller's latest reflections with next steps and private notes, for them alone."""
    found = reflections_by(session, author_id=user_id, limit=limit)
    if not found:
        return "You have not logged a reflection yet. Type `/reflect` after your next session."
    lines = ["*Your latest reflections* (only you can see this)"]
    for reflection, row, pair in found:
        other = name_of(session, other_member(pair, user_id))
        day = short_day(row.session_date, today=now.date())
        lines.append(f"\n*{day}* with {other}: {row.duration_minutes} min, {row.status}")
        for label, text in (
            ("Next steps", reflection.next_steps),
            ("Private notes", reflection.private_notes),
        ):
            if text:
                lines.append(f"{label}: {_preview(text)}")
    return "\n".join(lines)


def _preview(text: str) -> str:
    return text if len(text) <= NOTE_PREVIEW else text[: NOTE_PREVIEW - 1] + "…"
