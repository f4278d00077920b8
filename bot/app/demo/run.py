"""`mentorbot demo`: a simulated program run through the real code against a local fake Slack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.app.demo import (
    checkins,
    concerns,
    digest,
    help,
    history,
    ideas,
    matching,
    reflections,
    report,
    roster,
    surveys,
    tracks,
)
from bot.app.demo.world import World, open_world

# Each feature adds its chapter here, in the order a program lives through them.
CHAPTERS: list[Callable[[World], None]] = [
    help.run,
    roster.run,
    checkins.run,
    concerns.run,
    reflections.run,
    ideas.run,  # before the digest, which counts the shared idea
    history.run,  # a synthetic year up to this week: the digest's trend and the report get real figures
    digest.run,
    report.run,  # the annual report over that year, as of the last digest
    surveys.run,  # what a mentee and a mentor see of those surveys
    matching.run,  # the next intake round: profiles in Slack, a proposal, approval
    tracks.run,  # last: it moves the clock three months on
]


def run_demo(out_dir: Path) -> int:
    """Run every chapter; return the process exit code."""
    with open_world(out_dir) as world:
        world.say(
            "mentorbot demo — offline: a fake Slack on 127.0.0.1, the real bot, SQLite in " + str(out_dir)
        )
        for chapter in CHAPTERS:
            chapter(world)
        world.say()
        world.say(f"Demo finished. Database: {out_dir / 'demo.db'}")
    return 0
