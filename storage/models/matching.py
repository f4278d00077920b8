"""Matching: opt-in profiles, departures, the coordinator's pins and forbids, and stored proposals.

A profile exists only while its person has opted in: leaving deletes it and leaves a departure row, so
a later CSV import cannot sign them up again. The avoid list ("never match me with") is encrypted: it is
read only by the solver and shown only to its author. A proposal is stored pair by pair, with each pair's
factors, so that approval applies exactly what the coordinator was shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base


class MatchingProfile(Base):
    """One person's matching profile in one program (role, specialty, languages, availability, …)."""

    __tablename__ = "matching_profiles"
    __table_args__ = (
        UniqueConstraint("program_id", "user_id"),
        Index("ix_matching_profiles_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(8))  # mentor | mentee | both
    specialty: Mapped[str] = mapped_column(String(80), default="")
    department: Mapped[str] = mapped_column(String(80), default="")
    languages: Mapped[list[str]] = mapped_column(default=list)
    trained_in: Mapped[str] = mapped_column(String(80), default="")
    focus: Mapped[list[str]] = mapped_column(default=list)
    formats: Mapped[list[str]] = mapped_column(default=list)  # in-person | video
    times: Mapped[list[str]] = mapped_column(default=list)
    capacity: Mapped[int] = mapped_column(default=0)  # mentees a mentor takes; 0 for a mentee
    ranked: Mapped[list[str]] = mapped_column(default=list)  # a mentee's chosen mentors, first choice first
    # JSON list of user ids; encrypted, and shown to nobody but its author.
    avoid: Mapped[str | None] = mapped_column(EncryptedText)
    reports_to: Mapped[str | None] = mapped_column(String(32))  # from the profiles CSV only
    source: Mapped[str] = mapped_column(String(8))  # slack | import
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MatchingDeparture(Base):
    """Someone left matching in a program: no import re-adds them until they join again themselves."""

    __tablename__ = "matching_departures"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    left_at: Mapped[datetime]


class MatchConstraint(Base):
    """A coordinator's pin (always propose this pair) or forbid (never propose it) for the next approval."""

    __tablename__ = "match_constraints"
    __table_args__ = (UniqueConstraint("program_id", "mentor_id", "mentee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    mentor_id: Mapped[str] = mapped_column(String(32))
    mentee_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))  # pin | forbid
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class MatchProposal(Base):
    """One solver run, as shown to the coordinator; `status` open → approved, or superseded by a re-run."""

    __tablename__ = "match_proposals"
    __table_args__ = (Index("ix_match_proposals_program_status", "program_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    status: Mapped[str] = mapped_column(String(12))  # open | superseded | approved
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    mentees: Mapped[int]  # mentees in the pool
    mentors: Mapped[int]  # mentors with a free place
    total_score: Mapped[int]
    # [{"mentee": user id, "reason": words}] and the coordinator's pins that could not be kept.
    unmatched: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[list[str]] = mapped_column(default=list)


class MatchProposalPair(Base):
    """One proposed pair with the factors that sum to its score."""

    __tablename__ = "match_proposal_pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("match_proposals.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[str] = mapped_column(String(32))
    mentee_id: Mapped[str] = mapped_column(String(32))
    score: Mapped[int]
    factors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[criterion, points, detail], …]
    pinned: Mapped[bool] = mapped_column(default=False)
    # When this pair last ended, if inside the program's cooldown (proposed only to leave nobody unmatched).
    cooldown_ended_at: Mapped[datetime | None]
