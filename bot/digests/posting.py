"""The weekly coordinator digest: due times, the exactly-once post with its chart, previews and the CLI.

Each (program, week) is claimed by inserting its `digest_posts` row before anything is sent: the
unique key lets exactly one process win, however many tick at once. A digest missed while the bot
was down is posted on the next tick with a note saying it is late (up to CATCH_UP_WEEKS back); a
program's very first digest is the one due most recently, if that was within FIRST_POST_GRACE.
A claim left behind by a crash is checked against the channel's history (the message carries
metadata naming program and week) before it is posted again, so a restart never posts twice.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import date, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy.orm import Session

from bot.digests.blocks import DigestMessage, day, render_digest
from bot.digests.content import Digest, build_digest
from bot.digests.trend_chart import render_trend_png
from bot.digests.weeks import WEEK, due_at, latest_due_week
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import UserRoles
from storage.models.digests import DigestPost
from storage.repositories import digests as repo

log = logging.getLogger("mentorbot.digests")

LATE_AFTER = timedelta(minutes=15)
FIRST_POST_GRACE = timedelta(days=1)
CATCH_UP_WEEKS = 4
MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=10)
METADATA_EVENT = "mentorbot_digest"
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Post every program's digest that is due and not yet posted; one line per digest handled."""
    done: list[str] = []
    for program in deps.programs.programs:
        for week in _weeks_to_post(deps, program, now):
            line = post_week(deps, program=program, week=week, now=now)
            if line:
                done.append(line)
    return done


def _weeks_to_post(deps: Deps, program: Program, now: datetime) -> list[date]:
    """The latest due week, missed weeks since the last claim, and failed or abandoned claims to retry."""
    latest = latest_due_week(program, now)
    oldest = latest - (CATCH_UP_WEEKS - 1) * WEEK
    with deps.sessions.begin() as session:
        posts = {post.week: post for post in repo.digest_posts(session, program_id=program.id, since=oldest)}
        last = repo.last_claimed_week(session, program_id=program.id)
    if last is None:
        # A new program (or a new install) starts with the next digest, not with old catch-ups.
        return [latest] if now - due_at(program, latest) <= FIRST_POST_GRACE else []
    first = max(last + WEEK, oldest)
    weeks = {first + i * WEEK for i in range(max((latest - first).days // 7 + 1, 0))}
    weeks |= {week for week, post in posts.items() if _retryable(post, now)}
    return sorted(weeks)


def _retryable(post: DigestPost, now: datetime) -> bool:
    if post.status == "failed":
        return post.attempts < MAX_ATTEMPTS
    return post.status == "claimed" and now - post.claimed_at > STALE_CLAIM


def post_week(deps: Deps, *, program: Program, week: date, now: datetime) -> str | None:
    """Claim and post the digest for `week`; None when another process or an earlier run has it."""
    post_id = _claim(deps, program=program, week=week, now=now)
    if post_id is None:
        return None
    channel = program.digest.channel
    late = now - due_at(program, week) > LATE_AFTER
    with deps.sessions.begin() as session:
        digest = build_digest(session, program=program, week=week, now=now)
    note = late_note(digest) if late else None
    message = render_digest(digest, text_trend=False, note=note)
    try:
        response = deps.client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, metadata=_metadata(program, week)
        )
    except (SlackApiError, SlackRequestError) as exc:
        error = _error_of(exc)
        log.warning("digest for %s week %s was not posted: %s", program.id, week, error)
        with deps.sessions.begin() as session:
            repo.mark_failed(session, post_id=post_id, error=error)
        return f"digest {program.id} week of {week}: not posted ({error}); will retry"
    ts = str(response["ts"])
    with deps.sessions.begin() as session:
        repo.mark_posted(
            session, post_id=post_id, channel=channel, ts=ts, now=now, late=late, chart_uploaded=False
        )
    chart = _share_chart(deps, digest=digest, channel=channel, ts=ts, note=note, post_id=post_id)
    return f"digest {program.id} week of {week}: posted to {channel}{' late' if late else ''}; {chart}"


def _claim(deps: Deps, *, program: Program, week: date, now: datetime) -> int | None:
    """Win the (program, week) row: insert it, or take over a failed or abandoned claim."""
    with deps.sessions.begin() as session:
        post = repo.claim_digest(
            session, program_id=program.id, week=week, due_at=due_at(program, week), now=now, worker=WORKER
        )
        if post is not None:
            return post.id
        existing = repo.digest_post(session, program_id=program.id, week=week)
    if existing is None or not _retryable(existing, now):
        return None
    if existing.status == "claimed":
        checked, ts = _find_posted(deps.client, program, existing)
        if not checked:
            return None
        if ts is not None:
            with deps.sessions.begin() as session:
                repo.mark_posted(
                    session, post_id=existing.id, channel=program.digest.channel, ts=ts, now=now,
                    late=existing.late, chart_uploaded=existing.chart_uploaded,
                )  # fmt: skip
            return None
    with deps.sessions.begin() as session:
        won = repo.reclaim_digest(
            session, post_id=existing.id, status=existing.status, claimed_at=existing.claimed_at,
            now=now, worker=WORKER,
        )  # fmt: skip
    return existing.id if won else None


def _find_posted(client: WebClient, program: Program, post: DigestPost) -> tuple[bool, str | None]:
    """Whether the channel could be read, and the ts of this week's digest if a crashed run posted it."""
    try:
        response = client.conversations_history(
            channel=program.digest.channel,
            oldest=f"{post.claimed_at.timestamp() - 60:.6f}",
            include_all_metadata=True,
            limit=200,
        )
    except (SlackApiError, SlackRequestError) as exc:
        # Without history we cannot tell whether it went out: leave it rather than risk posting twice.
        log.warning("cannot check %s for an unfinished digest: %s", program.digest.channel, _error_of(exc))
        return False, None
    wanted = _metadata(program, post.week)
    messages: list[dict[str, Any]] = response.get("messages", [])
    for message in messages:
        if message.get("metadata") == wanted:
            return True, str(message["ts"])
    return True, None


def _metadata(program: Program, week: date) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"program": program.id, "week": week.isoformat()}}


