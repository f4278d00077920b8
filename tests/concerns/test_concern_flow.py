from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

from bot.concerns import figures as concern_figures
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import validate_view
from bot.kernel.deps import Deps
from storage.models import AuditEntry, Concern
from tests.support.concerns import (
    COORDINATOR,
    MENTEE,
    button,
    case_key,
    concern_status,
    enrol,
    list_concerns,
    open_concern_form,
    opened_views,
    slack_json,
    submit_concern,
    view_text,
    wait_until,
)


def _coordinator_replies(
    slack: SlackRequestSender, fake: FakeSlack, listing: dict[str, Any], text: str
) -> dict[str, Any]:
    reply_button = button(listing["blocks"], "concern_reply:")
    before = len(opened_views(fake))
    slack.block_action(
        COORDINATOR,
        action_id=reply_button["action_id"],
        value=reply_button["value"],
        message={"ts": "1.0", "blocks": listing["blocks"], "text": listing["text"]},
        channel_id="D0COORD",
        container={"type": "message", "channel_id": "D0COORD", "is_ephemeral": True, "message_ts": "1.0"},
    )
    modal = wait_until(lambda: opened_views(fake)[before:], what="the reply modal")[0]
    filled = {**modal, "state": {"values": {"text": {"text": {"type": "plain_text_input", "value": text}}}}}
    status, body, _ = slack.view_submission(COORDINATOR, view=filled)
    assert status == 200
    return dict(slack_json(body))


