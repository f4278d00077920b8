"""The mentor's own ratings on their App Home: how their mentees rate their mentoring, per period.

Only the viewer's own figures, found by their user id (bot.instruments.aggregates maps each mentor's
keyed pseudonym back to the mentor); nobody, coordinators included, sees another mentor's figures
here. A figure is shown by instrument_figures' rules (at least k ratings, not all the same, no small
remainder in the program total); every figure held back gets the same line, so the line never tells
which rule held it back (all answers the same, for one, would say much about them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.instruments.aggregates import Figure, instrument_figures
from bot.instruments.catalog import Instrument, shipped_instruments
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import Role, UserRoles
from bot.slack.blocks import section

Blocks = list[dict[str, Any]]
TITLE = "*How your mentees rate your mentoring*"
MAX_PERIODS = 3  # newest periods shown per instrument: with its title, at most 4 lines
MAX_SECTIONS = 6  # instruments (across programs) listed: the Home tab holds 100 blocks in all


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    """For a mentor: their own figure of each mentor-rating instrument their programs schedule."""
    programs = [p for p in map(deps.programs.get, roles.programs_where(Role.MENTOR)) if p is not None]
    parts: Blocks = []
    for program in programs:
        named = program if len(programs) > 1 else None
        parts.extend(_program_blocks(deps, session, program=program, mentor_id=roles.user_id, named=named))
    return [section(TITLE), *parts[:MAX_SECTIONS]] if parts else []


def rated_instruments(program: Program) -> list[Instrument]:
    """The instruments rating the mentor that the program schedules, in its order."""
    catalogue = shipped_instruments()
    found = [catalogue.get(schedule.id) for schedule in program.instruments]
    return [instrument for instrument in found if instrument is not None and instrument.rates == "mentor"]


def _program_blocks(
    deps: Deps, session: Session, *, program: Program, mentor_id: str, named: Program | None
) -> Blocks:
    instruments = rated_instruments(program)
    if not instruments:
        return []
    own = [f for f in instrument_figures(deps, session, program=program) if f.mentor_id == mentor_id]
    blocks = []
    for instrument in instruments:
        figures = [f for f in own if f.instrument.split("@", 1)[0] == instrument.id]
        lines = [_title(instrument, named)]
        lines += figure_lines(figures, instrument=instrument, min_group_size=program.privacy.min_group_size)
        blocks.append(section("\n".join(lines)))
    return blocks


def _title(instrument: Instrument, program: Program | None) -> str:
    title = f"*{instrument.short_name}*" + (f" in {program.name}" if program is not None else "")
    return title + (" _(wording not yet verified)_" if not instrument.verified else "")


def figure_lines(figures: list[Figure], *, instrument: Instrument, min_group_size: int) -> list[str]:
    """A line per shown period (newest MAX_PERIODS), or the one line saying when figures appear."""
    shown = [f for f in figures if f.mean is not None]
    if not shown:
        return [
            f"Shown once at least {min_group_size} of your mentees have answered "
            "(counted in program totals until then)."
        ]
    earlier = {id(f): figures[i - 1] for i, f in enumerate(figures) if i > 0}
    scale = f"{instrument.scale.min}–{instrument.scale.max}"
    lines = []
    for figure in shown[-MAX_PERIODS:]:
        line = f"• {period_text(figure.period)}: *{figure.mean:.1f}* on a {scale} scale"
        before = earlier.get(id(figure))
        if figure.delta is not None and before is not None:
            line += f" ({figure.delta:+.1f} since {period_text(before.period).lower()})"
        lines.append(line)
    return lines


def period_text(period: str) -> str:
    """A pair's month ("m3") as "Month 3"; calendar periods as written."""
    return f"Month {period[1:]}" if period.startswith("m") and period[1:].isdigit() else period
