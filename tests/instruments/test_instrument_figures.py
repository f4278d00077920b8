"""What a report may show of instrument answers: program totals and per-mentor cells, suppressed."""

from __future__ import annotations

from bot.instruments.aggregates import HOMOGENEOUS, Figure, answer_scores, instrument_figures
from bot.instruments.answers import mentor_key
from bot.kernel.deps import Deps
from bot.kernel.suppression import OVERLAP, SHOWN, SMALL
from storage.repositories.instruments import insert_answers
from tests.support.factories import make_pair

PROGRAM = "img-2026"


def file_answers(
    deps: Deps, instrument: str, period: str, scores: list[float], mentor: str | None = None
) -> None:
    key = None if mentor is None else mentor_key(deps, program_id=PROGRAM, mentor_id=mentor)
    row = {"program_id": PROGRAM, "instrument_id": instrument, "version": 1, "period": period}
    with deps.sessions.begin() as session:
        insert_answers(session, rows=[row | {"mentor_key": key, "score": v, "domains": {}} for v in scores])


def figures(deps: Deps) -> list[Figure]:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.read_sessions.begin() as session:
        return instrument_figures(deps, session, program=program)


def shown(found: list[Figure]) -> dict[tuple[str, str | None], float | None]:
    return {(f.period, f.mentor_id): f.mean for f in found}


def test_a_mentor_with_fewer_than_k_raters_counts_only_in_the_program_total(deps: Deps) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    file_answers(deps, "mca-21", "m3", [5, 6, 7, 5, 6], mentor="U0MENTOR1")
    file_answers(deps, "mca-21", "m3", [2, 3, 4], mentor="U0MENTOR2")
    file_answers(deps, "mca-21", "m3", [1, 7, 4, 4], mentor=None)  # mentors with fewer than k mentees
    [program, first, second] = figures(deps)
    assert (program.mentor_id, program.n, program.hidden) == (None, 12, SHOWN)
    assert (first.mentor_id, first.n, first.hidden, first.mean) == ("U0MENTOR1", 5, SHOWN, 5.8)
    assert (second.mentor_id, second.n, second.hidden, second.mean) == ("U0MENTOR2", 3, SMALL, None)


def test_a_cell_below_k_is_hidden_and_so_are_the_mentors_cells_that_would_leave_a_small_remainder(
    deps: Deps,
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    file_answers(deps, "mca-21", "m3", [5, 6, 7, 5, 6], mentor="U0MENTOR1")
    file_answers(deps, "mca-21", "m3", [2, 3, 4], mentor="U0MENTOR2")
    [program, first, second] = figures(deps)
    assert (second.hidden, second.mean) == (SMALL, None)
    # total (8) minus mentor 1 (5) would give mentor 2's three answers: mentor 1 is withdrawn.
    assert (program.hidden, first.hidden, first.mean) == (SHOWN, OVERLAP, None)


def test_a_cell_where_every_answer_is_the_same_is_hidden(deps: Deps) -> None:
    file_answers(deps, "mini-z-burnout", "2026-12", [2, 2, 2, 2, 2, 2])
    file_answers(deps, "mini-z-burnout", "2027-01", [1, 2, 2, 3, 3])
    assert [(f.period, f.hidden, f.mean) for f in figures(deps)] == [
        ("2026-12", HOMOGENEOUS, None),
        ("2027-01", SHOWN, 2.2),
    ]


def test_a_change_is_given_only_when_both_periods_are_shown(deps: Deps) -> None:
    file_answers(deps, "mini-z-burnout", "2026-11", [1, 2])
    file_answers(deps, "mini-z-burnout", "2026-12", [1, 2, 2, 3, 2])
    file_answers(deps, "mini-z-burnout", "2027-01", [2, 3, 3, 4, 3])
    deltas = [(f.period, f.delta) for f in figures(deps)]
    assert deltas[0] == ("2026-11", None) and deltas[1] == ("2026-12", None)
    assert deltas[2][0] == "2027-01" and deltas[2][1] is not None and abs(deltas[2][1] - 1.0) < 1e-9


def test_pair_months_come_in_numeric_order_and_reports_can_read_one_score_per_answer(deps: Deps) -> None:
    file_answers(deps, "mca-21", "m12", [5, 6, 7, 5, 6])
    file_answers(deps, "mca-21", "m3", [4, 5, 6, 4, 5])
    assert [f.period for f in figures(deps)] == ["m3", "m12"]
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.read_sessions.begin() as session:
        scores = answer_scores(session, program=program, instrument_id="mca-21", periods=["m3"])
    assert sorted(scores["m3"].values()) == [4, 4, 5, 5, 6] and set(scores) == {"m3"}