def test_case_key_flow_end_to_end(deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    enrol(deps)
    reply = submit_concern(slack, fake_slack, text="My supervisor dismisses my questions at handover.")
    key = case_key(reply)
    assert "only* time it is shown" in view_text(reply["view"])

    listing = list_concerns(slack)
    assert "dismisses my questions" in view_text(listing)
    saved = _coordinator_replies(slack, fake_slack, listing, "Thank you. Can you tell us which unit?")
    assert saved["response_action"] == "update" and "Reply saved" in view_text(saved["view"])

    ack, status_modal = concern_status(slack, fake_slack, key.lower().replace("-", " "))
    assert ack == {} and status_modal is not None
    assert "Can you tell us which unit?" in view_text(status_modal)
    assert "Acknowledged" in view_text(status_modal)

    reply_button = button(status_modal["blocks"], "concern_sender_reply")
    before = len(opened_views(fake_slack, "views.push"))
    slack.block_action(MENTEE, action_id=reply_button["action_id"], value="reply", view=status_modal)
    pushed = wait_until(
        lambda: opened_views(fake_slack, "views.push")[before:], what="the sender reply modal"
    )[0]
    assert pushed["private_metadata"] == status_modal["private_metadata"]
    answer = {
        **pushed,
        "state": {
            "values": {
                "text": {
                    "text": {"type": "plain_text_input", "value": "The night shift on the surgical ward."}
                }
            }
        },
    }
    status, body, _ = slack.view_submission(MENTEE, view=answer)
    updated = slack_json(body)
    assert status == 200 and updated["response_action"] == "update"
    assert validate_view(updated["view"], "modal") == []
    assert "surgical ward" in view_text(updated["view"])

    listing = list_concerns(slack)
    assert "last from the sender" in view_text(listing)
    with deps.sessions.begin() as session:
        audit = session.scalars(select(AuditEntry)).all()
        assert [(a.actor_id, a.action) for a in audit] == [(COORDINATOR, "concern.reply")]


def test_wrong_and_malformed_keys_get_the_same_neutral_answer(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    key = case_key(submit_concern(slack, fake_slack, text="Remarks about my accent in rounds."))
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
    answers = [
        concern_status(slack, fake_slack, typed)[0] for typed in (wrong, "hello", "", "K7QF-2M9X-PD4C-XXXX")
    ]
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["response_type"] == "ephemeral" and "No case matches that key" in answers[0]["text"]


def test_form_explains_what_is_stored_and_warns_about_small_groups(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    view = open_concern_form(slack, fake_slack)
    text = view_text(view)
    assert "What is stored" in text and "Never stored or logged" in text
    assert "fewer than 5 members" in text
    assert "timing alone may narrow down" in text
    assert "U0MENTEE1" not in view["private_metadata"]
    with deps.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Concern)) == 0


def test_the_sender_closes_the_case(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Any
) -> None:
    enrol(deps)
    clock.now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday
    key = case_key(submit_concern(slack, fake_slack, text="Nobody explains the on-call rota."))
    _, status_modal = concern_status(slack, fake_slack, key)
    assert status_modal is not None
    close = button(status_modal["blocks"], "concern_sender_close")
    assert "confirm" in close
    slack.block_action(MENTEE, action_id=close["action_id"], value="close", view=status_modal)
    wait_until(lambda: fake_slack.calls_to("views.update", ok_only=True), what="the closed view")
    closed = fake_slack.view(status_modal["id"])
    assert closed is not None and "Closed by the sender" in view_text(closed)
    with deps.sessions.begin() as session:
        concern = session.scalars(select(Concern)).one()
        assert concern.status == "closed" and concern.resolved_on == date(2026, 11, 23)  # its Monday
    assert "No open concerns" in view_text(list_concerns(slack))


def test_acknowledge_and_resolve_redraw_the_list(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text="Handover is rushed every evening.")
    listing = list_concerns(slack)
    acknowledge = button(listing["blocks"], "concern_acknowledge:")
    slack.block_action(
        COORDINATOR,
        action_id=acknowledge["action_id"],
        value=acknowledge["value"],
        message={"ts": "1.0", **listing},
    )
    redrawn = wait_until(lambda: fake_slack.responses, what="the redrawn list")[-1][1]
    assert redrawn["replace_original"] is True and "_Acknowledged_" in view_text(redrawn)
    resolve = button(redrawn["blocks"], "concern_resolve:")
    slack.block_action(
        COORDINATOR, action_id=resolve["action_id"], value=resolve["value"], message={"ts": "1.0", **redrawn}
    )
    wait_until(lambda: len(fake_slack.responses) == 2, what="the second redraw")
    assert "No open concerns" in view_text(fake_slack.responses[-1][1])
    with deps.sessions.begin() as session:
        assert [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
            "concern.acknowledge",
            "concern.resolve",
        ]


def test_only_coordinators_list_concerns(deps: Deps, slack: SlackRequestSender) -> None:
    enrol(deps)
    refusal = list_concerns(slack, MENTEE)
    assert refusal["response_type"] == "ephemeral" and "Only coordinators" in refusal["text"]
    other = list_concerns(slack, "U0COORD2", "img-2026")
    assert "Only coordinators of img-2026" in other["text"]


def test_response_times_count_from_the_arrival_monday(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Any
) -> None:
    enrol(deps)
    clock.now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday: the concern's week starts Mon 23rd
    submit_concern(slack, fake_slack, text="The simulation lab is always booked.")
    clock.now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    _coordinator_replies(slack, fake_slack, list_concerns(slack), "We will add slots.")
    with deps.sessions.begin() as session:
        concern = session.scalars(select(Concern)).one()
        assert concern.week == date(2026, 11, 23) and concern.first_reply_on == date(2026, 11, 30)
        assert concern_figures.days_to_first_reply(concern) == 7
        assert concern_figures.days_to_resolution(concern) is None
    assert concern_figures.median_days([7, None, 3, 10]) == 7


def test_concern_tables_carry_no_arrival_order(deps: Deps) -> None:
    inspector = inspect(deps.engine)
    for table in ("concerns", "concern_messages"):
        types = {c["name"]: str(c["type"]).upper() for c in inspector.get_columns(table)}
        assert not [name for name, kind in types.items() if "TIME" in kind], table
        assert not [c for c in inspector.get_columns(table) if c.get("autoincrement") is True], table
    if deps.engine.dialect.name == "sqlite":
        with deps.engine.connect() as connection, pytest.raises(OperationalError):
            connection.execute(text("SELECT rowid FROM concerns"))
