"""Why a pair was proposed, and why a mentee was not, in words: for the coordinator, and for each side.

Factors come from bot.matching.scoring and their points sum to the pair's score. Avoid lists are never a
factor, and an exclusion that only an avoid list explains is worded "excluded by a constraint".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.kernel.text import day_text, plural
from bot.matching.scoring import Factor
from bot.matching.solver import RefusedPin, Unmatched
from bot.matching.terms import FORMATS, TIMES, rank_word

CONSTRAINT = "excluded by a constraint"

# criterion -> (coordinator, mentee, mentor) wording; {d} is what the two share.
WORDS: dict[str, tuple[str, str, str]] = {
    "specialty": ("same specialty ({d})", "you are both in {d}", "you are both in {d}"),
    "department": ("same department ({d})", "you both work in {d}", "you both work in {d}"),
    "languages": ("shared language ({d})", "you both speak {d}", "you both speak {d}"),
    "trained_in": ("both trained in {d}", "you both trained in {d}", "you both trained in {d}"),
    "focus": (
        "mentor offers what the mentee asked for ({d})",
        "they offer what you asked for: {d}",
        "they asked for what you offer: {d}",
    ),
    "format": ("both can meet {d}", "you can both meet {d}", "you can both meet {d}"),
    "times": ("both free {d}", "you are both free {d}", "you are both free {d}"),
    "ranking": ("mentee ranked this mentor {d}", "you ranked them {d}", "they asked for you"),
}
AUDIENCES = ("coordinator", "mentee", "mentor")

EXCLUSIONS = {
    "self": "is themselves",
    "paired": "already paired with them",
    "forbidden": "forbidden by a coordinator",
    "reporting": "in their reporting line",
    "department": "in their department",
    "avoid": CONSTRAINT,
}
PIN_PROBLEMS = {
    "no-profile": "one of them has no matching profile (left, or never joined)",
    "taken": "the mentee is already pinned to another mentor",
    "full": "the mentor has no free place",
}


def _detail(factor: Factor) -> str:
    if factor.criterion == "ranking":
        return rank_word(int(factor.detail))
    if factor.criterion == "format":
        return " or ".join(FORMATS.get(key, key).lower() for key in factor.detail.split(", "))
    if factor.criterion == "times":
        return ", ".join(TIMES.get(key, key).lower() for key in factor.detail.split(", "))
    return factor.detail


def factor_text(factor: Factor, *, audience: str = "coordinator") -> str:
    """One factor in words with its points: "same specialty (Cardiology) +5"."""
    words = WORDS[factor.criterion][AUDIENCES.index(audience)].format(d=_detail(factor))
    if factor.criterion == "languages" and ", " in factor.detail:
        words = words.replace("shared language (", "shared languages (")
    if factor.required:
        return f"{words}, required"
    return f"{words} +{factor.points}"


def factors_text(factors: Sequence[Factor], *, audience: str = "coordinator", joiner: str = " · ") -> str:
    """All of a pair's factors; "nothing in particular" when they share nothing that counts."""
    if not factors:
        return "nothing in particular: the best place left"
    return joiner.join(factor_text(factor, audience=audience) for factor in factors)


def why_text(factors: Sequence[Factor], *, audience: str) -> str:
    """The "why you were matched" part of a welcome DM, for the mentee or the mentor."""
    total = sum(factor.points for factor in factors)
    lines = "\n".join(f"• {factor_text(factor, audience=audience)}" for factor in factors)
    if not factors:
        lines = "• the best fit among the mentors with a free place"
    return f"*Why you were matched* (score {total}, the sum of these)\n{lines}"


def exclusion_text(code: str) -> str:
    """An exclusion code in the coordinator's words; an avoid list only ever as "a constraint"."""
    if code.startswith("must:"):
        return f"don't share their {code.removeprefix('must:').replace('_', ' ')} (required)"
    return EXCLUSIONS.get(code, CONSTRAINT)


def unmatched_text(unmatched: Unmatched) -> str:
    """Why a mentee has no proposed mentor."""
    if unmatched.kind == "no-mentors":
        return "no mentor has a profile with a free place"
    if unmatched.kind == "full":
        fit = plural(unmatched.fitting, "mentor")
        return f"the {fit} who fit them {'has' if unmatched.fitting == 1 else 'have'} no free place left"
    reasons = ", ".join(f"{count} {exclusion_text(code)}" for code, count in unmatched.excluded)
    return f"no mentor may be theirs: {reasons}"


def refused_pin_text(pin: RefusedPin) -> str:
    why = PIN_PROBLEMS.get(pin.code) or exclusion_text(pin.code)
    return f"Pin <@{pin.mentor_id}> → <@{pin.mentee_id}> not kept: {why}."


def cooldown_text(ended_at: datetime, cooldown_days: int) -> str:
    return (
        f"paired before, until {day_text(ended_at)} (inside the {cooldown_days}-day cooldown): "
        "proposed because otherwise a mentee would be left unmatched"
    )
