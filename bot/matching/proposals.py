"""The coordinator's loop: propose, pin or forbid and re-run, approve.

A proposal is stored pair by pair with its factors, and approval applies exactly those pairs: through the
existing pairing path (bot.pairs: the same pairing rules, pair rows, audit entries and welcome DMs as
`/mentorship pair` and the roster import), after checking again that everyone is still opted in and no
hard rule has started to exclude a pair since. It is all or nothing, claimed with a conditional UPDATE so
a double press approves once. Solving never holds a write transaction: the pool is read, solved outside
any transaction, then stored in a short one. Slack is never called here; the DMs are returned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.people import look_up_people, store_person
from bot.kernel.programs import Program
from bot.kernel.refusals import Refusal
from bot.matching.explain import (
    cooldown_text,
    exclusion_text,
    factor_text,
    refused_pin_text,
    unmatched_text,
    why_text,
)
from bot.matching.pool import Pool, gather, matching_of
from bot.matching.scoring import Factor, exclusion
from bot.matching.solver import Solution, solve
from bot.pairs.pairing import pair_target, pairing_problem
from bot.pairs.welcome import Message, PairView, mentee_welcome, mentor_welcome
from storage.models import MatchProposal, MatchProposalPair, Person
from storage.repositories.audit import record_audit
from storage.repositories.matching import (
    add_proposal,
    claim_proposal,
    clear_constraints,
    constraints_in,
    get_proposal,
    get_proposal_pair,
    proposal_pairs,
    remove_constraint,
    set_constraint,
)
from storage.repositories.pairs import active_pair, count_active_mentees, create_pair
from storage.repositories.people import people_by_id

MAX_FOCUS = 200  # Pair.focus
GONE = "That proposal no longer exists. Press *Propose matches* on my Home tab for a new one."


class ProposalGone(Refusal):
    """The proposal or pair a button refers to no longer exists."""


@dataclass(frozen=True)
class ShownPair:
    row_id: int
    mentor_id: str
    mentee_id: str
    score: int
    factors: tuple[Factor, ...]
    pinned: bool = False
    cooldown_ended_at: datetime | None = None


@dataclass(frozen=True)
class ProposalView:
    """A proposal as the coordinator sees it (stored, or a dry run with id 0)."""

    id: int
    program: Program
    status: str
    mentees: int
    mentors: int
    pairs: tuple[ShownPair, ...]
    unmatched: tuple[tuple[str, str], ...]  # (mentee id, why)
    notes: tuple[str, ...]
    pins: tuple[tuple[str, str], ...] = ()  # (mentor, mentee)
    forbids: tuple[tuple[str, str], ...] = ()

    @property
    def total_score(self) -> int:
        return sum(pair.score for pair in self.pairs)

    def pair_line(self, pair: ShownPair) -> str:
        """How a proposed pair reads in the proposal: mentee ← mentor, score and every factor."""
        text = f"<@{pair.mentee_id}> ← <@{pair.mentor_id}> · *{pair.score}*"
        text += f": {'; '.join(factor_text(f) for f in pair.factors) or 'nothing in particular'}"
        if pair.pinned:
            text = f"📌 {text} (pinned)"
        if pair.cooldown_ended_at is not None:
            days = matching_of(self.program).cooldown_days
            text += f"\n⚠️ {cooldown_text(pair.cooldown_ended_at, days)}"
        return text


# -- proposing -----------------------------------------------------------------------------------------


def solve_program(deps: Deps, *, program: Program, now: datetime) -> tuple[Pool, Solution]:
    """Read the pool in a read-only unit of work, then solve it outside any transaction."""
    with deps.read_sessions.begin() as session:
        pool = gather(session, program=program, now=now)
    return pool, solve(pool.problem)


def propose(deps: Deps, *, program: Program, actor_id: str, now: datetime) -> ProposalView:
    """Solve the program now and store the result as its open proposal (audited)."""
    pool, solution = solve_program(deps, program=program, now=now)
    proposal, pairs = proposal_rows(program, pool, solution, actor_id=actor_id, now=now)
    with deps.sessions.begin() as session:
        add_proposal(session, proposal=proposal, pairs=pairs)
        record_audit(
            session,
            actor_id=actor_id,
            action="match.propose",
            now=now,
            program_id=program.id,
            target=f"proposal #{proposal.id}: {len(pairs)} pairs, {len(proposal.unmatched)} unmatched",
        )
        return view_of(session, program=program, proposal=proposal, pairs=pairs)


def dry_run(deps: Deps, *, program: Program, now: datetime) -> ProposalView:
    """What `propose` would store, without storing it."""
    pool, solution = solve_program(deps, program=program, now=now)
    proposal, pairs = proposal_rows(program, pool, solution, actor_id="", now=now)
    with deps.read_sessions.begin() as session:
        return view_of(session, program=program, proposal=proposal, pairs=pairs)


def proposal_rows(
    program: Program, pool: Pool, solution: Solution, *, actor_id: str, now: datetime
) -> tuple[MatchProposal, list[MatchProposalPair]]:
    """The rows that store a solution (not yet added to any session)."""
    pairs = [
        MatchProposalPair(
            mentor_id=match.mentor_id,
            mentee_id=match.mentee_id,
            score=match.score,
            factors=[[f.criterion, f.points, f.detail, f.required] for f in match.factors],
            pinned=match.pinned,
            cooldown_ended_at=pool.ended.get((match.mentor_id, match.mentee_id)) if match.cooldown else None,
        )
        for match in solution.matches
    ]
    notes = [refused_pin_text(pin) for pin in solution.refused_pins]
    if pool.already_paired:
        notes.append(f"{pool.already_paired} mentee profile(s) left out: they already have a mentor here.")
    proposal = MatchProposal(
        program_id=program.id,
        status="open",
        created_by=actor_id,
        created_at=now,
        mentees=len(pool.problem.mentees),
        mentors=sum(1 for c in pool.problem.mentors if c.capacity > 0),
        total_score=solution.total_score,
        unmatched=[{"mentee": u.mentee_id, "reason": unmatched_text(u)} for u in solution.unmatched],
        notes=notes,
    )
    return proposal, pairs


def stored_factors(pair: MatchProposalPair) -> tuple[Factor, ...]:
    return tuple(Factor(str(c), int(p), str(d), bool(r)) for c, p, d, r in pair.factors)


def view_of(
    session: Session, *, program: Program, proposal: MatchProposal, pairs: list[MatchProposalPair]
) -> ProposalView:
    """The coordinator's view of stored (or unstored) proposal rows, with the current pins and forbids."""
    constraints = constraints_in(session, program_id=program.id)
    return ProposalView(
        id=proposal.id or 0,
        program=program,
        status=proposal.status,
        mentees=proposal.mentees,
        mentors=proposal.mentors,
        pairs=tuple(
            ShownPair(
                p.id or 0, p.mentor_id, p.mentee_id, p.score, stored_factors(p), p.pinned, p.cooldown_ended_at
            )
            for p in pairs
        ),
        unmatched=tuple((str(u["mentee"]), str(u["reason"])) for u in proposal.unmatched),
        notes=tuple(proposal.notes),
        pins=tuple((c.mentor_id, c.mentee_id) for c in constraints if c.kind == "pin"),
        forbids=tuple((c.mentor_id, c.mentee_id) for c in constraints if c.kind == "forbid"),
    )


