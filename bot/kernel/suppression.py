"""The anonymity threshold and the subtraction rule for every wellbeing and psychological-safety figure.

A *figure* is the mean of one metric over a set of answers: "wellbeing, week of 16 Nov, all mentees"
or "wellbeing, week of 16 Nov, mentees who met their mentor". Its group is the set of mentees whose
answer it averages. With `k = privacy.min_group_size`:

1. **Threshold.** A figure is shown only if at least `k` mentees answered for it.
2. **Subtraction.** Two shown figures about overlapping groups let a reader subtract one from the
   other: the figure for 6 answers this week minus the figure for the same 5 people plus one last
   week is, for stable answers, that one person's answer; a program mean minus the mean of the
   mentees who met their mentor gives the mean of those who did not. So a figure is shown only if,
   for every figure of the same metric already shown within `LOOKBACK_WEEKS` weeks (the span of one
   trend chart), the symmetric difference of the two groups is 0 (the same people) or at least `k`.
3. **Order.** Figures are decided oldest week first, and within a week the whole program before its
   sub-groups; the first figure keeps its place and the later one is hidden. The sub-groups of a
   week partition its answers, so any two of (program, met, did not) give the third: a split is
   shown only when the program figure and both sides pass, otherwise none of the split is.
   Decisions are frozen (``storage.models.digests.DigestFigure``) the first time they are made after
   the week's cutoff, so a figure once shown is shown the same way forever and later figures are
   checked against it.
4. **Purged weeks.** Once raw answers pass `privacy.retention_days` only anonymous weekly totals
   remain and who answered is gone. A figure not yet decided for such a week is hidden whenever it
   would have to be compared with a shown figure ("unknown"). A figure frozen while the answers
   still existed keeps its decision, but new figures can no longer be compared with it: with
   `retention_days` under 56 (the 8-week trend) the oldest weeks of a trend are not checked.

5. **Complementary disclosure.** A mentor sees each of their own mentees' wellbeing answers (the
   check-in tells the mentee so). A wellbeing figure shown to an audience that includes that mentor —
   a digest channel, App Home, a report — would let them subtract what they see from it: k answers of
   which they know k-1 give away the k-th. So a figure is shown only if it rests on at least `k`
   answers that *no single reader* sees individually: its size minus the most of its group any one
   mentor is (or was) paired with must reach `k`. The audience of a channel is not known to the bot, so
   every mentor of the program is assumed to be in it. Team-climate answers are seen by nobody
   individually, so nothing is subtracted for them.

The rule is pairwise: it blocks the direct differencing of two figures. It does not attempt to
block every linear combination of three or more figures; the digest keeps that space small by
showing one program figure per week and one split (met their mentor or not) for the newest week.
The outcome report, which sets a year of figures side by side, goes further: see `decide_people`
below (threshold, homogeneity, and every region of one, two or three figures' groups).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from itertools import combinations, groupby
from typing import Protocol

LOOKBACK_WEEKS = 7
GROUPS = ("all", "met", "not_met")

SHOWN, SMALL, OVERLAP, UNKNOWN, SEEN = "", "small", "overlap", "unknown", "seen"


@dataclass(frozen=True, order=True)
class FigureKey:
    week: date
    group_rank: int  # position in GROUPS: decides order within a week
    metric: str

    @property
    def group(self) -> str:
        return GROUPS[self.group_rank]


def figure_key(week: date, group: str, metric: str) -> FigureKey:
    return FigureKey(week, GROUPS.index(group), metric)


@dataclass(frozen=True)
class Decision:
    shown: bool
    reason: str  # SHOWN, SMALL, OVERLAP, UNKNOWN or SEEN


class Groups(Protocol):
    """Who is behind each figure: distinct mentees in a figure's group, and in two groups at once."""

    def size(self, key: FigureKey) -> int | None: ...

    def common(self, a: FigureKey, b: FigureKey) -> int | None: ...

    def seen(self, key: FigureKey) -> int | None:
        """The most mentees of the figure's group whose answers one reader (a mentor) sees individually;
        None when it cannot be known."""
        ...


def comparable(a: FigureKey, b: FigureKey) -> bool:
    """Whether a reader could set `a` beside `b`: the same metric, within one trend's span."""
    return a != b and a.metric == b.metric and abs((a.week - b.week).days) <= 7 * LOOKBACK_WEEKS


def safe_difference(symmetric_difference: int, min_group_size: int) -> bool:
    """A pair of figures is safe when their groups are the same people or differ by at least k."""
    return symmetric_difference == 0 or symmetric_difference >= min_group_size


def decide(
    key: FigureKey, size: int, *, shown: Iterable[FigureKey], groups: Groups, min_group_size: int
) -> Decision:
    """Decide one figure of `size` mentees against the figures already shown."""
    if size < min_group_size:
        return Decision(False, SMALL)
    seen = groups.seen(key)
    if seen is None:
        return Decision(False, UNKNOWN)
    if size - seen < min_group_size:
        return Decision(False, SEEN)
    for other in shown:
        if not comparable(key, other):
            continue
        common, other_size = groups.common(key, other), groups.size(other)
        if common is None or other_size is None:
            return Decision(False, UNKNOWN)
        if not safe_difference(size + other_size - 2 * common, min_group_size):
            return Decision(False, OVERLAP)
    return Decision(True, SHOWN)


