"""Sessions on the App Home: hours, credits, competencies, unconfirmed sessions and overdue pairs."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.people import display_name
from bot.kernel.programs import Program
from bot.kernel.roles import Role, UserRoles
from bot.reflections.blocks import home_session_actions
from bot.reflections.competencies import level_line, timelines
from bot.reflections.health import overdue_among
from bot.reflections.ledger import mentor_year, number
from bot.reflections.terms import PENDING, hours_text, short_day
from bot.slack.blocks import context, section
from bot.slack.caps import capped_blocks, capped_text, more_line
from storage.models import MentoringSession, Pair
from storage.repositories.pairs import active_pairs_of
from storage.repositories.people import people_by_id
from storage.repositories.reflections import (
    other_member,
    reflection_of,
    sessions_of_pairs,
)

Blocks = list[dict[str, Any]]
MAX_BLOCKS = 40  # of the Home tab's 100, shared with the other sections
MAX_ANSWERABLE = 5  # sessions with buttons; more are summarised
MAX_OVERDUE = 10  # overdue pairs named, longest first
MAX_COMPETENCY_SECTIONS = 5  # mentees whose competency levels are shown, one section each
# Neither the Home tab nor `/mentorship status` lists hundreds of pairs: say which are shown instead.
LONGEST_OVERDUE_ABOVE = "the longest overdue are named above."


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    """App Home section for mentors and mentees: hours and credits this year (mentors), current
    competency levels, overdue pair warnings and sessions still awaiting confirmation."""
    blocks: Blocks = []
    for program_id in roles.programs_where(Role.MENTOR, Role.MENTEE):
        program = deps.programs.get(program_id)
        if program is not None:
            blocks.extend(_program_blocks(session, program=program, user_id=roles.user_id, now=now))
    if not blocks:
        return []
    return capped_blocks(
        [section("*Sessions and competencies*"), *blocks], limit=MAX_BLOCKS, note=_more_parts
    )


def _more_parts(hidden: int) -> str:
    return more_line(hidden, "parts left out to keep the Home tab within Slack's limits.")


def _program_blocks(session: Session, *, program: Program, user_id: str, now: datetime) -> Blocks:
    pairs = active_pairs_of(session, user_id=user_id, program_id=program.id)
    if not pairs:
        return []
    today = now.astimezone(program.tz).date()
    names = _names(session, pairs)
    mentoring = [p for p in pairs if p.mentor_id == user_id]
    blocks: Blocks = [context(f"*{program.name}*")]
    if mentoring:
        blocks.append(section(_hours_line(session, program=program, user_id=user_id, year=today.year)))
    blocks.extend(
        _competency_blocks(session, program=program, pairs=pairs, user_id=user_id, names=names, today=today)
    )
    blocks.extend(
        _overdue_blocks(session, program=program, pairs=pairs, user_id=user_id, names=names, now=now)
    )
    blocks.extend(_unconfirmed_blocks(session, pairs=pairs, user_id=user_id, names=names, today=today))
    return blocks


def _names(session: Session, pairs: list[Pair]) -> dict[str, str]:
    ids = sorted({p.mentor_id for p in pairs} | {p.mentee_id for p in pairs})
    people = people_by_id(session, user_ids=ids)
    return {user_id: display_name(people.get(user_id), f"<@{user_id}>") for user_id in ids}


def _hours_line(session: Session, *, program: Program, user_id: str, year: int) -> str:
    ledger = mentor_year(session, program=program, mentor_id=user_id, year=year)
    sessions = f"{len(ledger.entries)} confirmed session{'s' if len(ledger.entries) != 1 else ''}"
    line = f"Protected time in {year}: *{number(ledger.hours)} h* ({sessions})"
    if program.cme is not None:
        cap = number(Fraction(str(program.cme.max_credits_per_year)))
        line += f"  ·  CME: *{number(ledger.credits)}* of {cap} credits"
        if ledger.capped:
            line += " (yearly maximum reached)"
    return line


def _competency_blocks(
    session: Session, *, program: Program, pairs: list[Pair], user_id: str, names: dict[str, str], today: date
) -> Blocks:
    blocks: Blocks = []
    mentees = sorted({p.mentee_id for p in pairs}, key=lambda m: (m != user_id, names[m]))
    for mentee_id in mentees[:MAX_COMPETENCY_SECTIONS]:
        title = "*Your competencies*" if mentee_id == user_id else f"*{names[mentee_id]}'s competencies*"
        lines = [level_line(t, today=today) for t in timelines(session, program=program, mentee_id=mentee_id)]
        blocks.append(section("\n".join([title, *lines])[:2900]))
    if len(mentees) > MAX_COMPETENCY_SECTIONS:
        where = "each mentee sees their own levels on their Home tab."
        blocks.append(context(more_line(len(mentees) - MAX_COMPETENCY_SECTIONS, where)))
    return blocks


def _overdue_blocks(
    session: Session,
    *,
    program: Program,
    pairs: list[Pair],
    user_id: str,
    names: dict[str, str],
    now: datetime,
) -> Blocks:
    every = program.pairs.session_expected_every_days
    lines = []
    for item in overdue_among(session, program=program, pairs=pairs, now=now):
        other = names[item.mentee_id if item.mentor_id == user_id else item.mentor_id]
        since = "since the pairing started" if item.last_session is None else "since the last confirmed one"
        lines.append(
            f":warning: No confirmed session with *{other}* for {item.days_since} days ({since}); "
            f"the program expects one every {every} days."
        )
    if not lines:
        return []
    return [section(capped_text(lines, where=LONGEST_OVERDUE_ABOVE, max_lines=MAX_OVERDUE))]


def _unconfirmed_blocks(
    session: Session, *, pairs: list[Pair], user_id: str, names: dict[str, str], today: date
) -> Blocks:
    by_id = {p.id: p for p in pairs}
    pending = sessions_of_pairs(session, pair_ids=list(by_id), statuses=(PENDING,))
    mine = [row for row in pending if row.logged_by == user_id]
    theirs = [row for row in pending if row.logged_by != user_id]
    blocks: Blocks = []
    for row in theirs[:MAX_ANSWERABLE]:
        blocks.extend(
            _answerable(session, row=row, logger=names[row.logged_by], user_id=user_id, today=today)
        )
    if len(theirs) > MAX_ANSWERABLE:
        blocks.append(context(f"{len(theirs) - MAX_ANSWERABLE} more sessions await your confirmation."))
    if mine:
        blocks.append(context(_awaiting_line(mine, by_id=by_id, names=names, user_id=user_id, today=today)))
    return blocks


def _answerable(session: Session, *, row: MentoringSession, logger: str, user_id: str, today: date) -> Blocks:
    day = short_day(row.session_date, today=today)
    reflected = reflection_of(session, session_id=row.id, author_id=user_id) is not None
    return [
        section(f"*{logger}* logged a {row.duration_minutes}-minute session on *{day}*: unconfirmed."),
        home_session_actions(
            row.id, can_reflect=not reflected, about=f"the session {logger} logged on {day}"
        ),
    ]


def _awaiting_line(
    rows: list[MentoringSession], *, by_id: dict[int, Pair], names: dict[str, str], user_id: str, today: date
) -> str:
    minutes = sum(row.duration_minutes for row in rows)
    items = ", ".join(
        f"{short_day(row.session_date, today=today)} with {names[other_member(by_id[row.pair_id], user_id)]}"
        for row in rows[:5]
    )
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return (
        f"Unconfirmed, not counted yet ({hours_text(minutes)}): {items}{more}. "
        "Each counts once the other person confirms it."
    )
