"""Demo chapter: an IMG on the Tennessee supervised-practice template, through the real code.

The coordinator enrols him with `/mentorship track`; journey topics reach him (Kolkata) and his
supervising mentor (New York) at nine in each one's morning, once each; the mentor logs a session on a
topic from the DM; a month before the first review closes the competencies without evidence are flagged;
at the close the supervisor attests; and the board-ready evidence PDF is written to the demo folder.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app.demo.world import COORDINATOR, PROGRAM_ID, World, block_text
from bot.kernel.people import look_up_people, store_person
from bot.kernel.roles import roles_of
from bot.tracks import deliveries
from bot.tracks.export import build_report
from bot.tracks.home import home_blocks
from bot.tracks.pdf import write_pdf
from storage.models import MentoringSession, TrackEnrolment, TrackMilestone
from storage.repositories.pairs import active_pairs_of, create_pair
from storage.repositories.tracks import enrolments_of, milestones_of

TRACK = "tn-supervised-practice"
LICENSEE, SUPERVISOR = "UDEMOME2", "UDEMOMR1"  # Dr. Rahul Iyer (Kolkata), Dr. Ana Mendes (New York)
RUN_AT = ((3, 45), (14, 15))  # the scheduler's passes shown each day, in UTC: after 09:00 in both zones
SESSIONS = {  # weeks after the start -> the levels the mentor records
    0: {"clinical-reasoning": "demonstrated", "institutional-communication": "developing"},
    3: {"ehr-documentation": "developing", "cultural-fluency": "developing"},
}
PRIVATE_NOTE = "Private: ask how the visa paperwork is going."


def run(world: World) -> None:
    """Enrol, a first week of journey prompts, sessions, a flagged gap, an attestation, the export."""
    world.heading("Supervised practice: an IMG on the Tennessee pathway")
    _ensure_pair(world)
    start = world.clock().astimezone(_zone(world)).date() + timedelta(days=1)
    _enrol(world, start)
    reviews = _reviews(world)
    first, flag = reviews[0], reviews[0].flag_on
    assert flag is not None
    _first_day(world, start)
    counts = _days(world, start + timedelta(days=1), flag - timedelta(days=1), start)
    world.say(f"Until the gap check the scheduler sent: {_summary(counts)}; each once, none repeated.")
    _flag_day(world, flag)
    _days(world, flag + timedelta(days=1), first.due_on - timedelta(days=1), start)
    _attest(world, first)
    _home(world)
    _export(world)


def _zone(world: World) -> ZoneInfo:
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    return program.tz


def _ensure_pair(world: World) -> None:
    """The roster chapter pairs them; alone, this chapter pairs them itself."""
    deps, now = world.deps, world.clock()
    with deps.read_sessions.begin() as session:
        if active_pairs_of(session, user_id=LICENSEE, program_id=PROGRAM_ID):
            return
    lookups = look_up_people(deps, user_ids=[SUPERVISOR, LICENSEE], now=now)
    with deps.sessions.begin() as session:
        for lookup in lookups.values():
            store_person(session, lookup, now=now)
        session.flush()
        create_pair(session, program_id=PROGRAM_ID, mentor_id=SUPERVISOR, mentee_id=LICENSEE, now=now)


def _enrol(world: World, start: date) -> None:
    text = f"track <@{LICENSEE}|rahul> {TRACK} start {start.isoformat()}"
    world.say(f"The coordinator types: /mentorship {text}")
    url = world.fake.response_url()
    _, body, _ = world.slack.command("/mentorship", text, user_id=COORDINATOR, response_url=url)
    world.say(f"ack: {json.loads(body)['text']}")
    url_id = url.rsplit("/", 1)[1]
    world.fake.wait_for(lambda: bool(_replies(world, url_id, "dated")), what="the enrolment", timeout=10)
    for line in _replies(world, url_id, "dated")[0].splitlines():
        world.say(f"  {line}")


def _replies(world: World, url_id: str, word: str) -> list[str]:
    return [
        str(b.get("text")) for uid, b in world.fake.responses if uid == url_id and word in str(b.get("text"))
    ]


def _reviews(world: World) -> list[TrackMilestone]:
    with world.deps.read_sessions.begin() as session:
        (enrolment,) = enrolments_of(session, person_id=LICENSEE, track_id=TRACK)
        found = [m for m in milestones_of(session, enrolment_id=enrolment.id) if m.kind == "review"]
        session.expunge_all()
    return found


# -- the scheduler's passes ------------------------------------------------------------------------------


def _pass(world: World, day: date, hour: int, minute: int) -> list[str]:
    world.clock.now = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    return deliveries.run_due(world.deps, world.clock.now)


def _first_day(world: World, start: date) -> None:
    """The first topic reaches each reader at nine in their own morning: two passes, hours apart."""
    world.say()
    for hour, minute in RUN_AT:
        before = {user_id: len(_track_dms(world, user_id)) for user_id in (LICENSEE, SUPERVISOR)}
        lines = _pass(world, start, hour, minute)
        for user_id, count in before.items():
            posts = _track_dms(world, user_id)
            if len(posts) > count:
                local = world.clock.now.astimezone(_user_zone(world, user_id))
                world.say(f"{local:%a %d %b %H:%M} in {world.name(user_id)}'s timezone ({', '.join(lines)}):")
                _say_message(world, posts[-1])
    again = _pass(world, start, 14, 45)
    world.say(f"The next pass the same morning sends nothing again: {again or 'no lines'}.")
    _log_on_topic(world, week=0)


def _days(world: World, first: date, last: date, start: date) -> Counter[str]:
    counts: Counter[str] = Counter()
    day = first
    while day <= last:
        for hour, minute in RUN_AT:
            counts.update(_pass(world, day, hour, minute))
        week = (day - start).days // 7
        if (day - start).days % 7 == 0 and week in SESSIONS and week:
            _log_on_topic(world, week=week)
        day += timedelta(days=1)
    return counts


def _summary(counts: Counter[str]) -> str:
    """`14 journey prompts` from run_due's lines ("tracks: journey prompts 2 sent", run by run)."""
    total: Counter[str] = Counter()
    for line, times in counts.items():
        if found := re.fullmatch(r"tracks: (.+) (\d+) sent", line):
            total[found[1]] += int(found[2]) * times
    return ", ".join(f"{n} {what}" for what, n in total.items()) or "nothing"


