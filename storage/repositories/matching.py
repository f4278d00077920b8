"""Queries over matching profiles, departures, the coordinator's pins and forbids, and stored proposals."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    MatchConstraint,
    MatchingDeparture,
    MatchingProfile,
    MatchProposal,
    MatchProposalPair,
    Pair,
)

PROFILE_FIELDS = (
    "role",
    "specialty",
    "department",
    "languages",
    "trained_in",
    "focus",
    "formats",
    "times",
    "capacity",
    "ranked",
    "reports_to",
)


# -- profiles ------------------------------------------------------------------------------------------


def get_profile(session: Session, *, program_id: str, user_id: str) -> MatchingProfile | None:
    query = select(MatchingProfile).where(
        MatchingProfile.program_id == program_id, MatchingProfile.user_id == user_id
    )
    return session.scalars(query).first()


def profiles_in(session: Session, *, program_id: str) -> list[MatchingProfile]:
    """Every profile of a program, in the order people joined."""
    query = select(MatchingProfile).where(MatchingProfile.program_id == program_id)
    return list(session.scalars(query.order_by(MatchingProfile.id)))


def profiles_of(session: Session, *, user_id: str) -> list[MatchingProfile]:
    """The user's profiles, one per program they joined."""
    query = select(MatchingProfile).where(MatchingProfile.user_id == user_id)
    return list(session.scalars(query.order_by(MatchingProfile.program_id)))


def avoid_list(profile: MatchingProfile) -> list[str]:
    """The people this profile's author asked never to be matched with (decrypted)."""
    return [str(user_id) for user_id in json.loads(profile.avoid)] if profile.avoid else []


def save_profile(
    session: Session,
    *,
    program_id: str,
    user_id: str,
    answers: dict[str, Any],
    avoid: Iterable[str] | None,
    source: str,
    now: datetime,
) -> MatchingProfile:
    """Create or replace the user's profile with `answers` (keys of PROFILE_FIELDS); joining again ends
    a departure. `avoid=None` keeps the stored avoid list."""
    profile = get_profile(session, program_id=program_id, user_id=user_id)
    if profile is None:
        profile = MatchingProfile(program_id=program_id, user_id=user_id, created_at=now)
        session.add(profile)
    for name in PROFILE_FIELDS:
        if name in answers:
            setattr(profile, name, answers[name])
    if avoid is not None:
        wanted = sorted(set(avoid))
        profile.avoid = json.dumps(wanted) if wanted else None
    profile.source, profile.updated_at = source, now
    session.execute(
        delete(MatchingDeparture).where(
            MatchingDeparture.program_id == program_id, MatchingDeparture.user_id == user_id
        )
    )
    return profile


def delete_profile(session: Session, *, program_id: str, user_id: str, now: datetime) -> bool:
    """Remove the profile and remember that the person left; True when there was a profile."""
    profile = get_profile(session, program_id=program_id, user_id=user_id)
    if profile is not None:
        session.delete(profile)
    departure = session.get(MatchingDeparture, (program_id, user_id))
    if departure is None:
        session.add(MatchingDeparture(program_id=program_id, user_id=user_id, left_at=now))
    else:
        departure.left_at = now
    return profile is not None


def departures_in(session: Session, *, program_id: str) -> dict[str, datetime]:
    """Who left matching in the program, and when."""
    query = select(MatchingDeparture).where(MatchingDeparture.program_id == program_id)
    return {row.user_id: row.left_at for row in session.scalars(query)}


# -- pins and forbids ----------------------------------------------------------------------------------


def constraints_in(session: Session, *, program_id: str) -> list[MatchConstraint]:
    """The program's pins and forbids, oldest first (pins are kept in that order)."""
    query = select(MatchConstraint).where(MatchConstraint.program_id == program_id)
    return list(session.scalars(query.order_by(MatchConstraint.created_at, MatchConstraint.id)))


