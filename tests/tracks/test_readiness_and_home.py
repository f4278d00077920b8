"""Time to readiness per cohort (and in the outcome report), returning a review, and the App Home
timeline of the licensee and their supervising mentor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.commands import report_command
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import validate_view
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.kernel.programs import MAX_COMPETENCIES
from bot.tracks import attest, blocks
from bot.tracks.deliveries import run_due
from bot.tracks.readiness import cohort_readiness
from storage.models import TrackAttestation
from tests.support.tracks import at, button, enrol_on, filled, log_confirmed_session, milestones

START = date(2026, 11, 30)
CLOSE = at(2027, 2, 28, 15, 0)  # review 1 of the journey closes on 28 February
COMPETENCIES = (
    "ehr-documentation",
    "institutional-communication",
    "cultural-fluency",
    "clinical-reasoning",
    "ethics",
)


def sign(
    deps: Deps, enrolment: int, level: int, *, now: datetime, status: str = "attested"
) -> TrackAttestation:
    """Sign review 1 through the real service, from the form it would show the supervisor."""
    review = next(m for m in milestones(deps, enrolment) if m.kind == "review")
    with deps.sessions.begin() as session:
        form = attest.attest_form(session, deps=deps, milestone_id=review.id, user_id="U0MENTOR1")
        view = (
            blocks.attest_modal(form)
            if status == "attested"
            else attest.return_form(session, deps=deps, milestone_id=review.id, user_id="U0MENTOR1")
        )
        answers = {f"level:{c}": str(level) for c in COMPETENCIES} | {"reason": "Too little evidence yet."}
        done = attest.submit(session, deps=deps, user_id="U0MENTOR1", view=filled(view, answers), now=now)
        assert not done.errors, done.errors
        row = session.get(TrackAttestation, done.attestation_id)
        assert row is not None
        session.expunge(row)
        return row


def demonstrate_everything(deps: Deps, mentee: str, day: date) -> None:
    log_confirmed_session(deps, mentee=mentee, day=day, levels=dict.fromkeys(COMPETENCIES, "demonstrated"))


def test_readiness_is_the_first_signature_at_the_ready_level_with_every_competency_demonstrated(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ready = enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12))
    demonstrate_everything(deps, "U0MENTEE1", date(2027, 1, 10))
    sign(deps, ready, 4, now=CLOSE)
    later = enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12), mentee="U0MENTEE2")
    with deps.read_sessions.begin() as session:
        program = deps.programs.get("img-2026")
        assert program is not None
        (cohort,) = cohort_readiness(session, program=program)
    assert (cohort.enrolled, cohort.ready, cohort.median_days) == (2, 1, 90.0)
    assert {r.person_id: r.days for r in cohort.people} == {"U0MENTEE1": 90, "U0MENTEE2": None}
    assert later

    assert (
        report_command(
            deps,
            program_id="img-2026",
            start=date(2026, 10, 1),
            end=date(2027, 3, 31),
            out_file=tmp_path / "report.csv",
        )
        == 0
    )
    assert "| IMG onboarding journey | 2 | 1 | 90 |" in capsys.readouterr().out


def test_an_attestation_below_the_ready_level_is_not_readiness_until_an_amendment_reaches_it(
    deps: Deps,
) -> None:
    enrolment = enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12))
    demonstrate_everything(deps, "U0MENTEE1", date(2027, 1, 10))
    first = sign(deps, enrolment, 3, now=CLOSE)
    amended = sign(deps, enrolment, 4, now=CLOSE + timedelta(days=10))
    assert amended.amends_id == first.id
    with deps.read_sessions.begin() as session:
        program = deps.programs.get("img-2026")
        assert program is not None
        (cohort,) = cohort_readiness(session, program=program)
    assert [r.ready_on for r in cohort.people] == [date(2027, 3, 10)]


def test_a_returned_review_is_recorded_with_its_reason_and_can_then_be_attested(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12))
    run_due(deps, CLOSE)
    request = fake_slack.messages("U0MENTOR1")[-1]
    pressed = button(request, "Return")
    slack.block_action("U0MENTOR1", action_id=pressed["action_id"], value=pressed["value"], message=request)
    fake_slack.wait_for(lambda: len(fake_slack.views) == 1, what="the return form")
    slack.view_submission(
        "U0MENTOR1", view=filled(fake_slack.views[0], {"reason": "No ethics evidence yet."})
    )
    fake_slack.wait_for(lambda: "Returned" in str(fake_slack.messages("U0MENTOR1")[-1]["blocks"]))
    updated = fake_slack.messages("U0MENTOR1")[-1]
    assert "No ethics evidence yet." in str(updated["blocks"])
    assert button(updated, "Attest")  # a return is not a signature: attesting stays open


def test_the_licensee_and_the_supervising_mentor_see_the_timeline_on_app_home(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: SettableClock
) -> None:
    enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12))
    # Week 2's topic is the EHR: a session on it that week makes it done.
    log_confirmed_session(
        deps, mentee="U0MENTEE1", day=date(2026, 12, 8), levels={}, topics=("documentation-ehr",)
    )
    clock.now = at(2026, 12, 16, 15)
    for user_id in ("U0MENTEE1", "U0MENTOR1"):
        slack.event({"type": "app_home_opened", "user": user_id, "channel": "D0HOME", "tab": "home"})
        fake_slack.wait_for(lambda u=user_id: fake_slack.home_view(u) is not None, what="the Home view")
    licensee = str(fake_slack.home_view("U0MENTEE1"))
    assert "IMG onboarding journey* · You · 1 of 22 done" in licensee
    assert "How this hospital works — overdue" in licensee  # week 1: no session on it before week 2's topic
    assert "Orders, results and handoffs in the EHR — due" in licensee  # week 3, this week
    assert "Institutional communication norms — upcoming" in licensee
    assert "Log a session on this" in licensee
    mentor = str(fake_slack.home_view("U0MENTOR1"))
    assert "<@U0MENTEE1> (you supervise)" in mentor


def test_the_attestation_modal_fits_the_most_competencies_a_track_may_list() -> None:
    form = blocks.AttestForm(
        milestone_id=1,
        licensee_name="Dr. Rahul Iyer",
        review_title="Review 1",
        competencies=tuple((f"c{n:02d}", f"Competency {n}") for n in range(MAX_COMPETENCIES)),
        initial={},
        amends=None,
    )
    assert validate_view(blocks.attest_modal(form), "modal") == []
