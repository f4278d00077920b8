"""The DMs people get when they are paired or unpaired: who, what the bot asks and when, who sees what.

Times are given in the reader's own Slack timezone (the program's when Slack has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.schedule import next_period
from bot.kernel.people import display_name, reader_timezone
from bot.kernel.programs import Program
from bot.slack.blocks import Block, context, header, section
from storage.models import Person

Blocks = list[dict[str, Any]]
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Message:
    """A DM ready for chat.postMessage: fallback text and Block Kit."""

    user_id: str
    text: str
    blocks: Blocks


@dataclass(frozen=True)
class PairView:
    """What a welcome or farewell needs to know about one pairing."""

    program: Program
    mentor: Person
    mentee: Person
    focus: str | None
    now: datetime


def next_prompt(program: Program, zone: ZoneInfo, now: datetime) -> datetime:
    """The first prompt of a pair starting `now`, in `zone`: the check-in scheduler's own answer."""
    return next_period(program.checkins, zone, now, after=now).due_at.astimezone(zone)


def _day(instant: datetime) -> str:
    return f"{DAY_NAMES[instant.weekday()]} {instant.day} {instant:%B}"


def _cadence(program: Program) -> str:
    day = DAY_NAMES[program.checkins.weekday_index]
    return f"every {day}" if program.checkins.cadence == "weekly" else f"every other {day}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hours(hours: int) -> str:
    return f"{hours} hours" if hours % 24 else f"{hours // 24} day{'s' if hours != 24 else ''}"


def _name(person: Person) -> str:
    return f"*{display_name(person, person.id)}* (<@{person.id}>)"


def _coordinators(program: Program) -> str:
    return ", ".join(f"<@{user_id}>" for user_id in program.coordinators)


def when_mentee_is_asked(view: PairView) -> str:
    """The check-in schedule told to the mentee, in the mentee's own timezone."""
    program, checkins = view.program, view.program.checkins
    zone = reader_timezone(view.mentee, program.timezone)
    first = next_prompt(program, zone, view.now)
    lines = [
        f"{_sentence(_cadence(program))} at *{checkins.local_time:%H:%M} your time* ({zone.key}) "
        "I'll send you a short check-in here: how you are doing (1–5), one question about how safe "
        "it feels to speak up on your team, whether you have met your mentor, and an optional note. "
        "It takes a minute."
    ]
    if checkins.cadence == "weekly":
        lines.append(f"The first one should come on {_day(first)}.")
    lines.append(
        f"If it slips by, I remind you once after {_hours(checkins.reminder_after_hours)}; "
        f"it closes after {_hours(checkins.expire_after_hours)}."
    )
    return "\n".join(lines)


def when_mentor_hears(view: PairView) -> str:
    """The mentee's schedule told to the mentor, converted into the mentor's timezone."""
    program, checkins = view.program, view.program.checkins
    mentee_zone = reader_timezone(view.mentee, program.timezone)
    mentor_zone = reader_timezone(view.mentor, program.timezone)
    mentee_name = display_name(view.mentee, view.mentee.id)
    first = next_prompt(program, mentee_zone, view.now)
    text = (
        f"{mentee_name} gets a short check-in {_cadence(program)} at {checkins.local_time:%H:%M} "
        f"in their own timezone ({mentee_zone.key})"
    )
    if mentee_zone.key != mentor_zone.key:
        yours = first.astimezone(mentor_zone)
        text += f", which is {DAY_NAMES[yours.weekday()]} {yours:%H:%M} your time ({mentor_zone.key})"
    return text + "."


def mentee_visibility(program: Program) -> str:
    group = program.privacy.min_group_size
    return (
        "*Who sees your answers*\n"
        "• Your note and whether you met: your mentor.\n"
        f"• How you are doing (1–5): your mentor; coordinators only see totals of {group} or more people.\n"
        f"• The speaking-up question: nobody individually, only program totals of {group} or more.\n"
        "Every check-in says this again next to each question."
    )


def mentor_visibility(view: PairView) -> str:
    group = view.program.privacy.min_group_size
    name = display_name(view.mentee, view.mentee.id)
    return (
        "*What you will see*\n"
        f"• {name}'s note, whether you met, and how they are doing (1–5).\n"
        f"• Not their answers about speaking up on their team: those only appear in program totals "
        f"of {group} or more people, for nobody individually."
    )


PAUSE = (
    "*Need a break?*\nNights, leave or exams: `/checkin pause 2w` (or `/checkin pause until 2026-12-01`) "
    "and `/checkin resume`, or the Pause button on my Home tab. Paused weeks are not counted as missed."
)


