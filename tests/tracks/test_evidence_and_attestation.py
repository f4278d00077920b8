"""Acceptance 3: a competency without evidence in a period is flagged; an attestation is recorded once,
cannot be edited, and appears in the export."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.tracks.deliveries import run_due
from bot.tracks.export import build_report, to_csv
from storage.models import AuditEntry, TrackAttestation
from storage.repositories import tracks as repo
from tests.support.tracks import at, button, deliveries, enrol_on, filled, log_confirmed_session, track_posts

START = date(2026, 11, 30)
FLAG_DAY_NINE_NY = at(2027, 1, 28, 14, 0)  # review 1 (30 Nov to 27 Feb) is flagged a month before it closes
CLOSE_DAY_NINE_NY = at(2027, 2, 28, 14, 0)
LEVELS = {
    "ehr-documentation": "3",
    "institutional-communication": "2",
    "cultural-fluency": "3",
    "clinical-reasoning": "4",
    "ethics": "3",
}


def enrol_with_evidence(deps: Deps) -> int:
    enrolment = enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12))
    log_confirmed_session(
        deps, mentee="U0MENTEE1", day=date(2026, 12, 10), levels={"ehr-documentation": "developing"}
    )
    log_confirmed_session(
        deps, mentee="U0MENTEE1", day=date(2027, 1, 14), levels={"clinical-reasoning": "demonstrated"}
    )
    # Awaiting the mentee's confirmation: not evidence yet.
    log_confirmed_session(
        deps, mentee="U0MENTEE1", day=date(2027, 1, 20), levels={"ethics": "developing"}, confirm=False
    )
    return enrolment


def test_competencies_without_evidence_are_flagged_once_to_the_coordinator_and_the_mentor(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    enrol_with_evidence(deps)
    assert run_due(deps, FLAG_DAY_NINE_NY - timedelta(minutes=1)) == []
    assert run_due(deps, FLAG_DAY_NINE_NY) == ["tracks: gap flags 2 sent"]
    assert run_due(deps, FLAG_DAY_NINE_NY + timedelta(days=1)) == []
    assert sorted(c.args["channel"] for c in track_posts(fake_slack)) == ["U0COORD1", "U0MENTOR1"]
    flag = fake_slack.messages("U0COORD1")[-1]["blocks"][0]["text"]["text"]
    for missing in ("Institutional communication", "Cultural fluency", "Ethics"):
        assert missing in flag
    assert "EHR documentation" not in flag and "Clinical reasoning" not in flag
    assert "28 February 2027" in flag


def test_a_period_with_evidence_of_every_competency_flags_nothing(deps: Deps, fake_slack: FakeSlack) -> None:
    enrol_on(deps, "img-onboarding", start=START, now=at(2026, 11, 29, 12))
    every = dict.fromkeys(LEVELS, "developing")
    log_confirmed_session(deps, mentee="U0MENTEE1", day=date(2026, 12, 10), levels=every)
    assert run_due(deps, FLAG_DAY_NINE_NY) == []
    assert track_posts(fake_slack) == []
    assert {d.kind: d.status for d in deliveries(deps)} == {"gap": "skipped"}


def attest_over_slack(
    slack: SlackRequestSender, fake: FakeSlack, message: dict[str, object], label: str, levels: dict[str, str]
) -> None:
    opened = len(fake.views)
    pressed = button(message, label)  # type: ignore[arg-type]
    slack.block_action("U0MENTOR1", action_id=pressed["action_id"], value=pressed["value"], message=message)
    fake.wait_for(lambda: len(fake.views) > opened, what=f"the form behind {label}")
    form = fake.views[-1]
    answers = {f"level:{k}": v for k, v in levels.items()} | {
        "comments": "Seen on ward rounds and in clinic."
    }
    status, _, _ = slack.view_submission("U0MENTOR1", view=filled(form, answers))
    assert status == 200


def attestations(deps: Deps) -> list[TrackAttestation]:
    with deps.read_sessions.begin() as session:
        rows = list(session.scalars(select(TrackAttestation).order_by(TrackAttestation.id)))
        session.expunge_all()
        return rows


def test_the_supervisor_attests_once_the_dm_shows_it_signed_and_a_second_submission_changes_nothing(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol_with_evidence(deps)
    assert "tracks: attestation requests 1 sent" in run_due(deps, CLOSE_DAY_NINE_NY)
    request = fake_slack.messages("U0MENTOR1")[-1]
    shown = str(request["blocks"])
    assert "Clinical reasoning*: demonstrated" in shown and "Ethics*: no evidence" in shown
    attest_over_slack(slack, fake_slack, request, "Attest", LEVELS)
    fake_slack.wait_for(lambda: "Attested" in str(fake_slack.messages("U0MENTOR1")[-1]["blocks"]))
    (row,) = attestations(deps)
    assert row.status == "attested" and row.levels == {k: int(v) for k, v in LEVELS.items()}
    assert row.supervisor_id == "U0MENTOR1" and row.comments == "Seen on ward rounds and in clinic."

    form = fake_slack.views[-1]  # the same signed form, submitted again (a double click, a retry)
    slack.view_submission("U0MENTOR1", view=filled(form, {f"level:{k}": "5" for k in LEVELS}))
    assert len(attestations(deps)) == 1
    with deps.read_sessions.begin() as session:
        audit = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("track.%"))).all()
    assert Counter(audit) == {"track.enrol": 1, "track.attest": 1}


def test_a_signed_attestation_cannot_be_changed_or_deleted_even_in_sql(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    enrolment = enrol_with_evidence(deps)
    run_due(deps, CLOSE_DAY_NINE_NY)
    (milestone,) = [m for m in repo_milestones(deps, enrolment) if m.kind == "review"][:1]
    with deps.sessions.begin() as session:
        repo.add_attestation(
            session,
            attestation=TrackAttestation(
                enrolment_id=enrolment,
                milestone_id=milestone.id,
                supervisor_id="U0MENTOR1",
                supervisor_name="Ana Mendes",
                status="attested",
                levels={"ethics": 3},
                comments=None,
                signed_at=CLOSE_DAY_NINE_NY,
            ),
        )
    for statement in (
        "UPDATE track_attestations SET levels = '{\"ethics\": 5}'",
        "UPDATE track_attestations SET status = 'returned'",
        "DELETE FROM track_attestations",
    ):
        with pytest.raises(DBAPIError, match="immutable"), deps.sessions.begin() as session:
            session.execute(text(statement))
    assert [r.levels for r in attestations(deps)] == [{"ethics": 3}]
    assert not [name for name in dir(repo) if name.startswith(("update_", "edit_", "delete_", "set_"))]


def repo_milestones(deps: Deps, enrolment: int) -> list[object]:
    with deps.read_sessions.begin() as session:
        rows = repo.milestones_of(session, enrolment_id=enrolment)
        session.expunge_all()
        return rows  # type: ignore[return-value]


def test_an_amendment_is_a_new_signed_row_and_the_export_shows_both(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrolment = enrol_with_evidence(deps)
    run_due(deps, CLOSE_DAY_NINE_NY)
    attest_over_slack(slack, fake_slack, fake_slack.messages("U0MENTOR1")[-1], "Attest", LEVELS)
    fake_slack.wait_for(lambda: "Amend" in str(fake_slack.messages("U0MENTOR1")[-1]["blocks"]))
    attest_over_slack(
        slack, fake_slack, fake_slack.messages("U0MENTOR1")[-1], "Amend", LEVELS | {"ethics": "4"}
    )
    fake_slack.wait_for(lambda: "(amended)" in str(fake_slack.messages("U0MENTOR1")[-1]["blocks"]))
    first, second = attestations(deps)
    assert second.amends_id == first.id and second.levels["ethics"] == 4 and first.levels["ethics"] == 3
    opened = fake_slack.calls_to("views.open")[-1].args["view"]
    amend_form = json.loads(opened) if isinstance(opened, str) else opened
    ethics_level = next(b for b in amend_form["blocks"] if b.get("block_id") == "level:ethics")
    assert ethics_level["element"]["initial_option"]["value"] == "3"  # the form starts from what was signed

    program = deps.programs.get("img-2026")
    assert program is not None
    with deps.read_sessions.begin() as session:
        enrolled = session.get(repo.TrackEnrolment, enrolment)
        assert enrolled is not None
        report = build_report(session, program=program, enrolment=enrolled, now=CLOSE_DAY_NINE_NY)
    exported = to_csv(report)
    assert "attestation" in exported and "amendment" in exported
    ethics = [line for line in exported.splitlines() if ",Ethics," in line and "Level" in line]
    assert len(ethics) == 2 and "Level 3" in ethics[0] and "Level 4" in ethics[1]


def test_only_the_supervising_physician_can_open_the_attestation(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol_with_evidence(deps)
    run_due(deps, CLOSE_DAY_NINE_NY)
    message = fake_slack.messages("U0MENTOR1")[-1]
    pressed = button(message, "Attest")
    slack.block_action("U0COORD1", action_id=pressed["action_id"], value=pressed["value"], message=message)
    fake_slack.wait_for(
        lambda: any("supervising physician" in str(b.get("text")) for _, b in fake_slack.responses)
    )
    assert fake_slack.views == []