def load_view(session: Session, *, program: Program, proposal_id: int) -> ProposalView:
    """A stored proposal of `program` as the coordinator sees it; ProposalGone when there is none."""
    proposal = get_proposal(session, proposal_id=proposal_id)
    if proposal is None or proposal.program_id != program.id:
        raise ProposalGone(GONE)
    pairs = proposal_pairs(session, proposal_id=proposal_id)
    return view_of(session, program=program, proposal=proposal, pairs=pairs)


def program_of_proposal(deps: Deps, *, proposal_id: int) -> str:
    """Which program a proposal belongs to (to authorize a button before acting on it)."""
    with deps.read_sessions.begin() as session:
        proposal = get_proposal(session, proposal_id=proposal_id)
        if proposal is None:
            raise ProposalGone(GONE)
        return proposal.program_id


# -- pins and forbids ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairChange:
    """A pin, unpin or forbid the coordinator asked for."""

    kind: str  # pin | unpin | forbid
    mentor_id: str
    mentee_id: str


def pair_change(deps: Deps, *, row_id: int, kind: str) -> tuple[str, PairChange]:
    """(program id, the change) for a pin / unpin / forbid pressed on a proposed pair."""
    with deps.read_sessions.begin() as session:
        row = get_proposal_pair(session, pair_id=row_id)
        proposal = get_proposal(session, proposal_id=row.proposal_id) if row is not None else None
        if row is None or proposal is None:
            raise ProposalGone("That pair is no longer proposed. Press *Re-run* for a fresh proposal.")
        return proposal.program_id, PairChange(kind, row.mentor_id, row.mentee_id)


