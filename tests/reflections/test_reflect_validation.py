"""The /reflect modal's field errors, over signed HTTP and at the form level."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.reflections.form import parse_form
from storage.models import MentoringSession, Pair
from tests.reflections.test_reflect_flows import MENTEE, MENTOR, open_modal, submit
from tests.support.factories import make_pair

GOOD = {"date": "2026-11-20", "duration": "45", "format": "video"}
LONG = "x" * 3001


def nothing_stored(deps: Deps) -> bool:
    with deps.sessions.begin() as session:
        return session.scalars(select(MentoringSession)).first() is None


@pytest.fixture
def mentor_view(deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack) -> dict[str, Any]:
    make_pair(deps, MENTOR, MENTEE)
    return open_modal(slack, fake_slack, MENTOR)


@pytest.mark.parametrize(
    ("answers", "block_id", "says"),
    [
        pytest.param({"date": "2026-11-24"}, "date", "That day is in the future", id="future-date"),
        pytest.param(
            {"date": "2026-09-23"}, "date", "up to 60 days back (the earliest is Thu 24 Sep)", id="too-old"
        ),
        pytest.param({"duration": "4"}, "duration", "from 5 to 480", id="too-short"),
        pytest.param({"duration": "481"}, "duration", "from 5 to 480", id="too-long"),
        pytest.param({"duration": "45.5"}, "duration", "whole minutes", id="not-whole"),
        pytest.param({"duration": None}, "duration", "whole minutes", id="missing-duration"),
        pytest.param({"format": None}, "format", "how the session happened", id="missing-format"),
        pytest.param(
            {"learned": LONG}, "learned", "under 3,000 characters (it has 3,001)", id="long-learned"
        ),
        pytest.param({"next_steps": LONG}, "next_steps", "under 3,000 characters", id="long-next-steps"),
        pytest.param({"private_notes": LONG}, "private_notes", "under 3,000 characters", id="long-notes"),
    ],
)
def test_bad_fields_come_back_as_field_errors(
    slack: SlackRequestSender,
    deps: Deps,
    mentor_view: dict[str, Any],
    answers: dict[str, Any],
    block_id: str,
    says: str,
) -> None:
    reply = submit(slack, MENTOR, mentor_view, answers={**GOOD, **answers})
    assert reply["response_action"] == "errors"
    assert list(reply["errors"]) == [block_id]
    assert says in reply["errors"][block_id]
    assert nothing_stored(deps)


def test_the_edges_of_the_ranges_are_accepted(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, mentor_view: dict[str, Any]
) -> None:
    for answers in ({"date": "2026-09-24", "duration": "5"}, {"date": "2026-11-23", "duration": "480"}):
        reply = submit(slack, MENTOR, mentor_view, answers={**GOOD, **answers, "learned": "y" * 3000})
        assert reply["response_action"] == "update", reply
    fake_slack.wait_for(lambda: len(fake_slack.messages(MENTEE)) == 2, what="two DMs")


def test_several_errors_at_once(slack: SlackRequestSender, mentor_view: dict[str, Any]) -> None:
    reply = submit(
        slack, MENTOR, mentor_view, answers={"date": "2026-12-01", "duration": "0", "learned": LONG}
    )
    assert set(reply["errors"]) == {"date", "duration", "format", "learned"}


def test_no_pair_chosen_is_a_field_error(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    make_pair(deps, MENTOR, MENTEE)
    make_pair(deps, MENTOR, "U0MENTEE2")
    view = open_modal(slack, fake_slack, MENTOR)
    reply = submit(slack, MENTOR, view, answers=GOOD)
    assert reply == {"response_action": "errors", "errors": {"pair": "Choose who the session was with."}}
    assert nothing_stored(deps)


def test_a_pair_ended_while_the_modal_was_open_is_a_field_error(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    ended = make_pair(deps, MENTOR, MENTEE)
    make_pair(deps, MENTOR, "U0MENTEE2")
    view = open_modal(slack, fake_slack, MENTOR)
    with deps.sessions.begin() as session:
        session.execute(update(Pair).where(Pair.id == ended).values(ended_at=deps.clock()))
    reply = submit(slack, MENTOR, view, answers={**GOOD, "pair": str(ended)})
    assert reply["response_action"] == "errors"
    assert "not in this pairing" in reply["errors"]["pair"]
    assert nothing_stored(deps)


def test_the_only_pair_ended_gets_a_clear_message(
    slack: SlackRequestSender, deps: Deps, mentor_view: dict[str, Any]
) -> None:
    with deps.sessions.begin() as session:
        session.execute(update(Pair).values(ended_at=deps.clock()))
    reply = submit(slack, MENTOR, mentor_view, answers=GOOD)
    assert reply["response_action"] == "update"  # no pair field to attach it to
    assert "not in this pairing" in str(reply["view"]["blocks"])
    assert nothing_stored(deps)


# -- the form on its own ---------------------------------------------------------------------------------

TODAY = date(2026, 11, 23)


def test_blank_text_is_no_text_and_whitespace_is_trimmed() -> None:
    parsed = parse_form(
        {**GOOD, "learned": "   ", "next_steps": "  call Monday  "},
        new_session=True,
        today=TODAY,
        competencies=(),
    )
    assert parsed.errors == {}
    assert parsed.reflection is not None
    assert (parsed.reflection.learned, parsed.reflection.next_steps) == (None, "call Monday")


def test_an_existing_session_needs_no_date_duration_or_format() -> None:
    parsed = parse_form({"topics": ["ethics"]}, new_session=False, today=TODAY, competencies=())
    assert parsed.errors == {} and parsed.session is None


def test_unknown_choices_are_refused() -> None:
    parsed = parse_form(
        {**GOOD, "format": "telepathy", "topics": ["astrology"], "competency:ethics": "expert"},
        new_session=True,
        today=TODAY,
        competencies=("ethics",),
    )
    assert set(parsed.errors) == {"format", "topics", "competency:ethics"}
    assert parsed.errors["competency:ethics"] == "Choose not yet, developing or demonstrated."


def test_a_competency_no_longer_in_the_program_is_named() -> None:
    parsed = parse_form(
        {**GOOD, "competency:handover": "developing"}, new_session=True, today=TODAY, competencies=("ethics",)
    )
    assert parsed.errors == {"competency:handover": "This competency is no longer in the program."}
