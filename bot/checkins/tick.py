"""One tick of check-in work: claim and send due prompts, retry and recover, remind, expire, close.

Every send is claimed in the database first (a unique (program, mentee, period) row, or a conditional
UPDATE for retries), so concurrent processes and restarts never send a prompt twice. A claim carries
its tick's token and is proved, by compare-and-set renewing its lease, just before each attempt to
send (bot.slack.client.send_fenced): a claim that waited past its lease behind the rate limiter or a
long Retry-After, and was taken over meanwhile, is dropped rather than sent a second time. A claim
whose process died is recovered after LEASE by looking for the message in the mentee's DM history,
and so is an attempt that failed ambiguously (a 5xx or a dropped connection after Slack may have
posted). While Slack refuses the bot token itself, nothing is sent (bot.slack.token_state).
Weeks past their cutoff have their team-climate answers moved out of the check-ins (bot.checkins.climate).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.orm import Session

from bot.checkins import blocks, climate, schedule
from bot.checkins.answers import deliver_note
from bot.checkins.edmondson import item_for
from bot.kernel import metrics
from bot.kernel.clock import zone_of
from bot.kernel.deps import Deps
from bot.kernel.people import REFRESH_AFTER, apply_profile
from bot.kernel.programs import Program
from bot.kernel.text import day_label
from bot.slack.client import ClaimLost, send_fenced
from bot.slack.delivery import (
    RETRYABLE_ERRORS,
    FanOut,
    TickClock,
    TokenBucket,
    dnd_until,
    find_posted,
    find_prompt,
    is_ambiguous,
    is_dead_token,
    process_token,
    prompt_metadata,
    reminder_metadata,
    slack_error,
)
from bot.slack.token_state import token_failure
from storage.models import Checkin
from storage.repositories import checkins as repo
from storage.repositories.people import people_by_id

log = logging.getLogger("mentorbot.checkins")

# Far longer than one attempt to send can take (the client's timeout): each attempt renews it first.
LEASE = timedelta(minutes=5)
CHUNK = 50  # rows claimed per transaction
LOST = "lost"  # the claim was taken over while it waited: another process sends it
PROFILE_BUDGET = 20  # users.info calls per tick for missing or day-old timezones
MAX_BACKOFF_MINUTES = 60
T = TypeVar("T")
Outcome = dict[str, Any]


@dataclass(frozen=True)
class Mentee:
    id: str
    name: str
    zone: ZoneInfo


@dataclass(frozen=True)
class Due:
    program: Program
    mentee: Mentee
    period: schedule.Period


@dataclass(frozen=True)
class PromptJob:
    claimed: repo.Claimed
    mentee: Mentee
    audience: blocks.Audience
    paused: bool = False  # the mentee paused after an earlier attempt failed or was deferred


@dataclass(frozen=True)
class Reminder:
    row: Checkin
    recover: bool  # an earlier claim's process died: look in the DM before sending


@dataclass(frozen=True)
class Sent:
    """What a reminder or close attempt left to record: done (a reminder's ts), released, or nothing."""

    id: int
    ts: str | None = None
    release: bool = False  # Slack refused: let a later tick claim it again


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def display_name(real_name: str | None, display: str | None, user_id: str) -> str:
    return real_name or display or user_id


@dataclass
class CheckinTick:
    deps: Deps
    now: datetime
    pool: ThreadPoolExecutor
    token: str = field(default_factory=process_token)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (program, what) -> n

    def __post_init__(self) -> None:
        self.clock = TickClock(self.now, self.deps.clock)
        self.limiter = TokenBucket(self.deps.settings.send_rate_per_second)
        self.workers = self.deps.settings.send_workers
        self._assigned: Counter[tuple[str, str]] = Counter()

    def run(self) -> list[str]:
        self.close_out()
        self.close_climate()
        slack_work = (
            self.refresh_profiles,
            lambda: self.send_prompts(self.plan()),
            self.send_reminders,
            self.close_dms,
            self.deliver_notes,
        )
        for step in slack_work:
            if token_failure() is not None:
                break  # Slack refuses the token: the operator has been told once; nothing more to try
            step()
        return self.lines()

    # -- profiles ------------------------------------------------------------------------------------

    def refresh_profiles(self) -> None:
        """Fetch a bounded number of missing or stale mentee profiles (timezones) per tick."""
        with self.deps.sessions.begin() as session:
            stale = repo.stale_mentees(session, stale_before=self.now - REFRESH_AFTER, limit=PROFILE_BUDGET)
        list(self.pool.map(self._refresh_one, stale))

    def _refresh_one(self, user_id: str) -> None:
        try:
            user = self.deps.client.users_info(user=user_id)["user"]
        except RETRYABLE_ERRORS as exc:
            if not is_dead_token(exc):
                log.warning("users.info failed (%s); keeping the cached timezone", slack_error(exc))
            return
        with self.deps.sessions.begin() as session:
            apply_profile(session, user=user, now=self.now)

    # -- expiry of undelivered and unanswered --------------------------------------------------------

    def close_out(self) -> None:
        with self.deps.sessions.begin() as session:
            self.counts[("", "missed")] += repo.miss_undelivered(session, now=self.now)
            self.counts[("", "expired")] += repo.expire_sent(session, now=self.now)

    def close_climate(self) -> None:
        """Move the team-climate answers of weeks past their cutoff out of the check-ins (see climate)."""
        for closed in climate.close_due(self.deps, self.now):
            self.counts[(closed.program_id, "climate")] += 1

    # -- planning ------------------------------------------------------------------------------------

    def plan(self) -> list[Due]:
        """Due periods without a row; paused and already-expired ones are recorded here, not sent."""
        due: list[Due] = []
        for program in self.deps.programs.programs:
            due.extend(self._plan_program(program))
        return due

    def _plan_program(self, program: Program) -> list[Due]:
        since = self.now - schedule.LOOKBACK
        with self.deps.sessions.begin() as session:
            rows = repo.mentees_to_schedule(session, program_id=program.id)
            known = repo.known_periods(session, program_id=program.id, since=since - timedelta(days=1))
        due: list[Due] = []
        unsent: list[dict[str, Any]] = []
        for row in rows:
            zone = zone_of(row.timezone, program.timezone)
            mentee = Mentee(row.mentee_id, display_name(row.real_name, row.display_name, row.mentee_id), zone)
            periods = schedule.periods_due(program.checkins, zone, row.anchor, since=since, until=self.now)
            for period in periods:
                if (mentee.id, period.day) in known:
                    continue
                if self.now >= period.expires_at:
                    unsent.append(self._row(program, mentee, period, "missed", item=0))
                elif schedule.paused_at(row.paused_at, row.paused_until, period.due_at):
                    unsent.append(self._row(program, mentee, period, "paused", item=0))
                else:
                    due.append(Due(program, mentee, period))
        self._record_unsent(program.id, unsent)
        return due

    def _record_unsent(self, program_id: str, unsent: list[dict[str, Any]]) -> None:
        """Paused and missed periods get their row (and count) without a send; psych_item is 0 for them."""
        if not unsent:
            return
        statuses = {(row["mentee_id"], row["period"]): row["status"] for row in unsent}
        with self.deps.sessions.begin() as session:
            for batch in chunks(unsent, 500):
                for row in repo.insert_new(session, rows=batch):
                    self.counts[(program_id, statuses[(row.mentee_id, row.period)])] += 1

    def _row(
        self, program: Program, mentee: Mentee, period: schedule.Period, status: str, item: int
    ) -> dict[str, Any]:
        return {
            "program_id": program.id,
            "mentee_id": mentee.id,
            "period": period.day,
            "due_at": period.due_at,
            "expires_at": period.expires_at,
            "status": status,
            "psych_item": item,
            "claimed_at": self.clock(),
            "claimed_by": self.token,
            "attempts": 0,
        }

    # -- prompts -------------------------------------------------------------------------------------

    def send_prompts(self, due: list[Due]) -> None:
        with self.deps.sessions.begin() as session:
            retry = repo.retry_candidates(session, now=self.now, stale_before=self.now - LEASE)

        def batches() -> Iterator[list[PromptJob]]:
            for chunk in chunks(due, CHUNK):
                if token_failure() is None:
                    yield self._claim_new(chunk)
            for rows in chunks(retry, CHUNK):
                if token_failure() is None:
                    yield self._reclaim(rows)

        fan: FanOut[PromptJob, Outcome] = FanOut(
            self.pool, self.workers, self._deliver, self._crashed, self._record
        )
        for outcome in fan.run(batches()):
            if outcome["status"] != LOST:
                self.counts[(outcome["program_id"], outcome["status"])] += 1
                if outcome["status"] in ("sent", "deferred", "failed"):
                    metrics.count_prompts(outcome["status"])

    def _claim_new(self, chunk: list[Due]) -> list[PromptJob]:
        by_key = {(d.program.id, d.mentee.id, d.period.day): d for d in chunk}
        with self.deps.sessions.begin() as session:
            self._count_delivered(session, chunk)
            rows = [self._row(d.program, d.mentee, d.period, "claimed", self._item(d)) for d in chunk]
            inserted = repo.insert_new(session, rows=rows)
        jobs = []
        for row in inserted:
            d = by_key[(row.program_id, row.mentee_id, row.period)]
            audience = blocks.Audience(d.program.privacy.min_group_size)
            jobs.append(PromptJob(repo.claimed_from(row), d.mentee, audience))
        return jobs

    def _count_delivered(self, session: Session, chunk: list[Due]) -> None:
        """Load how many prompts each new mentee of the chunk has had, one query per program."""
        unknown: dict[str, set[str]] = {}
        for d in chunk:
            if (d.program.id, d.mentee.id) not in self._assigned:
                unknown.setdefault(d.program.id, set()).add(d.mentee.id)
        for program_id, mentees in unknown.items():
            counts = repo.delivered_counts(session, program_id=program_id, mentee_ids=mentees)
            for mentee_id in mentees:
                self._assigned[(program_id, mentee_id)] = counts.get(mentee_id, 0)

    def _item(self, due: Due) -> int:
        """The Edmondson item for this prompt; a mentee caught up on two periods gets two in turn."""
        key = (due.program.id, due.mentee.id)
        item = item_for(due.mentee.id, self._assigned[key])
        self._assigned[key] += 1
        return item

    def _reclaim(self, rows: list[Checkin]) -> list[PromptJob]:
        programs = {p.id: p for p in self.deps.programs.programs}
        rows = [r for r in rows if r.program_id in programs]  # programs gone from the file are left alone
        recover = {r.id: r.status != "deferred" for r in rows}
        with self.deps.sessions.begin() as session:
            won = repo.reclaim(
                session,
                ids=[r.id for r in rows],
                token=self.token,
                now=self.clock(),
                stale_before=self.clock() - LEASE,
            )
            people = people_by_id(session, user_ids=[c.mentee_id for c in won])
            pauses = repo.pauses_of(session, person_ids={c.mentee_id for c in won})
        jobs = []
        for claimed in won:
            program = programs[claimed.program_id]
            person = people.get(claimed.mentee_id)
            name = (
                display_name(person.real_name, person.display_name, person.id)
                if person
                else claimed.mentee_id
            )
            zone = zone_of(person.timezone if person else None, program.timezone)
            audience = blocks.Audience(program.privacy.min_group_size)
            recovering = dataclasses.replace(claimed, recover=recover[claimed.id])
            pause = pauses.get(claimed.mentee_id)
            paused = pause is not None and schedule.paused_at(pause.paused_at, pause.paused_until, self.now)
            jobs.append(PromptJob(recovering, Mentee(claimed.mentee_id, name, zone), audience, paused))
        return jobs

    def _deliver(self, job: PromptJob) -> Outcome:
        claimed, client = job.claimed, self.deps.client
        if token_failure() is not None:
            return self._held(job)
        if claimed.recover:
            try:
                found = find_prompt(client, user_id=claimed.mentee_id, checkin_id=claimed.id)
            except RETRYABLE_ERRORS as exc:
                return self._failed(job, f"history: {slack_error(exc)}", exc)
            if found is not None:
                metrics.count_prompts("recovered")
                return self._outcome(job, "sent", channel=found[0], ts=found[1])
        if job.paused:
            return self._outcome(job, "paused")
        now = self.clock()
        if now >= claimed.expires_at:
            return self._outcome(job, "missed")
        snooze_end = dnd_until(client, user_id=claimed.mentee_id, now=now)
        if snooze_end is not None and snooze_end < claimed.expires_at:
            return self._outcome(job, "deferred", not_before=snooze_end)
        return self._post(job)

    def _post(self, job: PromptJob) -> Outcome:
        claimed = job.claimed
        if token_failure() is not None:  # refused meanwhile (the DND check, or another worker's send)
            return self._held(job)
        open_until = schedule.local_label(claimed.expires_at, job.mentee.zone)
        text, prompt_blocks = blocks.prompt(
            checkin_id=claimed.id, name=job.mentee.name, open_until=open_until, audience=job.audience
        )
        self.limiter.acquire()
        try:
            response = send_fenced(
                lambda: self._renew(claimed),
                lambda: self.deps.client.chat_postMessage(
                    channel=claimed.mentee_id,
                    text=text,
                    blocks=prompt_blocks,
                    metadata=prompt_metadata(claimed.id),
                ),
            )
        except ClaimLost:
            return self._outcome(job, LOST)
        except RETRYABLE_ERRORS as exc:
            return self._post_failed(job, exc)
        return self._outcome(job, "sent", channel=response["channel"], ts=response["ts"], attempt=True)

    def _renew(self, claimed: repo.Claimed) -> bool:
        """Compare-and-set: the claim is still this tick's; its lease starts again now."""
        with self.deps.sessions.begin() as session:
            return repo.renew_claim(session, checkin_id=claimed.id, token=self.token, now=self.clock())

    def _post_failed(self, job: PromptJob, exc: Exception) -> Outcome:
        """A 5xx or a dropped connection may come after Slack posted: look before calling it failed."""
        if is_ambiguous(exc):
            try:
                found = find_prompt(
                    self.deps.client, user_id=job.claimed.mentee_id, checkin_id=job.claimed.id
                )
            except RETRYABLE_ERRORS:
                found = None  # unknown: the row stays failed, and its retry looks in the history first
            if found is not None:
                metrics.count_prompts("recovered")
                return self._outcome(job, "sent", channel=found[0], ts=found[1], attempt=True)
        return self._failed(job, slack_error(exc), exc)

    def _failed(self, job: PromptJob, error: str, exc: Exception | None = None) -> Outcome:
        attempts = job.claimed.attempts + 1
        wait = timedelta(minutes=min(2**attempts, MAX_BACKOFF_MINUTES))
        if exc is None or not is_dead_token(exc):  # a refused token is one line, from token_state
            log.warning("check-in %d not delivered (%s); retrying after %s", job.claimed.id, error, wait)
        return self._outcome(job, "failed", error=error, not_before=self.now + wait, attempt=True)

    def _held(self, job: PromptJob) -> Outcome:
        """Not attempted while Slack refuses the token: failed without an attempt, retried once it works."""
        return self._outcome(job, "failed", error=token_failure(), not_before=self.now)

    def _crashed(self, job: PromptJob, exc: Exception) -> Outcome:
        return self._failed(job, f"internal: {type(exc).__name__}")

    def _outcome(
        self,
        job: PromptJob,
        status: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        error: str | None = None,
        not_before: datetime | None = None,
        attempt: bool = False,
    ) -> Outcome:
        return {
            "id": job.claimed.id,
            "program_id": job.claimed.program_id,
            "status": status,
            "channel": channel,
            "ts": ts,
            "sent_at": self.clock() if status == "sent" else None,
            "attempts": job.claimed.attempts + (1 if attempt else 0),
            "last_error": error,
            "not_before": not_before,
        }

    def _record(self, outcomes: list[Outcome]) -> None:
        mine = [o for o in outcomes if o["status"] != LOST]
        with self.deps.sessions.begin() as session:
            repo.record_outcomes(session, token=self.token, outcomes=mine)

    # -- reminders -----------------------------------------------------------------------------------

    def send_reminders(self) -> None:
        for program in self.deps.programs.programs:
            sent_before = self.now - timedelta(hours=program.checkins.reminder_after_hours)
            with self.deps.sessions.begin() as session:
                due = repo.reminder_candidates(
                    session, program_id=program.id, sent_before=sent_before, now=self.now
                )

            def batches(
                sent_before: datetime = sent_before, due: list[int] = due
            ) -> Iterator[list[Reminder]]:
                # Claimed a few at a time, as workers free up, so a claim rarely waits long for its send.
                for ids in chunks(due, self.workers):
                    if token_failure() is None:
                        yield self._claim_reminders(ids, sent_before)

            fan: FanOut[Reminder, Sent] = FanOut(
                self.pool,
                self.workers,
                self._remind,
                lambda job, exc: Sent(job.row.id),
                self._record_reminders,
            )
            sent = [outcome for outcome in fan.run(batches()) if outcome.ts]
            self.counts[(program.id, "reminded")] += len(sent)

    def _claim_reminders(self, ids: list[int], sent_before: datetime) -> list[Reminder]:
        now = self.clock()
        with self.deps.sessions.begin() as session:
            claimed = repo.claim_reminders(
                session, ids=ids, token=self.token, now=now, sent_before=sent_before, stale_before=now - LEASE
            )
        return [Reminder(row, recover) for row, recover in claimed]

    def _remind(self, job: Reminder) -> Sent:
        if token_failure() is not None:
            return Sent(job.row.id, release=True)
        if job.recover:  # an earlier claim died: its reminder may be in the DM already
            try:
                ts = self._find_reminder(job.row)
            except RETRYABLE_ERRORS:
                return Sent(job.row.id)  # unknown: the claim stays, and a later recovery looks again
            if ts is not None:
                return Sent(job.row.id, ts=ts)
        return self._post_reminder(job.row)

    def _post_reminder(self, row: Checkin) -> Sent:
        zone = self._zone_of(row)
        text, reminder_blocks = blocks.reminder(
            checkin_id=row.id,
            period=day_label(row.period),
            open_until=schedule.local_label(row.expires_at, zone),
        )
        self.limiter.acquire()
        try:
            response: SlackResponse = send_fenced(
                lambda: self._renew_reminder(row.id),
                lambda: self.deps.client.chat_postMessage(
                    channel=row.channel or row.mentee_id,
                    text=text,
                    blocks=reminder_blocks,
                    metadata=reminder_metadata(row.id),
                ),
            )
        except ClaimLost:
            return Sent(row.id)  # another process holds it now
        except RETRYABLE_ERRORS as exc:
            return self._reminder_failed(row, exc)
        return Sent(row.id, ts=str(response["ts"]))

    def _renew_reminder(self, checkin_id: int) -> bool:
        with self.deps.sessions.begin() as session:
            return repo.renew_reminder_claim(
                session, checkin_id=checkin_id, token=self.token, now=self.clock()
            )

    def _reminder_failed(self, row: Checkin, exc: Exception) -> Sent:
        """Released for the next tick, unless the reminder may have landed (then it is looked for)."""
        if is_ambiguous(exc):
            try:
                ts = self._find_reminder(row)
            except RETRYABLE_ERRORS:
                return Sent(row.id)  # unknown: kept claimed; recovered from the history after the lease
            if ts is not None:
                return Sent(row.id, ts=ts)
        if not is_dead_token(exc):
            log.warning(
                "check-in %d reminder not delivered (%s); retrying next tick", row.id, slack_error(exc)
            )
        return Sent(row.id, release=True)

    def _find_reminder(self, row: Checkin) -> str | None:
        channel = row.channel or self.deps.client.conversations_open(users=row.mentee_id)["channel"]["id"]
        return find_posted(self.deps.client, channel=channel, metadata=reminder_metadata(row.id))

    def _record_reminders(self, results: list[Sent]) -> None:
        with self.deps.sessions.begin() as session:
            for result in results:
                if result.ts or result.release:
                    repo.record_reminder(session, checkin_id=result.id, token=self.token, ts=result.ts)

    def _zone_of(self, row: Checkin) -> ZoneInfo:
        program = self.deps.programs.get(row.program_id)
        fallback = program.timezone if program else "UTC"
        with self.deps.sessions.begin() as session:
            person = people_by_id(session, user_ids=[row.mentee_id]).get(row.mentee_id)
        return zone_of(person.timezone if person else None, fallback)

    # -- closing expired DMs -------------------------------------------------------------------------

    def close_dms(self) -> None:
        """Update expired prompts' DMs to say they closed; each is claimed, so processes do not repeat it."""
        with self.deps.sessions.begin() as session:
            ids = repo.unclosed(session, stale_before=self.now - LEASE)

        def batches() -> Iterator[list[Checkin]]:
            for chunk in chunks(ids, self.workers):
                if token_failure() is None:
                    yield self._claim_closes(chunk)

        fan: FanOut[Checkin, Sent] = FanOut(
            self.pool,
            self.workers,
            self._close,
            lambda row, exc: Sent(row.id, release=True),
            self._record_closed,
        )
        fan.run(batches())

    def _claim_closes(self, ids: list[int]) -> list[Checkin]:
        now = self.clock()
        with self.deps.sessions.begin() as session:
            return repo.claim_closes(session, ids=ids, now=now, stale_before=now - LEASE)

    def _close(self, row: Checkin) -> Sent:
        if token_failure() is not None:
            return Sent(row.id, release=True)
        zone = self._zone_of(row)
        text, closed_blocks = blocks.closed(
            period=day_label(row.period), closed_at=schedule.local_label(row.expires_at, zone)
        )
        self.limiter.acquire()
        try:
            self.deps.client.chat_update(
                channel=row.channel or "", ts=row.ts or "", text=text, blocks=closed_blocks
            )
        except SlackApiError as exc:
            if is_dead_token(exc) or exc.response.status_code >= 500 or exc.response.status_code == 429:
                return Sent(row.id, release=True)  # Slack, not the message: try again next tick
            # The message is gone or unreachable (deleted, user deactivated): nothing left to close.
            log.warning("could not close check-in %d's DM (%s)", row.id, slack_error(exc))
        except OSError as exc:
            log.warning("could not close check-in %d's DM (%s); retrying next tick", row.id, slack_error(exc))
            return Sent(row.id, release=True)
        return Sent(row.id)

    def _record_closed(self, results: list[Sent]) -> None:
        with self.deps.sessions.begin() as session:
            repo.mark_closed(session, ids=[r.id for r in results if not r.release], now=self.clock())
            repo.release_closes(session, ids=[r.id for r in results if r.release])

    # -- notes the answer flow could not deliver -----------------------------------------------------

    def deliver_notes(self) -> None:
        with self.deps.sessions.begin() as session:
            pending = repo.pending_notes(session, answered_before=self.now - timedelta(minutes=1))
        for delivered in self.pool.map(
            lambda cid: deliver_note(self.deps, checkin_id=cid, now=self.now), pending
        ):
            self.counts[("", "notes")] += int(delivered)

    # -- report --------------------------------------------------------------------------------------

    def lines(self) -> list[str]:
        order = ("sent", "deferred", "failed", "missed", "paused", "reminded", "expired", "notes", "climate")
        by_program: dict[str, list[str]] = {}
        for what in order:
            for (program_id, kind), n in sorted(self.counts.items()):
                if kind == what and n:
                    by_program.setdefault(program_id, []).append(f"{n} {_LABELS[what]}")
        return [
            f"checkins{' ' + pid if pid else ''}: {', '.join(parts)}" for pid, parts in by_program.items()
        ]


_LABELS = {
    "sent": "sent",
    "deferred": "deferred (Do Not Disturb)",
    "failed": "failed (will retry)",
    "missed": "missed",
    "paused": "paused",
    "reminded": "reminders",
    "expired": "expired",
    "notes": "notes delivered",
    "climate": "team-climate weeks closed",
}


def run_checkin_tick(deps: Deps, now: datetime) -> list[str]:
    """Do all check-in work due at `now`; one line per program and kind of thing done."""
    with ThreadPoolExecutor(max_workers=deps.settings.send_workers, thread_name_prefix="checkins") as pool:
        return CheckinTick(deps, now, pool).run()
