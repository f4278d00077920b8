"""Demo chapter: the validated surveys as their readers see them: a mentee's DM and form, a mentor's Home."""

from __future__ import annotations

from bot.app.demo.world import PROGRAM_ID, World, block_text
from bot.instruments.aggregates import instrument_figures
from bot.instruments.blocks import survey_message, survey_modal
from bot.instruments.catalog import shipped_instruments
from bot.instruments.home import home_blocks
from bot.kernel.roles import roles_of
from storage.repositories.instruments import mentor_ids


def run(world: World) -> None:
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    k = program.privacy.min_group_size
    mca = shipped_instruments()["mca-21"]
    world.heading("Surveys: the month-3 mentor rating a mentee receives, and what their mentor later sees")
    text, blocks = survey_message(survey_id=0, instrument=mca, min_group=k)
    _indented(world, "The DM:", block_text(blocks, text))
    form = survey_modal(survey_id=0, instrument=mca, min_group=k)
    _indented(world, "Its form, first two questions:", block_text(form["blocks"][:3]))
    with world.deps.read_sessions.begin() as session:
        figures = instrument_figures(world.deps, session, program=program)
        rated = sorted({f.mentor_id for f in figures if f.mentor_id and f.mean is not None})
        mentor = rated[0] if rated else mentor_ids(session, program_id=program.id)[0]
        roles = roles_of(session, programs=world.deps.programs, user_id=mentor)
        section = home_blocks(session, deps=world.deps, roles=roles, now=world.clock())
    _indented(world, f"{world.name(mentor)}'s App Home, ratings section:", block_text(section))


def _indented(world: World, title: str, text: str) -> None:
    world.say(title)
    for line in text.splitlines():
        world.say(f"    {line}")
