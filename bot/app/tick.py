"""One pass of all scheduled work; called every minute by the scheduler and by `mentorbot tick`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.checkins import home as checkins
from bot.concerns import posting
from bot.digests import posting as digests
from bot.ideas import notices as idea_notices
from bot.instruments import sender as instruments
from bot.kernel import programs_live
from bot.kernel.deps import Deps
from bot.kernel.logging_setup import log_failure
from bot.reflections import notices as session_notices
from bot.retention import purge as retention
from bot.slack.delivery import RETRYABLE_ERRORS
from bot.slack.token_state import token_failure
from bot.tracks import deliveries as tracks

log = logging.getLogger("mentorbot.tick")

Job = Callable[[Deps, datetime], list[str]]

# Order matters only for readability of the output; each job claims its own work in the database.
JOBS: list[tuple[str, Job]] = [
    ("programs", programs_live.run_due),  # first: an edited programs.yml counts in this very tick
    ("checkins", checkins.run_due),
    ("instruments", instruments.run_due),
    ("digests", digests.run_due),
    ("concerns", posting.run_due),
    ("reflections", session_notices.run_due),
    ("ideas", idea_notices.run_due),
    ("tracks", tracks.run_due),
    ("retention", retention.run_due),
]


def tick(deps: Deps, now: datetime) -> list[str]:
    """Run every job due at `now`; return one line per thing done. A failing job does not stop the others.

    While Slack refuses the bot token (bot.slack.token_state), one cheap call first checks whether it
    works again; the jobs themselves send nothing until it does.
    """
    if token_failure() is not None:
        _probe_token(deps)
    done: list[str] = []
    for name, job in JOBS:
        try:
            done.extend(job(deps, now))
        except Exception:
            log_failure(log, "scheduled job %s failed", name)
            done.append(f"{name}: failed (see log)")
    return done


def _probe_token(deps: Deps) -> None:
    """auth.test: success clears the refusal, another refusal keeps it (logged once already)."""
    try:
        deps.client.auth_test()
    except RETRYABLE_ERRORS:
        pass  # still refused, or Slack unreachable: the jobs below stay quiet and try next tick
