"""The optimal assignment of a whole cohort of mentees to mentors with capacities, and why anyone is left out.

Why SciPy's `linear_sum_assignment` over capacity-expanded columns, not a min-cost flow: a mentor with c
free places becomes c identical columns, which turns the capacitated problem into a plain rectangular
assignment that SciPy solves exactly (shortest augmenting paths, Crouse 2016) in compiled code. At the
sizes programs have (2,000 mentees × 600 mentors with a few places each) that is a matrix of a few
million cells solved in seconds; a min-cost flow would be asymptotically leaner for large capacities, but
the pure-Python ones (networkx) are one to two orders slower here, and OR-Tools is a heavy dependency for
one call. The result is exact, and deterministic: mentees and mentors are sorted by user id first, so the
same cohort gives the same proposal whatever order it was read in.

The objective is lexicographic, in one number per pair so that one assignment optimises all three:
1. match as many mentees as possible;
2. then use as few pairs inside the repeat cooldown as possible (such a pair is proposed only when,
   without it, one more mentee would be left unmatched);
3. then maximise the total score (the sum of every pair's factors, bot.matching.scoring).
A pair is worth BIG + score − COOL × in_cooldown, with COOL above any total score and BIG above any
cooldown total; an excluded pair is worth 0, which is the same as leaving the mentee unmatched.
Integer values below 2^53 keep the floating-point solver exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from bot.matching.matrices import Grid, build_grid
from bot.matching.scoring import Bounds, Candidate, Factor, Rules, exclusion, factors


@dataclass(frozen=True)
class Problem:
    """A cohort to match. `pins` and `cooldown` hold (mentor id, mentee id) pairs."""

    mentees: Sequence[Candidate]
    mentors: Sequence[Candidate]
    rules: Rules
    bounds: Bounds = field(default_factory=Bounds)
    pins: Sequence[tuple[str, str]] = ()
    cooldown: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Match:
    mentor_id: str
    mentee_id: str
    factors: tuple[Factor, ...]
    pinned: bool = False
    cooldown: bool = False

    @property
    def score(self) -> int:
        return sum(factor.points for factor in self.factors)


@dataclass(frozen=True)
class Unmatched:
    """A mentee left without a mentor. `kind`: no-mentors (none opted in with a place), full (`fitting`
    mentors would do, all their places went to others), excluded (`excluded` counts why each mentor
    may not be theirs, by exclusion code)."""

    mentee_id: str
    kind: str
    fitting: int = 0
    excluded: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class RefusedPin:
    """A coordinator's pin that could not be kept; `code`: an exclusion code, or no-profile / taken / full."""

    mentor_id: str
    mentee_id: str
    code: str


@dataclass(frozen=True)
class Solution:
    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    refused_pins: tuple[RefusedPin, ...] = ()

    @property
    def total_score(self) -> int:
        return sum(match.score for match in self.matches)

    @property
    def key(self) -> tuple[int, int, int]:
        """What the solver maximises, in order: mentees matched, −pairs in the cooldown, total score."""
        cooled = sum(1 for match in self.matches if match.cooldown and not match.pinned)
        return (len(self.matches), -cooled, self.total_score)


def solve(problem: Problem) -> Solution:
    """The best assignment under the lexicographic objective above; pins are kept first when allowed."""
    mentees = sorted(problem.mentees, key=lambda c: c.user_id)
    mentors = sorted(problem.mentors, key=lambda c: c.user_id)
    pinned, refused, places = _keep_pins(problem, mentees, mentors)
    taken = {match.mentee_id for match in pinned}
    free = [mentee for mentee in mentees if mentee.user_id not in taken]
    grid = build_grid(free, mentors, problem.rules, problem.bounds)
    cooled = _cooldown_flags(problem, free, mentors)
    chosen = _assign(grid, cooled, places)
    matches = [
        Match(
            mentor_id=mentors[j].user_id,
            mentee_id=free[i].user_id,
            factors=factors(free[i], mentors[j], problem.rules),
            cooldown=bool(cooled[i, j]),
        )
        for i, j in chosen
    ]
    matched_rows = {i for i, _ in chosen}
    unmatched = [_why_unmatched(free[i], grid, i, mentors) for i in range(len(free)) if i not in matched_rows]
    ordered = sorted([*pinned, *matches], key=lambda m: (m.mentee_id, m.mentor_id))
    return Solution(tuple(ordered), tuple(unmatched), tuple(refused))


