"""What one mentee–mentor pair scores and why, and the hard rules that exclude a pair: one pair at a time.

This is the definition the explanations are built from and the reference the solver's whole-cohort
matrices (bot.matching.matrices) are tested against. A pair's score is the sum of its factors' points,
so what the coordinator and both people are told adds up to exactly what the solver maximised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.kernel.programs import MATCHING_CRITERIA, MUST, MatchingConfig
from bot.matching.terms import MAX_RANKS, norm

# Criteria that earn their weight once when shared; `focus` earns it per shared area, `ranking` by place.
COUNTED = "focus"
RANKED = "ranking"
FIELDS = {"format": "formats"}  # criterion -> Candidate field, where the names differ
REPORTING_DEPTH = 12  # how far up a reporting line is followed (and where a cycle in the CSV stops)


@dataclass(frozen=True)
class Candidate:
    """A profile as the solver sees it. `capacity`: places a mentor has free now (0 for mentees)."""

    user_id: str
    specialty: str = ""
    department: str = ""
    languages: tuple[str, ...] = ()
    trained_in: str = ""
    focus: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    capacity: int = 0
    ranked: tuple[str, ...] = ()
    avoid: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rules:
    """The program's `matching:` criteria and exclusions, as the solver applies them."""

    weights: Mapping[str, int] = field(default_factory=dict)  # criterion -> points (must criteria: absent)
    musts: frozenset[str] = frozenset()
    same_department: bool = False
    reporting_line: bool = True
    avoid_lists: bool = True

    @classmethod
    def from_config(cls, config: MatchingConfig) -> Rules:
        criteria = config.criteria.model_dump()
        return cls(
            weights={name: int(value) for name, value in criteria.items() if value != MUST and value},
            musts=frozenset(name for name, value in criteria.items() if value == MUST),
            same_department=config.exclusions.same_department,
            reporting_line=config.exclusions.reporting_line,
            avoid_lists=config.exclusions.avoid_lists,
        )

    @property
    def used(self) -> tuple[str, ...]:
        """The criteria that count, in the order explanations list them."""
        return tuple(name for name in MATCHING_CRITERIA if name in self.weights or name in self.musts)


@dataclass(frozen=True)
class Factor:
    """One reason a pair scores: the criterion, its points, and what the two share (words or a place)."""

    criterion: str
    points: int
    detail: str
    required: bool = False  # a "must" criterion: it earns nothing, it only lets the pair be made


def rank_points(weight: int, position: int) -> int:
    """The first choice earns the full weight, the second 2/3 of it, the third 1/3, rounded half up."""
    if not 1 <= position <= MAX_RANKS:
        return 0
    return (2 * weight * (MAX_RANKS + 1 - position) + MAX_RANKS) // (2 * MAX_RANKS)


def overlap(mine: Iterable[str], theirs: Iterable[str]) -> list[str]:
    """The items of `mine` that `theirs` has too, compared as people mean them, each once."""
    keys = {norm(item) for item in theirs if norm(item)}
    found: dict[str, str] = {}
    for item in mine:
        if norm(item) in keys:
            found.setdefault(norm(item), item)
    return list(found.values())


def shared(criterion: str, mentee: Candidate, mentor: Candidate) -> tuple[int, str]:
    """(how much the pair shares on `criterion`, in words): 0 means nothing; for ranking, the place."""
    if criterion == RANKED:
        ranked = list(dict.fromkeys(mentee.ranked))[:MAX_RANKS]
        return (ranked.index(mentor.user_id) + 1, "") if mentor.user_id in ranked else (0, "")
    mine, theirs = answer(mentee, criterion), answer(mentor, criterion)
    if isinstance(mine, str) and isinstance(theirs, str):
        return (1, mine) if norm(mine) and norm(mine) == norm(theirs) else (0, "")
    items = overlap(mine, theirs)
    return len(items), ", ".join(items)


def answer(candidate: Candidate, criterion: str) -> str | tuple[str, ...]:
    """A profile's answer for one criterion (ranking excepted)."""
    value: str | tuple[str, ...] = getattr(candidate, FIELDS.get(criterion, criterion))
    return value


def points(criterion: str, weight: int, amount: int) -> int:
    """Points for sharing `amount` on `criterion` at `weight`."""
    if criterion == RANKED:
        return rank_points(weight, amount)
    if criterion == COUNTED:
        return weight * amount
    return weight if amount else 0


def factors(mentee: Candidate, mentor: Candidate, rules: Rules) -> tuple[Factor, ...]:
    """Every criterion the pair shares, with its points; required ones earn 0 and say so."""
    found = []
    for criterion in rules.used:
        amount, detail = shared(criterion, mentee, mentor)
        if not amount:
            continue
        if criterion in rules.musts:
            found.append(Factor(criterion, 0, detail or str(amount), required=True))
        else:
            found.append(
                Factor(criterion, points(criterion, rules.weights[criterion], amount), detail or str(amount))
            )
    return tuple(found)


def score(mentee: Candidate, mentor: Candidate, rules: Rules) -> int:
    return sum(factor.points for factor in factors(mentee, mentor, rules))


@dataclass(frozen=True)
class Bounds:
    """What the program knows beyond the two profiles: pairs that may not be made, and reporting lines."""

    paired: frozenset[tuple[str, str]] = frozenset()  # (mentor, mentee) of active pairs, both directions
    forbidden: frozenset[tuple[str, str]] = frozenset()  # the coordinator's forbids
    reports_to: Mapping[str, str] = field(default_factory=dict)


def chain(user_id: str, reports_to: Mapping[str, str]) -> list[str]:
    """Everyone above `user_id` in the reporting line, nearest first (stops at a cycle)."""
    above: list[str] = []
    current = reports_to.get(user_id)
    while current and current not in above and current != user_id and len(above) < REPORTING_DEPTH:
        above.append(current)
        current = reports_to.get(current)
    return above


def exclusion(mentee: Candidate, mentor: Candidate, rules: Rules, bounds: Bounds) -> str | None:
    """Why this pair may never be proposed, or None. Codes: self, paired, forbidden, reporting,
    department, must:<criterion>, avoid.

    Avoid lists come last: when another rule also excludes the pair, that rule is the one reported,
    so an avoid list is named (as "a constraint") only when nothing else explains the exclusion.
    """
    pair = (mentor.user_id, mentee.user_id)
    if mentor.user_id == mentee.user_id:
        return "self"
    if pair in bounds.paired:
        return "paired"
    if pair in bounds.forbidden:
        return "forbidden"
    if rules.reporting_line and (
        mentor.user_id in chain(mentee.user_id, bounds.reports_to)
        or mentee.user_id in chain(mentor.user_id, bounds.reports_to)
    ):
        return "reporting"
    if (
        rules.same_department
        and norm(mentee.department)
        and norm(mentee.department) == norm(mentor.department)
    ):
        return "department"
    for criterion in sorted(rules.musts, key=MATCHING_CRITERIA.index):
        if not shared(criterion, mentee, mentor)[0]:
            return f"must:{criterion}"
    if rules.avoid_lists and (mentor.user_id in mentee.avoid or mentee.user_id in mentor.avoid):
        return "avoid"
    return None
