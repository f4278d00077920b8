"""At most N concerns per sender per day, counted in memory so that nothing about the sender is stored.

An earlier design kept a keyed hash of (day key, user id) in the same transaction as the concern: with
the database files and the key, the hash could be tested against every enrolled user id and the WAL or
PostgreSQL's xmin paired it with its concern. Now the count lives in `deps.limiter` (bot.kernel.limits),
which never touches disk. The price: the limit is per process and restarts with the process.
"""

from __future__ import annotations

from datetime import datetime

from bot.kernel.deps import Deps

_PURPOSE = "concern"


def remaining_today(deps: Deps, *, user_id: str, now: datetime) -> int:
    """How many more concerns this user may raise today (read only)."""
    return deps.limiter.remaining(_PURPOSE, user_id, now=now, limit=deps.settings.concerns_per_day)


def take_one(deps: Deps, *, user_id: str, now: datetime) -> bool:
    """Count one concern for this user today; False when the limit is reached."""
    return deps.limiter.take(_PURPOSE, user_id, now=now, limit=deps.settings.concerns_per_day)


def give_back(deps: Deps, *, user_id: str, now: datetime) -> None:
    """The concern was not stored after all: do not count it."""
    deps.limiter.give_back(_PURPOSE, user_id, now=now)
