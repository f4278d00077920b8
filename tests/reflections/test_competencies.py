"""Competency timelines: levels by session day, each linked to its session; only confirmed ones count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.reflections.competencies import level_line, timelines
from storage.models import Pair
from storage.repositories.reflections import (
    add_observations,
    answer_session,
    confirmed_observations,
    create_session,
)
from tests.support.factories import make_pair

MENTEE = "U0MENTEE1"


def program(deps: Deps) -> Program:
    found = deps.programs.get("img-2026")
    assert found is not None
    return found


def observed(deps: Deps, pair_id: int, day: str, levels: dict[str, str], *, status: str = "confirmed") -> int:
    """A session logged by the mentor with competency levels, then answered by the mentee."""
    with deps.sessions.begin() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        row = create_session(
            session,
            pair=pair,
            session_date=date.fromisoformat(day),
            duration_minutes=45,
            format="in_person",
            logged_by=pair.mentor_id,
            now=deps.clock(),
        )
        add_observations(session, mentoring_session=row, mentee_id=pair.mentee_id, levels=levels)
        if status != "pending":
            answer_session(
                session, session_id=row.id, status=status, user_id=pair.mentee_id, now=deps.clock()
            )
        return row.id


def timeline_of(deps: Deps, competency: str) -> list[tuple[str, str, int, str]]:
    with deps.sessions.begin() as session:
        found = {t.competency: t for t in timelines(session, program=program(deps), mentee_id=MENTEE)}
    return [(str(e.observed_on), e.level, e.session_id, e.session_status) for e in found[competency].entries]


def test_levels_are_ordered_by_session_day_and_demonstrated_links_its_session(deps: Deps) -> None:
    pair = make_pair(deps)
    # Logged out of order: the later session first, an earlier one remembered afterwards.
    late = observed(deps, pair, "2026-11-20", {"clinical-reasoning": "demonstrated"})
    early = observed(deps, pair, "2026-10-02", {"clinical-reasoning": "not_yet", "ethics": "developing"})
    middle = observed(deps, pair, "2026-10-30", {"clinical-reasoning": "developing"})
    assert timeline_of(deps, "clinical-reasoning") == [
        ("2026-10-02", "not_yet", early, "confirmed"),
        ("2026-10-30", "developing", middle, "confirmed"),
        ("2026-11-20", "demonstrated", late, "confirmed"),
    ]
    with deps.sessions.begin() as session:
        found = {t.competency: t for t in timelines(session, program=program(deps), mentee_id=MENTEE)}
    current = found["clinical-reasoning"].current
    assert current is not None and (current.level, current.session_id) == ("demonstrated", late)
    assert list(found) == list(program(deps).competencies)  # every competency, in programs.yml order
    assert found["ehr-documentation"].current is None


def test_demonstrated_needs_a_confirmed_session(deps: Deps) -> None:
    pair = make_pair(deps)
    observed(deps, pair, "2026-10-02", {"ethics": "developing"})
    pending = observed(deps, pair, "2026-11-20", {"ethics": "demonstrated"}, status="pending")
    with deps.sessions.begin() as session:
        (ethics,) = [
            t for t in timelines(session, program=program(deps), mentee_id=MENTEE) if t.competency == "ethics"
        ]
    assert ethics.current is not None and ethics.current.level == "developing"
    assert ethics.pending is not None and (ethics.pending.level, ethics.pending.session_id) == (
        "demonstrated",
        pending,
    )
    today = date(2026, 11, 23)
    assert (
        level_line(ethics, today=today)
        == "Ethics — *developing* (Fri 2 Oct) · demonstrated awaiting confirmation"
    )


def test_disputed_sessions_are_not_evidence(deps: Deps) -> None:
    pair = make_pair(deps)
    observed(deps, pair, "2026-11-20", {"ethics": "demonstrated"}, status="disputed")
    assert timeline_of(deps, "ethics") == []


def test_timelines_are_per_mentee_and_program(deps: Deps) -> None:
    mine = make_pair(deps)
    other = make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    observed(deps, mine, "2026-11-02", {"ethics": "developing"})
    observed(deps, other, "2026-11-03", {"ethics": "demonstrated"})
    assert [level for _, level, _, _ in timeline_of(deps, "ethics")] == ["developing"]


def test_a_competency_dropped_from_programs_yml_keeps_its_history(deps: Deps) -> None:
    pair = make_pair(deps, started_at=datetime(2026, 9, 1, tzinfo=UTC))
    observed(deps, pair, "2026-11-02", {"bedside-manner": "developing"})
    with deps.sessions.begin() as session:
        found = [t.competency for t in timelines(session, program=program(deps), mentee_id=MENTEE)]
    assert found[-1] == "bedside-manner"


def test_confirmed_observations_for_the_digest(deps: Deps) -> None:
    pair = make_pair(deps)
    observed(deps, pair, "2026-11-02", {"ethics": "developing"})
    observed(deps, pair, "2026-11-03", {"ethics": "demonstrated"}, status="pending")
    start = date(2026, 11, 2)
    with deps.sessions.begin() as session:
        found = confirmed_observations(
            session, program_id="img-2026", start=start, end=start + timedelta(days=6)
        )
    assert [(o.competency, o.level, o.mentee_id) for o in found] == [("ethics", "developing", MENTEE)]
