"""Sessions that work on an idea (`/reflect` links them) count as protected time, and an idea carried
through a whole cycle becomes competency evidence when the mentor marks it so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.ideas.blocks import LINK_BLOCK
from bot.ideas.evidence import NO_SESSION, NOT_YET
from bot.kernel.deps import Deps
from storage.models import CompetencyObservation, MentoringSession
from tests.support.factories import make_pair
from tests.support.ideas import (
    ADOPT,
    DO,
    MENTEE,
    MENTOR,
    STUDY,
    TODAY,
    home,
    new_view,
    next_dm,
    plan,
    press,
    record_idea,
    submit,
    take_step,
)
from tests.support.waiting import wait_until

SESSION = {"date": "2026-11-23", "duration": "45", "format": "in_person", "share": "private"}


@pytest.fixture
def idea_id(slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps) -> int:
    """The mentee's idea with its first test planned."""
    make_pair(deps, MENTOR, MENTEE)
    found = record_idea(slack, fake_slack, deps)
    take_step(slack, fake_slack, found, "Plan a test", plan(TODAY + timedelta(days=1)))
    return found


def log_session_on(
    slack: SlackRequestSender, fake: FakeSlack, deps: Deps, idea: int | None
) -> MentoringSession:
    """The mentor logs a 45-minute session with /reflect, about `idea`; the mentee confirms it."""
    before, dms = len(fake.calls_to("views.open", ok_only=True)), len(fake.messages(MENTEE))
    slack.command("/reflect", user_id=MENTOR)
    view = new_view(fake, before, "the /reflect modal")
    link = next(b for b in view["blocks"] if b.get("block_id") == LINK_BLOCK)
    offered = [o["value"] for o in link["element"]["options"]]
    assert offered[0] == "none" and (idea is None or str(idea) in offered)
    reply = submit(slack, MENTOR, view, {**SESSION, LINK_BLOCK: str(idea) if idea else "none"}, settles=False)
    assert reply["response_action"] == "update", reply
    notice = next_dm(fake, MENTEE, dms + 1)
    press(slack, fake, MENTEE, notice, "Confirm", opens=False)
    with deps.read_sessions.begin() as session:
        row = session.scalars(select(MentoringSession).order_by(MentoringSession.id.desc())).first()
    assert row is not None
    wait_until(lambda: _status(deps, row.id) == "confirmed", "the session confirmed")
    return row


def _status(deps: Deps, session_id: int) -> str:
    with deps.read_sessions.begin() as session:
        row = session.get(MentoringSession, session_id)
        return row.status if row else ""


def test_a_session_linked_to_an_idea_counts_as_protected_time_on_it(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, idea_id: int
) -> None:
    row = log_session_on(slack, fake_slack, deps, idea_id)
    assert row.idea_id == idea_id
    assert "0.75 h of protected time on it" in str(home(slack, fake_slack, MENTEE)["blocks"])


def test_the_mentor_marks_an_idea_carried_through_a_cycle_as_evidence_in_a_linked_session(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, idea_id: int
) -> None:
    row = log_session_on(slack, fake_slack, deps, idea_id)
    for label, answers in (
        ("Record what happened", DO),
        ("Study the result", STUDY),
        ("Adopt, adapt or abandon", ADOPT),
    ):
        take_step(slack, fake_slack, idea_id, label, answers)
    modal = press(
        slack, fake_slack, MENTOR, home(slack, fake_slack, MENTOR), "Mark as evidence", idea_id=idea_id
    )
    assert modal is not None
    answers = {"session": str(row.id), "competency": "institutional-communication", "level": "demonstrated"}
    reply = submit(slack, MENTOR, modal, answers, settles=False)
    assert "Recorded as demonstrated evidence." in reply["view"]["blocks"][0]["text"]["text"]
    with deps.read_sessions.begin() as session:
        found = session.scalars(select(CompetencyObservation)).one()
    assert (found.session_id, found.mentee_id, found.competency, found.level) == (
        row.id,
        MENTEE,
        "institutional-communication",
        "demonstrated",
    )


def test_evidence_needs_a_whole_cycle_and_a_linked_session_and_only_the_mentor_marks_it(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, idea_id: int
) -> None:
    def refusal(user_id: str) -> str:
        before = len(fake_slack.messages(user_id))
        slack.block_action(
            user_id, action_id=f"idea_mark_evidence:{idea_id}", value=str(idea_id), view={"type": "home"}
        )
        return str(next_dm(fake_slack, user_id, before + 1)["text"])

    assert refusal(MENTOR) == NOT_YET
    for label, answers in (
        ("Record what happened", DO),
        ("Study the result", STUDY),
        ("Adopt, adapt or abandon", ADOPT),
    ):
        take_step(slack, fake_slack, idea_id, label, answers)
    assert refusal(MENTOR) == NO_SESSION
    assert refusal(MENTEE).startswith("Only the mentor marks an idea as evidence")
    log_session_on(slack, fake_slack, deps, None)  # a session about nothing in particular does not count
    assert refusal(MENTOR) == NO_SESSION
