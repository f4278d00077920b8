"""Pure parsing of `/mentorship` text: words, mentions, programs. No database, no Slack.

Slack sends mentions escaped (`should_escape: true`) as `<@U123|name>`; people may also type a
bare id. Every problem comes back as a `Problem` whose message ends with the right usage line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.kernel.authz import Action, authorize
from bot.kernel.programs import ProgramsConfig
from bot.kernel.roles import Role, UserRoles

PAIR_USAGE = "/mentorship pair @mentor @mentee [PROGRAM]"
UNPAIR_USAGE = "/mentorship unpair @mentor @mentee [PROGRAM]"
USAGES = {"pair": PAIR_USAGE, "unpair": UNPAIR_USAGE}
ACTIONS = {"pair": Action.PAIR, "unpair": Action.UNPAIR}

_TOKEN = re.compile(r"<[^<>]*>|[^\s<]+|<")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>")
_BARE_ID = re.compile(r"[UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{5,}")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+(?:\|([^<>]*))?>")
_PROGRAM = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
_SHOWN_CHARS = 40


@dataclass(frozen=True)
class Problem:
    """Something wrong with what was typed; `message` is ready to show, usage line included."""

    message: str


@dataclass(frozen=True)
class PairRequest:
    verb: str  # "pair" | "unpair"
    mentor_id: str
    mentee_id: str
    program_id: str | None  # None: not typed


@dataclass(frozen=True)
class PairPlan:
    """A request that passed parsing, program choice and the authorization guard."""

    verb: str
    mentor_id: str
    mentee_id: str
    program_id: str


def tokenize(text: str) -> list[str]:
    """Split on whitespace, keeping each `<...>` escape (which may hold spaces) as one word."""
    return _TOKEN.findall(text or "")


def split_command(text: str) -> tuple[str, list[str]]:
    """The subcommand name (lower-cased; `help` when empty) and the words after it."""
    words = tokenize(text)
    if not words:
        return "help", []
    return words[0].lower(), words[1:]


def user_id_of(word: str) -> str | None:
    """The Slack user id in an escaped mention or a bare id; None for anything else."""
    if match := _MENTION.fullmatch(word):
        return match[1]
    if _BARE_ID.fullmatch(word):
        return word
    return None


def show(word: str) -> str:
    """A user-typed word made safe to echo inside backticks in mrkdwn."""
    clipped = word if len(word) <= _SHOWN_CHARS else word[: _SHOWN_CHARS - 1] + "…"
    clipped = clipped.replace("`", "'").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"`{clipped}`"


def with_usage(message: str, usage: str) -> Problem:
    return Problem(f"{message}\nUsage: `{usage}`")


def _not_a_person(word: str) -> str:
    if channel := _CHANNEL.fullmatch(word):
        return f"{show('#' + (channel[1] or 'channel'))} is a channel, not a person."
    if word.startswith("@") or word.startswith("<@"):
        return (
            f"I can't tell who {show(word)} is. Pick the person from Slack's @-mention list "
            "so their id comes with the command."
        )
    return f"{show(word)} isn't a person: mention them with @."


def parse_pair(verb: str, args: list[str]) -> PairRequest | Problem:
    """`pair|unpair @mentor @mentee [PROGRAM]` into ids, or a Problem naming what is wrong."""
    usage = USAGES[verb]
    people = [user_id_of(word) for word in args[:2]]
    if len(args) < 2 and all(people):
        return with_usage(f"I need two people for `{verb}`: the mentor first, then the mentee.", usage)
    for word, user_id in zip(args[:2], people, strict=True):
        if user_id is None:
            return with_usage(_not_a_person(word), usage)
    if len(args) > 3:
        return with_usage(
            f"Too many words after `{verb}`: I expected two people and, optionally, a program.", usage
        )
    mentor_id, mentee_id = str(people[0]), str(people[1])
    if mentor_id == mentee_id:
        return with_usage(f"<@{mentor_id}> can't be their own mentor: pick two different people.", usage)
    program_id = args[2] if len(args) == 3 else None
    if program_id is not None and not _PROGRAM.fullmatch(program_id.lower()):
        if user_id_of(program_id):
            return with_usage("A pair is two people: one mentor and one mentee.", usage)
        return with_usage(f"{show(program_id)} isn't a program id (they look like `img-2026`).", usage)
    program_id = program_id.lower() if program_id else None
    return PairRequest(verb, mentor_id, mentee_id, program_id)


def choose_program(
    roles: UserRoles,
    programs: ProgramsConfig,
    given: str | None,
    *,
    usage: str,
    role: Role = Role.COORDINATOR,
) -> str | Problem | None:
    """The program a command is about: the one typed, or the only one where the caller has `role`.

    None when the caller has `role` nowhere and typed none: the guard then refuses.
    """
    mine = roles.programs_where(role)
    if given is not None:
        if programs.get(given) is None:
            known = ", ".join(f"`{p}`" for p in (mine or programs.ids))
            return with_usage(f"I don't know the program {show(given)}. Programs: {known}.", usage)
        return given
    if len(mine) == 1:
        return mine[0]
    if len(mine) > 1:
        listed = ", ".join(f"`{p}`" for p in mine)
        example = usage.replace("[PROGRAM]", mine[0])
        you = "You coordinate" if role == Role.COORDINATOR else "You are in"
        return with_usage(f"{you} {listed}: say which one, e.g. `{example}`.", usage)
    return None


def plan_pair(
    verb: str, args: list[str], *, roles: UserRoles, programs: ProgramsConfig
) -> PairPlan | Problem:
    """Parse, pick the program and ask the guard; a refusal comes back as a Problem too."""
    action = ACTIONS[verb]
    if not roles.has(Role.COORDINATOR):
        # Refuse before echoing anything back: only coordinators need to hear about typos.
        return Problem(authorize(roles, action, program_id=_program_or_none(args, programs)).message)
    request = parse_pair(verb, args)
    if isinstance(request, Problem):
        return request
    program_id = choose_program(roles, programs, request.program_id, usage=USAGES[verb])
    if isinstance(program_id, Problem):
        return program_id
    decision = authorize(roles, action, program_id=program_id)
    if not decision.allowed or program_id is None:
        return Problem(decision.message)
    return PairPlan(verb, request.mentor_id, request.mentee_id, program_id)


def _program_or_none(args: list[str], programs: ProgramsConfig) -> str | None:
    named = [word.lower() for word in args if programs.get(word.lower()) is not None]
    return named[-1] if named else None
