"""At most N concerns per sender per day, without knowing who the sender is the day after.

The counter row is keyed by HMAC(secret, day key ‖ user id), where the day key is random and kept
only for its (UTC) day: once the key and the counters are deleted, nobody — not even someone
holding the database and MENTORBOT_SECRET_KEY — can test a user id against the old rows.
Within the day, someone holding both could; that is the price of a limit shared by every bot
process, and it ends at midnight UTC.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from storage.crypto import Keys
from storage.repositories.concerns import (
    consume_quota,
    day_key,
    discard_quota_before,
    ensure_day_key,
    quota_used,
)

_PURPOSE = "concern-quota"


def quota_day(now: datetime) -> date:
    """The day a submission counts against (UTC, so every process agrees)."""
    return now.astimezone(UTC).date()


def _sender_hash(keys: Keys, key: str, user_id: str) -> str:
    return keys.keyed_hash(_PURPOSE, f"{key}:{user_id}")


def remaining_today(session: Session, *, keys: Keys, user_id: str, now: datetime, limit: int) -> int:
    """How many more concerns this user may raise today (read only)."""
    day = quota_day(now)
    key = day_key(session, day=day)
    if key is None:
        return limit
    return max(0, limit - quota_used(session, sender_hash=_sender_hash(keys, key, user_id), day=day))


def take_one(session: Session, *, keys: Keys, user_id: str, now: datetime, limit: int) -> bool:
    """Count one concern for this user today; False when the limit is reached.

    Earlier days' keys and counters are discarded first, so they are gone even where no
    scheduler runs `mentorbot tick`.
    """
    day = quota_day(now)
    discard_quota_before(session, day=day)
    key = ensure_day_key(session, day=day, new_key=secrets.token_hex(32))
    return consume_quota(session, sender_hash=_sender_hash(keys, key, user_id), day=day, limit=limit)


def discard_old_days(session: Session, *, now: datetime) -> int:
    """Delete the quota keys and counters of every day before today; return how many days went."""
    return discard_quota_before(session, day=quota_day(now))
