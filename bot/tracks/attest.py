"""Attestation: the supervising physician signs a review period's milestone levels, or returns it.

Signed rows are never changed: storage has no update path and the schema refuses one. A correction is
a new row amending the latest, made from the same form; the form carries the id of the row it amends,
so two corrections racing each other cannot both win (each row is amended at most once), and a double
submission of the first signature is refused by the one-original-per-review index. Every signature,
return and amendment is written to the audit log in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.people import display_name
from bot.kernel.refusals import Refusal
from bot.kernel.roles import roles_of
from bot.tracks import blocks
from bot.tracks.calendar import REVIEW
from bot.tracks.evidence import track_of
from bot.tracks.messages import request_for
from storage.models import TrackAttestation, TrackEnrolment, TrackMilestone
from storage.repositories.audit import record_audit
from storage.repositories.people import people_by_id
from storage.repositories.tracks import add_attestation, delivery_of, latest_attestation

NOT_SUPERVISOR = "Only the supervising physician named at enrolment can attest this review."
ATTESTED, RETURNED = "attested", "returned"


class AttestationRefused(Refusal):
    """The review was signed or amended by someone else meanwhile, or it is not the caller's."""


@dataclass(frozen=True)
class Review:
    """A review milestone with its enrolment, checked to be the caller's to attest."""

    milestone: TrackMilestone
    enrolment: TrackEnrolment
    latest: TrackAttestation | None


def review_for(session: Session, *, deps: Deps, milestone_id: int, user_id: str) -> Review:
    """The review the caller may attest; NotAllowed for anyone but its supervising physician."""
    milestone = session.get(TrackMilestone, milestone_id)
    enrolment = session.get(TrackEnrolment, milestone.enrolment_id) if milestone is not None else None
    if (
        milestone is None
        or enrolment is None
        or milestone.kind != REVIEW
        or enrolment.supervisor_id != user_id
    ):
        raise NotAllowed(NOT_SUPERVISOR)
    require(
        roles_of(session, programs=deps.programs, user_id=user_id),
        Action.TRACK_ATTEST,
        program_id=enrolment.program_id,
    )
    return Review(milestone, enrolment, latest_attestation(session, milestone_id=milestone.id))


def attest_form(session: Session, *, deps: Deps, milestone_id: int, user_id: str) -> blocks.AttestForm:
    """The attestation modal, pre-filled with the latest signed levels when it amends them."""
    review = review_for(session, deps=deps, milestone_id=milestone_id, user_id=user_id)
    track = track_of(review.enrolment)
    latest = review.latest
    initial = {k: int(v) for k, v in latest.levels.items()} if latest and latest.status == ATTESTED else {}
    return blocks.AttestForm(
        milestone_id=milestone_id,
        licensee_name=_name(session, review.enrolment.person_id),
        review_title=review.milestone.title,
        competencies=tuple((c.id, c.name) for c in track.competencies),
        initial=initial,
        amends=latest.id if latest else None,
    )


def return_form(session: Session, *, deps: Deps, milestone_id: int, user_id: str) -> dict[str, Any]:
    review = review_for(session, deps=deps, milestone_id=milestone_id, user_id=user_id)
    return blocks.return_modal(
        milestone_id,
        licensee_name=_name(session, review.enrolment.person_id),
        review_title=review.milestone.title,
        amends=review.latest.id if review.latest else None,
    )


def _name(session: Session, user_id: str) -> str:
    return display_name(people_by_id(session, user_ids=[user_id]).get(user_id), user_id)


# -- submissions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """Field errors, or the row written and what to tell the signer."""

    errors: dict[str, str] = field(default_factory=dict)
    attestation_id: int | None = None
    milestone_id: int | None = None
    message: str = ""


def submit(session: Session, *, deps: Deps, user_id: str, view: dict[str, Any], now: datetime) -> Submitted:
    """Validate an attest or return form and insert its immutable row with an audit entry."""
    meta = _metadata(view)
    review = review_for(session, deps=deps, milestone_id=int(meta.get("milestone") or 0), user_id=user_id)
    amends = meta.get("amends")
    if (review.latest.id if review.latest else None) != amends:
        raise AttestationRefused("This review was signed or amended meanwhile. Open it again from its DM.")
    values = _values(view)
    levels: dict[str, int] = {}
    if view.get("callback_id") == blocks.RETURN_CALLBACK:
        status, comments = RETURNED, values.get(blocks.REASON_BLOCK)
        if not comments:
            return Submitted(
                errors={blocks.REASON_BLOCK: "Say why, so the mentor and licensee can act on it."}
            )
    else:
        levels, errors = _levels(track_of(review.enrolment).competencies, values)
        if errors:
            return Submitted(errors=errors)
        status, comments = ATTESTED, values.get(blocks.COMMENTS_BLOCK)
    row = _insert(
        session, review=review, user_id=user_id, status=status, levels=levels, comments=comments, now=now
    )
    return Submitted(attestation_id=row.id, milestone_id=review.milestone.id, message=_done(row, review))


