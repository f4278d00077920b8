"""One tick's scheduled DMs, each exactly once: the send path shared by track DMs and instrument surveys.

A DM is claimed by inserting its unique row with this tick's token before it goes out; the token is
proved by compare-and-set, renewing the claim's lease, just before each attempt to send
(bot.slack.client.send_fenced), so a claim taken over after LEASE is never sent by its old holder too.
A claim whose process died, and a send that failed ambiguously (a 5xx or a dropped connection after
which Slack may have posted), is looked for in the recipient's DM by its metadata before it is sent
again. A refused send is retried with backoff. Each feature says what is due, how its rows are claimed
and recorded, and what its DM says; this class does the rest.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from bot.kernel.deps import Deps
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

log = logging.getLogger("mentorbot.slack.claimed_dms")

SENT, FAILED, MISSED = "sent", "failed", "missed"
LEASE = timedelta(minutes=5)  # far longer than one attempt to send; each attempt renews it first
MAX_BACKOFF_MINUTES = 60
Message = tuple[str, list[dict[str, Any]]]  # the plain-text fallback and the blocks


class Claim(Protocol):
    """What the shared path needs of a claimed row (with `recover`, first look for it in the DM)."""

    @property
    def id(self) -> int: ...

    @property
    def attempts(self) -> int: ...

    @property
    def recover(self) -> bool: ...


C = TypeVar("C", bound=Claim)


class ClaimedDmTick(ABC, Generic[C]):
    """Claim every DM due at `now`, take over failed and stale ones, and send each exactly once."""

    noun = "DM"  # what the operator's log line calls one

    def __init__(self, deps: Deps, now: datetime) -> None:
        self.deps, self.now = deps, now
        self.token = process_token()
        self.clock = TickClock(now, deps.clock)
        self.limiter = TokenBucket(deps.settings.send_rate_per_second)

    def run(self) -> list[str]:
        """Send what is due; the operator's lines of what was done."""
        if token_failure() is not None:
            return []  # Slack refuses the token: told once by bot.slack.token_state; retried when it works
        for claimed in [*self.claim_due(), *self._reclaim()]:
            if token_failure() is not None:
                break
            self._deliver(claimed)
        return self.lines()

    # -- what each kind of DM says for itself ---------------------------------------------------------

    @abstractmethod
    def claim_due(self) -> Sequence[C]:
        """Insert the rows of every DM due now that has none; the ones this tick must send."""

    @abstractmethod
    def retry_candidates(self) -> list[int]:
        """Ids of failed DMs whose wait is over and of claims whose holder stopped renewing them."""

    @abstractmethod
    def reclaim(self, row_id: int) -> C | None:
        """Take over one failed or stale row (with `recover`); None when another process got it."""

    @abstractmethod
    def recipient(self, claimed: C) -> str: ...

    @abstractmethod
    def metadata(self, claimed: C) -> dict[str, Any]:
        """What the DM carries, by which a later tick finds it in the DM."""

    @abstractmethod
    def message(self, claimed: C) -> Message | None:
        """What the DM says now; None when it is no longer to be sent (recorded as missed)."""

    @abstractmethod
    def renew(self, claimed: C) -> bool:
        """Compare-and-set: the claim is still this tick's token, and its lease is renewed."""

    @abstractmethod
    def record(self, claimed: C, status: str, values: dict[str, Any]) -> None:
        """Write the outcome (status, channel, ts, error, wait, attempts) if the claim is still ours."""

    @abstractmethod
    def lines(self) -> list[str]: ...

    # -- the shared path -------------------------------------------------------------------------------

    def _reclaim(self) -> list[C]:
        won = []
        for row_id in self.retry_candidates():
            claimed = self.reclaim(row_id)
            if claimed is not None:
                won.append(claimed)
        return won

    def _deliver(self, claimed: C) -> None:
        if claimed.recover:
            try:
                found = self._find(claimed)
            except RETRYABLE_ERRORS:
                return  # unknown: the claim stays, and a later tick looks again after LEASE
            if found is not None:
                self._record(claimed, SENT, channel=found[0], ts=found[1])
                return
        message = self.message(claimed)
        if message is None:
            self._record(claimed, MISSED)
            return
        self._post(claimed, *message)

    def _post(self, claimed: C, text: str, blocks: list[dict[str, Any]]) -> None:
        self.limiter.acquire()
        try:
            response = send_fenced(
                lambda: self.renew(claimed),
                lambda: self.deps.client.chat_postMessage(
                    channel=self.recipient(claimed), text=text, blocks=blocks, metadata=self.metadata(claimed)
                ),
            )
        except ClaimLost:
            return  # another process holds it now, and sends it
        except RETRYABLE_ERRORS as exc:
            self._failed(claimed, exc)
            return
        self._record(claimed, SENT, channel=str(response["channel"]), ts=str(response["ts"]), attempt=True)

    def _failed(self, claimed: C, exc: Exception) -> None:
        """A 5xx or a dropped connection may come after Slack posted: look before calling it failed."""
        if is_ambiguous(exc):
            try:
                found = self._find(claimed)
            except RETRYABLE_ERRORS:
                found = None  # unknown: recorded failed; its retry looks in the DM first
            if found is not None:
                self._record(claimed, SENT, channel=found[0], ts=found[1], attempt=True)
                return
        wait = timedelta(minutes=min(2 ** (claimed.attempts + 1), MAX_BACKOFF_MINUTES))
        if not is_dead_token(exc):
            log.warning(
                "%s %d not delivered (%s); retrying after %s", self.noun, claimed.id, slack_error(exc), wait
            )
        self._record(claimed, FAILED, error=slack_error(exc), not_before=self.now + wait, attempt=True)

    def _find(self, claimed: C) -> tuple[str, str] | None:
        """(channel, ts) of this DM if it is already in the recipient's DM. Raises when it cannot tell."""
        channel = self.deps.client.conversations_open(users=self.recipient(claimed))["channel"]["id"]
        ts = find_posted(self.deps.client, channel=channel, metadata=self.metadata(claimed))
        return None if ts is None else (str(channel), ts)

    def _record(
        self,
        claimed: C,
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
            "sent_at": self.clock() if status == SENT else None,
            "last_error": error,
            "not_before": not_before,
            "attempts": claimed.attempts + int(attempt),
        }
        self.record(claimed, status, values)
