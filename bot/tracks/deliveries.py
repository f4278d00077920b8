"""The tracks' scheduled DMs: journey prompts to both sides of the pair, gap flags to the coordinators and
the mentor, attestation requests to the supervising physician. Each exactly once.

Every DM is claimed in the database before it goes out: a unique (milestone, kind, recipient) row,
inserted with this tick's token. The token is proved by compare-and-set, renewing the claim's lease, just
before each attempt to send (bot.slack.client.send_fenced), so a claim taken over after LEASE is never
sent by its old holder too. A claim whose process died, and a send that failed ambiguously (a 5xx or a
dropped connection, after which Slack may have posted), is looked for in the recipient's DM by its
metadata before it is sent again. A DM reaches each reader at the track's prompt time on its day in
their own timezone; one missed while the bot was down goes out late within GRACE, after that it is
recorded as missed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.checkins.schedule import zone_of
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.slack.client import ClaimLost, send_fenced
from bot.slack.delivery import (
    RETRYABLE_ERRORS,
    TickClock,
    TokenBucket,
    find_posted,
    is_ambiguous,
    is_dead_token,
    process_token,
    slack_error,
)
from bot.slack.token_state import token_failure
from bot.tracks.audience import ATTEST, GAP, PROMPT, audience
from bot.tracks.calendar import send_instant
from bot.tracks.evidence import review_evidence, track_of
from bot.tracks.messages import build_message
from storage.models import TrackEnrolment, TrackMilestone
from storage.repositories import tracks as repo
from storage.repositories.people import people_by_id

log = logging.getLogger("mentorbot.tracks")

EVENT = "mentorbot_track"
LEASE = timedelta(minutes=5)  # far longer than one attempt to send; each attempt renews it first
GRACE = timedelta(days=3)
MAX_BACKOFF_MINUTES = 60
_LABELS = {PROMPT: "journey prompts", GAP: "gap flags", ATTEST: "attestation requests"}


def metadata(delivery_id: int) -> dict[str, Any]:
    """What a track DM carries, by which a later tick finds it in the DM."""
    return {"event_type": EVENT, "event_payload": {"delivery_id": delivery_id}}


@dataclass(frozen=True)
class Due:
    """A DM whose instant has come for its reader and that has no row yet."""

    milestone_id: int
    kind: str
    recipient_id: str
    due_at: datetime
    status: str  # claimed | missed | skipped


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Claim and send every track DM due at `now`; one line per kind of thing done."""
    return TrackTick(deps, now).run()


