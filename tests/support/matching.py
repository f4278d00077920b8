"""Matching helpers: seeded random cohorts, an exhaustive reference solver, and profiles written for tests."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.matching import blocks
from bot.matching.profiles import ProfileSpec
from bot.matching.proposals import ProposalView, ShownPair
from bot.matching.scoring import Bounds, Candidate, Rules, exclusion, score
from bot.matching.solver import Problem, Solution
from bot.matching.terms import FORMATS, TIMES
from storage.models import Person
from storage.repositories.matching import save_profile
from tests.support.factories import add_person

SPECIALTIES = ("Cardiology", "Internal medicine", "Pediatrics", "Psychiatry", "Surgery", "Emergency medicine")
LANGUAGES = ("English", "Portuguese", "Spanish", "Hindi", "Yoruba", "Arabic", "French", "Tagalog")
COUNTRIES = ("Nigeria", "India", "Brazil", "Philippines", "Egypt", "USA")
FOCUS = ("Clinical reasoning", "Documentation and EHR", "Cultural fluency", "Ethics", "Wellbeing", "Career")


def random_candidate(
    rng: random.Random, user_id: str, *, capacity: int = 0, ranked: Sequence[str] = ()
) -> Candidate:
    """A profile drawn from small vocabularies, so that pairs often share something."""
    return Candidate(
        user_id=user_id,
        specialty=rng.choice(SPECIALTIES),
        department=f"Dept {rng.randrange(6)}",
        languages=tuple(rng.sample(LANGUAGES, rng.randint(1, 3))),
        trained_in=rng.choice(COUNTRIES),
        focus=tuple(rng.sample(FOCUS, rng.randint(0, 3))),
        formats=tuple(rng.sample(list(FORMATS), rng.randint(1, 2))),
        times=tuple(rng.sample(list(TIMES), rng.randint(1, 3))),
        capacity=capacity,
        ranked=tuple(rng.sample(list(ranked), min(len(ranked), rng.randint(0, 3)))),
    )


def random_rules(rng: random.Random) -> Rules:
    names = ["specialty", "languages", "trained_in", "focus", "format", "times", "ranking", "department"]
    weights = {name: rng.randint(0, 6) for name in names}
    musts = frozenset(name for name in names if rng.random() < 0.08)
    same_department = rng.random() < 0.3
    if same_department:
        weights.pop("department")
    return Rules(
        weights={name: w for name, w in weights.items() if w and name not in musts},
        musts=musts,
        same_department=same_department,
        reporting_line=rng.random() < 0.7,
        avoid_lists=rng.random() < 0.8,
    )


def random_problem(seed: int, *, max_side: int = 8) -> Problem:
    """Up to max_side mentees and mentors, capacities 0-3, avoid lists, reporting lines, forbids, cooldowns,
    people who are both mentor and mentee, active pairs, and now and then a pin."""
    rng = random.Random(seed)
    mentor_ids = [f"UR{j}" for j in range(rng.randint(1, max_side))]
    mentee_ids = [f"UE{i}" for i in range(rng.randint(1, max_side))]
    if rng.random() < 0.3:  # someone who is both
        mentee_ids[0] = mentor_ids[0]
    mentors = [random_candidate(rng, uid, capacity=rng.randint(0, 3)) for uid in mentor_ids]
    mentees = [random_candidate(rng, uid, ranked=mentor_ids) for uid in mentee_ids]
    everyone = sorted(set(mentor_ids) | set(mentee_ids))
    mentees = [_with_avoid(rng, c, everyone) for c in mentees]
    mentors = [_with_avoid(rng, c, everyone) for c in mentors]
    all_pairs = [(mr, me) for mr in mentor_ids for me in mentee_ids]
    pins = [rng.choice(all_pairs)] if rng.random() < 0.2 else []
    return Problem(
        mentees=mentees,
        mentors=mentors,
        rules=random_rules(rng),
        bounds=Bounds(
            paired=frozenset(p for p in all_pairs if rng.random() < 0.04),
            forbidden=frozenset(p for p in all_pairs if rng.random() < 0.06),
            reports_to={uid: rng.choice(everyone) for uid in everyone if rng.random() < 0.2},
        ),
        pins=pins,
        cooldown=frozenset(p for p in all_pairs if rng.random() < 0.1),
    )


def _with_avoid(rng: random.Random, candidate: Candidate, everyone: list[str]) -> Candidate:
    if rng.random() > 0.3:
        return candidate
    avoid = frozenset(rng.sample(everyone, rng.randint(1, min(2, len(everyone)))))
    return Candidate(**{**candidate.__dict__, "avoid": avoid})


def brute_force_key(problem: Problem, solution: Solution) -> tuple[int, int, int]:
    """The best (mentees matched, −cooldown pairs, total score) over every assignment, by exhaustive search
    (memoised on the places left); the pins `solution` kept are fixed, as the solver fixes them."""
    pinned = [m for m in solution.matches if m.pinned]
    places = {c.user_id: max(c.capacity, 0) for c in problem.mentors}
    for match in pinned:
        places[match.mentor_id] -= 1
    mentors = sorted(problem.mentors, key=lambda c: c.user_id)
    taken = {m.mentee_id for m in pinned}
    mentees = [c for c in problem.mentees if c.user_id not in taken]
    value = {
        (i, j): (
            1,
            -int((mentor.user_id, mentee.user_id) in problem.cooldown),
            score(mentee, mentor, problem.rules),
        )
        for i, mentee in enumerate(mentees)
        for j, mentor in enumerate(mentors)
        if exclusion(mentee, mentor, problem.rules, problem.bounds) is None
    }

    @cache
    def best(i: int, left: tuple[int, ...]) -> tuple[int, int, int]:
        if i == len(mentees):
            return (0, 0, 0)
        options = [best(i + 1, left)]
        for j in range(len(mentors)):
            if left[j] > 0 and (i, j) in value:
                rest = best(i + 1, left[:j] + (left[j] - 1,) + left[j + 1 :])
                options.append(tuple(a + b for a, b in zip(value[i, j], rest, strict=True)))  # type: ignore[misc]
        return max(options)

    found = best(0, tuple(places[c.user_id] for c in mentors))
    fixed = (len(pinned), 0, sum(m.score for m in pinned))
    return (found[0] + fixed[0], found[1] + fixed[1], found[2] + fixed[2])


def add_profile(
    deps: Deps,
    user_id: str,
    *,
    program_id: str = "img-2026",
    role: str = "mentee",
    avoid: Sequence[str] | None = None,
    now: datetime | None = None,
    **answers: object,
) -> None:
    """A matching profile (and its person row) saved through the repository, as an import saves one."""
    now = now or deps.clock()
    add_person(deps, user_id, now=now)
    fields = {"role": role, "capacity": 2 if role != "mentee" else 0, **answers}
    with deps.sessions.begin() as session:
        save_profile(
            session,
            program_id=program_id,
            user_id=user_id,
            answers=fields,
            avoid=avoid,
            source="import",
            now=now,
        )


def fill(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """`view` as Slack sends it back on submit, with `answers` (block id -> value, values, or user ids)
    chosen in its inputs; inputs not answered keep their initial value."""
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
    options = {option["value"]: option for option in element.get("options", [])}
    if kind in ("static_select", "radio_buttons"):
        chosen = options[answer] if answer else element.get("initial_option")
        return {"type": kind, "selected_option": chosen}
    if kind in ("multi_static_select", "checkboxes"):
        chosen = [options[a] for a in answer] if answer is not None else element.get("initial_options", [])
        return {"type": kind, "selected_options": chosen}
    if kind == "multi_users_select":
        return {
            "type": kind,
            "selected_users": answer if answer is not None else element.get("initial_users", []),
        }
    if kind == "users_select":
        return {"type": kind, "selected_user": answer}
    return {"type": kind, "value": answer if answer is not None else element.get("initial_value")}


def matching_surfaces(program: Program) -> list[dict[str, Any]]:
    """Every matching surface with something to press or submit (for tests/app/test_listeners.py): the
    profile modal, App Home's buttons, and a proposal modal on a middle page with pins to clear."""
    spec = ProfileSpec(
        program_id=program.id,
        program_name=program.name,
        answers=None,
        focus_areas=("Ethics",),
        mentors=(("1", "Ana Mendes"),),
        ask_avoid=True,
        default_capacity=2,
    )
    pairs = tuple(
        ShownPair(
            row_id=n + 1, mentor_id="U0MENTOR1", mentee_id=f"U0E{n}", score=3, factors=(), pinned=n == 0
        )
        for n in range(blocks.PAGE_SIZE * 3)
    )
    proposal = ProposalView(
        id=1,
        program=program,
        status="open",
        mentees=90,
        mentors=30,
        pairs=pairs,
        unmatched=(),
        notes=(),
        pins=(("U0MENTOR1", "U0E0"),),
    )
    home = [
        blocks.actions(
            [
                blocks.join_button(program.id, joined=True, program_name=program.name),
                blocks.leave_button(program.id, program.name),
            ]
        ),
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "x"},
            "accessory": blocks.propose_button(program.id, program.name),
        },
    ]
    return [blocks.profile_modal(spec), *home, blocks.proposal_modal(proposal, page=1)]