def apply_change(deps: Deps, *, program: Program, change: PairChange, actor_id: str, now: datetime) -> None:
    """Record a pin, unpin or forbid (audited); the caller re-runs."""
    with deps.sessions.begin() as session:
        if change.kind == "unpin":
            remove_constraint(
                session, program_id=program.id, mentor_id=change.mentor_id, mentee_id=change.mentee_id
            )
        else:
            set_constraint(
                session,
                program_id=program.id,
                mentor_id=change.mentor_id,
                mentee_id=change.mentee_id,
                kind=change.kind,
                actor_id=actor_id,
                now=now,
            )
        record_audit(
            session,
            actor_id=actor_id,
            action=f"match.{change.kind}",
            now=now,
            program_id=program.id,
            target=f"mentor={change.mentor_id} mentee={change.mentee_id}",
        )


def clear_changes(deps: Deps, *, program: Program, actor_id: str, now: datetime) -> int:
    """Drop every pin and forbid of the program (audited); how many there were."""
    with deps.sessions.begin() as session:
        cleared = clear_constraints(session, program_id=program.id)
        record_audit(
            session,
            actor_id=actor_id,
            action="match.clear",
            now=now,
            program_id=program.id,
            target=str(cleared),
        )
        return cleared


# -- approving -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    ok: bool
    message: str
    messages: list[Message] = field(default_factory=list)  # welcome DMs to send once committed
    created: int = 0


