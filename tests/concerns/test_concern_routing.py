"""Acceptance 3: urgent concerns reach the coordinator channel at once; ones involving the mentor or a
coordinator go to the escalation contact only, and never to the coordinators, their list or digest."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.concerns import posting, raising, responders
from bot.concerns.terms import Route
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import validate_blocks
from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.programs import EscalationConfig
from storage.models import AuditEntry, Concern
from tests.support.concerns import (
    COORDINATOR,
    DIO,
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

SENDER_TRACES = ("U0MENTEE1", "amara", "Amara", "D0COMMAND")


def _posts(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return fake.messages(channel)


def _assert_anonymous(message: dict[str, Any]) -> None:
    shown = json.dumps(message)
    for trace in SENDER_TRACES:
        assert trace not in shown


@pytest.mark.parametrize(
    ("category", "urgency"),
    [("patient_safety", "routine"), ("workload", "urgent")],
    ids=["patient-safety-category", "marked-urgent"],
)
def test_urgent_concern_is_posted_to_the_coordinator_channel_at_once(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, category: str, urgency: str
) -> None:
    enrol(deps)
    reply = submit_concern(
        slack, fake_slack, text="Handover skipped the allergy check.", category=category, urgency=urgency
    )
    assert "posted to your program's coordinators right away" in view_text(reply["view"])
    posts = wait_until(lambda: _posts(fake_slack, "C0DIGEST"), what="the urgent post")
    assert len(posts) == 1 and "Handover skipped the allergy check." in view_text(posts[0])
    assert "Urgent concern" in view_text(posts[0])
    _assert_anonymous(posts[0])
    assert _posts(fake_slack, DIO) == []
    with deps.sessions.begin() as session:
        concern = session.scalars(select(Concern)).one()
        assert (concern.urgent, concern.escalated, concern.notify_pending) == (True, False, False)


def test_routine_concern_is_not_posted(deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text="Too many night shifts in a row.", category="workload")
    assert posting.deliver_pending(deps, now=deps.clock()) == []
    assert fake_slack.calls_to("chat.postMessage") == []
    assert "Too many night shifts" in view_text(list_concerns(slack))


def test_concern_involving_the_mentor_goes_to_the_escalation_contact_only(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    form = open_concern_form(slack, fake_slack)
    assert "<@U0DIO>" in view_text(form)  # the sender is told where it goes before submitting
    reply = submit_concern(
        slack, fake_slack, text="My mentor mocks my accent.", involves=True, urgency="urgent"
    )
    assert "went to the program's escalation contact (<@U0DIO>) only" in view_text(reply["view"])
    dm = wait_until(lambda: _posts(fake_slack, DIO), what="the escalation DM")
    assert len(dm) == 1 and "My mentor mocks my accent." in view_text(dm[0])
    _assert_anonymous(dm[0])
    assert _posts(fake_slack, "C0DIGEST") == []
    assert "No open concerns" in view_text(list_concerns(slack))
    with deps.sessions.begin() as session:
        assert session.scalars(select(Concern.escalated)).one() is True


def _click(slack: SlackRequestSender, user_id: str, message: dict[str, Any], prefix: str) -> None:
    element = button(message["blocks"], prefix)
    slack.block_action(
        user_id,
        action_id=element["action_id"],
        value=element["value"],
        message=message,
        channel_id=message["channel"],
    )


def test_only_the_escalation_contact_can_act_on_an_escalated_concern(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text="A coordinator shouted at me.", involves=True)
    dm = wait_until(lambda: _posts(fake_slack, DIO), what="the escalation DM")[0]

    _click(slack, COORDINATOR, dm, "concern_acknowledge:")
    refusal = wait_until(lambda: fake_slack.responses, what="the refusal")[-1][1]
    assert "Only the escalation contact" in refusal["text"]

    _click(slack, DIO, dm, "concern_acknowledge:")
    wait_until(lambda: fake_slack.calls_to("chat.update", ok_only=True), what="the redrawn post")
    updated = _posts(fake_slack, DIO)[0]
    assert "Acknowledged" in view_text(updated) and validate_blocks(updated["blocks"]) == []
    with deps.sessions.begin() as session:
        assert session.scalars(select(Concern.status)).one() == "acknowledged"
        assert [(a.actor_id, a.action) for a in session.scalars(select(AuditEntry))] == [
            (DIO, "concern.acknowledge")
        ]


def test_coordinator_resolves_an_urgent_post_in_the_channel(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text="Oxygen cylinders left empty.", category="patient_safety")
    post = wait_until(lambda: _posts(fake_slack, "C0DIGEST"), what="the urgent post")[0]
    _click(slack, COORDINATOR, post, "concern_resolve:")
    wait_until(lambda: "Resolved" in view_text(_posts(fake_slack, "C0DIGEST")[0]), what="the resolved post")
    with deps.sessions.begin() as session:
        concern = session.scalars(select(Concern)).one()
        assert concern.status == "resolved" and concern.resolved_on == deps.clock().date()


def test_without_an_escalation_contact_it_is_held_back_and_delivered_once_one_is_named(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps, mentee="U0MENTEE2", mentor="U0MENTOR2", program_id="nursing-2026")
    form = open_concern_form(slack, fake_slack, "U0MENTEE2")
    assert "has no escalation contact yet" in view_text(form)
    reply = submit_concern(
        slack, fake_slack, "U0MENTEE2", text="My mentor takes credit for my work.", involves=True
    )
    assert "*not* shown to the coordinators" in view_text(reply["view"])
    assert posting.deliver_pending(deps, now=deps.clock()) == []
    assert fake_slack.calls_to("chat.postMessage") == []
    assert "No open concerns" in view_text(list_concerns(slack, "U0COORD2"))

    named = [
        p.model_copy(update={"escalation": EscalationConfig(user="U0DIO")}) if p.id == "nursing-2026" else p
        for p in deps.programs.programs
    ]
    later = dataclasses.replace(deps, programs=deps.programs.model_copy(update={"programs": named}))
    assert posting.run_due(later, deps.clock()) == ["concerns: posted an escalated concern for nursing-2026"]
    assert "takes credit for my work" in view_text(_posts(fake_slack, DIO)[0])
    assert posting.run_due(later, deps.clock()) == []  # claimed once, never sent twice


def test_a_failed_post_is_retried_by_the_next_tick(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    fake_slack.inject("chat.postMessage", error="channel_not_found")
    submit_concern(
        slack, fake_slack, text="Night team left the defibrillator unplugged.", category="patient_safety"
    )
    wait_until(lambda: fake_slack.calls_to("chat.postMessage"), what="the failed post")
    wait_until(lambda: _pending(deps), what="the post put back")
    assert posting.run_due(deps, deps.clock()) == ["concerns: posted an urgent concern for img-2026"]
    assert len(_posts(fake_slack, "C0DIGEST")) == 1


def _pending(deps: Deps) -> bool:
    with deps.sessions.begin() as session:
        return bool(session.scalar(select(Concern.notify_pending)))


def test_the_escalation_contact_replies_and_the_sender_reads_it(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    key = case_key(submit_concern(slack, fake_slack, text="My mentor keeps cancelling.", involves=True))
    dm = wait_until(lambda: _posts(fake_slack, DIO), what="the escalation DM")[0]
    _click(slack, COORDINATOR, dm, "concern_reply:")
    refusal = wait_until(lambda: fake_slack.responses, what="the refusal")[-1][1]
    assert "Only the escalation contact" in refusal["text"]
    assert not [v for v in opened_views(fake_slack) if v["callback_id"] == "concern_coordinator_reply"]
    _click(slack, DIO, dm, "concern_reply:")
    modal = wait_until(
        lambda: [v for v in opened_views(fake_slack) if v["callback_id"] == "concern_coordinator_reply"],
        what="the reply modal",
    )[0]
    typed = {"text": {"text": {"type": "plain_text_input", "value": "I will talk to you privately first."}}}
    _, body, _ = slack.view_submission(DIO, view={**modal, "state": {"values": typed}})
    assert slack_json(body)["response_action"] == "update"
    _, status_view = concern_status(slack, fake_slack, key)
    assert status_view is not None
    assert "<@U0DIO>" in view_text(status_view) and "talk to you privately" in view_text(status_view)


def test_an_escalation_channel_receives_it_and_acts_on_it(deps: Deps, fake_slack: FakeSlack) -> None:
    enrol(deps, mentee="U0MENTEE2", mentor="U0MENTOR2", program_id="nursing-2026")
    named = [
        p.model_copy(update={"escalation": EscalationConfig(channel="C0OMBUDS")})
        if p.id == "nursing-2026"
        else p
        for p in deps.programs.programs
    ]
    later = dataclasses.replace(deps, programs=deps.programs.model_copy(update={"programs": named}))
    draft = raising.ConcernDraft("nursing-2026", "supervision", False, True, True, "My preceptor ignores me.")
    with later.sessions.begin() as session:
        raised = raising.raise_concern(
            session, deps=later, draft=draft, user_id="U0MENTEE2", now=deps.clock()
        )
    assert raised is not None and raised.route is Route.ESCALATION_NOW
    posting.deliver_pending(later, now=deps.clock())
    post = _posts(fake_slack, "C0OMBUDS")[0]
    assert "My preceptor ignores me." in view_text(post)
    concern_id = json.loads(button(post["blocks"], "concern_resolve:")["value"])["c"]
    with later.sessions.begin() as session:
        with pytest.raises(NotAllowed):
            responders.resolve(
                session,
                deps=later,
                concern_id=concern_id,
                responder=responders.Responder("U0COORD2"),
                now=deps.clock(),
            )
    with later.sessions.begin() as session:
        member = responders.Responder("U0OUTSIDE", "C0OMBUDS")
        assert (
            responders.resolve(
                session, deps=later, concern_id=concern_id, responder=member, now=deps.clock()
            ).status
            == "resolved"
        )
