"""The words of ideas and PDSA cycles: stages, steps, choices and limits, defined once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

MAX_SUMMARY = 150
MAX_TEXT = 2000
MAX_TEST_DAYS = 180  # how far ahead a test may be planned
NUDGE_HOUR = 9  # the reminder for a passed test date comes the morning after, in the author's timezone

# Stages an idea passes through; each names what has been done last.
RAISED = "raised"  # recorded, no test planned yet
PLANNED = "planned"  # Plan recorded: a test is coming
TESTED = "tested"  # Do recorded: the test happened
STUDIED = "studied"  # Study recorded: the result was compared with the prediction
ADAPTED = "adapted"  # Act: adapt — the next cycle is to be planned
ADOPTED = "adopted"  # Act: adopt
ABANDONED = "abandoned"  # Act: abandon

STAGE_LABELS: dict[str, str] = {
    RAISED: "New ideas",
    PLANNED: "Test planned",
    TESTED: "Tested — to study",
    STUDIED: "Studied — to decide",
    ADAPTED: "Adapting — next cycle to plan",
    ADOPTED: "Adopted",
    ABANDONED: "Set aside",
}
STAGES = tuple(STAGE_LABELS)
CLOSED = frozenset({ADOPTED, ABANDONED})

# The steps of a cycle, and the idea itself as something to comment on.
IDEA, PLAN, DO, STUDY, ACT = "idea", "plan", "do", "study", "act"
STEP_NAMES: dict[str, str] = {IDEA: "idea", PLAN: "Plan", DO: "Do", STUDY: "Study", ACT: "Act"}
# The step the author records next, by stage (none once the idea is adopted or set aside).
NEXT_STEP: dict[str, str] = {RAISED: PLAN, PLANNED: DO, TESTED: STUDY, STUDIED: ACT, ADAPTED: PLAN}
STAGE_AFTER: dict[str, str] = {PLAN: PLANNED, DO: TESTED, STUDY: STUDIED}
NEXT_STEP_LABELS: dict[str, str] = {
    PLAN: "Plan a test",
    DO: "Record what happened",
    STUDY: "Study the result",
    ACT: "Adopt, adapt or abandon",
}

AFFECTS: dict[str, str] = {"patients": "Patients", "unit": "A unit or team", "workflow": "A workflow"}
OUTCOMES: dict[str, str] = {
    "as_predicted": "As predicted",
    "partly": "Partly as predicted",
    "not_as_predicted": "Not as predicted",
}
DECISIONS: dict[str, str] = {
    "adopt": "Adopt: make it the way we work",
    "adapt": "Adapt: change it and test again",
    "abandon": "Abandon: set it aside",
}
DECISION_STAGES: dict[str, str] = {"adopt": ADOPTED, "adapt": ADAPTED, "abandon": ABANDONED}
LEVELS: dict[str, str] = {"developing": "Developing", "demonstrated": "Demonstrated"}


def cycle_step(number: int, step: str) -> str:
    """`the Plan of cycle 2`, or `the idea` for a comment on the idea itself."""
    return "the idea" if step == IDEA else f"the {STEP_NAMES[step]} of cycle {number}"


def nudge_due_at(test_date: date, zone: tzinfo) -> datetime:
    """When a test planned for `test_date` counts as past: NUDGE_HOUR the next morning, in `zone`."""
    return datetime.combine(test_date + timedelta(days=1), time(NUDGE_HOUR), zone)
