"""Anonymous concerns: raising one, routing it, the sender's thread and the responders' answers.

Nothing here stores or logs who raised a concern. The sender's Slack user id comes in only to
check enrolment and to count the daily quota (in memory only: bot.kernel.limits), and is gone when
the call returns. Coordinators (and escalation contacts) act under their own names and are audit-logged.

Response times are counted in whole days from the Monday of the arrival week (`week`), never
from an arrival instant, which is not stored: coarse on purpose.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.concerns import blocks as concern_blocks
from bot.concerns.case_keys import hash_case_key, new_case_key
from bot.concerns.quota import give_back, remaining_today, take_one
from bot.concerns.sender_seal import concern_id_of, verified
from bot.concerns.terms import MAX_TEXT, URGENT_CATEGORIES, Route, case_ref, program_day, week_of
from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.phi_guard import find_phi
from bot.kernel.programs import Program
from bot.kernel.roles import Role, UserRoles, roles_of
from storage.models import Concern, ConcernMessage
from storage.repositories.audit import record_audit
from storage.repositories.concerns import (
    ThreadSummary,
    add_concern,
    add_message,
    claim_notification,
    concern_by_key_hash,
    get_concern,
    open_concerns,
    pending_notifications,
    release_notification,
    thread_of,
    thread_summaries,
)
from storage.repositories.pairs import active_pairs_in
from storage.scrub import scrub

log = logging.getLogger("mentorbot.concerns")

NEUTRAL_STATUS = (
    "No case matches that key. Check it against the key you were shown (12 letters and digits, "
    "like `K7QF-2M9X-PD4C`) and type `/concern status KEY`."
)


# --- raising a concern ----------------------------------------------------------------------------------


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


# --- the sender's thread --------------------------------------------------------------------------------


def find_by_key(session: Session, *, deps: Deps, typed: str) -> Concern | None:
    """The concern a typed case key opens, or None; malformed keys are looked up like any other."""
    return concern_by_key_hash(session, key_hash=hash_case_key(deps.keys, typed))


def sender_reply(session: Session, *, deps: Deps, sealed: str, text: str, now: datetime) -> Concern:
    """Add the sender's (anonymous) reply; a reply to a resolved concern reopens it.

    `sealed` is the status view's private_metadata; without a valid seal nothing is stored.
    """
    concern = _sealed(session, deps=deps, sealed=sealed)
    if concern.status == "closed":
        raise NotAllowed(
            "You closed this case, so it takes no more replies. Raise a new one with `/concern`."
        )
    add_message(
        session,
        concern=concern,
        text=text.strip(),
        week=week_of(now, _program(deps, concern)),
        from_sender=True,
    )
    if concern.status == "resolved":
        concern.status, concern.resolved_on = "open", None
    return concern


def sender_close(session: Session, *, deps: Deps, sealed: str, now: datetime) -> Concern:
    """Close the case for the sender; dated to the Monday of the week, so the sender's day stays unknown."""
    concern = _sealed(session, deps=deps, sealed=sealed)
    if concern.status != "closed":
        concern.status = "closed"
        concern.resolved_on = concern.resolved_on or week_of(now, _program(deps, concern))
    return concern


def thread(session: Session, *, concern_id: str) -> list[ConcernMessage]:
    """The replies on a concern, oldest first."""
    return thread_of(session, concern_id=concern_id)


def _sealed(session: Session, *, deps: Deps, sealed: str) -> Concern:
    """The concern a sender's view is sealed for, locked; a forged or stale seal is an unknown case."""
    concern = get_concern(session, concern_id=concern_id_of(sealed), for_update=True)
    if concern is None or not verified(deps.keys, concern, sealed):
        raise NotAllowed(NEUTRAL_STATUS)
    return concern


def _locked(session: Session, concern_id: str) -> Concern:
    concern = get_concern(session, concern_id=concern_id, for_update=True)
    if concern is None:
        raise NotAllowed(NEUTRAL_STATUS)
    return concern


def _program(deps: Deps, concern: Concern) -> Program:
    program = deps.programs.get(concern.program_id)
    if program is None:
        raise NotAllowed(f"Program `{concern.program_id}` is no longer in programs.yml.")
    return program


# --- coordinators and escalation contacts ---------------------------------------------------------------


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
    program = _program(deps, concern)
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


# --- posting urgent and escalated concerns --------------------------------------------------------------


def _targets(concern: Concern, program: Program) -> tuple[str, list[str]]:
    if concern.escalated:
        escalation = program.escalation
        if escalation is None:
            return "escalated", []
        return "escalated", [t for t in (escalation.user, escalation.channel) if t]
    return "urgent", [program.digest.channel]


def forget_commit_order(deps: Deps) -> None:
    """Empty SQLite's WAL right after a sender's write, so a copy of the files taken a moment later
    cannot place the concern among other commits (someone else's check-in a second earlier, say).
    Runs after the ack; see docs/threat-model.md, "someone watching the database live"."""
    scrub(deps.engine, tables=[])


def deliver_pending(deps: Deps, *, now: datetime) -> list[str]:
    """Post every urgent or escalated concern still waiting; each is claimed first, so none goes twice.

    Escalated concerns of a program without an escalation contact stay pending until one is named.
    """
    with deps.sessions.begin() as session:
        pending = pending_notifications(session, program_ids=deps.programs.ids)
    done = []
    for concern_id in pending:
        line = _deliver_one(deps, concern_id)
        if line:
            done.append(line)
    return done


def _deliver_one(deps: Deps, concern_id: str) -> str | None:
    with deps.sessions.begin() as session:
        concern = get_concern(session, concern_id=concern_id)
        program = deps.programs.get(concern.program_id) if concern else None
        if concern is None or program is None:
            return None
        kind, targets = _targets(concern, program)
        if not targets or not claim_notification(session, concern_id=concern_id):
            return None
        blocks = concern_blocks.post_blocks(concern, program, kind=kind)
        fallback = concern_blocks.post_fallback(concern, program, kind=kind)
    posted = [target for target in targets if _post(deps, target, blocks, fallback, program.id)]
    if not posted:
        with deps.sessions.begin() as session:
            release_notification(session, concern_id=concern_id)
        return f"concerns: could not post an {kind} concern for {program.id}; will retry"
    return f"concerns: posted an {kind} concern for {program.id}"


def _post(deps: Deps, target: str, blocks: list[dict[str, object]], fallback: str, program_id: str) -> bool:
    try:
        deps.client.chat_postMessage(channel=target, text=fallback, blocks=blocks, unfurl_links=False)
    except SlackApiError as exc:
        # The target is a coordinator channel or escalation contact, never the sender.
        log.warning("could not post a concern for %s (%s)", program_id, exc.response.get("error"))
        return False
    return True


# --- scheduled work and figures for the digest ----------------------------------------------------------


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Retry urgent or escalated posts still pending."""
    return deliver_pending(deps, now=now)


def days_to_first_reply(concern: Concern) -> int | None:
    """Days from the Monday of the arrival week to the first coordinator reply."""
    return None if concern.first_reply_on is None else (concern.first_reply_on - concern.week).days


def days_to_resolution(concern: Concern) -> int | None:
    """Days from the Monday of the arrival week to resolution (or the sender's closing week)."""
    return None if concern.resolved_on is None else (concern.resolved_on - concern.week).days


def median_days(values: Iterable[int | None]) -> float | None:
    """Median of the known values; None when there are none."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


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
    program = _program(deps, concern)
    kind = "escalated" if concern.escalated else "urgent"
    return concern_blocks.post_blocks(concern, program, kind=kind), concern_blocks.post_fallback(
        concern, program, kind=kind
    )