def _user_zone(world: World, user_id: str) -> ZoneInfo:
    user = world.fake.users.get(user_id)
    return ZoneInfo(user.tz if user is not None and user.tz else "UTC")


def _track_dms(world: World, user_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in world.fake.messages(user_id)
        if (m.get("metadata") or {}).get("event_type") == deliveries.EVENT
    ]


def _say_message(world: World, message: dict[str, Any]) -> None:
    for line in block_text(message.get("blocks"), message.get("text", "")).splitlines():
        world.say(f"    {line}")


# -- a session on a topic ------------------------------------------------------------------------------


def _log_on_topic(world: World, *, week: int) -> None:
    """The mentor presses "Log a session on this" on the latest topic, fills /reflect in, the licensee
    confirms the session from the DM it brings."""
    prompt = _track_dms(world, SUPERVISOR)[-1]
    button = _button(prompt, "Log a session on this")
    opened, dms = len(world.fake.views), len(world.fake.messages(LICENSEE))
    world.slack.block_action(SUPERVISOR, action_id=button["action_id"], value=button["value"], message=prompt)
    world.fake.wait_for(lambda: len(world.fake.views) > opened, what="the /reflect modal")
    view = world.fake.views[-1]
    answers = {
        "duration": "60",
        "format": "in_person",
        "learned": "How handover works on the wards he trained on.",
        "private_notes": PRIVATE_NOTE,
    } | {f"competency:{k}": v for k, v in SESSIONS[week].items()}
    if week == 0:
        chosen = [
            o["value"]
            for b in view["blocks"]
            if b.get("block_id") == "topics"
            for o in b["element"].get("initial_options", [])
        ]
        world.say(
            f"{world.name(SUPERVISOR)} presses [Log a session on this]: /reflect opens with the topic "
            f"chosen ({', '.join(chosen)}); she records {_levels(week)} and saves."
        )
    world.slack.view_submission(SUPERVISOR, view=_filled(view, answers))
    world.fake.wait_for(lambda: len(world.fake.messages(LICENSEE)) > dms, what="the confirmation DM")
    _confirm(world, world.fake.messages(LICENSEE)[-1])
    if week:
        world.say(f"Week {week + 1}: another session on the topic, {_levels(week)}, confirmed.")


def _levels(week: int) -> str:
    return ", ".join(f"{k} {v}" for k, v in SESSIONS[week].items())


