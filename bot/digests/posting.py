"""The weekly coordinator digest: due times, the exactly-once post with its chart, previews and the CLI.

Each (program, week) is claimed by inserting its `digest_posts` row before anything is sent: the
unique key lets exactly one process win, however many tick at once. The claim carries a token that a
compare-and-set proves (and renews) just before each attempt to post, so a claim taken over after
STALE_CLAIM is never posted by its old holder too. A digest missed while the bot was down is posted
on the next tick with a note saying it is late (up to CATCH_UP_WEEKS back); a program's very first
digest is the one due most recently, if that was within FIRST_POST_GRACE.

A failed post is retried with backoff (up to MAX_BACKOFF apart) until the next week's digest is due,
then abandoned with a log line. Still failing LATE_NOTICE_AFTER after its first failure, it is tried
once more at once; if that fails too, the operator gets one log line and the coordinators one DM
saying the digest is late and why. A claim left behind by a crash, or an attempt that failed
ambiguously (a 5xx or a dropped connection, after which Slack may have posted), is checked against
the channel's history (the message carries metadata naming program and week) before it is posted
again, so nothing is posted twice. Each program is independent: one program's failure neither skips
nor delays another's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.digests.blocks import DigestMessage, day, render_digest
from bot.digests.chart_alt import chart_alt_text
from bot.digests.content import Digest, build_digest
from bot.digests.trend_chart import render_trend_png
from bot.digests.weeks import WEEK, due_at, latest_due_week
from bot.kernel import metrics
from bot.kernel.deps import Deps
from bot.kernel.logging_setup import log_failure
from bot.kernel.programs import Program
from bot.kernel.roles import UserRoles
from bot.slack.client import ClaimLost, send_fenced
from bot.slack.delivery import (
    RETRYABLE_ERRORS,
    TickClock,
    find_posted,
    is_ambiguous,
    is_dead_token,
    process_token,
    slack_error,
)
from bot.slack.token_state import token_failure
from storage.models.digests import DigestPost
from storage.repositories import digests as repo

log = logging.getLogger("mentorbot.digests")

LATE_AFTER = timedelta(minutes=15)
FIRST_POST_GRACE = timedelta(days=1)
CATCH_UP_WEEKS = 4
STALE_CLAIM = timedelta(minutes=10)  # far longer than one attempt (the client's timeout)
MAX_BACKOFF = timedelta(minutes=15)
LATE_NOTICE_AFTER = timedelta(hours=2)
METADATA_EVENT = "mentorbot_digest"


@dataclass(frozen=True)
class Claim:
    """A digest this process now holds, with what its retries need to know."""

    post: DigestPost
    token: str
    recover: bool  # an earlier attempt may have posted it: look in the channel first

    @property
    def id(self) -> int:
        return self.post.id


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Post every program's digest that is due and not yet posted; one line per digest handled."""
    done: list[str] = []
    for program in deps.programs.programs:
        try:
            done.extend(_run_program(deps, program, now))
        except Exception:  # logged with its traceback; the next program must still get its digest
            log_failure(log, "digest for %s failed", program.id)
            done.append(f"digest {program.id}: failed (see log)")
    return done


def _run_program(deps: Deps, program: Program, now: datetime) -> list[str]:
    _abandon_overdue(deps, program, now)
    done: list[str] = []
    for week in _weeks_to_post(deps, program, now):
        if token_failure() is not None:
            break  # Slack refuses the token: told once by bot.slack.token_state; retried when it works
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
    weeks |= {week for week, post in posts.items() if _retryable(program, post, now)}
    return sorted(weeks)


def _retryable(program: Program, post: DigestPost, now: datetime) -> bool:
    if now >= _give_up_at(program, post.week):
        return False
    if post.status == "failed":
        backed_off = post.next_attempt_at is None or now >= post.next_attempt_at
        return backed_off or _late_notice_due(post, now)
    return post.status == "claimed" and now - post.claimed_at > STALE_CLAIM


def _give_up_at(program: Program, week: date) -> datetime:
    """A week's digest is retried until the next week's is due; after that it would only confuse."""
    return due_at(program, week + WEEK)


def _late_notice_due(post: DigestPost, now: datetime) -> bool:
    return (
        post.late_notice_at is None
        and post.failing_since is not None
        and now - post.failing_since >= LATE_NOTICE_AFTER
    )


