"""APScheduler 3 as the clock only: one in-memory interval job calling tick(now)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.app.tick import tick
from bot.kernel.deps import Deps

log = logging.getLogger("mentorbot.scheduler")


def start_scheduler(deps: Deps, *, seconds: int = 60) -> BackgroundScheduler:
    """Start ticking. State lives in our tables, so there is no job store to share or lose."""
    scheduler = BackgroundScheduler(timezone="UTC")

    def run() -> None:
        for line in tick(deps, deps.clock()):
            log.info("tick: %s", line)

    scheduler.add_job(
        run,
        "interval",
        seconds=seconds,
        id="tick",
        max_instances=1,
        coalesce=True,
        next_run_time=deps.clock(),
    )
    scheduler.start()
    return scheduler