def set_constraint(
    session: Session,
    *,
    program_id: str,
    mentor_id: str,
    mentee_id: str,
    kind: str,
    actor_id: str,
    now: datetime,
) -> None:
    """Pin or forbid a pair (replacing what was set for it); a pin replaces the mentee's other pins."""
    if kind == "pin":
        session.execute(
            delete(MatchConstraint).where(
                MatchConstraint.program_id == program_id,
                MatchConstraint.mentee_id == mentee_id,
                MatchConstraint.kind == "pin",
            )
        )
    remove_constraint(session, program_id=program_id, mentor_id=mentor_id, mentee_id=mentee_id)
    session.flush()
    session.add(
        MatchConstraint(
            program_id=program_id,
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            kind=kind,
            created_by=actor_id,
            created_at=now,
        )
    )


def remove_constraint(session: Session, *, program_id: str, mentor_id: str, mentee_id: str) -> None:
    session.execute(
        delete(MatchConstraint).where(
            MatchConstraint.program_id == program_id,
            MatchConstraint.mentor_id == mentor_id,
            MatchConstraint.mentee_id == mentee_id,
        )
    )


def clear_constraints(session: Session, *, program_id: str) -> int:
    """Drop every pin and forbid of the program; how many there were."""
    found = constraints_in(session, program_id=program_id)
    session.execute(delete(MatchConstraint).where(MatchConstraint.program_id == program_id))
    return len(found)


# -- proposals -----------------------------------------------------------------------------------------


def add_proposal(
    session: Session, *, proposal: MatchProposal, pairs: list[MatchProposalPair]
) -> MatchProposal:
    """Store a proposal as the program's open one: earlier open proposals become superseded."""
    session.execute(
        update(MatchProposal)
        .where(MatchProposal.program_id == proposal.program_id, MatchProposal.status == "open")
        .values(status="superseded")
    )
    session.add(proposal)
    session.flush()
    for pair in pairs:
        pair.proposal_id = proposal.id
    session.add_all(pairs)
    session.flush()
    return proposal


def get_proposal(session: Session, *, proposal_id: int) -> MatchProposal | None:
    return session.get(MatchProposal, proposal_id)


def open_proposal(session: Session, *, program_id: str) -> MatchProposal | None:
    """The program's proposal waiting for approval, if any."""
    query = select(MatchProposal).where(
        MatchProposal.program_id == program_id, MatchProposal.status == "open"
    )
    return session.scalars(query.order_by(MatchProposal.id.desc())).first()


def proposal_pairs(session: Session, *, proposal_id: int) -> list[MatchProposalPair]:
    """A proposal's pairs in the order they were shown."""
    query = select(MatchProposalPair).where(MatchProposalPair.proposal_id == proposal_id)
    return list(session.scalars(query.order_by(MatchProposalPair.id)))


def get_proposal_pair(session: Session, *, pair_id: int) -> MatchProposalPair | None:
    return session.get(MatchProposalPair, pair_id)


def claim_proposal(session: Session, *, proposal_id: int, actor_id: str, now: datetime) -> bool:
    """Mark an open proposal approved; False when it is no longer open (approved or superseded meanwhile).

    A conditional UPDATE, so two coordinators pressing Approve at once create the pairs once.
    """
    result = session.execute(
        update(MatchProposal)
        .where(MatchProposal.id == proposal_id, MatchProposal.status == "open")
        .values(status="approved", decided_by=actor_id, decided_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


# -- pairs that ended recently (the repeat cooldown) ---------------------------------------------------


def ended_pairs_since(
    session: Session, *, program_id: str, since: datetime
) -> dict[tuple[str, str], datetime]:
    """(mentor, mentee) -> when their latest pair in the program ended, for pairs ended after `since`."""
    query = select(Pair.mentor_id, Pair.mentee_id, Pair.ended_at).where(
        Pair.program_id == program_id, Pair.ended_at.is_not(None), Pair.ended_at > since
    )
    found: dict[tuple[str, str], datetime] = {}
    for mentor_id, mentee_id, ended_at in session.execute(query):
        key = (mentor_id, mentee_id)
        if ended_at is not None and (key not in found or ended_at > found[key]):
            found[key] = ended_at
    return found