def join_modal(
    slack: SlackRequestSender, fake: FakeSlack, user_id: str, text: str = "join"
) -> dict[str, Any]:
    """Type `/mentorship join …` as `user_id` over signed HTTP; the profile modal Slack then shows them."""
    opened = len(fake.calls_to("views.open", ok_only=True))
    status, body, _ = slack.command("/mentorship", text, user_id=user_id)
    assert status == 200 and not body, f"the ack said: {body}"
    fake.wait_for(lambda: len(fake.calls_to("views.open", ok_only=True)) > opened, what="the profile modal")
    view = fake.views[-1]
    assert view["callback_id"] == blocks.PROFILE_CALLBACK
    return view


def submit(
    slack: SlackRequestSender, user_id: str, view: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    """Submit `view` with `answers` as `user_id`; the ack's JSON (response_action and the rest)."""
    status, body, _ = slack.view_submission(user_id, view=fill(view, answers))
    assert status == 200
    reply: dict[str, Any] = json.loads(body) if body else {}
    return reply


def seed_cohort(
    deps: Deps, *, mentees: int, mentors: int, seed: int = 1, program_id: str = "img-2026"
) -> None:
    """A random cohort written in bulk: people with long names and profiles with long answers, so that
    what Slack is shown is as large as a real cohort's can be."""
    rng = random.Random(seed)
    now = deps.clock()
    mentor_ids = [f"U0BR{j:05d}" for j in range(mentors)]
    rows: list[tuple[str, Candidate, str]] = [
        (uid, random_candidate(rng, uid, capacity=rng.randint(1, 3)), "mentor") for uid in mentor_ids
    ]
    rows += [
        (uid, random_candidate(rng, uid, ranked=mentor_ids), "mentee")
        for uid in (f"U0BE{i:05d}" for i in range(mentees))
    ]
    with deps.sessions.begin() as session:
        session.add_all(
            Person(
                id=uid,
                display_name=uid,
                real_name=f"Dr. {uid} " + "Long-Family-Name " * 5,
                first_seen_at=now,
                active=True,
            )
            for uid, _, _ in rows
        )
        session.flush()
        for uid, candidate, role in rows:
            answers = {
                "role": role,
                "specialty": (candidate.specialty + " and allied subspecialties " * 3)[:80],
                "department": candidate.department,
                "languages": list(candidate.languages),
                "trained_in": candidate.trained_in,
                "focus": list(candidate.focus),
                "formats": list(candidate.formats),
                "times": list(candidate.times),
                "capacity": candidate.capacity,
                "ranked": list(candidate.ranked),
            }
            save_profile(
                session,
                program_id=program_id,
                user_id=uid,
                answers=answers,
                avoid=None,
                source="import",
                now=now,
            )
