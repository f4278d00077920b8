"""Scoring one person's answers to one instrument by its published rules.

Reverse-scored items count as (min + max - answer), so a higher score always means more of the
construct's positive pole (safer team, more skilled mentor) — except Mini-Z, whose single item is
scored as answered (higher is more burnout) and whose cut-off (3 or more) is the published rule.
Answers of None are "not applicable": left out, and the score needs `scoring.min_answered` answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from bot.instruments.catalog import Instrument


class InvalidAnswers(ValueError):
    """An answer names an item the instrument does not have, or lies off its scale."""


@dataclass(frozen=True)
class Score:
    value: float | None  # None: too few items answered to score
    answered: int
    band: str | None  # the highest cut-off reached, if the instrument has cut-offs
    domains: dict[str, float]  # domain means, for instruments whose items have domains


def item_score(instrument: Instrument, number: int, answer: int) -> int:
    """One answer as it counts toward the score (reverse items flipped)."""
    scale = instrument.scale
    if not 1 <= number <= len(instrument.items):
        raise InvalidAnswers(f"{instrument.id} has no item {number}")
    if not scale.min <= answer <= scale.max:
        raise InvalidAnswers(
            f"{instrument.id} item {number}: {answer} is off the {scale.min}-{scale.max} scale"
        )
    return scale.min + scale.max - answer if instrument.items[number - 1].reverse else answer


def score(instrument: Instrument, answers: Mapping[int, int | None]) -> Score:
    """Score a set of answers (item number -> answer, None for not applicable)."""
    scored = {n: item_score(instrument, n, a) for n, a in answers.items() if a is not None}
    if len(scored) < instrument.scoring.min_answered:
        return Score(None, len(scored), None, {})
    value = float(Fraction(sum(scored.values()), len(scored)))
    return Score(value, len(scored), band_of(instrument, value), _domains(instrument, scored))


def band_of(instrument: Instrument, value: float) -> str | None:
    """The label of the highest cut-off the value reaches."""
    reached = [c for c in instrument.scoring.cutoffs if value >= c.at_least]
    return max(reached, key=lambda c: c.at_least).label if reached else None


def _domains(instrument: Instrument, scored: Mapping[int, int]) -> dict[str, float]:
    found: dict[str, list[int]] = {}
    for number, value in scored.items():
        domain = instrument.items[number - 1].domain
        if domain is not None:
            found.setdefault(domain, []).append(value)
    return {domain: sum(values) / len(values) for domain, values in found.items()}
