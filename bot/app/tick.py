"""One pass of all scheduled work; called every minute by the scheduler and by `mentorbot tick`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.checkins import home as checkins
from bot.concerns import service as concerns
from bot.digests import posting as digests
from bot.kernel.deps import Deps
from bot.kernel.logging_setup import log_failure
from bot.reflections import notices as session_notices
from bot.retention import purge as retention

log = logging.getLogger("mentorbot.tick")

Job = Callable[[Deps, datetime], list[str]]

# Order matters only for readability of the output; each job claims its own work in the database.
JOBS: list[tuple[str, Job]] = [
    ("checkins", checkins.run_due),
    ("digests", digests.run_due),
    ("concerns", concerns.run_due),
    ("reflections", session_notices.run_due),
    ("retention", retention.run_due),
]


def tick(deps: Deps, now: datetime) -> list[str]:
    """Run every job due at `now`; return one line per thing done. A failing job does not stop the others."""
    done: list[str] = []
    for name, job in JOBS:
        try:
            done.extend(job(deps, now))
        except Exception:
            log_failure(log, "scheduled job %s failed", name)
            done.append(f"{name}: failed (see log)")
    return done
