"""The confirmation DM to the other side of a session, and their answer: confirm or "that's not right".

Each DM is claimed in the database before it is sent, so a retried request or a second process
never sends it twice: the claim carries a token that a compare-and-set proves just before each
attempt (bot.slack.client.send_fenced). A refused send releases the claim; one that failed
ambiguously (a 5xx or a dropped connection, after which Slack may have posted) is looked for in the
DM by its metadata first, and a claim whose sender died is recovered the same way after LEASE. The
DM is updated in place as the session changes (confirmed, disputed, reflected on), from wherever the
change came.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from bot.reflections.blocks import Notice, dispute_text, notice_blocks, notice_text
from bot.reflections.reflect import ONLY_OTHER_SIDE, local_today, name_of
from bot.reflections.terms import CONFIRMED, DISPUTED, short_day
from bot.slack.client import ClaimLost, send_fenced
from bot.slack.delivery import (
    RETRYABLE_ERRORS,
    find_posted,
    is_ambiguous,
    process_token,
    slack_error,
)
from bot.slack.token_state import token_failure
from storage.models import MentoringSession, Pair
from storage.repositories.reflections import (
    answer_session,
    claim_notice,
    get_session,
    member_of,
    observations_in,
    other_member,
    reclaim_stale_notice,
    record_notice,
    reflection_of,
    renew_notice_claim,
    unsent_notices,
)

log = logging.getLogger(__name__)

NOTICE_EVENT = "mentorbot_session_notice"
LEASE = timedelta(minutes=5)  # far longer than one attempt to send; each attempt renews it first


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
    """Scheduled catch-up: DMs whose send failed (claim released), never started, or whose sender died."""
    with deps.sessions.begin() as session:
        session_ids = unsent_notices(session, stale_before=now - LEASE)
    sent, failed, error = 0, 0, ""
    for session_id in session_ids:
        if token_failure() is not None:
            break  # Slack refuses the token: told once by bot.slack.token_state
        try:
            sent += send_notice(deps, session_id=session_id, now=now)
        except RETRYABLE_ERRORS as exc:
            failed, error = failed + 1, slack_error(exc)
    if failed and token_failure() is None:
        log.warning("%d session confirmation DMs not sent (%s); retrying next tick", failed, error)
    lines = [f"reflections: sent {sent} session confirmation DMs"] if sent else []
    return lines + (
        [f"reflections: {failed} session confirmation DMs not sent (will retry)"] if failed else []
    )


def send_notice(deps: Deps, *, session_id: int, now: datetime) -> bool:
    """Claim and send one session's DM; False when another request or process has it.

    Raises the Slack error when the send failed (the claim is then released, or kept for recovery
    when the DM may have landed and its history could not be read).
    """
    token = process_token()
    with deps.sessions.begin() as session:
        row = get_session(session, session_id=session_id)
        recover = _claim(session, session_id=session_id, now=now, token=token) if row else None
        if row is None or recover is None:
            return False
        recipient, notice = build_notice(session, deps=deps, row=row, now=now)
    if recover:
        landed = _found(deps, session_id=session_id, token=token, recipient=recipient)
        if landed is not False:  # there already, or unknown: kept claimed, a later recovery looks again
            return bool(landed)
    return _post(deps, session_id=session_id, token=token, recipient=recipient, notice=notice)


def _post(deps: Deps, *, session_id: int, token: str, recipient: str, notice: Notice) -> bool:
    try:
        sent = send_fenced(
            lambda: _renew(deps, session_id=session_id, token=token),
            lambda: deps.client.chat_postMessage(
                channel=recipient,
                text=notice_text(notice),
                blocks=notice_blocks(notice),
                metadata=notice_metadata(session_id),
            ),
        )
    except ClaimLost:
        return False
    except RETRYABLE_ERRORS as exc:
        if not _landed_anyway(deps, exc, session_id=session_id, token=token, recipient=recipient):
            raise
        return True
    with deps.sessions.begin() as session:
        record_notice(session, session_id=session_id, token=token, channel=sent["channel"], ts=sent["ts"])
    return True


def _landed_anyway(deps: Deps, exc: Exception, *, session_id: int, token: str, recipient: str) -> bool:
    """After a failed send: whether the DM is there after all (a 5xx or a dropped connection may come
    after Slack posted). When certainly not, the claim is released for the next try; when unknown, it
    stays, and LEASE recovery looks again."""
    landed = (
        _found(deps, session_id=session_id, token=token, recipient=recipient) if is_ambiguous(exc) else False
    )
    if landed is False:
        with deps.sessions.begin() as session:
            record_notice(session, session_id=session_id, token=token, channel=None, ts=None)
    return bool(landed)


def _claim(session: Session, *, session_id: int, now: datetime, token: str) -> bool | None:
    """None: someone else holds the DM; False: claimed afresh; True: taken over from a dead sender."""
    if claim_notice(session, session_id=session_id, now=now, token=token):
        return False
    if reclaim_stale_notice(session, session_id=session_id, now=now, token=token, stale_before=now - LEASE):
        return True
    return None


def _renew(deps: Deps, *, session_id: int, token: str) -> bool:
    with deps.sessions.begin() as session:
        return renew_notice_claim(session, session_id=session_id, token=token, now=deps.clock())


def _found(deps: Deps, *, session_id: int, token: str, recipient: str) -> bool | None:
    """Whether the DM is already in the recipient's DM (then recorded); None when it cannot be told."""
    try:
        channel = deps.client.conversations_open(users=recipient)["channel"]["id"]
        ts = find_posted(deps.client, channel=channel, metadata=notice_metadata(session_id))
    except RETRYABLE_ERRORS:
        return None
    if ts is None:
        return False
    with deps.sessions.begin() as session:
        record_notice(session, session_id=session_id, token=token, channel=channel, ts=ts)
    return True


def notice_metadata(session_id: int) -> dict[str, Any]:
    """The metadata a confirmation DM carries, by which a retry finds it in the DM."""
    return {"event_type": NOTICE_EVENT, "event_payload": {"session_id": session_id}}


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
