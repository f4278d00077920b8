"""Coordinators and escalation contacts: who may answer a concern, replies, acknowledging, resolving.
They act under their own names and are audit-logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.concerns import blocks as concern_blocks
from bot.concerns.sender import NEUTRAL_STATUS
from bot.concerns.terms import case_ref, program_day, program_of, week_of
from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import Role, UserRoles, roles_of
from storage.models import Concern, ConcernMessage
from storage.repositories.audit import record_audit
from storage.repositories.concerns import (
    ThreadSummary,
    add_message,
    get_concern,
    open_concerns,
    thread_of,
    thread_summaries,
)


def _locked(session: Session, concern_id: str) -> Concern:
    concern = get_concern(session, concern_id=concern_id, for_update=True)
    if concern is None:
        raise NotAllowed(NEUTRAL_STATUS)
    return concern


@dataclass(frozen=True)
class Responder:
    """A coordinator or escalation contact acting on a concern, and the channel they acted in."""

    user_id: str
    channel_id: str = ""


def check_responder(session: Session, *, deps: Deps, concern: Concern, responder: Responder) -> Program:
    """Refuse unless this person may answer this concern.

    Escalated concerns involve a mentor or coordinator: only the program's escalation contact (the
    configured user, or anyone acting in the configured channel) may answer them, never the
    coordinators. The rest belong to the program's coordinators.
    """
    program = program_of(deps, concern)
    if concern.escalated:
        escalation = program.escalation
        if escalation is not None and responder.user_id == escalation.user:
            return program
        if escalation is not None and responder.channel_id and responder.channel_id == escalation.channel:
            return program
        raise NotAllowed(f"Only the escalation contact of {program.id} can answer this concern.")
    roles = roles_of(session, programs=deps.programs, user_id=responder.user_id)
    require(roles, Action.CONCERN_RESPOND, program_id=program.id)
    return program


def coordinator_reply(
    session: Session, *, deps: Deps, concern_id: str, responder: Responder, text: str, now: datetime
) -> Concern:
    """Store a coordinator's reply under their name, audit-logged; the sender reads it with the key."""
    concern = _locked(session, concern_id)
    program = check_responder(session, deps=deps, concern=concern, responder=responder)
    if not concern.replies_allowed:
        raise NotAllowed("The sender asked not to receive replies. You can still acknowledge or resolve it.")
    if concern.status == "closed":
        raise NotAllowed("The sender closed this case, so it takes no more replies.")
    week = week_of(now, program)
    add_message(
        session,
        concern=concern,
        text=text.strip(),
        week=week,
        from_sender=False,
        coordinator_id=responder.user_id,
    )
    concern.first_reply_on = concern.first_reply_on or program_day(now, program)
    if concern.status == "open":
        concern.status = "acknowledged"
    _audit(session, concern, responder=responder, action="concern.reply", now=now)
    return concern


def acknowledge(
    session: Session, *, deps: Deps, concern_id: str, responder: Responder, now: datetime
) -> Concern:
    """Mark an open concern as seen, audit-logged under the responder's name."""
    concern = _locked(session, concern_id)
    check_responder(session, deps=deps, concern=concern, responder=responder)
    if concern.status == "open":
        concern.status = "acknowledged"
        _audit(session, concern, responder=responder, action="concern.acknowledge", now=now)
    return concern


def resolve(session: Session, *, deps: Deps, concern_id: str, responder: Responder, now: datetime) -> Concern:
    """Mark a concern resolved on the program's current day, audit-logged."""
    concern = _locked(session, concern_id)
    program = check_responder(session, deps=deps, concern=concern, responder=responder)
    if concern.status in ("open", "acknowledged"):
        concern.status = "resolved"
        concern.resolved_on = program_day(now, program)
        _audit(session, concern, responder=responder, action="concern.resolve", now=now)
    return concern


def open_for_coordinators(
    session: Session, *, program_id: str
) -> tuple[list[Concern], dict[str, ThreadSummary], int]:
    """The open, non-escalated concerns coordinators list, their thread summaries and the total."""
    concerns, total = open_concerns(session, program_id=program_id, limit=concern_blocks.MAX_LISTED)
    return concerns, thread_summaries(session, concern_ids=[c.id for c in concerns]), total


def coordinated_program(deps: Deps, roles: UserRoles, args: list[str]) -> Program:
    """The program `/mentorship concerns [PROGRAM]` is about, or NotAllowed saying what to type."""
    if args:
        program = deps.programs.get(args[0].lower())
        if program is None:
            known = ", ".join(deps.programs.ids)
            raise NotAllowed(f"I don't know the program `{args[0][:40]}`. Programs: {known}.")
    else:
        mine = roles.programs_where(Role.COORDINATOR)
        if len(mine) > 1:
            raise NotAllowed(
                f"You coordinate several programs; type `/mentorship concerns PROGRAM` ({', '.join(mine)})."
            )
        program = deps.programs.get(mine[0]) if mine else None
        if program is None:
            require(roles, Action.CONCERNS_LIST)
            raise NotAllowed("Type `/mentorship concerns PROGRAM`.")
    require(roles, Action.CONCERNS_LIST, program_id=program.id)
    return program


def _audit(session: Session, concern: Concern, *, responder: Responder, action: str, now: datetime) -> None:
    record_audit(
        session,
        actor_id=responder.user_id,
        action=action,
        now=now,
        program_id=concern.program_id,
        target=f"concern {case_ref(concern.id)}",
    )


def for_responder(
    session: Session, *, deps: Deps, concern_id: str, responder: Responder
) -> tuple[Concern, list[ConcernMessage]]:
    """A concern and its thread, for someone allowed to answer it (NotAllowed otherwise)."""
    concern = get_concern(session, concern_id=concern_id)
    if concern is None:
        raise NotAllowed("That concern no longer exists.")
    check_responder(session, deps=deps, concern=concern, responder=responder)
    return concern, thread_of(session, concern_id=concern.id)


def redrawn_post(concern: Concern, deps: Deps) -> tuple[list[dict[str, object]], str]:
    """The urgent or escalated post for `concern` in its current state, and its fallback text."""
    program = program_of(deps, concern)
    kind = "escalated" if concern.escalated else "urgent"
    return concern_blocks.post_blocks(concern, program, kind=kind), concern_blocks.post_fallback(
        concern, program, kind=kind
    )
