"""What `mentorbot profiles import` and `mentorbot match` print, and their exit codes."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from bot.app.commands import err, out, program_or_none
from bot.kernel.authz import Action, require
from bot.kernel.deps import Deps
from bot.kernel.people import display_name
from bot.kernel.programs import Program
from bot.kernel.roles import OPERATOR_ID, operator_roles
from bot.matching.explain import cooldown_text, factor_text
from bot.matching.pool import matching_of
from bot.matching.profiles_csv import ProfilesRejected
from bot.matching.profiles_import import run_profiles_import
from bot.matching.proposals import ProposalView, approve, dry_run, propose
from bot.pairs.pairing import send_messages
from storage.repositories.people import people_by_id

MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def _matching_program(deps: Deps, program_id: str, *, command: str) -> Program | None:
    program = program_or_none(deps, program_id, command=command)
    if program is not None and program.matching is None:
        err(f"mentorbot {command}: {program_id} has no `matching:` in programs.yml, so it matches nobody")
        return None
    return program


def profiles_import_command(deps: Deps, *, program_id: str, path: Path, now: datetime) -> int:
    """`mentorbot profiles import PROGRAM FILE.csv`: all or nothing; exit 1 listing every problem."""
    program = _matching_program(deps, program_id, command="profiles import")
    if program is None:
        return 1
    require(operator_roles(deps.programs), Action.PROFILES_IMPORT, program_id=program_id)
    try:
        result = run_profiles_import(deps, program=program, path=path, now=now)
    except ProfilesRejected as rejected:
        err(f"{path}: nothing was imported; {len(rejected.problems)} problem(s):")
        for problem in rejected.problems:
            err(f"  {problem}")
        return 1
    out(result.summary(program_id))
    return 0


def match_command(
    deps: Deps, *, program_id: str, dry_run_only: bool, approve_id: int | None, now: datetime
) -> int:
    """`mentorbot match PROGRAM [--dry-run | --approve ID]`: print a proposal (stored unless a dry run), or
    approve a stored one and send the welcome DMs."""
    program = _matching_program(deps, program_id, command="match")
    if program is None:
        return 1
    require(operator_roles(deps.programs), Action.MATCH_PROPOSE, program_id=program_id)
    if approve_id is not None:
        return _approve(deps, program=program, proposal_id=approve_id, now=now)
    if dry_run_only:
        proposal = dry_run(deps, program=program, now=now)
    else:
        proposal = propose(deps, program=program, actor_id=OPERATOR_ID, now=now)
    for line in proposal_lines(deps, proposal):
        out(line)
    if dry_run_only:
        out("Dry run: nothing was stored.")
    else:
        out(
            f"Stored as proposal #{proposal.id}. Approve it with `mentorbot match {program_id} --approve "
            f"{proposal.id}`, or from App Home (Propose matches), after any pins and forbids."
        )
    return 0


def proposal_lines(deps: Deps, proposal: ProposalView) -> list[str]:
    """The whole proposal as plain lines: every pair with its factors, every unmatched mentee and why."""
    named = _namer(deps, proposal)
    cooldown_days = matching_of(proposal.program).cooldown_days
    label = f"Proposal #{proposal.id}" if proposal.id else "Proposal (dry run)"
    matched = f"{len(proposal.pairs)} of {proposal.mentees} waiting mentees matched"
    lines = [
        f"{label} for {proposal.program.id}: {matched}; {proposal.mentors} mentors with a free place; "
        f"total score {proposal.total_score}."
    ]
    for pair in proposal.pairs:
        factors = "; ".join(factor_text(factor) for factor in pair.factors) or "nothing in particular"
        pinned = " [pinned]" if pair.pinned else ""
        lines.append(f"  {named(pair.mentee_id)} <- {named(pair.mentor_id)}{pinned}  {pair.score}: {factors}")
        if pair.cooldown_ended_at is not None:
            lines.append(f"    ! {cooldown_text(pair.cooldown_ended_at, cooldown_days)}")
    if proposal.unmatched:
        lines.append(f"Unmatched ({len(proposal.unmatched)}):")
        lines += [f"  {named(mentee)}: {why}" for mentee, why in proposal.unmatched]
    lines += [f"Note: {MENTION.sub(lambda m: named(m[1]), note)}" for note in proposal.notes]
    return lines


def _namer(deps: Deps, proposal: ProposalView) -> _Names:
    ids = {uid for pair in proposal.pairs for uid in (pair.mentor_id, pair.mentee_id)}
    ids |= {mentee for mentee, _ in proposal.unmatched}
    ids |= {m[1] for note in proposal.notes for m in MENTION.finditer(note)}
    with deps.read_sessions.begin() as session:
        people = people_by_id(session, user_ids=ids)
        names = {uid: display_name(people.get(uid), uid) for uid in ids}
    return _Names(names)


class _Names:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def __call__(self, user_id: str) -> str:
        name = self.names.get(user_id, user_id)
        return name if name == user_id else f"{name} ({user_id})"


def _approve(deps: Deps, *, program: Program, proposal_id: int, now: datetime) -> int:
    result = approve(deps, program=program, proposal_id=proposal_id, actor_id=OPERATOR_ID, now=now)
    if not result.ok:
        err(MENTION.sub(lambda m: m[1], result.message.replace("*", "")))
        return 1
    out(result.message.replace("*", ""))
    rate = deps.settings.send_rate_per_second
    out(f"Sending {len(result.messages)} welcome messages ({rate:g} per second)…")
    failures = send_messages(deps.client, result.messages, rate_per_second=rate)
    out(f"Sent {len(result.messages) - len(failures)} of {len(result.messages)} messages.")
    for failure in failures:
        err(f"  not delivered: {failure}")
    return 0
