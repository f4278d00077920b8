"""Demo chapter: the coordinators' weekly digest for the simulated weeks, posted once, with its chart."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app.demo.world import MENTEES, PROGRAM_ID, World, block_text
from bot.checkins.climate import close_due
from bot.digests import posting as digests
from bot.digests.content import build_digest
from bot.digests.weeks import due_at, monday_of
from storage.models import Checkin


def run(world: World) -> None:
    """Run the scheduled job at each digest time after the simulated weeks; print each digest it posts."""
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    channel = program.digest.channel
    first, last = _simulated_weeks(world)
    shown: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    week = first
    while week <= last:
        before = (len(world.fake.messages(channel)), len(world.fake.uploads))
        world.clock.now = due_at(program, week) + timedelta(minutes=1)
        local = world.clock.now.astimezone(program.tz)
        world.heading(f"Weekly digest: {local:%A %d %B %H:%M %Z}, the scheduled job runs")
        # As the tick does before the digest job: close the team-climate answers of weeks past their cutoff.
        if closed := close_due(world.deps, world.clock.now):
            world.say(f"checkins {PROGRAM_ID}: {len(closed)} team-climate weeks closed")
        for line in digests.run_due(world.deps, world.clock.now) or ["nothing due"]:
            world.say(line)
        world.say(
            f"Running it again posts nothing: {digests.run_due(world.deps, world.clock.now) or 'no lines'}"
        )
        posted = world.fake.messages(channel)[before[0] :]
        if posted:
            shown.append((posted[0], world.fake.uploads[before[1] :]))
        week += timedelta(days=7)
    if not shown:
        return
    for message, _ in shown:
        world.heading(f"A digest in the coordinators' channel {channel}")
        world.say(block_text(message.get("blocks"), message.get("text", "")))
    uploads = shown[-1][1]
    path = world.out_dir / "digest-trend.png"
    if uploads:
        path.write_bytes(uploads[0]["content"])
    else:
        with world.deps.sessions.begin() as session:
            digest = build_digest(session, program=program, week=last, now=world.clock.now)
        path.write_bytes(digests.chart_png(digest))
    world.say()
    world.say(f"Trend chart (uploaded with the digest): {path}")


def _simulated_weeks(world: World) -> tuple[date, date]:
    """From the week of the narrative's latest check-in to the week the clock is in (the synthetic
    cohort's history, bot.app.demo.history, ends in that week too)."""
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    now_week = monday_of(world.clock().astimezone(program.tz).date())
    with world.deps.sessions.begin() as session:
        latest = session.scalar(
            select(func.max(Checkin.period)).where(
                Checkin.program_id == PROGRAM_ID, Checkin.mentee_id.in_(MENTEES)
            )
        )
    return min(monday_of(latest or now_week), now_week), now_week
