"""Per-person daily limits kept in this process's memory only — never written to any file.

Used where even a keyed hash of a person must not reach the database: the anonymous-concern quota.
Anything persisted beside an anonymous record, or written in the same transaction, can be matched
back to its author by someone holding the database files and the key (WAL frames, b-tree cell order,
PostgreSQL's xmin). A counter in memory leaves nothing to match.

What the limit promises (README "Anonymity", docs/threat-model.md): at most `limit` per person per
UTC day *per process*. A restart starts the day afresh, and with W HTTP worker processes a person
could reach W x limit; the limit is a brake on floods, not an accounting record.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import UTC, date, datetime


class DailyLimiter:
    """Counts per (purpose, person) for the current UTC day, keyed by an HMAC under a random key that
    lives only as long as the process, so not even a core dump lists user ids."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._day: date | None = None
        self._counts: dict[bytes, int] = {}

    def _slot(self, purpose: str, who: str) -> bytes:
        return hmac.new(self._key, f"{purpose}\0{who}".encode(), hashlib.sha256).digest()

    def _roll(self, now: datetime) -> None:
        day = now.astimezone(UTC).date()
        if day != self._day:  # a new day forgets yesterday entirely
            self._day, self._counts = day, {}

    def remaining(self, purpose: str, who: str, *, now: datetime, limit: int) -> int:
        """How many more `who` may do today (reads only)."""
        with self._lock:
            self._roll(now)
            return max(0, limit - self._counts.get(self._slot(purpose, who), 0))

    def take(self, purpose: str, who: str, *, now: datetime, limit: int) -> bool:
        """Count one for `who` today; False (and nothing counted) when the limit is reached."""
        with self._lock:
            self._roll(now)
            slot = self._slot(purpose, who)
            used = self._counts.get(slot, 0)
            if used >= limit:
                return False
            self._counts[slot] = used + 1
            return True

    def give_back(self, purpose: str, who: str, *, now: datetime) -> None:
        """Undo one `take` whose work did not happen (the write failed), so a retry is not refused."""
        with self._lock:
            self._roll(now)
            slot = self._slot(purpose, who)
            if self._counts.get(slot, 0) > 0:
                self._counts[slot] -= 1