def _insert(
    session: Session,
    *,
    review: Review,
    user_id: str,
    status: str,
    levels: dict[str, int],
    comments: str | None,
    now: datetime,
) -> TrackAttestation:
    row = TrackAttestation(
        enrolment_id=review.enrolment.id,
        milestone_id=review.milestone.id,
        supervisor_id=user_id,
        supervisor_name=_name(session, user_id)[:120],
        status=status,
        levels=levels,
        comments=comments,
        signed_at=now,
        amends_id=review.latest.id if review.latest else None,
    )
    try:
        with session.begin_nested():
            add_attestation(session, attestation=row)
    except IntegrityError:
        raise AttestationRefused(
            "This review was just signed; nothing changed. Open it again to amend."
        ) from None
    _audit(session, row=row, review=review, now=now)
    return row


def _audit(session: Session, *, row: TrackAttestation, review: Review, now: datetime) -> None:
    """One audit entry per signature, return or amendment, in the transaction that writes it."""
    action = (
        "track.amend" if row.amends_id else ("track.attest" if row.status == ATTESTED else "track.return")
    )
    target = f"attestation {row.id} of {review.enrolment.person_id} {review.milestone.title}"[:500]
    program_id = review.enrolment.program_id
    record_audit(
        session, actor_id=row.supervisor_id, action=action, now=now, program_id=program_id, target=target
    )


def _levels(competencies: Any, values: dict[str, str | None]) -> tuple[dict[str, int], dict[str, str]]:
    levels: dict[str, int] = {}
    errors: dict[str, str] = {}
    for competency in competencies:
        value = values.get(f"{blocks.LEVEL_BLOCK}{competency.id}")
        if value is None or not value.isdigit() or int(value) not in blocks.MILESTONE_LEVELS:
            errors[f"{blocks.LEVEL_BLOCK}{competency.id}"] = "Choose a milestone level."
        else:
            levels[competency.id] = int(value)
    return levels, errors


def _values(view: dict[str, Any]) -> dict[str, str | None]:
    """block_id -> the chosen option's value or the typed text (stripped; None when empty)."""
    found: dict[str, str | None] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        for element in elements.values():
            option = element.get("selected_option") or {}
            text = (option.get("value") or element.get("value") or "").strip()
            found[block_id] = text[: blocks.MAX_COMMENT] or None
    return found


def milestone_of(view: dict[str, Any]) -> int | None:
    """The review an attest or return form was about."""
    value = _metadata(view).get("milestone")
    return value if isinstance(value, int) else None


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _done(row: TrackAttestation, review: Review) -> str:
    what = "amended" if row.amends_id else ("signed" if row.status == ATTESTED else "returned")
    return (
        f"Your attestation of *{review.milestone.title}* is {what} and recorded; it cannot be edited. "
        "A correction is a new, dated amendment."
        if row.status == ATTESTED
        else f"You {what} *{review.milestone.title}*; your reason is recorded with your name."
    )


def request_view(
    session: Session, *, deps: Deps, milestone_id: int
) -> tuple[str | None, str | None, blocks.Request]:
    """The supervisor's DM for a review as it should read now, with where it was sent (if recorded)."""
    milestone = session.get(TrackMilestone, milestone_id)
    assert milestone is not None
    enrolment = session.get(TrackEnrolment, milestone.enrolment_id)
    assert enrolment is not None
    program = deps.programs.get(enrolment.program_id)
    zone = program.tz if program else ZoneInfo("UTC")
    sent = delivery_of(
        session, milestone_id=milestone_id, kind="attest", recipient_id=enrolment.supervisor_id
    )
    request = request_for(session, enrolment=enrolment, milestone=milestone, zone=zone)
    return (sent.channel if sent else None), (sent.ts if sent else None), request
