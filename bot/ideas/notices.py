"""The DMs about ideas — shared, a step recorded, a comment, a passed test date — each sent exactly once.

Whatever owes a DM writes an idea_notices row in its own transaction (bot.ideas.record); the tick
writes one for each test date that has passed without a Do step (its unique key, "nudge:<cycle>",
makes a second tick or process add nothing). Sending is claim-then-send: a process claims the row
with a fencing token, builds the DM from the idea's current state, and posts only while a
compare-and-set proves the claim still its own (bot.slack.client.send_fenced). The ts is recorded
after. A refused send releases the claim for the next tick; after an ambiguous failure (a 5xx or a
dropped connection, after which Slack may have posted) the DM is looked for by its metadata first,
and so is a claim whose sender died, once its lease has run out. Restarts therefore neither drop
nor repeat a DM. Slack is never called inside a write transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.ideas.blocks import NoticeView, notice_blocks, notice_text
from bot.ideas.cards import idea_view, name_of, viewer
from bot.ideas.terms import DO, IDEA, PLANNED
from bot.kernel.deps import Deps
from bot.kernel.text import plural
from bot.slack.client import ClaimLost, send_fenced
from bot.slack.delivery import (
    RETRYABLE_ERRORS,
    find_posted,
    is_ambiguous,
    is_dead_token,
    process_token,
    slack_error,
)
from bot.slack.token_state import token_failure
from storage.models import IdeaComment, IdeaCycle, IdeaNotice, Pair
from storage.repositories.ideas import (
    add_notice,
    claim_notice,
    due_nudges,
    get_idea,
    get_notice,
    record_sent,
    release_notice,
    renew_notice_claim,
    unsent_notices,
)

log = logging.getLogger("mentorbot.ideas")

NOTICE_EVENT = "mentorbot_idea_notice"
LEASE = timedelta(minutes=5)  # far longer than one attempt to send; each attempt renews it first
MAX_ATTEMPTS = 5  # refusals (a deactivated user, say) before a DM is given up
SENT, HELD, FAILED = "sent", "held", "failed"


@dataclass(frozen=True)
class Dm:
    recipient: str
    text: str
    blocks: list[dict[str, Any]]


def notice_metadata(notice_id: int) -> dict[str, Any]:
    """The metadata a DM about an idea carries, by which a retry finds it in the DM."""
    return {"event_type": NOTICE_EVENT, "event_payload": {"notice_id": notice_id}}


# -- scheduled work --------------------------------------------------------------------------------------


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Queue a reminder for each passed test date, then send every DM still owed (failed, never
    started, or held by a sender that died)."""
    nudges = queue_nudges(deps, now)
    with deps.sessions.begin() as session:
        notice_ids = unsent_notices(session, stale_before=now - LEASE)
    outcomes: list[str] = []
    for notice_id in notice_ids:
        if token_failure() is not None:
            break  # Slack refuses the token: told once by bot.slack.token_state
        outcomes.append(send_notice(deps, notice_id=notice_id, now=now))
    return _lines(nudges, outcomes.count(SENT), outcomes.count(FAILED))


def _lines(nudges: int, sent: int, failed: int) -> list[str]:
    lines = (
        [f"ideas: {plural(nudges, 'test date passed', 'test dates passed')}, reminder queued"]
        if nudges
        else []
    )
    lines += [f"ideas: sent {plural(sent, 'DM')}"] if sent else []
    return lines + ([f"ideas: {plural(failed, 'DM')} not sent (will retry)"] if failed else [])


def queue_nudges(deps: Deps, now: datetime) -> int:
    """One reminder per cycle whose test date has passed without a Do step; returns how many were new."""
    with deps.sessions.begin() as session:
        return sum(
            add_notice(
                session,
                key=f"nudge:{cycle.id}",
                idea_id=idea.id,
                cycle_id=cycle.id,
                kind="nudge",
                step=DO,
                recipient_id=idea.author_id,
                now=now,
            )
            for cycle, idea in due_nudges(session, now=now)
        )


def send_pending(deps: Deps, *, actor_id: str, now: datetime) -> int:
    """Send the DMs this person's last action owes, right after it; the tick retries any that fail."""
    with deps.sessions.begin() as session:
        notice_ids = unsent_notices(session, actor_id=actor_id)
    return [send_notice(deps, notice_id=notice_id, now=now) for notice_id in notice_ids].count(SENT)


# -- one DM ----------------------------------------------------------------------------------------------


