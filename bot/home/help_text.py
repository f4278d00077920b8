"""The /mentorship help text, listing only what the caller may do."""

from __future__ import annotations

import functools

from bot.kernel.authz import Action, authorize
from bot.kernel.roles import Role, UserRoles

# (action, usage, what it does) in the order people need them.
COMMANDS: list[tuple[Action, str, str]] = [
    (Action.STATUS, "/mentorship status", "your pairs, next check-in and pause state"),
    (Action.CHECKIN_OPEN, "/checkin", "open your current check-in, or see when the next one is due"),
    (Action.CHECKIN_PAUSE, "/checkin pause 2w  ·  /checkin resume", "pause check-ins (e.g. nights, leave)"),
    (Action.REFLECT, "/reflect", "log a mentoring session and what you learned"),
    (Action.IDEA, "/idea", "record an idea from practice and test it in small cycles with your pair"),
    (Action.CONCERN_RAISE, "/concern", "raise a concern anonymously; you get a case key"),
    (
        Action.CONCERN_STATUS,
        "/concern status KEY",
        "read replies to your concern and answer, still anonymous",
    ),
    (Action.PAIR, "/mentorship pair @mentor @mentee [PROGRAM]", "pair two people"),
    (Action.UNPAIR, "/mentorship unpair @mentor @mentee [PROGRAM]", "end a pairing"),
    (Action.DIGEST_PREVIEW, "/mentorship digest [PROGRAM] preview", "see this week's digest"),
    (Action.CONCERNS_LIST, "/mentorship concerns [PROGRAM]", "open concerns, with reply buttons"),
    (
        Action.TRACK_ENROL,
        "/mentorship track @person TRACK [start DATE]",
        "put a licensee on a supervised-practice track or journey",
    ),
    (
        Action.MATCH_JOIN,
        "/mentorship join [PROGRAM]  ·  /mentorship leave",
        "opt in to matching with a profile (only coordinators see it), or delete it",
    ),
]


def help_lines(roles: UserRoles) -> list[str]:
    """One line per command the user may run, as `usage — what it does`."""
    lines = []
    for action, usage, does in COMMANDS:
        if authorize(roles, action).allowed:
            lines.append(f"`{usage}` — {does}")
    return lines


def help_text(roles: UserRoles) -> str:
    return _help_for(roles.all_roles, roles.enrolled)


@functools.lru_cache(maxsize=32)
def _help_for(held: frozenset[Role], enrolled: bool) -> str:
    """The text for anyone holding `held` somewhere: every check above is unscoped, so it depends on
    nothing else, and the few combinations are built once rather than on each `/mentorship help` ack."""
    intro = "*mentorbot* — what you can do here:"
    if not enrolled:
        intro = (
            "*mentorbot* — you are not enrolled in a mentorship program yet; ask your program coordinator."
        )
    anyone = UserRoles(user_id="", by_program={"": held} if held else {})
    return "\n".join([intro, *help_lines(anyone), "`/mentorship help` — this list"])
