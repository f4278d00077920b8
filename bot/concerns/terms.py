"""The words of the concerns feature: categories, statuses, routes, limits and the arrival week."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from storage.models import Concern

MAX_TEXT = 3000
EXCERPT = 200

CATEGORIES: dict[str, str] = {
    "psychological_safety": "Psychological safety",
    "disrespect": "Disrespect, bias or discrimination",
    "workload": "Workload and fatigue",
    "supervision": "Supervision and learning",
    "patient_safety": "Patient safety",
    "other": "Other",
}
# Raised with one of these, a concern is urgent whatever the sender chose.
URGENT_CATEGORIES = frozenset({"patient_safety"})

STATUSES: dict[str, str] = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "closed": "Closed by the sender",
}


class Route(StrEnum):
    """Where a new concern goes."""

    DIGEST = "digest"  # routine: the coordinators' list and weekly digest
    COORDINATORS_NOW = "coordinators"  # urgent: the coordinator channel at once
    ESCALATION_NOW = "escalation"  # involves the mentor or a coordinator: the escalation contact at once
    ESCALATION_WAITING = "escalation_waiting"  # ...but the program has no escalation contact yet


def week_of(now: datetime, program: Program) -> date:
    """The Monday of `now`'s week in the program's timezone: the finest time a concern carries."""
    local = now.astimezone(program.tz).date()
    return local - timedelta(days=local.weekday())


def program_day(now: datetime, program: Program) -> date:
    return now.astimezone(program.tz).date()


def week_label(week: date) -> str:
    return f"week of {week:%b} {week.day}, {week:%Y}"


def excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def case_ref(concern_id: str) -> str:
    """A short handle coordinators can say aloud; random, so it reveals no order."""
    return concern_id[:8]


def program_of(deps: Deps, concern: Concern) -> Program:
    """The concern's program as programs.yml has it now; a refusal when it has been removed."""
    program = deps.programs.get(concern.program_id)
    if program is None:
        raise NotAllowed(f"Program `{concern.program_id}` is no longer in programs.yml.")
    return program