def _keep_pins(
    problem: Problem, mentees: list[Candidate], mentors: list[Candidate]
) -> tuple[list[Match], list[RefusedPin], list[int]]:
    """Pins that respect every hard rule and capacity, in the order given; the places left per mentor."""
    by_mentee = {c.user_id: c for c in mentees}
    index = {c.user_id: j for j, c in enumerate(mentors)}
    places = [max(c.capacity, 0) for c in mentors]
    kept: list[Match] = []
    refused: list[RefusedPin] = []
    for mentor_id, mentee_id in problem.pins:
        mentee, j = by_mentee.get(mentee_id), index.get(mentor_id)
        code = _pin_problem(problem, mentee, j, mentors, places, kept)
        if code is not None or mentee is None or j is None:
            refused.append(RefusedPin(mentor_id, mentee_id, code or "no-profile"))
            continue
        places[j] -= 1
        factors_ = factors(mentee, mentors[j], problem.rules)
        cooldown = (mentor_id, mentee_id) in problem.cooldown
        kept.append(Match(mentor_id, mentee_id, factors_, pinned=True, cooldown=cooldown))
    return kept, refused, places


def _pin_problem(
    problem: Problem,
    mentee: Candidate | None,
    j: int | None,
    mentors: list[Candidate],
    places: list[int],
    kept: list[Match],
) -> str | None:
    if mentee is None or j is None:
        return "no-profile"
    if any(match.mentee_id == mentee.user_id for match in kept):
        return "taken"
    if places[j] <= 0:
        return "full"
    return exclusion(mentee, mentors[j], problem.rules, problem.bounds)


def _cooldown_flags(
    problem: Problem, mentees: list[Candidate], mentors: list[Candidate]
) -> npt.NDArray[np.bool_]:
    flags = np.zeros((len(mentees), len(mentors)), dtype=bool)
    rows = {c.user_id: i for i, c in enumerate(mentees)}
    columns = {c.user_id: j for j, c in enumerate(mentors)}
    for mentor_id, mentee_id in problem.cooldown:
        if mentee_id in rows and mentor_id in columns:
            flags[rows[mentee_id], columns[mentor_id]] = True
    return flags


def _assign(grid: Grid, cooled: npt.NDArray[np.bool_], places: list[int]) -> list[tuple[int, int]]:
    """(mentee row, mentor column) of the optimal assignment; mentors repeated once per free place."""
    scores, allowed = grid.scores, grid.allowed
    if scores.size == 0 or sum(places) == 0:
        return []
    cool = int(np.clip(scores.max(axis=1), 0, None).sum()) + 1  # above any total score
    big = cool * (scores.shape[0] + 1)  # above any total of cooldown penalties plus scores
    values = np.where(allowed, big + scores - cool * cooled.astype(np.int64), 0)
    owners = np.repeat(np.arange(len(places)), places)  # column -> mentor index
    expanded = values[:, owners].astype(np.float64)
    rows, columns = linear_sum_assignment(expanded, maximize=True)
    return sorted((int(i), int(owners[c])) for i, c in zip(rows, columns, strict=True) if expanded[i, c] > 0)


def _why_unmatched(mentee: Candidate, grid: Grid, row: int, mentors: list[Candidate]) -> Unmatched:
    if not mentors:
        return Unmatched(mentee.user_id, "no-mentors")
    codes = grid.codes[row]
    fitting = int((codes == 0).sum())
    if fitting:
        return Unmatched(mentee.user_id, "full", fitting=fitting)
    counted = Counter(grid.reasons[code - 1] for code in codes.tolist())
    ordered = sorted(counted.items(), key=lambda item: (-item[1], grid.reasons.index(item[0])))
    return Unmatched(mentee.user_id, "excluded", excluded=tuple(ordered))
