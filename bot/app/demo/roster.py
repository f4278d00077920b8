"""Demo chapter: a roster CSV imported through the real service, then one pairing by slash command."""

from __future__ import annotations

import json

from bot.app.demo.world import COORDINATOR, PROGRAM_ID, World, block_text
from bot.pairs.pairing import send_messages
from bot.pairs.roster import run_import
from bot.pairs.roster_csv import RosterRejected

# Mentors by Slack id or email, mentees mostly by email: what a coordinator exports from a spreadsheet.
ROSTER = """mentor,mentee,focus
UDEMOMR1,amara@hospital.example,EHR documentation
UDEMOMR1,rahul@hospital.example,institutional communication
UDEMOMR1,UDEMOME3,
dr.chen@hospital.example,yusuf@hospital.example,clinical reasoning
dr.chen@hospital.example,mei@hospital.example,
"""
BY_COMMAND = ("UDEMOMR2", "UDEMOME6")


def run(world: World) -> None:
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    path = world.out_dir / "roster.csv"
    path.write_text(ROSTER)
    world.heading(f"mentorbot roster import {PROGRAM_ID} roster.csv")
    for line in ROSTER.strip().splitlines():
        world.say(f"  {line}")
    try:
        result = run_import(world.deps, program=program, path=path, replace=False, now=world.clock())
    except RosterRejected as rejected:
        world.say("\n".join(rejected.problems))
        return
    world.say(result.summary(PROGRAM_ID))
    failures = send_messages(
        world.deps.client, result.messages, rate_per_second=world.deps.settings.send_rate_per_second
    )
    world.say(f"Welcome DMs sent: {len(result.messages) - len(failures)} of {len(result.messages)}.")
    again = run_import(world.deps, program=program, path=path, replace=False, now=world.clock())
    world.say(f"The same file again: {again.summary(PROGRAM_ID)}")
    _pair_by_command(world)


def _pair_by_command(world: World) -> None:
    mentor, mentee = BY_COMMAND
    text = f"pair <@{mentor}|dr.chen> <@{mentee}|kwame>"
    world.heading(f"/mentorship {text}   (the coordinator, over signed HTTP)")
    url = world.fake.response_url()
    status, body, _ = world.slack.command("/mentorship", text, user_id=COORDINATOR, response_url=url)
    world.say(f"ack (HTTP {status}): {json.loads(body)['text']}")
    url_id = url.rsplit("/", 1)[1]
    world.fake.wait_for(lambda: any(uid == url_id for uid, _ in world.fake.responses), what="the pairing")
    world.say("then: " + next(str(b["text"]) for uid, b in world.fake.responses if uid == url_id))
    world.fake.wait_for(
        lambda: all(world.fake.messages(user_id) for user_id in BY_COMMAND), what="both welcome DMs"
    )
    for user_id in BY_COMMAND:
        message = world.fake.messages(user_id)[-1]
        world.heading(f"Welcome DM to {world.name(user_id)}")
        world.say(block_text(message.get("blocks"), message.get("text", "")))
