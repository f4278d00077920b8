"""The confirmation DM to the other side of a session, and their answer: confirm or "that's not right".

Each DM is claimed in the database before it is sent, so a retried request or a second process
never sends it twice; a failed send releases the claim. The DM is updated in place as the session
changes (confirmed, disputed, reflected on), from wherever the change came.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from bot.reflections.blocks import Notice, dispute_text, notice_blocks, notice_text
from bot.reflections.reflect import ONLY_OTHER_SIDE, local_today, name_of
from bot.reflections.terms import CONFIRMED, DISPUTED, short_day
from storage.models import MentoringSession, Pair
from storage.repositories.reflections import (
    answer_session,
    claim_notice,
    get_session,
    member_of,
    observations_in,
    other_member,
    record_notice,
    reflection_of,
    unsent_notices,
)

log = logging.getLogger(__name__)


def build_notice(session: Session, *, deps: Deps, row: MentoringSession, now: datetime) -> tuple[str, Notice]:
    """The recipient of a session's DM and what it says in the session's current state."""
    pair = session.get(Pair, row.pair_id)
    assert pair is not None  # sessions.pair_id is a foreign key
    recipient = other_member(pair, row.logged_by)
    today = _today_for(session, deps=deps, user_id=recipient, program_id=row.program_id, now=now)
    logged = reflection_of(session, session_id=row.id, author_id=row.logged_by)
    notice = Notice(
        session_id=row.id,
        logger_name=name_of(session, row.logged_by),
        minutes=row.duration_minutes,
        session_date=row.session_date,
        format=row.format,
        status=row.status,
        topics=tuple(logged.topics) if logged else (),
        levels=tuple((o.competency, o.level) for o in observations_in(session, session_id=row.id)),
        recipient_reflected=reflection_of(session, session_id=row.id, author_id=recipient) is not None,
        today=today,
    )
    return recipient, notice


def send_pending_notices(deps: Deps, *, user_id: str, now: datetime) -> int:
    """Send the confirmation DM of each session this person logged that has none yet; returns the count."""
    with deps.sessions.begin() as session:
        session_ids = unsent_notices(session, logged_by=user_id)
    return sum(send_notice(deps, session_id=session_id, now=now) for session_id in session_ids)


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Scheduled catch-up: DMs whose send failed (claim released) or never started go out now."""
    with deps.sessions.begin() as session:
        session_ids = unsent_notices(session)
    sent = sum(send_notice(deps, session_id=session_id, now=now) for session_id in session_ids)
    return [f"reflections: sent {sent} session confirmation DMs"] if sent else []


def send_notice(deps: Deps, *, session_id: int, now: datetime) -> bool:
    """Claim and send one session's DM; False when another request already claimed it."""
    with deps.sessions.begin() as session:
        row = get_session(session, session_id=session_id)
        if row is None or not claim_notice(session, session_id=session_id, now=now):
            return False
        recipient, notice = build_notice(session, deps=deps, row=row, now=now)
    try:
        sent = deps.client.chat_postMessage(
            channel=recipient, text=notice_text(notice), blocks=notice_blocks(notice)
        )
    except SlackApiError:
        with deps.sessions.begin() as session:
            record_notice(session, session_id=session_id, channel=None, ts=None)
        raise
    with deps.sessions.begin() as session:
        record_notice(session, session_id=session_id, channel=sent["channel"], ts=sent["ts"])
    return True


def refresh_notice(
    deps: Deps, *, session_id: int, now: datetime, pressed_on: tuple[str, str] | None = None
) -> None:
    """Bring the DM already sent for a session up to date with its state.

    `pressed_on` is the (channel, ts) of the DM whose button was pressed: a quick reader can press
    it before the sender has recorded where it went, and the DM must still change under their finger.
    """
    with deps.read_sessions.begin() as session:
        row = get_session(session, session_id=session_id)
        if row is None:
            return
        if row.notice_ts and row.notice_channel:
            channel, ts = row.notice_channel, row.notice_ts
        elif pressed_on is not None:
            channel, ts = pressed_on
        else:
            return
        _recipient, notice = build_notice(session, deps=deps, row=row, now=now)
    deps.client.chat_update(channel=channel, ts=ts, text=notice_text(notice), blocks=notice_blocks(notice))


@dataclass(frozen=True)
class Answer:
    """What happened when someone pressed confirm or "that's not right"."""

    changed: bool
    status: str
    message: str  # for the person who pressed, when there is something to say


def answer(
    deps: Deps,
    *,
    session_id: int,
    user_id: str,
    status: str,
    now: datetime,
    pressed_on: tuple[str, str] | None = None,
) -> Answer:
    """Confirm or dispute a session as its other side; raises NotAllowed for anyone else.

    Only the first answer counts; later presses are told what the session already is.
    `pressed_on` is the DM the button was on, when it was pressed in a DM rather than App Home.
    """
    with deps.sessions.begin() as session:
        row = get_session(session, session_id=session_id)
        pair = session.get(Pair, row.pair_id) if row is not None else None
        if row is None or pair is None or not member_of(pair, user_id) or row.logged_by == user_id:
            raise NotAllowed(ONLY_OTHER_SIDE)
        roles = roles_of(session, programs=deps.programs, user_id=user_id)
        require(roles, Action.SESSION_CONFIRM, program_id=pair.program_id)
        changed = answer_session(session, session_id=session_id, status=status, user_id=user_id, now=now)
        row = get_session(session, session_id=session_id)
        assert row is not None
        final, logger, day = row.status, row.logged_by, row.session_date
        text = dispute_text(
            other_name=name_of(session, user_id),
            minutes=row.duration_minutes,
            session_date=day,
            today=_today_for(session, deps=deps, user_id=logger, program_id=pair.program_id, now=now),
        )
    refresh_notice(deps, session_id=session_id, now=now, pressed_on=pressed_on)
    if changed and final == DISPUTED:
        deps.client.chat_postMessage(channel=logger, text=text)
    return Answer(changed, final, "" if changed else _already(final, day))


def _today_for(session: Session, *, deps: Deps, user_id: str, program_id: str, now: datetime) -> date:
    program = deps.programs.get(program_id)
    return local_today(session, user_id=user_id, program=program, now=now) if program else now.date()


def _already(status: str, day: date) -> str:
    word = "confirmed" if status == CONFIRMED else "marked as not right"
    return f"The session of {short_day(day)} was already {word}; nothing changed."
