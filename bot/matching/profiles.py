"""Opting in and out: which program, what the profile modal offers, saving answers, leaving.

Nobody is matched without a profile, and a profile exists only because its person filled it in (or the
program imported it from its own intake). Leaving deletes it and is remembered, so no import or earlier
proposal can bring the person back; only `/mentorship join` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.kernel.people import display_name
from bot.kernel.programs import Program, ProgramsConfig
from bot.matching.form import ProfileAnswers
from bot.matching.pool import MENTOR_ROLES, candidate, matching_of
from bot.matching.scoring import Rules, score
from bot.matching.terms import MAX_TEXT
from storage.models import MatchingProfile, Person
from storage.repositories.matching import (
    avoid_list,
    delete_profile,
    get_profile,
    profiles_in,
    save_profile,
)
from storage.repositories.people import people_by_id, upsert_person

MAX_OPTIONS = 100  # a static select's options
MAX_OPTION_TEXT = 75  # an option's text


@dataclass(frozen=True)
class ProfileSpec:
    """Everything the profile modal shows; `mentors` are (option value, label) to rank, best fit first."""

    program_id: str
    program_name: str
    answers: ProfileAnswers | None
    focus_areas: tuple[str, ...]
    mentors: tuple[tuple[str, str], ...]
    ask_avoid: bool
    default_capacity: int


# -- which program -------------------------------------------------------------------------------------


def matching_programs(programs: ProgramsConfig) -> list[Program]:
    """Programs with a `matching:` section, in file order."""
    return [program for program in programs.programs if program.matching is not None]


def program_to_join(programs: ProgramsConfig, words: list[str]) -> Program | str:
    """The program `/mentorship join [PROGRAM]` means, or what to tell the person instead."""
    offered = matching_programs(programs)
    ids = ", ".join(f"`{program.id}`" for program in offered)
    if not offered:
        return (
            "No program here matches people yet, so there is nothing to join. Ask your program coordinator."
        )
    if len(words) > 1:
        return "Type `/mentorship join`, or `/mentorship join PROGRAM` to choose the program."
    if words:
        found = next((p for p in offered if p.id == words[0].lower()), None)
        unknown = f"No program `{words[0][:40]}` takes matching profiles."
        return found or f"{unknown} Type `/mentorship join` with one of: {ids}."
    if len(offered) > 1:
        return f"Several programs take matching profiles: type `/mentorship join PROGRAM` with one of: {ids}."
    return offered[0]


def program_to_leave(programs: ProgramsConfig, words: list[str], *, joined: list[str]) -> Program | str:
    """The program `/mentorship leave [PROGRAM]` means (`joined`: ids where the person has a profile)."""
    if words:
        found = programs.get(words[0].lower()) if len(words) == 1 else None
        if found is None or found.matching is None:
            return "Type `/mentorship leave`, or `/mentorship leave PROGRAM` to choose the program."
        return found
    mine = [p for p in matching_programs(programs) if p.id in joined]
    if not mine:
        return "You have no matching profile, so there is nothing to leave. You won't be matched."
    if len(mine) > 1:
        ids = ", ".join(f"`{program.id}`" for program in mine)
        return f"You have profiles in several programs: type `/mentorship leave PROGRAM` with one of: {ids}."
    return mine[0]


# -- the modal -----------------------------------------------------------------------------------------


def profile_spec(session: Session, *, program: Program, user_id: str) -> ProfileSpec:
    """What the profile modal offers this person: their saved answers and the mentors they may rank."""
    matching = matching_of(program)
    profile = get_profile(session, program_id=program.id, user_id=user_id)
    mentors = [
        p
        for p in profiles_in(session, program_id=program.id)
        if p.role in MENTOR_ROLES and p.user_id != user_id
    ]
    if profile is not None:
        rules, me = Rules.from_config(matching), candidate(profile)
        mentors.sort(
            key=lambda p: -score(me, candidate(p), rules)
        )  # stable: best fit first, then who joined first
    shown = mentors[:MAX_OPTIONS]
    people = people_by_id(session, user_ids=[p.user_id for p in shown])
    options = tuple(
        (str(p.id), mentor_label(p, people.get(p.user_id), named=matching.show_mentor_names)) for p in shown
    )
    return ProfileSpec(
        program_id=program.id,
        program_name=program.name,
        answers=_answers(profile, {p.user_id: str(p.id) for p in shown}) if profile is not None else None,
        focus_areas=matching.focus_areas,
        mentors=options,
        ask_avoid=matching.exclusions.avoid_lists,
        default_capacity=matching.default_capacity,
    )


def mentor_label(profile: MatchingProfile, person: Person | None, *, named: bool) -> str:
    """How a mentor is offered for ranking: by name, or anonymously, as the program chooses."""
    who = display_name(person, profile.user_id) if named else f"Mentor {profile.id}"
    parts = [who, profile.specialty, ", ".join(profile.languages[:3])]
    label = " · ".join(part for part in parts if part)
    return label if len(label) <= MAX_OPTION_TEXT else label[: MAX_OPTION_TEXT - 1] + "…"


def _answers(profile: MatchingProfile, values: dict[str, str]) -> ProfileAnswers:
    # Stored answers are shown as they are, even if the program's lists changed since: not re-validated.
    stored: dict[str, Any] = {
        "role": profile.role,
        "specialty": profile.specialty,
        "department": profile.department,
        "languages": tuple(profile.languages),
        "trained_in": profile.trained_in,
        "focus": tuple(profile.focus),
        "formats": tuple(profile.formats),
        "times": tuple(profile.times),
        "capacity": profile.capacity,
        "ranked": tuple(values[user_id] for user_id in profile.ranked if user_id in values),
        "avoid": tuple(avoid_list(profile)),
    }
    return ProfileAnswers.model_construct(**stored)


# -- saving and leaving --------------------------------------------------------------------------------


def save_answers(
    session: Session, *, program: Program, user_id: str, answers: ProfileAnswers, now: datetime
) -> MatchingProfile:
    """Store the modal's answers as the person's profile (opting them in)."""
    matching = matching_of(program)
    if session.get(Person, user_id) is None:
        upsert_person(session, user_id=user_id, now=now)
    mentee = answers.role != "mentor"
    fields = {
        "role": answers.role,
        "specialty": answers.specialty[:MAX_TEXT],
        "department": answers.department[:MAX_TEXT],
        "languages": list(answers.languages),
        "trained_in": answers.trained_in[:MAX_TEXT],
        "focus": [area for area in answers.focus if area in matching.focus_areas],
        "formats": list(answers.formats),
        "times": list(answers.times),
        "capacity": answers.capacity if answers.role != "mentee" else 0,
        "ranked": _ranked_users(session, program=program, user_id=user_id, values=answers.ranked)
        if mentee
        else [],
    }
    avoid = (
        [other for other in answers.avoid if other != user_id] if matching.exclusions.avoid_lists else None
    )
    return save_profile(
        session, program_id=program.id, user_id=user_id, answers=fields, avoid=avoid, source="slack", now=now
    )


def _ranked_users(session: Session, *, program: Program, user_id: str, values: tuple[str, ...]) -> list[str]:
    """The mentors behind the chosen options (profile ids), first choice first."""
    mentors = {
        str(p.id): p.user_id for p in profiles_in(session, program_id=program.id) if p.role in MENTOR_ROLES
    }
    return [mentors[value] for value in values if value in mentors and mentors[value] != user_id]


def leave(session: Session, *, program: Program, user_id: str, now: datetime) -> str:
    """Delete the person's profile in `program` and remember they left; what to tell them."""
    had = delete_profile(session, program_id=program.id, user_id=user_id, now=now)
    if not had:
        return (
            f"You have no matching profile in *{program.name}*, so you won't be matched there. "
            f"Type `/mentorship join {program.id}` if you want to be."
        )
    return (
        f"Done: your matching profile in *{program.name}* is deleted, and you won't be in any later match "
        "proposal. Pairs you already have carry on (a coordinator can end one). "
        f"Type `/mentorship join {program.id}` to come back."
    )
