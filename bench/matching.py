"""Whole-cohort matching: 300 mentees × 100 mentors and 2,000 × 600, solved by `bot.matching.solver.solve`.

Cohorts are seeded and realistic in shape: 12 specialties, 15 departments, up to three of 20 languages,
up to three of eight focus areas, two meeting formats, four time slots, mentor capacities 1-4, three
ranked mentors for most mentees, avoid lists for one person in ten, a reporting line for one in five,
recent pairs inside the cooldown, a few forbids and pins; the program's default weights plus the
same-department exclusion. Timed: the
scoring and exclusion matrices, the assignment, and each chosen pair's explanation (what a coordinator
waits for). Each size runs three times; the median is reported, and the runs must agree exactly.

Last line: `matching 300x100 X s (target 2 s, ratio R); 2000x600 Y s (target 30 s, ratio R)`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.kernel.programs import MatchingConfig  # noqa: E402
from bot.matching.scoring import Bounds, Candidate, Rules  # noqa: E402
from bot.matching.solver import Problem, Solution, solve  # noqa: E402

TARGETS = {(300, 100): 2.0, (2000, 600): 30.0}
SPECIALTIES = [f"Specialty {n}" for n in range(12)]
LANGUAGES = [f"Language {n}" for n in range(20)]
FOCUS = list(MatchingConfig().focus_areas)
FORMATS, TIMES = ["in-person", "video"], ["early", "daytime", "evening", "weekend"]


def person(rng: random.Random, user_id: str, everyone: list[str], *, mentor_ids: list[str]) -> Candidate:
    avoid = frozenset(rng.sample(everyone, 2)) if rng.random() < 0.1 else frozenset()
    return Candidate(
        user_id=user_id,
        specialty=rng.choice(SPECIALTIES),
        department=f"Department {rng.randrange(15)}",
        languages=tuple(rng.sample(LANGUAGES, rng.randint(1, 3))),
        trained_in=f"Country {rng.randrange(25)}",
        focus=tuple(rng.sample(FOCUS, rng.randint(1, 3))),
        formats=tuple(rng.sample(FORMATS, rng.randint(1, 2))),
        times=tuple(rng.sample(TIMES, rng.randint(1, 3))),
        capacity=rng.randint(1, 4) if not mentor_ids else 0,
        ranked=tuple(rng.sample(mentor_ids, 3)) if mentor_ids and rng.random() < 0.8 else (),
        avoid=avoid,
    )


def cohort(mentees: int, mentors: int, *, seed: int = 2026) -> Problem:
    rng = random.Random(seed)
    mentor_ids = [f"UR{n:05d}" for n in range(mentors)]
    mentee_ids = [f"UE{n:05d}" for n in range(mentees)]
    everyone = mentor_ids + mentee_ids
    mentor_rows = [person(rng, uid, everyone, mentor_ids=[]) for uid in mentor_ids]
    mentee_rows = [person(rng, uid, everyone, mentor_ids=mentor_ids) for uid in mentee_ids]
    some_pairs = [(rng.choice(mentor_ids), rng.choice(mentee_ids)) for _ in range(mentees // 10)]
    config = MatchingConfig.model_validate({"exclusions": {"same_department": True}})
    return Problem(
        mentees=mentee_rows,
        mentors=mentor_rows,
        rules=Rules.from_config(config),
        bounds=Bounds(
            forbidden=frozenset(some_pairs[: len(some_pairs) // 2]),
            reports_to={uid: rng.choice(mentor_ids) for uid in everyone if rng.random() < 0.2},
        ),
        pins=[(rng.choice(mentor_ids), mentee_ids[n]) for n in range(3)],
        cooldown=frozenset(some_pairs[len(some_pairs) // 2 :]),
    )


def timed(problem: Problem, runs: int) -> tuple[float, Solution]:
    seconds, solutions = [], []
    for _ in range(runs):
        started = time.perf_counter()
        solutions.append(solve(problem))
        seconds.append(time.perf_counter() - started)
    assert all(s == solutions[0] for s in solutions), "the solver is not deterministic"
    return statistics.median(seconds), solutions[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = []
    for (mentees, mentors), target in TARGETS.items():
        problem = cohort(mentees, mentors)
        seconds, solution = timed(problem, args.runs)
        places = sum(c.capacity for c in problem.mentors)
        print(
            f"{mentees} mentees x {mentors} mentors ({places} places): "
            f"{seconds:.2f} s median of {args.runs}; "
            f"{len(solution.matches)} matched, {len(solution.unmatched)} unmatched, total score "
            f"{solution.total_score}, {sum(m.cooldown for m in solution.matches)} inside the cooldown"
        )
        figures.append(
            f"{mentees}x{mentors} {seconds:.2f} s (target {target:g} s, ratio {seconds / target:.2f})"
        )
    print("matching " + "; ".join(figures))


if __name__ == "__main__":
    main()