def concern_text(program: Program) -> str:
    """How /concern works and what anonymity means here."""
    text = (
        "*Concerns, anonymously*\n`/concern` opens a form to raise something — psychological safety, "
        "disrespect or bias, workload, supervision, patient safety. Your name, Slack id, the channel and "
        "the exact time are never stored or logged with it, only the week it arrived, so nobody running "
        "or reading the bot can trace it to you. You get a case key to read replies and answer, still "
        "anonymously: keep it, because nobody can look it up for you. In a small program, or when "
        "something urgent goes out at once, timing alone might narrow down who sent it; the form says "
        "when that applies."
    )
    if program.escalation is not None:
        text += (
            " If it involves your mentor or a coordinator, say so in the form and it goes to a separate "
            "contact instead of them."
        )
    return text


def reflect_text(program: Program, *, mentor: bool) -> str:
    text = "*Sessions*\nAfter you meet, log it with `/reflect`: the time you protected and what you learned."
    if mentor and program.cme is not None:
        text += (
            f" Once your mentee confirms a session it counts toward your protected time and CME credits "
            f"({program.cme.credits_per_hour:g} per hour, up to {program.cme.max_credits_per_year:g} a year)."
        )
    return text


def _focus(view: PairView) -> str:
    return f"\nFocus: {view.focus}" if view.focus else ""


def mentee_welcome(view: PairView, *, why: str | None = None) -> Message:
    """The DM to a mentee who has just been paired; `why`: the reasons a proposed match was made."""
    program, mentor = view.program, view.mentor
    mentor_zone = reader_timezone(mentor, program.timezone).key
    intro = (
        f"Welcome to *{program.name}*. {_name(mentor)} is your mentor "
        f"(their timezone: {mentor_zone}).{_focus(view)}"
    )
    blocks = [
        header(f"You have a mentor in {program.name}"),
        section(intro),
        *([section(why)] if why else []),
        section(f"*What I'll ask, and when*\n{when_mentee_is_asked(view)}"),
        section(mentee_visibility(program)),
        section(PAUSE),
        section(concern_text(program)),
        section(reflect_text(program, mentor=False)),
        _questions(program),
    ]
    return Message(view.mentee.id, f"Welcome to {program.name}: your mentor is {_plain(mentor)}.", blocks)


def mentor_welcome(view: PairView, *, why: str | None = None) -> Message:
    """The DM to a mentor who has just been given a mentee; `why`: the reasons a proposed match was made."""
    program, mentee = view.program, view.mentee
    mentee_zone = reader_timezone(mentee, program.timezone).key
    intro = (
        f"You are now mentoring {_name(mentee)} in *{program.name}* "
        f"(their timezone: {mentee_zone}). Thank you for giving your time.{_focus(view)}"
    )
    blocks = [
        header(f"Your new mentee in {program.name}"),
        section(intro),
        *([section(why)] if why else []),
        section(f"*What I'll ask, and when*\n{when_mentor_hears(view)}"),
        section(mentor_visibility(view)),
        section(reflect_text(program, mentor=True)),
        section(concern_text(program)),
        _questions(program),
    ]
    return Message(view.mentor.id, f"You are now mentoring {_plain(mentee)} in {program.name}.", blocks)


def mentee_farewell(view: PairView, *, other_mentors: int) -> Message:
    """The kind note to a mentee whose pairing ended."""
    program, mentor = view.program, view.mentor
    if other_mentors:
        checkins = "Your check-ins carry on with your other mentor."
    else:
        checkins = "Check-ins stop for now; if you are paired again, they start again."
    text = (
        f"Your mentorship with {_name(mentor)} in *{program.name}* has ended. Thank you for the time and "
        f"trust you both put into it.\n{checkins} What you already shared stays with the program under its "
        "privacy rules, and `/concern` keeps working just as anonymously."
    )
    return Message(
        view.mentee.id,
        f"Your mentorship with {_plain(mentor)} has ended.",
        [section(text), _questions(program)],
    )


def mentor_farewell(view: PairView) -> Message:
    """The kind note to a mentor whose pairing ended."""
    program, mentee = view.program, view.mentee
    text = (
        f"Your mentorship of {_name(mentee)} in *{program.name}* has ended. Thank you for everything you "
        "gave to it. Sessions you logged stay in your protected-time record."
    )
    return Message(
        view.mentor.id,
        f"Your mentorship of {_plain(mentee)} has ended.",
        [section(text), _questions(program)],
    )


def _plain(person: Person) -> str:
    return display_name(person, person.id)


def _questions(program: Program) -> Block:
    return context(
        f"Questions about {program.name}: {_coordinators(program)}. `/mentorship help` lists what you can do."
    )
