"""Pairing and unpairing: the rules, the audit entry and the DMs both sides get.

Slack is never called inside the write transaction: both people are looked up (users.info) before
it begins, and the DMs, built inside it (they need the people rows), are sent after it commits. So a
slow or failing Slack never holds a database lock and never undoes a pairing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.people import SlackLookupFailed, UnknownUser, look_up_people, store_known_person
from bot.kernel.programs import Program
from bot.pairs.commands import PAIR_USAGE, UNPAIR_USAGE
from bot.pairs.welcome import (
    Message,
    PairView,
    mentee_farewell,
    mentee_welcome,
    mentor_farewell,
    mentor_welcome,
)
from storage.models import Person
from storage.repositories.audit import record_audit
from storage.repositories.pairs import (
    active_pair,
    active_pairs_of,
    count_active_mentees,
    create_pair,
    end_pair,
)
from storage.repositories.people import people_by_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PairingOutcome:
    """What happened, told to the coordinator, and the DMs to send once the transaction commits."""

    ok: bool
    message: str
    messages: list[Message] = field(default_factory=list)


def mention(person: Person) -> str:
    return f"<@{person.id}>"


def pairing_problem(
    program: Program,
    mentor: Person,
    mentee: Person,
    *,
    duplicate: bool,
    reverse: bool,
    mentor_load: int,
    who: Callable[[Person], str] = mention,
) -> str | None:
    """Why this pair may not be made, or None. `mentor_load`: the mentor's active mentees in the program."""
    if mentor.id == mentee.id:
        return f"{who(mentor)} can't be their own mentor: pick two different people."
    for person in (mentor, mentee):
        if not person.active:
            return f"{who(person)} is deactivated in Slack (or is a bot), so can't be paired."
    if duplicate:
        return f"{who(mentor)} already mentors {who(mentee)} in {program.id}. Nothing changed."
    if reverse:
        return f"{who(mentee)} already mentors {who(mentor)} in {program.id}: a pair can't go both ways."
    limit = program.max_mentees_per_mentor
    if limit is not None and mentor_load >= limit:
        return (
            f"{who(mentor)} already has {mentor_load} mentee{'s' if mentor_load != 1 else ''} in "
            f"{program.id}, the most max_mentees_per_mentor ({limit}) allows. End a pairing first, "
            "or raise the limit in programs.yml."
        )
    return None


def welcome_messages(view: PairView) -> list[Message]:
    return [mentor_welcome(view), mentee_welcome(view)]


def farewell_messages(session: Session, view: PairView) -> list[Message]:
    """Both sides' notes for an ended pair; call after the pair is ended."""
    remaining = active_pairs_of(session, user_id=view.mentee.id, program_id=view.program.id)
    other_mentors = sum(1 for pair in remaining if pair.mentee_id == view.mentee.id)
    return [mentor_farewell(view), mentee_farewell(view, other_mentors=other_mentors)]


def pair_people(
    deps: Deps,
    *,
    program: Program,
    mentor_id: str,
    mentee_id: str,
    actor_id: str,
    now: datetime,
    focus: str | None = None,
) -> PairingOutcome:
    """Pair two people after checking the rules; audit it and prepare both welcome DMs.

    Slack is asked first, outside any transaction (users.info, only for profiles older than a day);
    then one short write transaction stores the profiles, checks the rules and records the pair.
    """
    lookups = look_up_people(deps, user_ids=[mentor_id, mentee_id], now=now)
    with deps.sessions.begin() as session:
        try:
            mentor = store_known_person(session, lookups[mentor_id], now=now)
            mentee = store_known_person(session, lookups[mentee_id], now=now)
        except UnknownUser as exc:
            return _refused(
                f"I can't find a Slack user with the id `{exc.user_id}` in this workspace. "
                "Mention them with @ so Slack fills in their id.",
                PAIR_USAGE,
            )
        except SlackLookupFailed as exc:
            return PairingOutcome(
                False, f"Slack didn't answer ({exc}). Nothing changed; try again in a minute."
            )
        return _pair(
            session, program=program, mentor=mentor, mentee=mentee, actor_id=actor_id, now=now, focus=focus
        )