def send_notice(deps: Deps, *, notice_id: int, now: datetime) -> str:
    """Claim and send one DM. SENT; HELD when another sender has it or it no longer applies; FAILED when
    Slack refused (the claim is released for the next tick, or kept for recovery when unknown)."""
    token = process_token()
    with deps.sessions.begin() as session:
        recover = claim_notice(session, notice_id=notice_id, token=token, now=now, stale_before=now - LEASE)
        if recover is None:
            return HELD
        dm = build_dm(session, deps=deps, notice_id=notice_id)
        if dm is None:
            release_notice(session, notice_id=notice_id, token=token, drop=True)
            return HELD
    if recover:
        landed = _found(deps, notice_id=notice_id, token=token, recipient=dm.recipient)
        if landed is not False:  # there already, or unknown: kept claimed, a later recovery looks again
            return SENT if landed else FAILED
    return _post(deps, notice_id=notice_id, token=token, dm=dm)


def build_dm(session: Session, *, deps: Deps, notice_id: int) -> Dm | None:
    """The DM in the idea's current state; None when it no longer applies (the test was recorded
    meanwhile, or the pair ended)."""
    notice = get_notice(session, notice_id=notice_id)
    idea = get_idea(session, idea_id=notice.idea_id) if notice is not None else None
    pair = session.get(Pair, idea.pair_id) if idea is not None else None
    if notice is None or idea is None or pair is None or pair.ended_at is not None:
        return None
    cycle = session.get(IdeaCycle, notice.cycle_id) if notice.cycle_id is not None else None
    if notice.kind == "nudge" and (cycle is None or cycle.done_at is not None or idea.stage != PLANNED):
        return None
    view = idea_view(session, idea)
    shown = NoticeView(
        kind=notice.kind,
        idea=view,
        viewer=viewer(view, pair, notice.recipient_id),
        actor=name_of(session, notice.actor_id) if notice.actor_id else "",
        step=notice.step or IDEA,
        cycle_number=cycle.number if cycle is not None else 0,
        comment=_comment_text(session, notice),
    )
    return Dm(notice.recipient_id, notice_text(shown), notice_blocks(shown))


def _comment_text(session: Session, notice: IdeaNotice) -> str:
    comment = session.get(IdeaComment, notice.comment_id) if notice.comment_id is not None else None
    return comment.text if comment is not None else ""


def _post(deps: Deps, *, notice_id: int, token: str, dm: Dm) -> str:
    try:
        sent = send_fenced(
            lambda: _renew(deps, notice_id=notice_id, token=token),
            lambda: deps.client.chat_postMessage(
                channel=dm.recipient, text=dm.text, blocks=dm.blocks, metadata=notice_metadata(notice_id)
            ),
        )
    except ClaimLost:
        return HELD
    except RETRYABLE_ERRORS as exc:
        return _failed(deps, exc, notice_id=notice_id, token=token, recipient=dm.recipient)
    with deps.sessions.begin() as session:
        record_sent(session, notice_id=notice_id, token=token, channel=sent["channel"], ts=sent["ts"])
    return SENT


def _failed(deps: Deps, exc: Exception, *, notice_id: int, token: str, recipient: str) -> str:
    """After a failed send: the DM may have landed anyway (a 5xx or a dropped connection). When it
    certainly did not, the claim is released for the next tick; when unknown, it stays for recovery."""
    landed = (
        _found(deps, notice_id=notice_id, token=token, recipient=recipient) if is_ambiguous(exc) else False
    )
    if landed:
        return SENT
    if landed is False:
        with deps.sessions.begin() as session:
            notice = get_notice(session, notice_id=notice_id)
            give_up = notice is not None and notice.attempts + 1 >= MAX_ATTEMPTS
            release_notice(session, notice_id=notice_id, token=token, drop=give_up)
    if not is_dead_token(exc):  # a refused token is one line, from bot.slack.token_state
        log.warning("idea DM %d not sent (%s); retrying next tick", notice_id, slack_error(exc))
    return FAILED


def _renew(deps: Deps, *, notice_id: int, token: str) -> bool:
    with deps.sessions.begin() as session:
        return renew_notice_claim(session, notice_id=notice_id, token=token, now=deps.clock())


def _found(deps: Deps, *, notice_id: int, token: str, recipient: str) -> bool | None:
    """Whether the DM is already in the recipient's DM (then recorded); None when it cannot be told."""
    try:
        channel = deps.client.conversations_open(users=recipient)["channel"]["id"]
        ts = find_posted(deps.client, channel=channel, metadata=notice_metadata(notice_id))
    except RETRYABLE_ERRORS:
        return None
    if ts is None:
        return False
    with deps.sessions.begin() as session:
        record_sent(session, notice_id=notice_id, token=token, channel=channel, ts=ts)
    return True
