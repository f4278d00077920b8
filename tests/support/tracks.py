"""Shared helpers for the track tests: enrolling through the real service, logging confirmed sessions
through the real repositories, and finding track DMs in the fake Slack."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from bot.tracks.deliveries import EVENT
from bot.tracks.enrol import Plan, TrackRequest, enrol, plan_enrolment
from storage.models import Pair, Reflection, TrackDelivery, TrackMilestone
from storage.repositories.pairs import active_pairs_of
from storage.repositories.reflections import add_observations, add_reflection, answer_session, create_session
from tests.support.factories import make_pair

COORDINATOR = "U0COORD1"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def pair_id_of(deps: Deps, mentee_id: str) -> int | None:
    with deps.read_sessions.begin() as session:
        pairs = active_pairs_of(session, user_id=mentee_id, program_id="img-2026")
        return next((p.id for p in pairs if p.mentee_id == mentee_id), None)


def enrol_on(
    deps: Deps,
    track_id: str,
    *,
    start: date,
    now: datetime,
    mentee: str = "U0MENTEE1",
    mentor: str = "U0MENTOR1",
    mentee_tz: str | None = None,
) -> int:
    """Pair (when needed) and enrol through the real plan and enrol services; the enrolment id."""
    if pair_id_of(deps, mentee) is None:
        make_pair(deps, mentor, mentee, started_at=now, mentee_tz=mentee_tz)
    with deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=deps.programs, user_id=COORDINATOR)
        plan = plan_enrolment(session, deps=deps, roles=roles, request=TrackRequest(mentee, track_id, start))
    assert isinstance(plan, Plan), plan
    outcome = enrol(deps, plan=plan, actor_id=COORDINATOR, now=now)
    assert outcome.ok and outcome.enrolment_id is not None, outcome.message
    return outcome.enrolment_id


def log_confirmed_session(
    deps: Deps,
    *,
    mentee: str,
    day: date,
    levels: dict[str, str],
    minutes: int = 60,
    private_notes: str | None = None,
    learned: str | None = None,
    confirm: bool = True,
    topics: tuple[str, ...] = ("clinical-reasoning",),
) -> int:
    """A session the mentor logged (with a reflection and observed levels) and the mentee confirmed."""
    now = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    with deps.sessions.begin() as session:
        pair = session.scalars(select(Pair).where(Pair.mentee_id == mentee, Pair.ended_at.is_(None))).one()
        row = create_session(
            session,
            pair=pair,
            session_date=day,
            duration_minutes=minutes,
            format="in_person",
            logged_by=pair.mentor_id,
            now=now,
        )
        add_reflection(
            session,
            reflection=Reflection(
                session_id=row.id,
                author_id=pair.mentor_id,
                author_role="mentor",
                topics=list(topics),
                learned=learned,
                private_notes=private_notes,
                created_at=now,
            ),
        )
        add_observations(session, mentoring_session=row, mentee_id=mentee, levels=levels)
        if confirm:
            answer_session(session, session_id=row.id, status="confirmed", user_id=mentee, now=now)
        return row.id


def track_posts(fake: FakeSlack, *, user_id: str | None = None) -> list[Any]:
    """Successful chat.postMessage calls that carried a track DM (to one person, when given)."""
    return [
        call
        for call in fake.calls_to("chat.postMessage", ok_only=True)
        if (call.args.get("metadata") or {}).get("event_type") == EVENT
        and (user_id is None or call.args.get("channel") == user_id)
    ]


def deliveries(deps: Deps) -> list[TrackDelivery]:
    with deps.read_sessions.begin() as session:
        rows = list(session.scalars(select(TrackDelivery).order_by(TrackDelivery.id)))
        session.expunge_all()
        return rows


def milestones(deps: Deps, enrolment_id: int) -> list[TrackMilestone]:
    with deps.read_sessions.begin() as session:
        query = select(TrackMilestone).where(TrackMilestone.enrolment_id == enrolment_id)
        rows = list(session.scalars(query.order_by(TrackMilestone.seq)))
        session.expunge_all()
        return rows


def filled(view: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """The view with its input blocks answered the way Slack reports state: block id -> option value or
    typed text."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        answer = answers.get(block_id)
        if element["type"] == "static_select":
            chosen = next(
                (o for o in element["options"] if o["value"] == answer), element.get("initial_option")
            )
            state = {"type": "static_select", "selected_option": chosen}
        else:
            state = {"type": element["type"], "value": answer}
        values[block_id] = {element["action_id"]: state}
    return {**view, "state": {"values": values}}


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    """The button with this label in a message."""
    return next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )


def track_surfaces() -> list[Any]:
    """Every tracks surface with something to press or submit, drawn by bot.tracks.blocks itself."""
    from bot.tracks import blocks

    day = date(2026, 11, 30)
    prompt = blocks.Prompt(
        7, "IMG onboarding journey", "First eight weeks", "The EHR", "Notes.", day, "U1", "U2"
    )
    competency = blocks.CompetencyEvidence("ethics", "Ethics", ("developing (Mon 30 Nov)",))
    request = blocks.Request(8, "U1", "Amara", "Track", "Review 1", day, (competency,), 1, "1 h")
    signed = blocks.Signed("attested", "Ana", day, "• Ethics: Level 3", amended=False)
    form = blocks.AttestForm(8, "Amara", "Review 1", (("ethics", "Ethics"),), {"ethics": 3}, amends=4)
    step = blocks.Step(7, day, "The EHR", blocks.DUE, can_log=True)
    timeline = blocks.Timeline("IMG onboarding journey", "U1", "you", 0, 9, (step,))
    return [
        blocks.journey_prompt(prompt),
        blocks.attestation_request(request),
        blocks.attestation_request(dataclasses.replace(request, signed=signed)),
        blocks.attest_modal(form),
        blocks.return_modal(8, licensee_name="Amara", review_title="Review 1", amends=None),
        blocks.signed_view("Signed."),
        blocks.timeline_blocks([timeline]),
    ]