def _pair(
    session: Session,
    *,
    program: Program,
    mentor: Person,
    mentee: Person,
    actor_id: str,
    now: datetime,
    focus: str | None,
) -> PairingOutcome:
    mentor_id, mentee_id = mentor.id, mentee.id
    _lock_mentor(session, mentor_id)
    problem = pairing_problem(
        program,
        mentor,
        mentee,
        duplicate=active_pair(session, program_id=program.id, mentor_id=mentor_id, mentee_id=mentee_id)
        is not None,
        reverse=active_pair(session, program_id=program.id, mentor_id=mentee_id, mentee_id=mentor_id)
        is not None,
        mentor_load=count_active_mentees(session, program_id=program.id, mentor_id=mentor_id),
    )
    if problem:
        return _refused(problem, PAIR_USAGE)
    try:
        with session.begin_nested():
            create_pair(
                session, program_id=program.id, mentor_id=mentor_id, mentee_id=mentee_id, now=now, focus=focus
            )
    except IntegrityError:  # a second coordinator paired them a moment ago
        return PairingOutcome(False, f"<@{mentor_id}> already mentors <@{mentee_id}> in {program.id}.")
    record_audit(
        session,
        actor_id=actor_id,
        action="pair",
        now=now,
        program_id=program.id,
        target=pair_target(mentor, mentee),
    )
    view = PairView(program=program, mentor=mentor, mentee=mentee, focus=focus, now=now)
    text = (
        f"Paired <@{mentor_id}> (mentor) with <@{mentee_id}> (mentee) in *{program.id}*. "
        "I'm sending them both a welcome message."
    )
    return PairingOutcome(True, text, welcome_messages(view))


def unpair_people(
    deps: Deps, *, program: Program, mentor_id: str, mentee_id: str, actor_id: str, now: datetime
) -> PairingOutcome:
    """End an active pair; audit it and prepare both farewell DMs (sent by the caller after the commit)."""
    with deps.sessions.begin() as session:
        return _unpair(
            session, program=program, mentor_id=mentor_id, mentee_id=mentee_id, actor_id=actor_id, now=now
        )


def _unpair(
    session: Session, *, program: Program, mentor_id: str, mentee_id: str, actor_id: str, now: datetime
) -> PairingOutcome:
    pair = active_pair(session, program_id=program.id, mentor_id=mentor_id, mentee_id=mentee_id)
    if pair is None:
        text = f"<@{mentor_id}> doesn't mentor <@{mentee_id}> in {program.id}, so there is nothing to end."
        if active_pair(session, program_id=program.id, mentor_id=mentee_id, mentee_id=mentor_id):
            text += f" (<@{mentee_id}> mentors <@{mentor_id}> there: the mentor comes first.)"
        return _refused(text, UNPAIR_USAGE)
    end_pair(pair, now=now)
    session.flush()
    people = people_by_id(session, user_ids=[mentor_id, mentee_id])
    mentor, mentee = people[mentor_id], people[mentee_id]
    record_audit(
        session,
        actor_id=actor_id,
        action="unpair",
        now=now,
        program_id=program.id,
        target=pair_target(mentor, mentee),
    )
    view = PairView(program=program, mentor=mentor, mentee=mentee, focus=pair.focus, now=now)
    text = (
        f"Ended the pairing of <@{mentor_id}> and <@{mentee_id}> in *{program.id}*. "
        "I'm letting them both know."
    )
    return PairingOutcome(True, text, farewell_messages(session, view))


def pair_target(mentor: Person, mentee: Person) -> str:
    """How the audit log names a pair: ids only, so it stays valid when names change."""
    return f"mentor={mentor.id} mentee={mentee.id}"


def send_messages(
    client: WebClient,
    messages: list[Message],
    *,
    rate_per_second: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """DM each message with chat.postMessage, at most `rate_per_second`; return one line per failure.

    Posting to a user id makes Slack open the DM. The client's retry handlers already honour 429s;
    what still fails is reported, never dropped silently.
    """
    interval = 1.0 / rate_per_second
    failures: list[str] = []
    next_at = time.monotonic()
    for message in messages:
        wait = next_at - time.monotonic()
        if wait > 0:
            sleep(wait)
        next_at = max(next_at, time.monotonic()) + interval
        try:
            client.chat_postMessage(channel=message.user_id, text=message.text, blocks=message.blocks)
        except SlackApiError as exc:
            failures.append(f"<@{message.user_id}> ({exc.response.get('error', 'unknown_error')})")
        except (SlackRequestError, OSError) as exc:
            failures.append(f"<@{message.user_id}> ({type(exc).__name__})")
    if failures:
        log.warning("%d of %d pairing DMs could not be sent", len(failures), len(messages))
    return failures


def _refused(problem: str, usage: str) -> PairingOutcome:
    return PairingOutcome(False, f"{problem}\nUsage: `{usage}`")


def _lock_mentor(session: Session, mentor_id: str) -> None:
    # Serialises capacity checks per mentor on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    session.execute(select(Person.id).where(Person.id == mentor_id).with_for_update())
