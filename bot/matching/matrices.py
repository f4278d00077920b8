"""The whole cohort at once: every mentee × mentor score and exclusion as NumPy matrices.

Scoring 2,000 × 600 pairs one at a time in Python (bot.matching.scoring) takes seconds; here each
criterion is one array operation: codes compared for equality, shared-item counts as one product of
multi-hot matrices. The results are the same numbers pair for pair (tests check it on random cohorts);
explanations of the chosen pairs are still built one pair at a time, from scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.kernel.programs import MATCHING_CRITERIA
from bot.matching.scoring import COUNTED, RANKED, Bounds, Candidate, Rules, answer, chain, rank_points
from bot.matching.terms import MAX_RANKS, norm

IntGrid = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
SINGLE = ("specialty", "department", "trained_in")  # one answer each; the rest are lists


@dataclass(frozen=True)
class Grid:
    """`scores[i, j]`: mentee i with mentor j; `codes[i, j]`: 0 when the pair may be made, else
    1 + the index in `reasons` of the first rule that excludes it (bot.matching.scoring.exclusion)."""

    scores: IntGrid
    codes: npt.NDArray[np.int8]
    reasons: tuple[str, ...]

    @property
    def allowed(self) -> Flags:
        flags: Flags = self.codes == 0
        return flags


def reason_codes(rules: Rules) -> tuple[str, ...]:
    """The exclusion rules in the order scoring.exclusion applies them."""
    musts = tuple(f"must:{name}" for name in MATCHING_CRITERIA if name in rules.musts)
    return ("self", "paired", "forbidden", "reporting", "department", *musts, "avoid")


def build_grid(
    mentees: Sequence[Candidate], mentors: Sequence[Candidate], rules: Rules, bounds: Bounds
) -> Grid:
    """Scores and exclusion codes of every pair."""
    amounts = {name: amount_matrix(name, mentees, mentors) for name in rules.used}
    scores = np.zeros((len(mentees), len(mentors)), dtype=np.int64)
    for name, weight in rules.weights.items():
        scores += points_matrix(name, weight, amounts[name])
    reasons = reason_codes(rules)
    codes = np.zeros((len(mentees), len(mentors)), dtype=np.int8)
    for index, excluded in enumerate(_exclusions(reasons, mentees, mentors, rules, bounds, amounts)):
        codes[(codes == 0) & excluded] = index + 1
    return Grid(scores=scores, codes=codes, reasons=reasons)


def amount_matrix(name: str, mentees: Sequence[Candidate], mentors: Sequence[Candidate]) -> IntGrid:
    """What each pair shares on one criterion (scoring.shared's number): 0/1, a count, or a rank."""
    if name == RANKED:
        return _rank_places(mentees, mentors)
    if name in SINGLE:
        vocabulary: dict[str, int] = {}
        mine = _codes([str(answer(c, name)) for c in mentees], vocabulary)
        theirs = _codes([str(answer(c, name)) for c in mentors], vocabulary)
        same: IntGrid = ((mine[:, None] == theirs[None, :]) & (mine[:, None] >= 0)).astype(np.int64)
        return same
    vocabulary = {}
    mine_sets = [_keys(answer(c, name)) for c in mentees]
    theirs_sets = [_keys(answer(c, name)) for c in mentors]
    for keys in (*mine_sets, *theirs_sets):
        for key in keys:
            vocabulary.setdefault(key, len(vocabulary))
    left, right = _multi_hot(mine_sets, vocabulary), _multi_hot(theirs_sets, vocabulary)
    counts: IntGrid = np.rint(left @ right.T).astype(np.int64)
    return counts


def points_matrix(name: str, weight: int, amounts: IntGrid) -> IntGrid:
    """scoring.points for every pair."""
    if name == RANKED:
        table = np.array([rank_points(weight, place) for place in range(MAX_RANKS + 1)], dtype=np.int64)
        return table[amounts]
    if name == COUNTED:
        return weight * amounts
    once: IntGrid = weight * (amounts > 0).astype(np.int64)
    return once


def _keys(items: Sequence[str]) -> set[str]:
    return {norm(item) for item in items if norm(item)}


def _codes(values: list[str], vocabulary: dict[str, int]) -> npt.NDArray[np.int64]:
    codes = [vocabulary.setdefault(norm(v), len(vocabulary)) if norm(v) else -1 for v in values]
    return np.array(codes, dtype=np.int64)


def _multi_hot(sets: list[set[str]], vocabulary: dict[str, int]) -> npt.NDArray[np.float32]:
    matrix = np.zeros((len(sets), max(len(vocabulary), 1)), dtype=np.float32)
    for row, keys in enumerate(sets):
        matrix[row, [vocabulary[key] for key in keys]] = 1.0
    return matrix


def _rank_places(mentees: Sequence[Candidate], mentors: Sequence[Candidate]) -> IntGrid:
    column = {mentor.user_id: j for j, mentor in enumerate(mentors)}
    places = np.zeros((len(mentees), len(mentors)), dtype=np.int64)
    for i, mentee in enumerate(mentees):
        for place, user_id in enumerate(list(dict.fromkeys(mentee.ranked))[:MAX_RANKS], start=1):
            if user_id in column:
                places[i, column[user_id]] = place
    return places


def _exclusions(
    reasons: tuple[str, ...],
    mentees: Sequence[Candidate],
    mentors: Sequence[Candidate],
    rules: Rules,
    bounds: Bounds,
    amounts: dict[str, IntGrid],
) -> list[Flags]:
    """One matrix per reason code, in `reasons` order: True where that rule excludes the pair."""
    rows = {c.user_id: i for i, c in enumerate(mentees)}
    columns = {c.user_id: j for j, c in enumerate(mentors)}
    shape = (len(mentees), len(mentors))
    found = {
        "self": _cells(shape, [(rows[uid], columns[uid]) for uid in rows.keys() & columns.keys()]),
        "paired": _pairs(shape, bounds.paired, rows, columns),
        "forbidden": _pairs(shape, bounds.forbidden, rows, columns),
        "reporting": _reporting(shape, mentees, mentors, rows, columns, bounds)
        if rules.reporting_line
        else np.zeros(shape, dtype=bool),
        "department": amount_matrix("department", mentees, mentors) > 0
        if rules.same_department
        else np.zeros(shape, dtype=bool),
        "avoid": _avoided(shape, mentees, mentors, rows, columns)
        if rules.avoid_lists
        else np.zeros(shape, dtype=bool),
    }
    for name in rules.musts:
        found[f"must:{name}"] = amounts[name] == 0
    return [found[reason] for reason in reasons]


def _cells(shape: tuple[int, int], cells: list[tuple[int, int]]) -> Flags:
    flags = np.zeros(shape, dtype=bool)
    for i, j in cells:
        flags[i, j] = True
    return flags


def _pairs(
    shape: tuple[int, int], pairs: frozenset[tuple[str, str]], rows: dict[str, int], columns: dict[str, int]
) -> Flags:
    return _cells(
        shape,
        [(rows[mentee], columns[mentor]) for mentor, mentee in pairs if mentee in rows and mentor in columns],
    )


def _reporting(
    shape: tuple[int, int],
    mentees: Sequence[Candidate],
    mentors: Sequence[Candidate],
    rows: dict[str, int],
    columns: dict[str, int],
    bounds: Bounds,
) -> Flags:
    # A mentor anywhere above the mentee in the reporting line, or the mentee above the mentor.
    cells = [
        (i, columns[boss])
        for i, c in enumerate(mentees)
        for boss in chain(c.user_id, bounds.reports_to)
        if boss in columns
    ]
    cells += [
        (rows[boss], j)
        for j, c in enumerate(mentors)
        for boss in chain(c.user_id, bounds.reports_to)
        if boss in rows
    ]
    return _cells(shape, cells)


def _avoided(
    shape: tuple[int, int],
    mentees: Sequence[Candidate],
    mentors: Sequence[Candidate],
    rows: dict[str, int],
    columns: dict[str, int],
) -> Flags:
    cells = [(i, columns[uid]) for i, c in enumerate(mentees) for uid in c.avoid if uid in columns]
    cells += [(rows[uid], j) for j, c in enumerate(mentors) for uid in c.avoid if uid in rows]
    return _cells(shape, cells)
