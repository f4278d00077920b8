"""The tracks' App Home section: each enrolment the reader is part of, as a timeline of its milestones.

A topic is done once the pair logged a session (not disputed) on or after its day and before the next
topic's, with its /reflect topic when it has one; it is overdue when the next topic came first. A review
is done once attested, overdue a month after it closed. A checkpoint is done once its day has come.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.roles import UserRoles
from bot.tracks import blocks
from bot.tracks.audience import pair_of
from bot.tracks.calendar import CHECKPOINT, REVIEW, TOPIC
from bot.tracks.evidence import track_of
from storage.models import TrackEnrolment, TrackMilestone
from storage.repositories.tracks import (
    attestations_of,
    enrolments_involving,
    logged_topics,
    milestones_of,
)

MAX_ENROLMENTS = 5  # the Home view holds 100 blocks, shared with every other section
MAX_STEPS = 6
REVIEW_OVERDUE_AFTER = timedelta(days=30)
LAST_TOPIC_WINDOW = timedelta(days=30)


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[dict[str, Any]]:
    """Timelines of the enrolments where the reader is the licensee, the mentor or the supervisor."""
    enrolments = [
        e for e in enrolments_involving(session, user_id=roles.user_id) if deps.programs.get(e.program_id)
    ]
    timelines = [
        timeline_of(session, deps=deps, enrolment=e, user_id=roles.user_id, now=now)
        for e in enrolments[:MAX_ENROLMENTS]
    ]
    return blocks.timeline_blocks(timelines)


def timeline_of(
    session: Session, *, deps: Deps, enrolment: TrackEnrolment, user_id: str, now: datetime
) -> blocks.Timeline:
    program = deps.programs.get(enrolment.program_id)
    today = now.astimezone(program.tz).date() if program else now.date()
    milestones = milestones_of(session, enrolment_id=enrolment.id)
    states = milestone_states(session, enrolment=enrolment, milestones=milestones, today=today)
    in_pair = user_id in pair_of(session, enrolment)
    steps = [
        blocks.Step(
            m.id, m.due_on, m.title, states[m.id], in_pair and m.kind == TOPIC and states[m.id] != blocks.DONE
        )
        for m in milestones
    ]
    role = (
        "you"
        if user_id == enrolment.person_id
        else ("you supervise" if user_id == enrolment.supervisor_id else "your mentee")
    )
    done = sum(1 for s in steps if s.state == blocks.DONE)
    return blocks.Timeline(
        track_of(enrolment).name, enrolment.person_id, role, done, len(steps), _shown(steps)
    )


def _shown(steps: list[blocks.Step]) -> tuple[blocks.Step, ...]:
    """The overdue and due steps, then the next upcoming ones, at most MAX_STEPS, in date order."""
    pressing = [s for s in steps if s.state in (blocks.OVERDUE, blocks.DUE)][-MAX_STEPS // 2 :]
    upcoming = [s for s in steps if s.state == blocks.UPCOMING][: MAX_STEPS - len(pressing)]
    return tuple(sorted(pressing + upcoming, key=lambda s: s.day))


def milestone_states(
    session: Session, *, enrolment: TrackEnrolment, milestones: list[TrackMilestone], today: date
) -> dict[int, str]:
    """done | due | overdue | upcoming for every milestone of an enrolment."""
    logged = logged_topics(session, program_id=enrolment.program_id, mentee_id=enrolment.person_id)
    attested = _attested_reviews(session, enrolment_id=enrolment.id)
    topics = [m for m in milestones if m.kind == TOPIC]
    ends = {m.id: nxt.due_on for m, nxt in zip(topics, topics[1:], strict=False)}
    states = {}
    for m in milestones:
        if m.kind == TOPIC:
            end = ends.get(m.id, m.due_on + LAST_TOPIC_WINDOW)
            states[m.id] = _topic_state(m, end, logged, today)
        elif m.kind == REVIEW:
            states[m.id] = _review_state(m, m.id in attested, today)
        elif m.kind == CHECKPOINT:
            states[m.id] = blocks.DONE if today >= m.due_on else blocks.UPCOMING
    return states


def _topic_state(m: TrackMilestone, end: date, logged: list[tuple[date, frozenset[str]]], today: date) -> str:
    if today < m.due_on:
        return blocks.UPCOMING
    if any(
        m.due_on <= day < end and (m.reflect_topic is None or m.reflect_topic in topics)
        for day, topics in logged
    ):
        return blocks.DONE
    return blocks.OVERDUE if today >= end else blocks.DUE


def _review_state(m: TrackMilestone, attested: bool, today: date) -> str:
    if attested:
        return blocks.DONE
    if today < m.due_on:
        return blocks.UPCOMING
    return blocks.OVERDUE if today >= m.due_on + REVIEW_OVERDUE_AFTER else blocks.DUE


def _attested_reviews(session: Session, *, enrolment_id: int) -> set[int]:
    """Reviews whose latest row (the one nothing amends) is an attestation, not a return."""
    rows = attestations_of(session, enrolment_id=enrolment_id)
    amended = {r.amends_id for r in rows if r.amends_id is not None}
    return {r.milestone_id for r in rows if r.id not in amended and r.status == "attested"}