def _error_of(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    return type(exc).__name__


def late_note(digest: Digest) -> str:
    local = digest.due_at.astimezone(digest.program.tz)
    due = f"{day(local.date())} {local:%H:%M %Z}"
    return f"⏰ Posted late: this digest was due {due}, while the bot was not running."


def chart_png(digest: Digest) -> bytes:
    """The trend chart for the digest's 8 weeks."""
    return render_trend_png(
        digest.weeks,
        digest.trend("wellbeing"),
        digest.trend("psych"),
        title=f"{digest.program.name}: 8 weeks to {day(digest.week)}",
        hidden=(digest.hidden("wellbeing"), digest.hidden("psych")),
    )


def _share_chart(deps: Deps, *, digest: Digest, channel: str, ts: str, note: str | None, post_id: int) -> str:
    """Upload the chart after the digest; if that fails, put the text trend into the digest instead."""
    try:
        deps.client.files_upload_v2(
            channel=channel,
            file=chart_png(digest),
            filename=f"digest-{digest.program.id}-{digest.week}.png",
            title=f"Wellbeing and psychological safety, 8 weeks to {day(digest.week)}",
            initial_comment=f"8-week trend for {digest.program.name} (hidden weeks are gaps).",
        )
    except (SlackApiError, SlackRequestError, OSError) as exc:
        error = _error_of(exc)
        log.warning("digest chart for %s was not uploaded: %s", digest.program.id, error)
        message = render_digest(digest, text_trend=True, note=note)
        deps.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
        with deps.sessions.begin() as session:
            repo.record_chart(session, post_id=post_id, uploaded=False, error=f"chart: {error}")
        return f"chart not uploaded ({error}), text trend instead"
    with deps.sessions.begin() as session:
        repo.record_chart(session, post_id=post_id, uploaded=True, error=None)
    return "chart uploaded"


def preview(deps: Deps, *, program: Program, now: datetime) -> DigestMessage:
    """The digest as it stands for the latest due week, with the text trend (previews carry no image)."""
    with deps.sessions.begin() as session:
        digest = build_digest(session, program=program, week=latest_due_week(program, now), now=now)
    schedule = f"{program.digest.weekday.capitalize()} {program.digest.time:%H:%M} ({program.timezone})"
    note = f"Preview: the digest posts to <#{program.digest.channel}> every {schedule}."
    return render_digest(digest, text_trend=True, note=note)


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[dict[str, Any]]:
    """Nothing: the coordinator's Home section (with its Preview digest button) belongs to programs."""
    return []
