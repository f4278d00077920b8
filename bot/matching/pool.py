"""Who can be matched now: the program's profiles turned into the solver's problem.

Only people with a profile are in it (nobody is matched without having opted in), and only while their
Slack account is active. Mentees who already have an active mentor in the program wait out this round;
mentors bring the places their capacity (and the program's max_mentees_per_mentor) leaves free.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.kernel.programs import MatchingConfig, Program, ProgramsConfig
from bot.kernel.refusals import Refusal
from bot.matching.scoring import Bounds, Candidate, Rules
from bot.matching.solver import Problem
from storage.models import MatchConstraint, MatchingProfile
from storage.repositories.matching import avoid_list, constraints_in, ended_pairs_since, profiles_in
from storage.repositories.pairs import active_pairs_in
from storage.repositories.people import people_by_id

MENTEE_ROLES = ("mentee", "both")
MENTOR_ROLES = ("mentor", "both")


class MatchingOff(Refusal):
    """The program does not match people (no `matching:` in programs.yml), or no longer exists."""

    def __init__(self, program_id: str) -> None:
        super().__init__(
            f"`{program_id[:40]}` doesn't match people (it has no `matching:` in programs.yml). "
            "Open my Home tab again to see what is offered."
        )


def matching_of(program: Program) -> MatchingConfig:
    """The program's matching settings; MatchingOff when it does not match people."""
    if program.matching is None:
        raise MatchingOff(program.id)
    return program.matching


def matching_program(programs: ProgramsConfig, program_id: str) -> Program:
    """The program with this id that matches people; MatchingOff otherwise."""
    program = programs.get(program_id)
    if program is None or program.matching is None:
        raise MatchingOff(program_id)
    return program


@dataclass(frozen=True)
class Pool:
    """The problem to solve, with what explanations need beyond it."""

    problem: Problem
    ended: dict[tuple[str, str], datetime]  # (mentor, mentee) -> end of their pair, inside the cooldown
    already_paired: int  # mentee profiles left out because they have a mentor


def candidate(profile: MatchingProfile, *, capacity: int = 0) -> Candidate:
    """A stored profile as the solver sees it."""
    return Candidate(
        user_id=profile.user_id,
        specialty=profile.specialty,
        department=profile.department,
        languages=tuple(profile.languages),
        trained_in=profile.trained_in,
        focus=tuple(profile.focus),
        formats=tuple(profile.formats),
        times=tuple(profile.times),
        capacity=capacity,
        ranked=tuple(profile.ranked),
        avoid=frozenset(avoid_list(profile)),
    )


def free_places(profile: MatchingProfile, program: Program, load: int) -> int:
    """How many more mentees this mentor can take in the program."""
    limit = profile.capacity
    if program.max_mentees_per_mentor is not None:
        limit = min(limit, program.max_mentees_per_mentor)
    return max(limit - load, 0)


def gather(session: Session, *, program: Program, now: datetime) -> Pool:
    """Read the program's profiles, pairs, pins and forbids into the solver's problem."""
    matching = matching_of(program)
    profiles = profiles_in(session, program_id=program.id)
    people = people_by_id(session, user_ids=[p.user_id for p in profiles])
    usable = [p for p in profiles if p.user_id in people and people[p.user_id].active]
    active = active_pairs_in(session, program_id=program.id)
    has_mentor = {pair.mentee_id for pair in active}
    load = Counter(pair.mentor_id for pair in active)
    waiting = [p for p in usable if p.role in MENTEE_ROLES]
    mentors = [p for p in usable if p.role in MENTOR_ROLES]
    constraints = constraints_in(session, program_id=program.id)
    since = now - timedelta(days=matching.cooldown_days)
    ended = ended_pairs_since(session, program_id=program.id, since=since) if matching.cooldown_days else {}
    paired = {(pair.mentor_id, pair.mentee_id) for pair in active}
    problem = Problem(
        mentees=[candidate(p) for p in waiting if p.user_id not in has_mentor],
        mentors=[candidate(p, capacity=free_places(p, program, load[p.user_id])) for p in mentors],
        rules=Rules.from_config(matching),
        bounds=_bounds(profiles, paired, constraints),
        pins=[(c.mentor_id, c.mentee_id) for c in constraints if c.kind == "pin"],
        cooldown=frozenset(key for key in ended if key not in paired),
    )
    return Pool(problem=problem, ended=ended, already_paired=len(waiting) - len(problem.mentees))


def _bounds(
    profiles: list[MatchingProfile], paired: set[tuple[str, str]], constraints: list[MatchConstraint]
) -> Bounds:
    """Active pairs in either direction, the coordinator's forbids, and the CSV's reporting lines."""
    return Bounds(
        paired=frozenset(paired | {(mentee, mentor) for mentor, mentee in paired}),
        forbidden=frozenset((c.mentor_id, c.mentee_id) for c in constraints if c.kind == "forbid"),
        reports_to={p.user_id: p.reports_to for p in profiles if p.reports_to},
    )
