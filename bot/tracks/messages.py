"""What each track DM says, read from the database in the state it is in now."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.people import display_name
from bot.kernel.text import escape
from bot.reflections.ledger import number
from bot.reflections.terms import short_day
from bot.slack.blocks import Block
from bot.tracks import blocks
from bot.tracks.audience import ATTEST, GAP, pair_of
from bot.tracks.calendar import CHECKPOINT
from bot.tracks.evidence import Evidence, review_evidence, track_of, unmapped
from storage.models import TrackAttestation, TrackEnrolment, TrackMilestone
from storage.repositories import tracks as repo
from storage.repositories.people import people_by_id


def build_message(
    session: Session, *, deps: Deps, claimed: repo.Claimed, now: datetime
) -> tuple[str, list[Block]]:
    """The text and blocks of a claimed DM."""
    milestone = session.get(TrackMilestone, claimed.milestone_id)
    assert milestone is not None  # a delivery's milestone is a foreign key
    enrolment = session.get(TrackEnrolment, milestone.enrolment_id)
    assert enrolment is not None
    if claimed.kind == GAP:
        return blocks.gap_message(
            gap_for(session, deps=deps, enrolment=enrolment, milestone=milestone, now=now)
        )
    if claimed.kind == ATTEST:
        zone = deps.programs.get(enrolment.program_id)
        request = request_for(
            session, enrolment=enrolment, milestone=milestone, zone=zone.tz if zone else ZoneInfo("UTC")
        )
        return blocks.attestation_request(request)
    return blocks.journey_prompt(prompt_for(session, enrolment=enrolment, milestone=milestone))


def prompt_for(session: Session, *, enrolment: TrackEnrolment, milestone: TrackMilestone) -> blocks.Prompt:
    track = track_of(enrolment)
    phase = next((p.name for p in track.phases if p.id == milestone.phase), "")
    pair = pair_of(session, enrolment)
    return blocks.Prompt(
        milestone_id=milestone.id,
        track_name=track.name,
        phase_name=phase,
        title=milestone.title,
        body=milestone.body,
        day=milestone.due_on,
        licensee_id=enrolment.person_id,
        mentor_id=pair[1] if len(pair) > 1 else None,
        checkpoint=milestone.kind == CHECKPOINT,
    )


def gap_for(
    session: Session, *, deps: Deps, enrolment: TrackEnrolment, milestone: TrackMilestone, now: datetime
) -> blocks.Gap:
    track = track_of(enrolment)
    evidence = review_evidence(session, enrolment=enrolment, milestone=milestone, until=now.date())
    program = deps.programs.get(enrolment.program_id)
    never = {c.id for c in unmapped(track, program.competencies if program else ())}
    return blocks.Gap(
        licensee_id=enrolment.person_id,
        track_name=track.name,
        review_title=milestone.title,
        closes=milestone.due_on,
        missing=tuple((c.name, c.observed_as) for c in evidence.gaps),
        unmapped=tuple(c.name for c in evidence.gaps if c.id in never),
    )


def hours_text(minutes: int) -> str:
    """`4.5 h`: confirmed minutes as the ledger shows hours."""
    return f"{number(Fraction(minutes, 60))} h"


def request_for(
    session: Session, *, enrolment: TrackEnrolment, milestone: TrackMilestone, zone: ZoneInfo
) -> blocks.Request:
    """The supervisor's attestation DM for a review, with its current signature if there is one."""
    track = track_of(enrolment)
    evidence = review_evidence(session, enrolment=enrolment, milestone=milestone)
    person = people_by_id(session, user_ids=[enrolment.person_id]).get(enrolment.person_id)
    latest = repo.latest_attestation(session, milestone_id=milestone.id)
    return blocks.Request(
        milestone_id=milestone.id,
        licensee_id=enrolment.person_id,
        licensee_name=display_name(person, enrolment.person_id),
        track_name=track.name,
        review_title=milestone.title,
        closes=milestone.due_on,
        competencies=competency_lines(evidence, today=milestone.due_on),
        sessions=len(evidence.sessions),
        hours=hours_text(evidence.minutes),
        signed=None if latest is None else signed_summary(latest, names=_names(evidence), zone=zone),
    )


def competency_lines(evidence: Evidence, *, today: date) -> tuple[blocks.CompetencyEvidence, ...]:
    return tuple(
        blocks.CompetencyEvidence(
            c.id,
            c.name,
            tuple(f"{s.level_text} ({short_day(s.day, today=today)})" for s in evidence.of(c.id)),
        )
        for c in evidence.competencies
    )


def _names(evidence: Evidence) -> dict[str, str]:
    return {c.id: c.name for c in evidence.competencies}


def signed_summary(row: TrackAttestation, *, names: dict[str, str], zone: ZoneInfo) -> blocks.Signed:
    """The signature line of a review's DM: the levels attested, or the reason it was returned."""
    if row.status == "attested":
        summary = "\n".join(
            f"• {escape(names.get(cid, cid))}: {blocks.MILESTONE_LEVELS.get(int(level), str(level))}"
            for cid, level in row.levels.items()
        )
    else:
        summary = f"Reason: {escape(row.comments or '')}"
    signed_on = row.signed_at.astimezone(zone).date()
    return blocks.Signed(row.status, row.supervisor_name, signed_on, summary, row.amends_id is not None)