def decide_all(
    answers: dict[FigureKey, int],
    *,
    frozen: dict[FigureKey, Decision],
    groups: Groups,
    min_group_size: int,
    purged: frozenset[date] = frozenset(),
) -> dict[FigureKey, Decision]:
    """Decide every figure in rule order; frozen decisions stand and new ones are checked against them.

    `answers` holds each figure's answer count, used as its size when who answered is unknown.
    Frozen figures of `purged` weeks (raw answers gone) can no longer be compared and are skipped.
    """
    decisions = dict(frozen)
    shown = [key for key, decision in frozen.items() if decision.shown and key.week not in purged]
    for _, week_keys in groupby(sorted(set(answers) - set(frozen)), key=lambda key: key.week):
        fresh = list(week_keys)
        for key in fresh:
            size = groups.size(key)
            decisions[key] = decide(
                key,
                answers[key] if size is None else size,
                shown=shown,
                groups=groups,
                min_group_size=min_group_size,
            )
            if decisions[key].shown:
                shown.append(key)
        for key in _split_to_withdraw(fresh, decisions):
            decisions[key] = Decision(False, OVERLAP)
            shown.remove(key)
    return decisions


def _split_to_withdraw(fresh: list[FigureKey], decisions: dict[FigureKey, Decision]) -> list[FigureKey]:
    """Sub-group figures to hide again so that a week shows its whole split or none of it.

    The groups partition the week's answers, so any two of (all, met, not_met) give the third:
    a split is shown only when the program figure and both sides are.
    """
    withdraw = []
    for key in fresh:
        if key.group == "all":
            continue
        family = [FigureKey(key.week, rank, key.metric) for rank in range(len(GROUPS))]
        if decisions[key].shown and not all(k in decisions and decisions[k].shown for k in family):
            withdraw.append(key)
    return withdraw


# --- Figures over named sets of people: the outcome report ---------------------------------------------
#
# The report shows few figures but sets them side by side for a whole year: quarters, sub-groups,
# participants against non-participants. There the pairwise rule above is not enough: with three
# figures A, B, C a reader can form A∩B−C or A−(B∪C) by combining them. Every set a reader can form
# from up to three figures by intersections and differences is a union of the *regions* of their Venn
# diagram, so a figure is shown only if, with every one or two figures of the same measure already
# shown, each non-empty region holds at least k people. A figure whose answers are all the same is
# hidden too: its mean is then each person's answer ("homogeneous").

HOMOGENEOUS, COMBINATION = "homogeneous", "combination"


@dataclass(frozen=True)
class PeopleFigure:
    """One figure the report would show: its measure, and who is behind it (None: no longer known)."""

    key: str  # unique within the report, e.g. "wellbeing 2026-Q3"
    measure: str  # only figures of one measure can be set against each other
    people: frozenset[str] | None
    homogeneous: bool = False


def regions(sets: Sequence[AbstractSet[str]]) -> list[frozenset[str]]:
    """The non-empty regions of the sets' Venn diagram: people grouped by which of the sets hold them."""
    found: dict[tuple[bool, ...], set[str]] = {}
    for person in set().union(*sets):
        found.setdefault(tuple(person in s for s in sets), set()).add(person)
    return [frozenset(members) for members in found.values()]


def combination_safe(
    candidate: AbstractSet[str], shown: Sequence[AbstractSet[str]], min_group_size: int
) -> bool:
    """Whether no set formed from the candidate and one or two shown figures holds 1..k-1 people."""
    for size in (1, 2):
        for others in combinations(shown, size):
            if any(len(region) < min_group_size for region in regions([candidate, *others])):
                return False
    return True


def decide_people(figures: Sequence[PeopleFigure], *, min_group_size: int) -> dict[str, Decision]:
    """Decide figures in the given order: a figure once shown keeps its place, later ones are checked
    against it. A figure whose people are no longer known (answers purged) cannot be checked: hidden."""
    decisions: dict[str, Decision] = {}
    shown: dict[str, list[frozenset[str]]] = {}
    for figure in figures:
        decisions[figure.key] = decision = _decide_person_figure(figure, shown, min_group_size)
        if decision.shown and figure.people is not None:
            shown.setdefault(figure.measure, []).append(figure.people)
    return decisions


def _decide_person_figure(
    figure: PeopleFigure, shown: dict[str, list[frozenset[str]]], min_group_size: int
) -> Decision:
    if figure.people is None:
        return Decision(False, UNKNOWN)
    if len(figure.people) < min_group_size:
        return Decision(False, SMALL)
    if figure.homogeneous:
        return Decision(False, HOMOGENEOUS)
    if not combination_safe(figure.people, shown.get(figure.measure, []), min_group_size):
        return Decision(False, COMBINATION)
    return Decision(True, SHOWN)