def _confirm(world: World, message: dict[str, Any]) -> None:
    button = _button(message, "Confirm")
    world.slack.block_action(LICENSEE, action_id=button["action_id"], value=button["value"], message=message)
    _until(lambda: _status(world, int(button["value"])) == "confirmed", "the confirmation")


def _status(world: World, session_id: int) -> str | None:
    with world.deps.read_sessions.begin() as session:
        row = session.get(MentoringSession, session_id)
        return row.status if row is not None else None


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout  # the bot answers button presses on its own threads
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: {what} did not happen within {timeout:.0f}s")
        time.sleep(0.01)


def _button(message: dict[str, Any], label: str) -> dict[str, Any]:
    return next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )


def _filled(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            values[block["block_id"]] = {
                element["action_id"]: _state(element, answers.get(block["block_id"]))
            }
    return {**view, "state": {"values": values}}


def _state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    options = {o["value"]: o for o in element.get("options", [])}
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer or element.get("initial_date")}
    if kind in ("static_select", "radio_buttons"):
        return {
            "type": kind,
            "selected_option": options.get(answer) if answer else element.get("initial_option"),
        }
    if kind == "multi_static_select":
        return {"type": kind, "selected_options": element.get("initial_options", [])}
    return {"type": kind, "value": answer}


# -- the gap, the attestation, the export -----------------------------------------------------------------


def _flag_day(world: World, day: date) -> None:
    world.say()
    world.say(
        f"{day:%a %d %b %Y}: a month before the first review closes, the scheduler checks the evidence."
    )
    for hour, minute in RUN_AT:
        for line in _pass(world, day, hour, minute):
            world.say(f"  {line}")
    flag = next(
        m for m in reversed(world.fake.messages(COORDINATOR)) if "No evidence yet" in str(m.get("blocks"))
    )
    world.say(f"{world.name(COORDINATOR)} (and the mentor) get:")
    _say_message(world, flag)


def _attest(world: World, review: TrackMilestone) -> None:
    world.say()
    world.say(
        f"{review.due_on:%a %d %b %Y}: the review closes; the supervising physician is asked to attest."
    )
    for hour, minute in RUN_AT:
        _pass(world, review.due_on, hour, minute)
    request = next(
        m for m in reversed(_track_dms(world, SUPERVISOR)) if "Attestation for" in str(m.get("blocks"))
    )
    _say_message(world, request)
    button, opened = _button(request, "Attest"), len(world.fake.views)
    world.slack.block_action(
        SUPERVISOR, action_id=button["action_id"], value=button["value"], message=request
    )
    world.fake.wait_for(lambda: len(world.fake.views) > opened, what="the attestation form")
    form = world.fake.views[-1]
    levels = {
        b["block_id"]: "3" if "communication" in b["block_id"] else "2"
        for b in form["blocks"]
        if b.get("block_id", "").startswith("level:")
    }
    answers = levels | {"comments": "Safe, thoughtful; needs more exposure to quality-improvement work."}
    world.say(
        f"{world.name(SUPERVISOR)} presses [Attest], chooses a milestone level per competency and signs."
    )
    world.slack.view_submission(SUPERVISOR, view=_filled(form, answers))
    world.fake.wait_for(lambda: "Attested" in str(_same(world, request).get("blocks")), what="the signed DM")
    world.say("The DM now reads:")
    _say_message(world, _same(world, request))


def _same(world: World, message: dict[str, Any]) -> dict[str, Any]:
    return next((m for m in world.fake.messages(message["channel"]) if m["ts"] == message["ts"]), message)


def _home(world: World) -> None:
    with world.deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=world.deps.programs, user_id=LICENSEE)
        blocks = home_blocks(session, deps=world.deps, roles=roles, now=world.clock())
    world.say()
    world.say(f"{world.name(LICENSEE)}'s App Home, supervised-practice section:")
    for line in block_text(blocks).splitlines():
        world.say(f"    {line}")


def _export(world: World) -> None:
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    path = world.out_dir / f"evidence-{LICENSEE}-{TRACK}.pdf"
    with world.deps.read_sessions.begin() as session:
        (enrolment,) = enrolments_of(session, person_id=LICENSEE, track_id=TRACK)
        assert isinstance(enrolment, TrackEnrolment)
        report = build_report(session, program=program, enrolment=enrolment, now=world.clock())
    write_pdf(report, path)
    world.say()
    world.say(f"mentorbot evidence {LICENSEE} --track {TRACK} --out {path.name}")
    world.say(f"  wrote {path} ({report.sessions} confirmed sessions, {len(report.signatures)} attestation)")
