"""`/mentorship track @person TRACK [start DATE]`: put a licensee on a track and date every milestone.

Parsing and checks are pure or read-only, so a refusal is the ack itself; the enrolment is one short
write transaction (the enrolment, every milestone, the audit entry) and the DMs to the pair are sent
after it commits.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.kernel.authz import Action, authorize
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import Role, UserRoles, roles_of
from bot.kernel.text import day_text, plural
from bot.pairs.commands import Problem, show, user_id_of, with_usage
from bot.pairs.welcome import Message
from bot.slack.blocks import section
from bot.tracks.calendar import CHECKPOINT, REVIEW, TOPIC, Planned, plan_milestones
from bot.tracks.catalog import Track, TracksInvalid, tracks_for
from bot.tracks.evidence import unmapped
from storage.models import Pair, TrackEnrolment, TrackMilestone
from storage.repositories.audit import record_audit
from storage.repositories.pairs import active_pairs_of
from storage.repositories.tracks import active_enrolment, add_enrolment

log = logging.getLogger("mentorbot.tracks")

USAGE = "/mentorship track @person TRACK [start YYYY-MM-DD] [supervisor @person] [program PROGRAM]"
_KEYWORDS = ("start", "supervisor", "program")
_TRACK_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")


@dataclass(frozen=True)
class TrackRequest:
    person_id: str
    track_id: str
    start: date | None = None
    supervisor_id: str | None = None
    program_id: str | None = None


def parse_track(args: list[str]) -> TrackRequest | Problem:
    """`@person TRACK [start DATE] [supervisor @person] [program PROGRAM]`, or what is wrong with it."""
    if len(args) < 2:
        return with_usage("I need a person and a track.", USAGE)
    person = user_id_of(args[0])
    if person is None:
        return with_usage(f"{show(args[0])} isn't a person: mention them with @.", USAGE)
    if not _TRACK_ID.fullmatch(args[1].lower()):
        return with_usage(
            f"{show(args[1])} isn't a track id (they look like `tn-supervised-practice`).", USAGE
        )
    options = args[2:]
    if len(options) % 2 or any(word.lower() not in _KEYWORDS for word in options[::2]):
        return with_usage("After the track come `start DATE`, `supervisor @person` or `program ID`.", USAGE)
    given = {key.lower(): value for key, value in zip(options[::2], options[1::2], strict=True)}
    return _with_options(TrackRequest(person, args[1].lower()), given)


def _with_options(request: TrackRequest, given: dict[str, str]) -> TrackRequest | Problem:
    start = None
    if "start" in given:
        try:
            start = date.fromisoformat(given["start"])
        except ValueError:
            return with_usage(f"{show(given['start'])} isn't a date like 2026-11-02.", USAGE)
    supervisor = user_id_of(given["supervisor"]) if "supervisor" in given else None
    if "supervisor" in given and supervisor is None:
        return with_usage(f"{show(given['supervisor'])} isn't a person: mention them with @.", USAGE)
    program = given.get("program", "").lower() or None
    return TrackRequest(request.person_id, request.track_id, start, supervisor, program)


@dataclass(frozen=True)
class Plan:
    """A request that passed every check: who, which track and program, the pair and the supervisor."""

    program: Program
    track: Track
    person_id: str
    pair: Pair
    supervisor_id: str
    start: date | None


def plan_command(session: Session, *, deps: Deps, roles: UserRoles, args: list[str]) -> Plan | Problem:
    """`/mentorship track` words to a checked plan, or what to tell the caller."""
    if not roles.has(Role.COORDINATOR):
        return _refused(session, deps=deps, roles=roles, args=args)
    request = parse_track(args)
    if isinstance(request, Problem):
        return request
    return plan_enrolment(session, deps=deps, roles=roles, request=request)


def _refused(session: Session, *, deps: Deps, roles: UserRoles, args: list[str]) -> Problem:
    """The guard's refusal, worded for the program the person is a mentee in, before any parsing: only
    coordinators need to hear about typos."""
    person = user_id_of(args[0]) if args else None
    program_id = None
    if person is not None:
        found = _program_of(session, deps=deps, roles=roles, request=TrackRequest(person, ""))
        program_id = found if isinstance(found, str) else None
    return Problem(authorize(roles, Action.TRACK_ENROL, program_id=program_id).message)


def plan_enrolment(
    session: Session, *, deps: Deps, roles: UserRoles, request: TrackRequest
) -> Plan | Problem:
    """Choose the program, ask the guard, then check the track, the pair and the supervisor."""
    program_id = _program_of(session, deps=deps, roles=roles, request=request)
    if isinstance(program_id, Problem):
        return program_id
    decision = authorize(roles, Action.TRACK_ENROL, program_id=program_id)
    program = deps.programs.get(program_id) if program_id else None
    if not decision.allowed or program is None:
        return Problem(decision.message)
    track = _track(deps, program, request.track_id)
    if isinstance(track, Problem):
        return track
    pair = _pair(session, program_id=program.id, person_id=request.person_id)
    if pair is None:
        return with_usage(
            f"<@{request.person_id}> has no active mentor in {program.id}: pair them first.", USAGE
        )
    if active_enrolment(session, program_id=program.id, person_id=request.person_id, track_id=track.id):
        return Problem(f"<@{request.person_id}> is already on {track.name} in {program.id}. Nothing changed.")
    supervisor = request.supervisor_id or pair.mentor_id
    if not _may_attest(session, deps=deps, user_id=supervisor, program_id=program.id):
        return with_usage(
            f"<@{supervisor}> must be a mentor or a coordinator of {program.id} to attest.", USAGE
        )
    return Plan(program, track, request.person_id, pair, supervisor, request.start)


def _may_attest(session: Session, *, deps: Deps, user_id: str, program_id: str) -> bool:
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    return authorize(roles, Action.TRACK_ATTEST, program_id=program_id).allowed


def _program_of(
    session: Session, *, deps: Deps, roles: UserRoles, request: TrackRequest
) -> str | Problem | None:
    if request.program_id is not None:
        if deps.programs.get(request.program_id) is None:
            return with_usage(f"I don't know the program {show(request.program_id)}.", USAGE)
        return request.program_id
    theirs = [
        p.program_id
        for p in active_pairs_of(session, user_id=request.person_id)
        if p.mentee_id == request.person_id
    ]
    known = [pid for pid in dict.fromkeys(theirs) if deps.programs.get(pid)]
    mine = [pid for pid in known if roles.has(Role.COORDINATOR, pid)]
    if len(mine) > 1:
        return with_usage(
            f"<@{request.person_id}> is a mentee in {', '.join(mine)}: add `program ID`.", USAGE
        )
    found = mine or known or roles.programs_where(Role.COORDINATOR)
    return found[0] if found else None


def _track(deps: Deps, program: Program, track_id: str) -> Track | Problem:
    try:
        tracks = tracks_for(
            program,
            programs_file=Path(deps.settings.programs_file),
            index=deps.programs.ids.index(program.id),
        )
    except TracksInvalid as exc:
        log.error("track files for %s are invalid: %s", program.id, exc.one_line())
        return Problem(f"The track files of {program.id} have errors; `mentorbot check-config` lists them.")
    if track_id not in tracks:
        return with_usage(f"There is no track {show(track_id)}. Tracks: {', '.join(sorted(tracks))}.", USAGE)
    return tracks[track_id]


def _pair(session: Session, *, program_id: str, person_id: str) -> Pair | None:
    pairs = active_pairs_of(session, user_id=person_id, program_id=program_id)
    return next((p for p in pairs if p.mentee_id == person_id), None)


# -- enrolling ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    """What the coordinator is told, and the DMs to send once the transaction commits."""

    ok: bool
    message: str
    enrolment_id: int | None = None
    messages: list[Message] = field(default_factory=list)


def enrol(deps: Deps, *, plan: Plan, actor_id: str, now: datetime) -> Enrolled:
    """Store the enrolment with every dated milestone and an audit entry, in one transaction."""
    start = plan.start or _default_start(plan, now)
    planned = plan_milestones(plan.track, start)
    try:
        with deps.sessions.begin() as session:
            enrolment = _store(session, plan=plan, planned=planned, start=start, actor_id=actor_id, now=now)
            enrolment_id = enrolment.id
    except IntegrityError:
        return Enrolled(
            False, f"<@{plan.person_id}> was just enrolled on {plan.track.name}. Nothing changed."
        )
    summary = _summary(plan, planned, start)
    return Enrolled(True, summary, enrolment_id, _messages(plan, planned, start))


def _default_start(plan: Plan, now: datetime) -> date:
    """A journey runs from the pair's start; a licence pathway from today (pass `start` for the licence's)."""
    instant = plan.pair.started_at if plan.track.kind == "journey" else now
    return instant.astimezone(plan.program.tz).date()


def _store(
    session: Session, *, plan: Plan, planned: list[Planned], start: date, actor_id: str, now: datetime
) -> TrackEnrolment:
    enrolment = TrackEnrolment(
        program_id=plan.program.id,
        person_id=plan.person_id,
        pair_id=plan.pair.id,
        supervisor_id=plan.supervisor_id,
        track_id=plan.track.id,
        track=plan.track.model_dump(mode="json"),
        start_on=start,
        enrolled_at=now,
        enrolled_by=actor_id,
    )
    milestones = [
        TrackMilestone(
            seq=index,
            kind=m.kind,
            phase=m.phase,
            title=m.title[:200],
            body=m.body,
            reflect_topic=m.reflect_topic,
            due_on=m.due_on,
            period_start=m.period_start,
            flag_on=m.flag_on,
        )
        for index, m in enumerate(planned)
    ]
    add_enrolment(session, enrolment=enrolment, milestones=milestones)
    target = f"{plan.person_id} {plan.track.id} from {start.isoformat()} supervised by {plan.supervisor_id}"
    record_audit(
        session, actor_id=actor_id, action="track.enrol", now=now, program_id=plan.program.id, target=target
    )
    return enrolment


def _summary(plan: Plan, planned: list[Planned], start: date) -> str:
    count = {kind: sum(1 for m in planned if m.kind == kind) for kind in (TOPIC, REVIEW, CHECKPOINT)}
    first_review = next((m for m in planned if m.kind == REVIEW), None)
    lines = [
        f"Enrolled <@{plan.person_id}> on *{plan.track.name}* from {day_text(start)}: "
        f"{plural(len(planned), 'dated milestone')} ({plural(count[TOPIC], 'topic')}, "
        f"{plural(count[REVIEW], 'review')}, {plural(count[CHECKPOINT], 'checkpoint')}).",
        f"Supervising physician: <@{plan.supervisor_id}>."
        + (f" First review closes {day_text(first_review.due_on)}." if first_review else ""),
    ]
    if plan.track.citation is not None and not plan.track.citation.verified:
        lines.append(f"Its citation is not verified: {plan.track.citation.url}")
    never = unmapped(plan.track, plan.program.competencies)
    if never:
        names = ", ".join(c.name for c in never)
        lines.append(f"{plan.program.id} records no competency that evidences {names}: those stay flagged.")
    return "\n".join(lines)


def _messages(plan: Plan, planned: list[Planned], start: date) -> list[Message]:
    text = f"You're on {plan.track.name} from {day_text(start)}"
    body = (
        f"*{plan.track.name}* for <@{plan.person_id}> starts {day_text(start)}: "
        f"{plural(len(planned), 'dated milestone')}. Topics, gap flags and attestation requests come as DMs; "
        "App Home shows the timeline."
    )
    people = dict.fromkeys([plan.person_id, plan.pair.mentor_id, plan.supervisor_id])
    return [Message(user_id, text, [section(body)]) for user_id in people]
