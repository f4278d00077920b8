"""The tracks' scheduled DMs: journey prompts to both sides of the pair, gap flags to the coordinators and
the mentor, attestation requests to the supervising physician. Each exactly once.

Every DM is claimed in the database before it goes out: a unique (milestone, kind, recipient) row,
inserted with this tick's token. bot.slack.claimed_dms sends it exactly once, as it does surveys:
fenced by the claim's token, looked for in the DM before a resend, retried with backoff. A DM reaches
each reader at the track's prompt time on its day in their own timezone; one missed while the bot was
down goes out late within GRACE, after that it is recorded as missed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.kernel.clock import zone_of
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.slack.claimed_dms import LEASE, ClaimedDmTick, Message
from bot.tracks.audience import ATTEST, GAP, PROMPT, audience
from bot.tracks.calendar import send_instant
from bot.tracks.evidence import review_evidence, track_of
from bot.tracks.messages import build_message
from storage.models import TrackEnrolment, TrackMilestone
from storage.repositories import tracks as repo
from storage.repositories.people import people_by_id

EVENT = "mentorbot_track"
GRACE = timedelta(days=3)
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


class TrackTick(ClaimedDmTick[repo.Claimed]):
    """This tick's track DMs (bot.slack.claimed_dms does the claiming, sending and recording)."""

    noun = "track DM"

    def __init__(self, deps: Deps, now: datetime) -> None:
        super().__init__(deps, now)
        self.counts: Counter[tuple[str, str]] = Counter()  # (kind, outcome) -> n

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

    # -- claiming, sending, recording -------------------------------------------------------------------

    def claim_due(self) -> list[repo.Claimed]:
        due = self._plan()
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

    def retry_candidates(self) -> list[int]:
        with self.deps.read_sessions.begin() as session:
            return repo.retry_candidates(session, now=self.now, stale_before=self.now - LEASE)

    def reclaim(self, row_id: int) -> repo.Claimed | None:
        with self.deps.sessions.begin() as session:
            now = self.clock()
            return repo.reclaim(
                session, delivery_id=row_id, token=self.token, now=now, stale_before=now - LEASE
            )

    def recipient(self, claimed: repo.Claimed) -> str:
        return claimed.recipient_id

    def metadata(self, claimed: repo.Claimed) -> dict[str, Any]:
        return metadata(claimed.id)

    def message(self, claimed: repo.Claimed) -> Message | None:
        if self.now - claimed.due_at > GRACE:
            return None
        with self.deps.read_sessions.begin() as session:
            return build_message(session, deps=self.deps, claimed=claimed, now=self.now)

    def renew(self, claimed: repo.Claimed) -> bool:
        with self.deps.sessions.begin() as session:
            return repo.renew_claim(session, delivery_id=claimed.id, token=self.token, now=self.clock())

    def record(self, claimed: repo.Claimed, status: str, values: dict[str, Any]) -> None:
        with self.deps.sessions.begin() as session:
            if repo.record_delivery(session, delivery_id=claimed.id, token=self.token, values=values):
                self.counts[(claimed.kind, status)] += 1

    def lines(self) -> list[str]:
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
