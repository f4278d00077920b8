"""The report's list of hidden figures, each named as a reader of the report names it, with its reason.

It holds every cell the report withholds although answers exist: figures over people the report's rule
hid (bot.kernel.suppression), quarterly scores all of whose weeks the weekly digest's rule hid (so
nothing reached the quarter), and instrument quarters whose every batch was discarded for having fewer
than k answers. Cells with no answers at all are no data, not hidden, and are not listed.
"""

from __future__ import annotations

from bot.kernel.suppression import COMBINATION, HOMOGENEOUS, SMALL, UNKNOWN, PeopleFigure
from bot.kernel.text import plural
from bot.reports import first_meeting, retention_cohorts
from bot.reports.annual_data import AnnualReport
from bot.reports.quarter_scores import WEEKS_HIDDEN

REASONS = {
    SMALL: "fewer than {k} people behind it",
    HOMOGENEOUS: "every answer identical: it would give each away",
    COMBINATION: "with 1 or 2 figures shown, singles out under {k} people",
    UNKNOWN: "answers purged: cannot be checked",
}
METRIC_TITLES = {"wellbeing": "Wellbeing (check-ins)", "psych": "Psych. safety (check-ins)"}


def figure_title(figure: PeopleFigure) -> str:
    """ "Time to first meeting, pairs started 2026-Q2", "Retention 12 months, residents, participants"."""
    rest = figure.key.removeprefix(figure.measure).strip()
    if figure.measure in METRIC_TITLES:
        return f"{METRIC_TITLES[figure.measure]} {rest}"
    if figure.measure == first_meeting.MEASURE:
        return f"Time to first meeting, pairs started {rest}"
    if figure.measure == retention_cohorts.MEASURE:
        months, _, rest = rest.partition("m ")
        role, _, side = rest.rpartition(" ")
        parts = [f"Retention {months} months", *([] if role == "all" else [role])]
        return ", ".join([*parts, "participants" if side == "participants" else "non-participants"])
    return figure.key  # instruments: "Burnout (Mini-Z) 2026-Q1" already


def hidden_rows(report: AnnualReport) -> list[tuple[str, str]]:
    """Every cell the report withheld although answers exist, in the report's order, with its reason."""
    k = report.program.privacy.min_group_size
    decided = [
        (figure_title(figure), REASONS.get(decision.reason, decision.reason).format(k=k))
        for figure, decision in report.people_figures
        if not decision.shown and figure.people != frozenset()
    ]
    return [*_weekly_rule_rows(report), *decided, *_discarded_rows(report)]


def _weekly_rule_rows(report: AnnualReport) -> list[tuple[str, str]]:
    found = []
    for row in report.rows:
        for metric, hidden, weeks in (
            ("wellbeing", row.wellbeing_hidden, row.wellbeing_weeks_hidden),
            ("psych", row.psych_safety_hidden, row.psych_safety_weeks_hidden),
        ):
            if hidden == WEEKS_HIDDEN:
                why = f"all {plural(weeks, 'week')} with answers hidden by the weekly rule"
                found.append((f"{METRIC_TITLES[metric]} {row.quarter}", why))
    return found


def _discarded_rows(report: AnnualReport) -> list[tuple[str, str]]:
    k = report.program.privacy.min_group_size
    return [
        (f"{cell.instrument} {cell.quarter}", f"fewer than {k} answered: discarded when the period closed")
        for cell in report.instrument_cells
        if cell.withheld and cell.mean is None and not cell.people
    ]


def hidden_text(report: AnnualReport) -> str:
    """The same list as one paragraph, for the Markdown summary."""
    rows = hidden_rows(report)
    return "; ".join(f"{key}: {why}" for key, why in rows) + "." if rows else "None."
