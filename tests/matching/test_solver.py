from __future__ import annotations

import random
from collections import Counter

import numpy as np

from bot.matching.explain import CONSTRAINT, factors_text, unmatched_text
from bot.matching.matrices import build_grid
from bot.matching.scoring import Bounds, Candidate, Rules, exclusion, rank_points, score
from bot.matching.solver import Problem, Solution, solve
from tests.support.matching import brute_force_key, random_candidate, random_problem, random_rules

RULES = Rules(weights={"specialty": 5, "languages": 3, "ranking": 4})


def violations(problem: Problem, solution: Solution) -> list[str]:
    """Every hard rule or capacity the solution breaks (pins the coordinator made are rule-checked too)."""
    found = []
    places = {c.user_id: c.capacity for c in problem.mentors}
    mentees = {c.user_id: c for c in problem.mentees}
    mentors = {c.user_id: c for c in problem.mentors}
    for mentor_id, count in Counter(m.mentor_id for m in solution.matches).items():
        if count > places[mentor_id]:
            found.append(f"{mentor_id} has {count} mentees for {places[mentor_id]} places")
    for mentee_id, count in Counter(m.mentee_id for m in solution.matches).items():
        if count > 1:
            found.append(f"{mentee_id} matched {count} times")
    for match in solution.matches:
        code = exclusion(mentees[match.mentee_id], mentors[match.mentor_id], problem.rules, problem.bounds)
        if code is not None:
            found.append(f"{match.mentor_id} -> {match.mentee_id} is excluded ({code})")
    return found


def test_a_thousand_random_cohorts_reach_the_brute_force_optimum_without_breaking_a_rule() -> None:
    cooldown_used = pins_kept = unmatched = 0
    for seed in range(1000):
        problem = random_problem(seed)
        solution = solve(problem)
        assert solution.key == brute_force_key(problem, solution), f"seed {seed}"
        assert violations(problem, solution) == [], f"seed {seed}"
        kept = {(m.mentor_id, m.mentee_id) for m in solution.matches if m.pinned}
        refused = {(p.mentor_id, p.mentee_id) for p in solution.refused_pins}
        assert kept | refused == set(problem.pins), f"seed {seed}: a pin was neither kept nor refused"
        cooldown_used += sum(m.cooldown for m in solution.matches)
        pins_kept += len(kept)
        unmatched += len(solution.unmatched)
    # The instances exercise what they are meant to: cooldown fallbacks, pins and people left out.
    assert cooldown_used > 20 and pins_kept > 20 and unmatched > 200


def test_the_cohort_matrices_score_and_exclude_exactly_as_pair_by_pair_scoring() -> None:
    for seed in range(60):
        problem = random_problem(seed, max_side=14)
        grid = build_grid(problem.mentees, problem.mentors, problem.rules, problem.bounds)
        for i, mentee in enumerate(problem.mentees):
            for j, mentor in enumerate(problem.mentors):
                assert grid.scores[i, j] == score(mentee, mentor, problem.rules)
                code = exclusion(mentee, mentor, problem.rules, problem.bounds)
                shown = grid.reasons[grid.codes[i, j] - 1] if grid.codes[i, j] else None
                assert shown == code, f"seed {seed}: {mentee.user_id} / {mentor.user_id}"


def test_every_proposed_pairs_factors_add_up_to_its_score() -> None:
    for seed in range(200):
        problem = random_problem(seed)
        for match in solve(problem).matches:
            mentee = next(c for c in problem.mentees if c.user_id == match.mentee_id)
            mentor = next(c for c in problem.mentors if c.user_id == match.mentor_id)
            assert match.score == sum(f.points for f in match.factors) == score(mentee, mentor, problem.rules)


def test_the_same_cohort_read_in_any_order_gets_the_same_proposal() -> None:
    for seed in range(100):
        problem = random_problem(seed)
        rng = random.Random(seed)
        mentees, mentors = list(problem.mentees), list(problem.mentors)
        rng.shuffle(mentees)
        rng.shuffle(mentors)
        shuffled = Problem(mentees, mentors, problem.rules, problem.bounds, problem.pins, problem.cooldown)
        assert solve(shuffled) == solve(problem)


def test_the_ranking_earns_the_full_weight_for_a_first_choice_and_less_after() -> None:
    assert [rank_points(4, place) for place in (1, 2, 3, 4)] == [4, 3, 1, 0]
    assert [rank_points(6, place) for place in (1, 2, 3)] == [6, 4, 2]


def test_factors_read_as_words_a_coordinator_understands() -> None:
    mentee = Candidate("UE", specialty="Cardiology", languages=("Portuguese", "English"), ranked=("UR",))
    mentor = Candidate("UR", specialty="cardiology ", languages=("portuguese",), capacity=1)
    [match] = solve(Problem([mentee], [mentor], RULES)).matches
    assert factors_text(match.factors, joiner="; ") == (
        "same specialty (Cardiology) +5; shared language (Portuguese) +3; mentee ranked this mentor first +4"
    )
    assert match.score == 12