@dataclass
class TrackTick:
    deps: Deps
    now: datetime
    token: str = field(default_factory=process_token)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, outcome) -> n

    def __post_init__(self) -> None:
        self.clock = TickClock(self.now, self.deps.clock)
        self.limiter = TokenBucket(self.deps.settings.send_rate_per_second)

    def run(self) -> list[str]:
        if token_failure() is not None:
            return []  # Slack refuses the token: told once by bot.slack.token_state; retried when it works
        for claimed in self._claim_new(self._plan()) + self._reclaim():
            if token_failure() is not None:
                break
            self._deliver(claimed)
        return self._lines()

    # -- planning ------------------------------------------------------------------------------------

    def _plan(self) -> list[Due]:
        first = (self.now - GRACE - timedelta(days=2)).date()
        last = (self.now + timedelta(days=2)).date()
        with self.deps.read_sessions.begin() as session:
            near = repo.milestones_near(session, first=first, last=last)
            known = repo.known_deliveries(session, milestone_ids=[m.id for m, _ in near])
            due: list[Due] = []
            for milestone, enrolment in near:
                program = self.deps.programs.get(enrolment.program_id)
                if program is not None:
                    due += self._due_for(session, milestone, enrolment, program, known)
        return due

    def _due_for(
        self,
        session: Session,
        milestone: TrackMilestone,
        enrolment: TrackEnrolment,
        program: Program,
        known: set[tuple[int, str, str]],
    ) -> list[Due]:
        at = track_of(enrolment).prompt_time
        recipients = audience(session, milestone, enrolment, program)
        people = people_by_id(session, user_ids=[recipient for _, recipient, _ in recipients])
        found = []
        for kind, recipient, day in recipients:
            person = people.get(recipient)
            due_at = send_instant(day, at, zone_of(person.timezone if person else None, program.timezone))
            if (
                due_at > self.now
                or due_at < enrolment.enrolled_at
                or (milestone.id, kind, recipient) in known
            ):
                continue
            status = "missed" if self.now - due_at > GRACE else "claimed"
            if status == "claimed" and kind == GAP and not self._has_gap(session, milestone, enrolment):
                status = "skipped"
            found.append(Due(milestone.id, kind, recipient, due_at, status))
        return found

    def _has_gap(self, session: Session, milestone: TrackMilestone, enrolment: TrackEnrolment) -> bool:
        evidence = review_evidence(session, enrolment=enrolment, milestone=milestone, until=self.now.date())
        return bool(evidence.gaps)

    # -- claiming ------------------------------------------------------------------------------------

    def _claim_new(self, due: list[Due]) -> list[repo.Claimed]:
        rows = [
            {
                "milestone_id": d.milestone_id,
                "kind": d.kind,
                "recipient_id": d.recipient_id,
                "due_at": d.due_at,
                "status": d.status,
                "claimed_by": self.token,
                "claimed_at": self.clock(),
                "attempts": 0,
            }
            for d in due
        ]
        with self.deps.sessions.begin() as session:
            claimed = repo.insert_deliveries(session, rows=rows)
        for d in due:
            if d.status != "claimed":
                self.counts[(d.kind, d.status)] += 1
        return claimed

    def _reclaim(self) -> list[repo.Claimed]:
        with self.deps.read_sessions.begin() as session:
            ids = repo.retry_candidates(session, now=self.now, stale_before=self.now - LEASE)
        won = []
        for delivery_id in ids:
            with self.deps.sessions.begin() as session:
                claimed = repo.reclaim(
                    session,
                    delivery_id=delivery_id,
                    token=self.token,
                    now=self.clock(),
                    stale_before=self.clock() - LEASE,
                )
            if claimed is not None:
                won.append(claimed)
        return won

    # -- sending -------------------------------------------------------------------------------------

    def _deliver(self, claimed: repo.Claimed) -> None:
        if claimed.recover:
            try:
                ts = self._find(claimed)
            except RETRYABLE_ERRORS:
                return  # unknown: the claim stays, and a later tick looks again after LEASE
            if ts is not None:
                self._record(claimed, "sent", channel=ts[0], ts=ts[1])
                return
        if self.now - claimed.due_at > GRACE:
            self._record(claimed, "missed")
            return
        self._post(claimed)

    def _post(self, claimed: repo.Claimed) -> None:
        with self.deps.read_sessions.begin() as session:
            text, blocks = build_message(session, deps=self.deps, claimed=claimed, now=self.now)
        self.limiter.acquire()
        try:
            response = send_fenced(
                lambda: self._renew(claimed),
                lambda: self.deps.client.chat_postMessage(
                    channel=claimed.recipient_id, text=text, blocks=blocks, metadata=metadata(claimed.id)
                ),
            )
        except ClaimLost:
            return  # another process holds it now, and sends it
        except RETRYABLE_ERRORS as exc:
            self._failed(claimed, exc)
            return
        self._record(claimed, "sent", channel=str(response["channel"]), ts=str(response["ts"]), attempt=True)

    def _failed(self, claimed: repo.Claimed, exc: Exception) -> None:
        """A 5xx or a dropped connection may come after Slack posted: look before calling it failed."""
        if is_ambiguous(exc):
            try:
                found = self._find(claimed)
            except RETRYABLE_ERRORS:
                found = None  # unknown: recorded failed; its retry looks in the DM first
            if found is not None:
                self._record(claimed, "sent", channel=found[0], ts=found[1], attempt=True)
                return
        wait = timedelta(minutes=min(2 ** (claimed.attempts + 1), MAX_BACKOFF_MINUTES))
        if not is_dead_token(exc):
            log.warning(
                "track DM %d not delivered (%s); retrying after %s", claimed.id, slack_error(exc), wait
            )
        self._record(claimed, "failed", error=slack_error(exc), not_before=self.now + wait, attempt=True)

    def _find(self, claimed: repo.Claimed) -> tuple[str, str] | None:
        """(channel, ts) of this DM if it is already in the recipient's DM. Raises when it cannot tell."""
        channel = self.deps.client.conversations_open(users=claimed.recipient_id)["channel"]["id"]
        ts = find_posted(self.deps.client, channel=channel, metadata=metadata(claimed.id))
        return None if ts is None else (str(channel), ts)

    def _renew(self, claimed: repo.Claimed) -> bool:
        with self.deps.sessions.begin() as session:
            return repo.renew_claim(session, delivery_id=claimed.id, token=self.token, now=self.clock())

    def _record(
        self,
        claimed: repo.Claimed,
        status: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        error: str | None = None,
        not_before: datetime | None = None,
        attempt: bool = False,
    ) -> None:
        values = {
            "status": status,
            "channel": channel,
            "ts": ts,
            "sent_at": self.clock() if status == "sent" else None,
            "last_error": error,
            "not_before": not_before,
            "attempts": claimed.attempts + int(attempt),
        }
        with self.deps.sessions.begin() as session:
            if repo.record_delivery(session, delivery_id=claimed.id, token=self.token, values=values):
                self.counts[(claimed.kind, status)] += 1

    def _lines(self) -> list[str]:
        lines = []
        for kind, label in _LABELS.items():
            parts = [
                f"{self.counts[(kind, s)]} {s}"
                for s in ("sent", "failed", "missed")
                if self.counts[(kind, s)]
            ]
            if parts:
                lines.append(f"tracks: {label} {', '.join(parts)}")
        return lines