class _Stale(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


def approve(deps: Deps, *, program: Program, proposal_id: int, actor_id: str, now: datetime) -> Approval:
    """Create exactly the proposal's pairs, or none of them; return the welcome DMs to send."""
    with deps.read_sessions.begin() as session:
        stored = get_proposal(session, proposal_id=proposal_id)
        rows = proposal_pairs(session, proposal_id=proposal_id)
        status = stored.status if stored is not None and stored.program_id == program.id else "gone"
    if status != "open":
        return Approval(False, _not_open(status))
    # users.info for anyone not refreshed within a day, before the write transaction (never inside it).
    ids = [uid for row in rows for uid in (row.mentor_id, row.mentee_id)]
    lookups = look_up_people(deps, user_ids=ids, now=now)
    try:
        with deps.sessions.begin() as session:
            for lookup in lookups.values():
                store_person(session, lookup, now=now)
            if not claim_proposal(session, proposal_id=proposal_id, actor_id=actor_id, now=now):
                return Approval(False, _not_open("approved"))
            messages = _apply(session, program=program, rows=rows, actor_id=actor_id, now=now)
            target = f"proposal #{proposal_id}: {len(rows)} pairs"
            record_audit(
                session,
                actor_id=actor_id,
                action="match.approve",
                now=now,
                program_id=program.id,
                target=target,
            )
            clear_constraints(session, program_id=program.id)  # pins and forbids were for this round
    except _Stale as stale:
        return Approval(False, _stale_text(stale.problems))
    text = f"Approved proposal #{proposal_id}: {len(rows)} pairs created in *{program.name}*."
    return Approval(True, text, messages, created=len(rows))


def _not_open(status: str) -> str:
    if status == "approved":
        return "This proposal was already approved; its pairs exist. Nothing changed."
    if status == "superseded":
        return "A newer proposal replaced this one. Nothing changed: approve the newest (press *Re-run*)."
    return GONE


def _stale_text(problems: list[str]) -> str:
    shown = "\n".join(f"• {line}" for line in problems[:10])
    more = f"\n…and {len(problems) - 10} more." if len(problems) > 10 else ""
    head = "Nothing was approved: things changed since this proposal."
    return f"{head}\n{shown}{more}\nPress *Re-run*, then approve."


def _apply(
    session: Session, *, program: Program, rows: list[MatchProposalPair], actor_id: str, now: datetime
) -> list[Message]:
    """Check every pair again, then create them all; raise _Stale (rolling back the claim) otherwise."""
    people = people_by_id(session, user_ids=[uid for r in rows for uid in (r.mentor_id, r.mentee_id)])
    problems = _still_allowed(session, program=program, rows=rows, now=now)
    problems += _pairing_rules(session, program=program, rows=rows, people=people)
    if problems:
        raise _Stale(problems)
    messages: list[Message] = []
    for row in rows:
        view = _create(session, program=program, row=row, people=people, actor_id=actor_id, now=now)
        factors = stored_factors(row)
        messages.append(mentor_welcome(view, why=why_text(factors, audience="mentor")))
        messages.append(mentee_welcome(view, why=why_text(factors, audience="mentee")))
    return messages


def _create(
    session: Session,
    *,
    program: Program,
    row: MatchProposalPair,
    people: dict[str, Person],
    actor_id: str,
    now: datetime,
) -> PairView:
    """One pair, as every pairing makes it: the row (its focus: what the mentor offers that the mentee
    asked for) and its audit entry."""
    mentor, mentee = people[row.mentor_id], people[row.mentee_id]
    focus = next((f.detail for f in stored_factors(row) if f.criterion == "focus"), None)
    focus = focus[:MAX_FOCUS] if focus else None
    create_pair(
        session, program_id=program.id, mentor_id=mentor.id, mentee_id=mentee.id, now=now, focus=focus
    )
    target = pair_target(mentor, mentee)
    record_audit(session, actor_id=actor_id, action="pair", now=now, program_id=program.id, target=target)
    return PairView(program=program, mentor=mentor, mentee=mentee, focus=focus, now=now)


def _still_allowed(
    session: Session, *, program: Program, rows: list[MatchProposalPair], now: datetime
) -> list[str]:
    """Consent and hard rules, read again now: a profile deleted or an avoid list added since the proposal
    stops the approval (an avoid list is only ever named "a constraint")."""
    pool = gather(session, program=program, now=now)
    mentees = {c.user_id: c for c in pool.problem.mentees}
    mentors = {c.user_id: c for c in pool.problem.mentors}
    places = {c.user_id: c.capacity for c in pool.problem.mentors}
    problems = []
    for row in rows:
        mentee, mentor = mentees.get(row.mentee_id), mentors.get(row.mentor_id)
        if mentee is None or mentor is None:
            who = row.mentee_id if mentee is None else row.mentor_id
            problems.append(f"<@{who}> has left matching, or is no longer free to be matched.")
            continue
        code = exclusion(mentee, mentor, pool.problem.rules, pool.problem.bounds)
        if code is not None:
            problems.append(f"<@{row.mentee_id}> ← <@{row.mentor_id}>: {exclusion_text(code)}.")
    load = Counter(row.mentor_id for row in rows)
    problems += [
        f"<@{uid}> has only {places[uid]} free place(s) now."
        for uid in load
        if load[uid] > places.get(uid, 0) and uid in mentors
    ]
    return problems


def _pairing_rules(
    session: Session, *, program: Program, rows: list[MatchProposalPair], people: dict[str, Person]
) -> list[str]:
    """The rules every pairing obeys (bot.pairs.pairing), with each mentor's load counted as rows add up."""
    problems = []
    added: Counter[str] = Counter()
    for row in rows:
        mentor, mentee = people.get(row.mentor_id), people.get(row.mentee_id)
        if mentor is None or mentee is None:
            problems.append(f"<@{row.mentor_id}> or <@{row.mentee_id}> is unknown to Slack now.")
            continue
        problem = pairing_problem(
            program,
            mentor,
            mentee,
            duplicate=active_pair(session, program_id=program.id, mentor_id=mentor.id, mentee_id=mentee.id)
            is not None,
            reverse=active_pair(session, program_id=program.id, mentor_id=mentee.id, mentee_id=mentor.id)
            is not None,
            mentor_load=count_active_mentees(session, program_id=program.id, mentor_id=mentor.id)
            + added[mentor.id],
        )
        added[mentor.id] += 1
        if problem:
            problems.append(problem)
    return problems