def _abandon_overdue(deps: Deps, program: Program, now: datetime) -> None:
    """Failed or stuck weeks whose next digest is due stop being retried, each with one log line."""
    since = latest_due_week(program, now) - CATCH_UP_WEEKS * WEEK
    with deps.sessions.begin() as session:
        for post in repo.digest_posts(session, program_id=program.id, since=since):
            stuck = post.status == "failed" or (
                post.status == "claimed" and now - post.claimed_at > STALE_CLAIM
            )
            if not stuck or now < _give_up_at(program, post.week):
                continue
            if repo.abandon_digest(session, post_id=post.id, status=post.status, claimed_at=post.claimed_at):
                log.error(
                    "digest for %s week of %s abandoned: not posted (%s) by the time the next one was due",
                    program.id,
                    post.week,
                    post.last_error or "its claim never finished",
                )


def post_week(deps: Deps, *, program: Program, week: date, now: datetime) -> str | None:
    """Claim and post the digest for `week`; None when another process or an earlier run has it."""
    claim = _claim(deps, program=program, week=week, now=now)
    if claim is None:
        return None
    if claim.recover:
        try:
            ts = _find_posted(deps, program, week)
        except RETRYABLE_ERRORS as exc:
            # Without history we cannot tell whether it went out: wait rather than risk posting twice.
            return _failed(deps, program, week, claim, now, f"history: {slack_error(exc)}", maybe_posted=True)
        if ts is not None:
            _mark_posted(deps, claim, channel=program.digest.channel, ts=ts, now=now, late=claim.post.late)
            return None
    return _post(deps, program, week, claim, now)


def _claim(deps: Deps, *, program: Program, week: date, now: datetime) -> Claim | None:
    """Win the (program, week) row: insert it, or take over a failed or abandoned claim."""
    token = process_token()
    with deps.sessions.begin() as session:
        post = repo.claim_digest(
            session, program_id=program.id, week=week, due_at=due_at(program, week), now=now, worker=token
        )
        if post is not None:
            return Claim(post, token, recover=False)
        existing = repo.digest_post(session, program_id=program.id, week=week)
        if existing is None or not _retryable(program, existing, now):
            return None
        recover = existing.status == "claimed" or existing.maybe_posted
        won = repo.reclaim_digest(
            session, post_id=existing.id, status=existing.status, claimed_at=existing.claimed_at,
            now=now, worker=token,
        )  # fmt: skip
        if not won:
            return None
        session.refresh(existing)
        return Claim(existing, token, recover=recover)


def _post(deps: Deps, program: Program, week: date, claim: Claim, now: datetime) -> str | None:
    channel = program.digest.channel
    late = now - due_at(program, week) > LATE_AFTER
    with deps.sessions.begin() as session:
        digest = build_digest(session, program=program, week=week, now=now)
    note = (
        late_note(digest, cause=claim.post.last_error if claim.post.failing_since else None) if late else None
    )
    message = render_digest(digest, text_trend=False, note=note)
    clock = TickClock(now, deps.clock)
    try:
        response = send_fenced(
            lambda: _renew(deps, claim, clock()),
            lambda: deps.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, metadata=_metadata(program, week)
            ),
        )
        ts = str(response["ts"])
    except ClaimLost:
        return None  # taken over after its lease: the new holder posts it
    except RETRYABLE_ERRORS as exc:
        found = _landed_anyway(deps, program, week, exc)
        if not isinstance(found, str):
            return _failed(deps, program, week, claim, now, slack_error(exc), maybe_posted=found is None)
        ts = found
    _mark_posted(deps, claim, channel=channel, ts=ts, now=now, late=late)
    chart = _share_chart(deps, digest=digest, channel=channel, ts=ts, note=note, post_id=claim.id)
    return f"digest {program.id} week of {week}: posted to {channel}{' late' if late else ''}; {chart}"


def _renew(deps: Deps, claim: Claim, now: datetime) -> bool:
    with deps.sessions.begin() as session:
        return repo.renew_digest_claim(session, post_id=claim.id, worker=claim.token, now=now)


def _landed_anyway(deps: Deps, program: Program, week: date, exc: Exception) -> str | bool | None:
    """After a failed post: its ts if it reached the channel after all; False if surely not; None if unknown.

    Only a 5xx or a dropped connection can hide a post that happened; Slack's refusals cannot.
    """
    if not is_ambiguous(exc):
        return False
    try:
        ts = _find_posted(deps, program, week)
    except RETRYABLE_ERRORS:
        return None
    return False if ts is None else ts


def _mark_posted(deps: Deps, claim: Claim, *, channel: str, ts: str, now: datetime, late: bool) -> None:
    with deps.sessions.begin() as session:
        repo.mark_posted(
            session, post_id=claim.id, channel=channel, ts=ts, now=now, late=late,
            chart_uploaded=claim.post.chart_uploaded,
        )  # fmt: skip
    metrics.count_digest("posted")
    if claim.post.failing_since is not None:
        log.warning(
            "digest for %s week of %s posted after %d attempts",
            claim.post.program_id,
            claim.post.week,
            claim.post.attempts,
        )


