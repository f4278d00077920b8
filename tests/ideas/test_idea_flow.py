"""End to end over signed HTTP: /idea, the PDSA steps from App Home, the mentor's comments from the DMs.

The fake Slack validates every DM, modal and Home view the bot sends; the fixture fails the test on
anything Slack would reject.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from storage.models import IdeaComment, IdeaCycle
from tests.support.factories import make_pair
from tests.support.ideas import (
    ADAPT,
    ADOPT,
    DO,
    IDEA,
    MENTEE,
    MENTOR,
    STUDY,
    TODAY,
    button,
    home,
    next_dm,
    only_idea,
    open_idea_modal,
    plan,
    press,
    record_idea,
    submit,
    take_step,
    through_a_cycle,
)
from tests.support.waiting import wait_until


@pytest.fixture
def pair(deps: Deps) -> int:
    return make_pair(deps, MENTOR, MENTEE)


def comment_on(
    slack: SlackRequestSender, fake: FakeSlack, dm: dict[str, object], text: str, *, by: str = MENTOR
) -> dict[str, object]:
    """Press Comment on a DM, write `text`, send; returns the DM the other side gets."""
    other = MENTEE if by == MENTOR else MENTOR
    before = len(fake.messages(other))
    modal = press(slack, fake, by, dm, "Comment")  # type: ignore[arg-type]
    assert modal is not None
    assert submit(slack, by, modal, {"comment": text})["response_action"] == "update"
    return next_dm(fake, other, before + 1)


def test_an_idea_is_shared_with_the_mentor_taken_through_pdsa_and_adopted_with_comments_on_each_step(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    modal = open_idea_modal(slack, fake_slack, MENTEE)
    assert [b["block_id"] for b in modal["blocks"] if b["type"] == "input"] == [
        "summary",
        "observation",
        "affects",
        "change",
        "share",
    ]
    reply = submit(slack, MENTEE, modal, IDEA)
    assert "shared with *Ana Mendes*" in reply["view"]["blocks"][0]["text"]["text"]
    idea = only_idea(deps)
    assert (idea.pair_id, idea.author_id, idea.stage, idea.shared_with_coordinators) == (
        pair,
        MENTEE,
        "raised",
        False,
    )

    shared = next_dm(fake_slack, MENTOR, 1)
    assert shared["text"] == f"Amara Okafor shared an idea with you: {IDEA['summary']}"
    assert "Night handover starts late" in str(shared["blocks"])
    told = comment_on(slack, fake_slack, shared, "Could the charge nurse lead it?")
    assert told["text"] == f"Ana Mendes commented on the idea {IDEA['summary']}"
    assert "&gt; Could the charge nurse lead it?" not in str(told["blocks"])  # quoted, not escaped twice

    steps = [
        ("Plan a test", plan(TODAY + timedelta(days=2)), "the Plan of cycle 1", "planned"),
        ("Record what happened", DO, "the Do of cycle 1", "tested"),
        ("Study the result", STUDY, "the Study of cycle 1", "studied"),
        ("Adopt, adapt or abandon", ADOPT, "the Act of cycle 1", "adopted"),
    ]
    for label, answers, where, stage in steps:
        mentee_home = home(slack, fake_slack, MENTEE)
        assert button(mentee_home, label)["style"] == "primary"
        sent = len(fake_slack.messages(MENTOR))
        take_step(slack, fake_slack, idea.id, label, answers)
        assert only_idea(deps).stage == stage
        step_dm = next_dm(fake_slack, MENTOR, sent + 1)
        assert step_dm["text"] == f"Amara Okafor recorded {where} of {IDEA['summary']}"
        told = comment_on(slack, fake_slack, step_dm, f"Comment on {where}.")
        assert told["text"] == f"Ana Mendes commented on {where} of {IDEA['summary']}"

    adopted = only_idea(deps)
    assert adopted.adopted_at == deps.clock()
    with deps.read_sessions.begin() as session:
        cycle = session.scalars(select(IdeaCycle)).one()
        steps_commented = session.scalars(select(IdeaComment.step).order_by(IdeaComment.id)).all()
    assert (cycle.number, cycle.test_date, cycle.outcome, cycle.decision) == (
        1,
        TODAY + timedelta(days=2),
        "partly",
        "adopt",
    )
    assert steps_commented == ["idea", "plan", "do", "study", "act"]


def test_both_homes_list_the_pairs_ideas_by_stage_with_the_buttons_each_may_press(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    first = record_idea(slack, fake_slack, deps)
    second = record_idea(slack, fake_slack, deps, summary="Discharge checklist in the patient's language")
    through_a_cycle(slack, fake_slack, first, ADOPT)

    mentee_home = home(slack, fake_slack, MENTEE)
    text = str(mentee_home["blocks"])
    assert text.index("*Adopted* (1)") > text.index("*New ideas* (1)")
    assert button(mentee_home, "Plan a test", second)
    assert button(mentee_home, "Share with coordinators", first)

    mentor_home = home(slack, fake_slack, MENTOR)
    labels = {
        e["text"]["text"] for b in mentor_home["blocks"] if b["type"] == "actions" for e in b["elements"]
    }
    assert {"Comment", "Open", "Mark as evidence"} <= labels
    assert not {"Plan a test", "Share with coordinators"} & labels  # the author's buttons only

    card = press(slack, fake_slack, MENTOR, mentor_home, "Open", idea_id=first)
    assert card is not None and card["title"]["text"] == "Idea"
    assert "*Cycle 1*" in str(card["blocks"]) and "Act* — Adopt" in str(card["blocks"])


def test_an_adapted_idea_goes_through_a_second_cycle_before_it_is_adopted(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    idea_id = record_idea(slack, fake_slack, deps)
    through_a_cycle(slack, fake_slack, idea_id, ADAPT)
    assert only_idea(deps).stage == "adapted"
    assert button(home(slack, fake_slack, MENTEE), "Plan a test", idea_id)
    through_a_cycle(slack, fake_slack, idea_id, ADOPT)
    with deps.read_sessions.begin() as session:
        decisions = session.scalars(select(IdeaCycle.decision).order_by(IdeaCycle.number)).all()
    assert decisions == ["adapt", "adopt"]
    assert "the Plan of cycle 2" in fake_slack.messages(MENTOR)[5]["text"]


def test_a_step_saved_from_a_second_window_is_refused_and_nothing_changes(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    idea_id = record_idea(slack, fake_slack, deps)
    mentee_home = home(slack, fake_slack, MENTEE)
    first = press(slack, fake_slack, MENTEE, mentee_home, "Plan a test", idea_id=idea_id)
    second = press(slack, fake_slack, MENTEE, mentee_home, "Plan a test", idea_id=idea_id)
    assert first is not None and second is not None
    assert submit(slack, MENTEE, first, plan(TODAY))["response_action"] == "update"
    refused = submit(slack, MENTEE, second, plan(TODAY))
    assert "already recorded" in refused["view"]["blocks"][0]["text"]["text"]
    with deps.read_sessions.begin() as session:
        assert len(session.scalars(select(IdeaCycle)).all()) == 1


def test_only_the_author_records_steps_and_only_the_pair_opens_the_idea(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    idea_id = record_idea(slack, fake_slack, deps)
    for user_id, action, refusal in (
        (MENTOR, f"idea_next_step:{idea_id}", "Only the idea's author records its steps"),
        ("U0MENTEE2", f"idea_open:{idea_id}", "a pair you are not part of"),
    ):
        before = len(fake_slack.calls_to("chat.postMessage", ok_only=True))
        status, _, _ = slack.block_action(
            user_id, action_id=action, value=str(idea_id), view={"type": "home"}
        )
        assert status == 200
        wait_until(lambda b=before: len(fake_slack.calls_to("chat.postMessage", ok_only=True)) > b, "refusal")
        assert refusal in fake_slack.messages(user_id)[-1]["text"]
    assert len(fake_slack.calls_to("views.open", ok_only=True)) == 1  # the author's /idea modal only


def test_idea_without_a_pair_says_what_to_do_and_list_shows_the_pairs_ideas(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    _, body, _ = slack.command("/idea", user_id="U0OUTSIDE")
    assert "no active mentor or mentee" in body
    _, body, _ = slack.command("/idea", "list", user_id=MENTOR)
    assert "no ideas recorded yet" in body
    record_idea(slack, fake_slack, deps)
    _, body, _ = slack.command("/idea", "list", user_id=MENTOR)
    assert "*New ideas*" in body and IDEA["summary"] in body
    _, body, _ = slack.command("/idea", "lsit", user_id=MENTOR)
    assert "`/idea list`" in body
    assert only_idea(deps).summary == IDEA["summary"]
