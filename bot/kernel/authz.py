"""Who may do what: one table, one guard, used by every handler and CLI path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.kernel.refusals import Refusal
from bot.kernel.roles import Role, UserRoles


class Action(StrEnum):
    HELP = "mentorship.help"
    STATUS = "mentorship.status"
    HOME = "home.view"
    PAIR = "mentorship.pair"
    UNPAIR = "mentorship.unpair"
    DIGEST_PREVIEW = "mentorship.digest"
    CONCERNS_LIST = "mentorship.concerns"
    CONCERN_RESPOND = "concern.respond"  # coordinator reply / acknowledge / resolve
    CONCERN_RAISE = "concern.raise"
    CONCERN_STATUS = "concern.status"  # the case key is the authority, not the user
    CHECKIN_OPEN = "checkin.open"
    CHECKIN_PAUSE = "checkin.pause"
    CHECKIN_ANSWER = "checkin.answer"
    REFLECT = "reflect.log"
    REFLECT_COMPETENCIES = "reflect.competencies"
    SESSION_CONFIRM = "reflect.confirm"
    IDEA = "idea.record"  # record ideas and their PDSA steps, comment on them
    IDEA_EVIDENCE = "idea.evidence"  # mark an idea carried through a cycle as competency evidence
    ROSTER_IMPORT = "roster.import"  # `mentorbot roster import`: the operator acts as every coordinator
    MATCH_JOIN = "matching.join"  # `/mentorship join` / `leave`: one's own profile, in any matching program
    MATCH_PROPOSE = "matching.propose"  # propose, pin, forbid, approve; a program's profiles
    PROFILES_IMPORT = "matching.import"  # `mentorbot profiles import`: the operator acts as every coordinator
    TRACK_ENROL = "mentorship.track"  # put a licensee on a supervised-practice track
    TRACK_ATTEST = "tracks.attest"  # sign a review; the service also checks it is the named supervisor
    TRACK_EVIDENCE = "tracks.evidence"  # `mentorbot evidence`: the board-ready export


ANYONE: frozenset[Role] | None = None  # no enrolment needed
C, MR, ME = Role.COORDINATOR, Role.MENTOR, Role.MENTEE


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role] | None
    scoped: bool  # the role must hold in the program the action is about
    refusal: str


POLICY: dict[Action, Rule] = {
    Action.HELP: Rule(ANYONE, False, ""),
    Action.STATUS: Rule(ANYONE, False, ""),
    Action.HOME: Rule(ANYONE, False, ""),
    Action.CONCERN_STATUS: Rule(ANYONE, False, ""),
    Action.PAIR: Rule(frozenset({C}), True, "Only a coordinator of {program} can pair people."),
    Action.UNPAIR: Rule(frozenset({C}), True, "Only a coordinator of {program} can end a pairing."),
    Action.DIGEST_PREVIEW: Rule(frozenset({C}), True, "Only coordinators of {program} can see its digest."),
    Action.CONCERNS_LIST: Rule(frozenset({C}), True, "Only coordinators of {program} can read its concerns."),
    Action.CONCERN_RESPOND: Rule(
        frozenset({C}), True, "Only coordinators of {program} can answer its concerns."
    ),
    Action.CONCERN_RAISE: Rule(
        frozenset({C, MR, ME}), False, "`/concern` is for people enrolled in a mentorship program."
    ),
    Action.CHECKIN_OPEN: Rule(
        frozenset({ME}), False, "Check-ins are for mentees; you have no active mentor."
    ),
    Action.CHECKIN_PAUSE: Rule(
        frozenset({ME}), False, "Only mentees can pause check-ins; you have no mentor."
    ),
    Action.CHECKIN_ANSWER: Rule(frozenset({ME}), True, "This check-in belongs to someone else."),
    Action.REFLECT: Rule(
        frozenset({MR, ME}), False, "`/reflect` is for mentors and mentees with an active pair."
    ),
    Action.REFLECT_COMPETENCIES: Rule(frozenset({MR}), True, "Only the mentor records competencies."),
    Action.SESSION_CONFIRM: Rule(
        frozenset({MR, ME}), True, "Only the other person in this pair can confirm."
    ),
    Action.IDEA: Rule(frozenset({MR, ME}), True, "`/idea` is for mentors and mentees with an active pair."),
    Action.IDEA_EVIDENCE: Rule(
        frozenset({MR}), True, "Only the mentor marks an idea as evidence of a competency."
    ),
    Action.ROSTER_IMPORT: Rule(
        frozenset({C}), True, "Only a coordinator of {program} can import its roster."
    ),
    Action.MATCH_JOIN: Rule(ANYONE, False, ""),
    Action.MATCH_PROPOSE: Rule(
        frozenset({C}), True, "Only coordinators of {program} can see its matching profiles and proposals."
    ),
    Action.PROFILES_IMPORT: Rule(
        frozenset({C}), True, "Only a coordinator of {program} can import its matching profiles."
    ),
    Action.TRACK_ENROL: Rule(
        frozenset({C}), True, "Only a coordinator of {program} can put people on a track."
    ),
    Action.TRACK_ATTEST: Rule(
        frozenset({C, MR}), True, "Only the supervising physician named at enrolment can attest."
    ),
    Action.TRACK_EVIDENCE: Rule(
        frozenset({C}), True, "Only a coordinator of {program} can export supervised-practice evidence."
    ),
}

HINT = "Type `/mentorship help` to see what you can do."


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str = ""


class NotAllowed(Refusal):
    """Raised by `require` (and services) when the policy refuses someone."""


def authorize(roles: UserRoles, action: Action, *, program_id: str | None = None) -> Decision:
    """Allow or refuse `action` for a user with `roles`, in `program_id` when the action is scoped."""
    rule = POLICY[action]
    if rule.roles is None:
        return Decision(True)
    if rule.scoped and program_id is not None:
        held = roles.by_program.get(program_id, frozenset())
    else:
        held = roles.all_roles
    if held & rule.roles:
        return Decision(True)
    return Decision(False, f"{rule.refusal.format(program=program_id or 'this program')} {HINT}")


def require(roles: UserRoles, action: Action, *, program_id: str | None = None) -> None:
    """Raise NotAllowed, carrying the refusal to show, unless `authorize` allows the action."""
    decision = authorize(roles, action, program_id=program_id)
    if not decision.allowed:
        raise NotAllowed(decision.message)
