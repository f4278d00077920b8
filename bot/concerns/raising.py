"""Raising a concern: the draft, routing, the in-memory daily limit, and what the sender must know first.

Nothing here stores or logs who raised a concern. The sender's Slack user id comes in only to check
enrolment and to count the daily limit (in memory only: bot.kernel.limits), and is gone when the call
returns; the transaction that stores a concern writes the concern alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.concerns.case_keys import hash_case_key, new_case_key
from bot.concerns.quota import give_back, remaining_today, take_one
from bot.concerns.terms import MAX_TEXT, URGENT_CATEGORIES, Route, week_of
from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.phi_guard import find_phi
from bot.kernel.programs import Program
from bot.kernel.roles import UserRoles
from storage.models import Concern
from storage.repositories.concerns import (
    add_concern,
)
from storage.repositories.pairs import active_pairs_in
from storage.scrub import scrub


@dataclass(frozen=True)
class ConcernDraft:
    """What the sender typed into the modal, already validated."""

    program_id: str
    category: str
    urgent: bool
    involves_mentor_or_coordinator: bool
    replies_allowed: bool
    text: str

    @property
    def is_urgent(self) -> bool:
        return self.urgent or self.category in URGENT_CATEGORIES


@dataclass(frozen=True)
class Raised:
    case_key: str
    route: Route


def text_problem(text: str | None) -> str | None:
    """Why this concern or reply text cannot be stored, for a field error; None when it can."""
    if text is None or not text.strip():
        return "Please write something: the text is empty."
    if len(text) > MAX_TEXT:
        return f"Please shorten it to {MAX_TEXT:,} characters (it has {len(text):,})."
    finding = find_phi(text)
    return finding.message() if finding is not None else None


def sender_programs(deps: Deps, roles: UserRoles) -> list[Program]:
    """The programs a person may raise a concern in: every one they are enrolled in, in file order."""
    return [p for p in deps.programs.programs if p.id in roles.by_program]


def route_for(draft: ConcernDraft, program: Program) -> Route:
    if draft.involves_mentor_or_coordinator:
        return Route.ESCALATION_NOW if program.escalation is not None else Route.ESCALATION_WAITING
    return Route.COORDINATORS_NOW if draft.is_urgent else Route.DIGEST


def raise_concern(
    session: Session, *, deps: Deps, draft: ConcernDraft, user_id: str, now: datetime
) -> Raised | None:
    """Store a concern and return its one-time case key; None when today's quota is used up.

    `user_id` is counted against the in-memory quota only; nothing derived from it is written, so the
    transaction that stores the concern holds the concern alone. Urgent and escalated concerns are
    marked for posting; `deliver_pending` posts them.
    """
    program = deps.programs.get(draft.program_id)
    if program is None:
        raise NotAllowed(f"Unknown program `{draft.program_id}`.")
    if not take_one(deps, user_id=user_id, now=now):
        return None
    case_key, route = new_case_key(), route_for(draft, program)
    try:
        _store(session, deps=deps, draft=draft, program=program, case_key=case_key, route=route, now=now)
    except BaseException:
        give_back(deps, user_id=user_id, now=now)
        raise
    return Raised(case_key=case_key, route=route)


def _store(
    session: Session,
    *,
    deps: Deps,
    draft: ConcernDraft,
    program: Program,
    case_key: str,
    route: Route,
    now: datetime,
) -> None:
    add_concern(
        session,
        concern=Concern(
            program_id=program.id,
            category=draft.category,
            urgent=draft.is_urgent,
            escalated=draft.involves_mentor_or_coordinator,
            text=draft.text.strip(),
            week=week_of(now, program),
            status="open",
            key_hash=hash_case_key(deps.keys, case_key),
            replies_allowed=draft.replies_allowed,
            notify_pending=route is not Route.DIGEST,
        ),
    )


def concerns_left_today(deps: Deps, *, user_id: str, now: datetime) -> int:
    return remaining_today(deps, user_id=user_id, now=now)


def limit_message(deps: Deps) -> str:
    n = deps.settings.concerns_per_day
    return (
        f"You have already raised {n} concerns today, the most one person can send in a day. "
        "Thank you for speaking up — please keep your text and send it tomorrow. "
        "If a patient is at risk right now, use your hospital's usual safety reporting "
        "or call your supervisor."
    )


def enrolled_count(session: Session, program: Program) -> int:
    """Coordinators plus everyone in an active pair: the crowd a sender hides in."""
    people = set(program.coordinators)
    for pair in active_pairs_in(session, program_id=program.id):
        people.update((pair.mentor_id, pair.mentee_id))
    return len(people)


def escalation_label(program: Program) -> str:
    escalation = program.escalation
    if escalation is None:
        return "nobody yet (no escalation contact is configured)"
    if escalation.user:
        return f"the program's escalation contact (<@{escalation.user}>)"
    return f"the program's escalation channel (<#{escalation.channel}>)"


def modal_notes(session: Session, programs: list[Program]) -> list[str]:
    """What the sender must know before submitting: timing risks and where things go."""
    notes = [
        f":warning: *{program.name}* has fewer than {program.privacy.min_group_size} members, "
        "so even the week a concern arrives may narrow down who sent it."
        for program in programs
        if enrolled_count(session, program) < program.privacy.min_group_size
    ]
    notes.append(
        ":alarm_clock: *Urgent* and *patient safety* concerns are posted to your program's coordinators "
        "at once, anonymously. Their timing alone may narrow down who sent them."
    )
    return notes + [_escalation_note(program) for program in programs]


def _escalation_note(program: Program) -> str:
    if program.escalation is not None:
        return (
            f":shield: In *{program.name}*, a concern that involves your mentor or a coordinator "
            f"goes at once to {escalation_label(program)} instead — not to the coordinators "
            "or their digest."
        )
    return (
        f":shield: *{program.name}* has no escalation contact yet. If you tick that it involves "
        "your mentor or a coordinator, it is stored but *not* shown to the coordinators, and waits "
        "until a contact is named. If it cannot wait, go to your GME office or ombudsperson directly."
    )


def forget_commit_order(deps: Deps) -> None:
    """Empty SQLite's WAL right after a sender's write, so a copy of the files taken a moment later
    cannot place the concern among other commits (someone else's check-in a second earlier, say).
    Runs after the ack; see docs/threat-model.md, "someone watching the database live"."""
    scrub(deps.engine, tables=[])
