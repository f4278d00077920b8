"""The App Home view: a section per feature, each shown for the roles it concerns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.checkins import home as checkins
from bot.checkins.blocks import pause_actions
from bot.digests.blocks import preview_button
from bot.home.status import active_pause, schedule_lines
from bot.ideas import home as ideas
from bot.instruments import home as ratings
from bot.kernel.deps import Deps
from bot.kernel.people import reader_timezone
from bot.kernel.roles import Role, UserRoles, roles_of
from bot.kernel.text import day_text, plural
from bot.matching import home as matching
from bot.reflections import home as reflections
from bot.slack.blocks import MAX_TEXT, MAX_VIEW_BLOCKS, Block, context, divider, header, section
from bot.slack.caps import capped_text, more_line
from bot.tracks import home as tracks
from storage.models import MentoringSession, Pair
from storage.repositories.pairs import active_pairs_of, program_counts
from storage.repositories.people import get_person

Blocks = list[Block]
Section = Callable[..., Blocks]  # (session, *, deps, roles, now) -> blocks

MAX_LISTED = 20  # people per list: the view holds at most 100 blocks
# No surface lists every pair of someone with hundreds: a cut list says which ones it shows, not where
# the rest are (`/mentorship status` is capped too).
LONGEST_FIRST = "those longest without a logged session are listed first."


def _listed(lines: list[str], *, where: str = "") -> str:
    # Sections hold 3,000 characters; a title goes above the list.
    return capped_text(lines, where=where, max_lines=MAX_LISTED, max_chars=MAX_TEXT - 200)


def _active_pairs(session: Session, deps: Deps, user_id: str) -> list[Pair]:
    known = set(deps.programs.ids)
    return [pair for pair in active_pairs_of(session, user_id=user_id) if pair.program_id in known]


def not_enrolled_section(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    if roles.enrolled:
        return []
    return [
        section(
            "*Welcome to mentorbot.* You are not in a mentorship program yet: nothing to show here until "
            "your program coordinator pairs you with a mentor or a mentee."
        )
    ]


def mentee_section(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    """Your mentors; the next check-in and a pause/resume button unless the check-ins section has them."""
    if not roles.has(Role.MENTEE):
        return []
    pairs = [pair for pair in _active_pairs(session, deps, roles.user_id) if pair.mentee_id == roles.user_id]
    mentors = [
        f"• <@{pair.mentor_id}> in *{pair.program_id}*, since {day_text(pair.started_at)}"
        + (f" — focus: {pair.focus}" if pair.focus else "")
        for pair in pairs
    ]
    blocks = [section(f"*Your mentor{'s' if len(mentors) > 1 else ''}*\n{_listed(mentors)}")]
    # checkins.home_blocks shows its next-check-in line with the same buttons whenever it has that line.
    if checkins.next_checkin_line(session, deps=deps, user_id=roles.user_id, now=now) is None:
        lines = schedule_lines(session, deps=deps, user_id=roles.user_id, mentee_pairs=pairs, now=now)
        paused = checkins_paused(session, user_id=roles.user_id, now=now)
        blocks.append(section("*Check-ins*\n" + "\n".join(lines)))
        blocks.append(pause_actions(paused=paused))
    return blocks


def checkins_paused(session: Session, *, user_id: str, now: datetime) -> bool:
    return active_pause(session, user_id=user_id, now=now) is not None


def mentor_section(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    """Your mentees with their last session; a word on protected time until there is some."""
    if not roles.has(Role.MENTOR):
        return []
    pairs = [pair for pair in _active_pairs(session, deps, roles.user_id) if pair.mentor_id == roles.user_id]
    last = last_sessions(session, pair_ids=[pair.id for pair in pairs])
    where = ""
    if len(pairs) > MAX_LISTED:  # only some fit: those longest without a session first
        pairs = sorted(pairs, key=lambda pair: (pair.id in last, last.get(pair.id) or date.min, pair.id))
        where = LONGEST_FIRST
    mentees = []
    for pair in pairs:
        seen = last.get(pair.id)
        when = f"last session {day_text(seen)}" if seen else "no session logged yet (`/reflect`)"
        mentees.append(f"• <@{pair.mentee_id}> in *{pair.program_id}* — {when}")
    blocks = [section(f"*Your mentee{'s' if len(mentees) > 1 else ''}*\n{_listed(mentees, where=where)}")]
    program = deps.programs.get(pairs[0].program_id) if pairs else None
    fallback = program.timezone if program else "UTC"
    year = now.astimezone(reader_timezone(get_person(session, user_id=roles.user_id), fallback)).year
    # The reflections section shows hours and credits once there are any; until then, say how they come.
    if not has_sessions(session, mentor_id=roles.user_id, year=year):
        blocks.append(
            section(
                f"*Protected time in {year}*\nNone logged yet: log each session with `/reflect`; it counts "
                "once your mentee confirms it."
            )
        )
    return blocks


def last_sessions(session: Session, *, pair_ids: list[int]) -> dict[int, date]:
    """The latest logged (not disputed) session date per pair."""
    if not pair_ids:
        return {}
    query = (
        select(MentoringSession.pair_id, func.max(MentoringSession.session_date))
        .where(MentoringSession.pair_id.in_(pair_ids), MentoringSession.status != "disputed")
        .group_by(MentoringSession.pair_id)
    )
    return {pair_id: day for pair_id, day in session.execute(query) if day is not None}


def has_sessions(session: Session, *, mentor_id: str, year: int) -> bool:
    """Whether the mentor has any session logged in `year`, across their pairs (ended ones too)."""
    query = (
        select(MentoringSession.id)
        .join(Pair, Pair.id == MentoringSession.pair_id)
        .where(
            Pair.mentor_id == mentor_id,
            MentoringSession.session_date >= date(year, 1, 1),
            MentoringSession.session_date <= date(year, 12, 31),
        )
        .limit(1)
    )
    return session.scalar(query) is not None


def coordinator_section(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    """Each program you coordinate with its counts and a "Preview digest" button."""
    program_ids = roles.programs_where(Role.COORDINATOR)
    if not program_ids:
        return []
    counts = program_counts(session, program_ids=program_ids)
    blocks: Blocks = [section(f"*Program{'s' if len(program_ids) > 1 else ''} you coordinate*")]
    for index, program_id in enumerate(program_ids[:MAX_LISTED]):
        program = deps.programs.get(program_id)
        name = program.name if program else program_id
        count = counts[program_id]
        if count.pairs:
            summary = " · ".join(
                [
                    plural(count.pairs, "active pair"),
                    plural(count.mentors, "mentor"),
                    plural(count.mentees, "mentee"),
                ]
            )
        else:
            summary = (
                f"No pairs yet: `/mentorship pair @mentor @mentee {program_id}`, "
                f"or `mentorbot roster import {program_id} FILE.csv`."
            )
        block = section(f"*{name}* (`{program_id}`)\n{summary}")
        block["accessory"] = preview_button(program_id, first=index == 0, program_name=name)
        blocks.append(block)
    if len(program_ids) > MAX_LISTED:
        blocks.append(
            context(more_line(len(program_ids) - MAX_LISTED, "`/mentorship digest PROGRAM` for any."))
        )
    return blocks


# Each feature contributes one function; an empty list means "nothing to show for this user".
SECTIONS: list[Section] = [
    not_enrolled_section,
    mentee_section,
    mentor_section,
    coordinator_section,
    checkins.home_blocks,
    reflections.home_blocks,
    ratings.home_blocks,
    ideas.home_blocks,
    tracks.home_blocks,
    matching.home_blocks,
]


def build_home(session: Session, *, deps: Deps, user_id: str, now: datetime) -> dict[str, Any]:
    """The Home tab view for `user_id`."""
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    parts = [part for part in (each(session, deps=deps, roles=roles, now=now) for each in SECTIONS) if part]
    return {"type": "home", "blocks": home_blocks(parts)}


def home_blocks(parts: list[Blocks]) -> Blocks:
    """The title and each section after a divider; past Slack's 100 blocks, as many as fit and a line
    saying how many sections were left out or cut short (counting blocks would count the dividers)."""
    blocks: Blocks = [header("Mentorship")]
    for index, part in enumerate(parts):
        closing = 0 if index == len(parts) - 1 else 1  # a later section that does not fit needs the line
        if len(blocks) + 1 + len(part) + closing <= MAX_VIEW_BLOCKS:
            blocks.extend([divider(), *part])
            continue
        shown = part[: max(MAX_VIEW_BLOCKS - len(blocks) - 2, 0)]  # after a divider, before the closing line
        if shown:
            blocks.extend([divider(), *shown])
        left_out = len(parts) - index - (1 if shown else 0)
        blocks.append(context(sections_left_out(left_out, cut_short=bool(shown))))
        return blocks
    return blocks


def sections_left_out(left_out: int, *, cut_short: bool) -> str:
    parts = ([plural(left_out, "section") + " left out"] if left_out else []) + (
        ["one cut short"] if cut_short else []
    )
    said = " and ".join(parts)
    return f"{said[0].upper()}{said[1:]} to keep the Home tab within Slack's 100 blocks."