def _failed(
    deps: Deps, program: Program, week: date, claim: Claim, now: datetime, error: str, *, maybe_posted: bool
) -> str:
    """Record the failure with its backoff; past LATE_NOTICE_AFTER, tell the operator and coordinators."""
    since = claim.post.failing_since or now
    wait = min(timedelta(minutes=2 ** min(claim.post.attempts - 1, 8)), MAX_BACKOFF)
    with deps.sessions.begin() as session:
        mine = repo.mark_failed(
            session, post_id=claim.id, worker=claim.token, error=error, next_attempt_at=now + wait,
            failing_since=since, maybe_posted=maybe_posted,
        )  # fmt: skip
    metrics.count_digest("failed")
    dead_token = token_failure() is not None
    if mine and not dead_token:
        first = claim.post.failing_since is None
        log.log(
            logging.WARNING if first else logging.INFO,
            "digest for %s week of %s not posted: %s; retrying in %s",
            program.id,
            week,
            error,
            wait,
        )
        if now - since >= LATE_NOTICE_AFTER:
            _tell_late(deps, program, week, claim, error=error, since=since, now=now)
    return f"digest {program.id} week of {week}: not posted ({error}); will retry"


def _tell_late(
    deps: Deps, program: Program, week: date, claim: Claim, *, error: str, since: datetime, now: datetime
) -> None:
    """Once per digest: one operator line, and a DM to each coordinator saying it is late and why."""
    with deps.sessions.begin() as session:
        if not repo.claim_late_notice(session, post_id=claim.id, now=now):
            return
    log.error(
        "digest for %s week of %s still not posted after %s (%s); telling the program's coordinators",
        program.id,
        week,
        now - since,
        error,
    )
    text = late_digest_text(program, week, error=error)
    for coordinator in program.coordinators:
        try:
            deps.client.chat_postMessage(channel=coordinator, text=text)
        except RETRYABLE_ERRORS as exc:
            if not is_dead_token(exc):
                log.warning(
                    "could not tell a coordinator of %s that its digest is late (%s)",
                    program.id,
                    slack_error(exc),
                )


def late_digest_text(program: Program, week: date, *, error: str) -> str:
    """The coordinators' DM about a digest Slack keeps refusing: what, since when, why, and what next."""
    local = due_at(program, week).astimezone(program.tz)
    channel = program.digest.channel
    return (
        f"⏰ The weekly digest for {program.name} (week of {day(week)}) is late. It was due "
        f"{day(local.date())} {local:%H:%M %Z}, and every attempt to post it in <#{channel}> has failed: "
        f"{_why(error, channel)}. mentorbot keeps trying until next week's digest is due and posts it as "
        "soon as Slack accepts it."
    )


def _why(error: str, channel: str) -> str:
    error = error.removeprefix("history: ")
    reasons = {
        "not_in_channel": f"the bot is not a member of <#{channel}> (invite it with `/invite @mentorbot`)",
        "channel_not_found": f"Slack cannot find <#{channel}> (check `digest.channel` in programs.yml)",
        "is_archived": f"<#{channel}> is archived (unarchive it, or set another `digest.channel`)",
        "ratelimited": "Slack kept rate-limiting the bot",
    }
    if error in reasons:
        return reasons[error]
    if error.startswith("http_5") or not error.islower():
        return f"Slack was unavailable ({error})"
    return f"Slack answered `{error}`"


def _find_posted(deps: Deps, program: Program, week: date) -> str | None:
    """The ts of this week's digest if an earlier attempt posted it; raises when the channel cannot be read.

    A digest is never posted before it is due, which bounds how far back to look.
    """
    oldest = due_at(program, week) - timedelta(hours=1)
    return find_posted(
        deps.client, channel=program.digest.channel, metadata=_metadata(program, week), oldest=oldest
    )


def _metadata(program: Program, week: date) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"program": program.id, "week": week.isoformat()}}


def late_note(digest: Digest, *, cause: str | None = None) -> str:
    """The digest's own line saying it is late, and why: the bot was down, or Slack failed earlier tries."""
    local = digest.due_at.astimezone(digest.program.tz)
    due = f"{day(local.date())} {local:%H:%M %Z}"
    if cause:
        cause = cause.removeprefix("history: ")
        return f"⏰ Posted late: this digest was due {due}; Slack failed the earlier attempts ({cause})."
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
            alt_txt=chart_alt_text(digest),
            initial_comment=f"8-week trend for {digest.program.name} (hidden weeks are gaps).",
        )
    except RETRYABLE_ERRORS as exc:
        # Never retried: completing an upload again shares the file again. At worst both trends show.
        error = slack_error(exc)
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