def test_a_pair_inside_the_cooldown_is_proposed_only_when_a_mentee_would_otherwise_be_unmatched() -> None:
    mentees = [Candidate("UE1", specialty="Surgery"), Candidate("UE2", specialty="Surgery")]
    mentors = [Candidate("UR1", specialty="Surgery", capacity=1), Candidate("UR2", capacity=1)]
    recent = frozenset({("UR1", "UE1")})
    spare = solve(
        Problem(
            mentees, [*mentors, Candidate("UR3", specialty="Surgery", capacity=1)], RULES, cooldown=recent
        )
    )
    assert ("UR1", "UE1") not in {(m.mentor_id, m.mentee_id) for m in spare.matches}
    assert len(spare.matches) == 2 and not any(m.cooldown for m in spare.matches)
    # UE1 could only ever have UR1 once UE2 takes UR2... unless UE1 has nobody else at all:
    alone = solve(Problem([mentees[0]], [mentors[0]], RULES, cooldown=recent))
    assert [(m.mentor_id, m.cooldown) for m in alone.matches] == [("UR1", True)]


def test_a_must_criterion_filters_and_explains_who_is_left_out() -> None:
    rules = Rules(weights={"languages": 3}, musts=frozenset({"specialty"}))
    mentee = Candidate("UE", specialty="Psychiatry", languages=("Hindi",))
    mentors = [Candidate("UR1", specialty="Surgery", languages=("Hindi",), capacity=2)]
    solution = solve(Problem([mentee], mentors, rules))
    assert solution.matches == ()
    assert (
        unmatched_text(solution.unmatched[0])
        == "no mentor may be theirs: 1 don't share their specialty (required)"
    )


def test_an_avoid_list_is_never_named_only_a_constraint() -> None:
    mentee = Candidate("UE", specialty="Surgery", avoid=frozenset({"UR1"}))
    mentors = [Candidate("UR1", specialty="Surgery", capacity=1)]
    solution = solve(Problem([mentee], mentors, RULES))
    text = unmatched_text(solution.unmatched[0])
    assert text == f"no mentor may be theirs: 1 {CONSTRAINT}"
    assert "avoid" not in text
    # When another rule also excludes the pair, that rule is the one given.
    rules = Rules(weights={"specialty": 5}, same_department=True)
    both = Candidate("UE", department="ICU", avoid=frozenset({"UR1"}))
    assert exclusion(both, Candidate("UR1", department="icu"), rules, Bounds()) == "department"


def test_full_mentors_and_an_empty_pool_each_say_why() -> None:
    mentees = [Candidate("UE1", specialty="Surgery"), Candidate("UE2", specialty="Surgery")]
    solution = solve(Problem(mentees, [Candidate("UR1", capacity=1)], RULES))
    assert [unmatched_text(u) for u in solution.unmatched] == [
        "the 1 mentor who fit them has no free place left"
    ]
    nobody = solve(Problem(mentees, [], RULES))
    assert {unmatched_text(u) for u in nobody.unmatched} == {"no mentor has a profile with a free place"}


def test_a_reporting_line_excludes_a_mentor_anywhere_above_the_mentee() -> None:
    rules = Rules(weights={"specialty": 5})
    bounds = Bounds(reports_to={"UE": "UBOSS", "UBOSS": "UCHIEF", "UCHIEF": "UE"})  # a cycle in the CSV, too
    mentee = Candidate("UE", specialty="Surgery")
    assert (
        exclusion(mentee, Candidate("UCHIEF", specialty="Surgery", capacity=1), rules, bounds) == "reporting"
    )
    assert exclusion(mentee, Candidate("UPEER", specialty="Surgery", capacity=1), rules, bounds) is None


def test_large_random_cohorts_keep_every_rule() -> None:
    rng = random.Random(7)
    mentor_ids = [f"UR{j}" for j in range(60)]
    mentors = [random_candidate(rng, uid, capacity=rng.randint(0, 4)) for uid in mentor_ids]
    mentees = [random_candidate(rng, f"UE{i}", ranked=mentor_ids) for i in range(200)]
    problem = Problem(mentees, mentors, random_rules(rng), Bounds(reports_to={"UE1": "UR1"}))
    solution = solve(problem)
    assert violations(problem, solution) == []
    grid = build_grid(
        sorted(mentees, key=lambda c: c.user_id),
        sorted(mentors, key=lambda c: c.user_id),
        problem.rules,
        problem.bounds,
    )
    assert int(np.count_nonzero(grid.allowed)) > 0
