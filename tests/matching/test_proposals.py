from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import validate_view
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.matching.blocks import (
    APPROVE_ACTION,
    CLEAR_ACTION,
    PAIR_MENU,
    PIN_KIND,
    PIN_MENTEE,
    PIN_MENTOR,
    PROPOSE_ACTION,
)
from bot.matching.explain import factor_text
from bot.matching.proposals import PairChange, ShownPair, apply_change, approve, propose, stored_factors
from storage.models import AuditEntry, MatchProposal, MatchProposalPair, Pair
from storage.repositories.matching import open_proposal, proposal_pairs
from storage.repositories.pairs import end_pair
from tests.support.factories import make_pair
from tests.support.matching import add_profile, submit

PROGRAM = "img-2026"
COORDINATOR = "U0COORD1"


def cohort(deps: Deps) -> None:
    """Two mentors with one place each and three mentees: one mentee is left out, and says why."""
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Surgery", languages=["Portuguese"], capacity=1)
    add_profile(deps, "U0MENTOR2", role="mentor", specialty="Pediatrics", languages=["Spanish"], capacity=1)
    add_profile(deps, "U0MENTEE1", specialty="Surgery", languages=["Portuguese"], ranked=["U0MENTOR1"])
    add_profile(deps, "U0MENTEE2", specialty="Pediatrics", languages=["Spanish"])
    add_profile(deps, "U0MENTEE3", specialty="Surgery", languages=["Spanish"])


def latest(deps: Deps) -> MatchProposal | None:
    with deps.read_sessions.begin() as session:
        found = open_proposal(session, program_id=PROGRAM)
        if found is not None:
            session.expunge(found)
        return found


def shown_pairs(deps: Deps, proposal_id: int) -> list[tuple[str, str]]:
    with deps.read_sessions.begin() as session:
        return [(p.mentor_id, p.mentee_id) for p in proposal_pairs(session, proposal_id=proposal_id)]


def row_of(deps: Deps, proposal_id: int, mentee_id: str) -> int:
    with deps.read_sessions.begin() as session:
        return next(
            p.id for p in proposal_pairs(session, proposal_id=proposal_id) if p.mentee_id == mentee_id
        )


def next_proposal(deps: Deps, fake: FakeSlack, after: int) -> tuple[MatchProposal, dict[str, Any]]:
    """Wait for a proposal newer than `after` and for the modal to show it; both."""
    fake.wait_for(
        lambda: any(f'"proposal": {after + 1}' in (v.get("private_metadata") or "") for v in fake.views),
        what=f"proposal #{after + 1} in the modal",
    )
    proposal = latest(deps)
    assert proposal is not None and proposal.id == after + 1
    view = next(v for v in fake.views if f'"proposal": {after + 1}' in (v.get("private_metadata") or ""))
    return proposal, view


def open_modal(
    deps: Deps, slack: SlackRequestSender, fake: FakeSlack
) -> tuple[MatchProposal, dict[str, Any]]:
    """The coordinator presses "Propose matches" on App Home; the proposal and the modal showing it."""
    before = latest(deps)
    slack.block_action(COORDINATOR, action_id=f"{PROPOSE_ACTION}.{PROGRAM}", value=PROGRAM)
    return next_proposal(deps, fake, after=before.id if before is not None else 0)


def modal_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_pin_forbid_rerun_and_approve_over_signed_http_create_exactly_the_pairs_shown(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    cohort(deps)
    first, view = open_modal(deps, slack, fake_slack)
    assert validate_view(view) == []
    assert sorted(shown_pairs(deps, first.id)) == [("U0MENTOR1", "U0MENTEE1"), ("U0MENTOR2", "U0MENTEE2")]
    text = modal_text(view)
    assert (
        "same specialty (Surgery) +5; shared language (Portuguese) +3; mentee ranked this mentor first +4"
        in text
    )
    assert "<@U0MENTEE3>: the 2 mentors who fit them have no free place left" in text

    # Forbid U0MENTOR1 -> U0MENTEE1 from the pair's menu: U0MENTEE3 gets U0MENTOR1's only place.
    row = row_of(deps, first.id, "U0MENTEE1")
    slack.block_action(
        COORDINATOR, action_id=f"{PAIR_MENU}:{row}", value=f"forbid:{row}", action_type="overflow", view=view
    )
    second, view = next_proposal(deps, fake_slack, after=first.id)
    assert ("U0MENTOR1", "U0MENTEE1") not in shown_pairs(deps, second.id)
    assert ("U0MENTOR1", "U0MENTEE3") in shown_pairs(deps, second.id)

    # Re-run with a pair named in the modal's inputs: pin U0MENTEE1 to U0MENTOR2.
    reply = submit(
        slack, COORDINATOR, view, {PIN_MENTOR: "U0MENTOR2", PIN_MENTEE: "U0MENTEE1", PIN_KIND: "pin"}
    )
    assert reply["response_action"] == "update"
    third, view = next_proposal(deps, fake_slack, after=second.id)
    assert sorted(shown_pairs(deps, third.id)) == [("U0MENTOR1", "U0MENTEE3"), ("U0MENTOR2", "U0MENTEE1")]
    assert "📌" in modal_text(view) and "U0MENTEE2" in modal_text(view)  # now unmatched, with a reason

    # Approve what is shown.
    slack.block_action(COORDINATOR, action_id=APPROVE_ACTION, value=str(third.id), view=view)
    fake_slack.wait_for(
        lambda: "Approved proposal" in json.dumps(fake_slack.view(view["id"])), what="approval"
    )
    with deps.read_sessions.begin() as session:
        active = session.execute(select(Pair.mentor_id, Pair.mentee_id).where(Pair.ended_at.is_(None))).all()
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert sorted(map(tuple, active)) == sorted(shown_pairs(deps, third.id))
    assert actions.count("pair") == 2 and "match.approve" in actions and "match.forbid" in actions
    assert "match.pin" in actions

    # A second press (or a second coordinator) creates nothing more.
    program = deps.programs.get(PROGRAM)
    assert program is not None
    again = approve(deps, program=program, proposal_id=third.id, actor_id=COORDINATOR, now=deps.clock())
    assert not again.ok and "already approved" in again.message


def test_each_side_is_told_why_they_were_matched_and_the_factors_add_up(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    cohort(deps)
    proposal, view = open_modal(deps, slack, fake_slack)
    with deps.read_sessions.begin() as session:
        rows = list(
            session.scalars(select(MatchProposalPair).where(MatchProposalPair.proposal_id == proposal.id))
        )
    assert rows and all(row.score == sum(f.points for f in stored_factors(row)) for row in rows)
    assert next(row.score for row in rows if row.mentee_id == "U0MENTEE1") == 12
    slack.block_action(COORDINATOR, action_id=APPROVE_ACTION, value=str(proposal.id), view=view)
    fake_slack.wait_for(
        lambda: bool(fake_slack.messages("U0MENTEE1")) and bool(fake_slack.messages("U0MENTOR1"))
    )
    mentee_dm = json.dumps(fake_slack.messages("U0MENTEE1")[-1]["blocks"], ensure_ascii=False)
    mentor_dm = json.dumps(fake_slack.messages("U0MENTOR1")[-1]["blocks"], ensure_ascii=False)
    assert "Why you were matched* (score 12" in mentee_dm
    assert "you are both in Surgery +5" in mentee_dm and "you ranked them first +4" in mentee_dm
    assert "you both speak Portuguese +3" in mentor_dm and "they asked for you +4" in mentor_dm


def _wait_modal(fake: FakeSlack, view_id: str, words: str) -> dict[str, Any]:
    fake.wait_for(lambda: words in json.dumps(fake.view(view_id)), what=words)
    found = fake.view(view_id)
    assert found is not None
    return found


def test_approval_refuses_a_proposal_someone_left_since_and_creates_nothing(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    cohort(deps)
    proposal, view = open_modal(deps, slack, fake_slack)
    slack.command("/mentorship", "leave", user_id="U0MENTEE2")
    slack.block_action(COORDINATOR, action_id=APPROVE_ACTION, value=str(proposal.id), view=view)
    shown = _wait_modal(fake_slack, view["id"], "has left matching")
    assert "Nothing was approved" in json.dumps(shown) and validate_view(shown) == []
    with deps.read_sessions.begin() as session:
        assert session.scalars(select(Pair)).all() == []
        stored = session.get(MatchProposal, proposal.id)
        assert stored is not None and stored.status == "open"


def test_a_recent_pair_is_proposed_again_only_when_no_one_else_fits_and_it_says_so(
    deps: Deps, clock: SettableClock
) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Surgery", capacity=2)
    add_profile(deps, "U0MENTEE1", specialty="Surgery")
    pair_id = make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=clock() - timedelta(days=100))
    with deps.sessions.begin() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        end_pair(pair, now=clock() - timedelta(days=30))
    program = deps.programs.get(PROGRAM)
    assert program is not None
    alone = propose(deps, program=program, actor_id=COORDINATOR, now=clock())
    [again] = alone.pairs
    assert again.cooldown_ended_at is not None
    assert "inside the 180-day cooldown): proposed because otherwise a mentee would be left unmatched" in (
        alone.pair_line(again)
    )
    add_profile(deps, "U0MENTOR2", role="mentor", specialty="Surgery")
    fresh = propose(deps, program=program, actor_id=COORDINATOR, now=clock())
    assert [(p.mentor_id, p.cooldown_ended_at) for p in fresh.pairs] == [("U0MENTOR2", None)]
    later = propose(deps, program=program, actor_id=COORDINATOR, now=clock() + timedelta(days=160))
    assert {p.mentor_id for p in later.pairs} <= {"U0MENTOR1", "U0MENTOR2"}
    assert all(p.cooldown_ended_at is None for p in later.pairs)  # the cooldown is over


def test_only_the_programs_coordinators_can_propose_matches(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    cohort(deps)
    for outsider in ("U0MENTEE1", "U0COORD2"):
        slack.block_action(outsider, action_id=f"{PROPOSE_ACTION}.{PROGRAM}", value=PROGRAM)
        fake_slack.wait_for(
            lambda o=outsider: any(
                "Only coordinators of img-2026" in m.get("text", "") for m in fake_slack.messages(o)
            ),
            what="the refusal",
        )
    assert latest(deps) is None and fake_slack.calls_to("views.open") == []


def test_a_shown_pair_reads_with_every_factor_and_its_score() -> None:
    from bot.matching.scoring import Factor

    pair = ShownPair(
        1, "U0MENTOR1", "U0MENTEE1", 8, (Factor("specialty", 5, "Surgery"), Factor("times", 3, "evening"))
    )
    assert [factor_text(f) for f in pair.factors] == ["same specialty (Surgery) +5", "both free evenings +3"]


def test_clearing_pins_and_forbids_re_runs_without_them(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    cohort(deps)
    first, view = open_modal(deps, slack, fake_slack)
    row = row_of(deps, first.id, "U0MENTEE2")
    slack.block_action(
        COORDINATOR, action_id=f"{PAIR_MENU}:{row}", value=f"forbid:{row}", action_type="overflow", view=view
    )
    second, view = next_proposal(deps, fake_slack, after=first.id)
    assert ("U0MENTOR2", "U0MENTEE2") not in shown_pairs(deps, second.id)
    slack.block_action(COORDINATOR, action_id=CLEAR_ACTION, value=str(second.id), view=view)
    third, view = next_proposal(deps, fake_slack, after=second.id)
    assert sorted(shown_pairs(deps, third.id)) == sorted(shown_pairs(deps, first.id))
    assert "Your pins and forbids" not in modal_text(view)


def test_a_pin_naming_someone_who_never_opted_in_is_refused_and_they_appear_nowhere(deps: Deps) -> None:
    cohort(deps)
    program = deps.programs.get(PROGRAM)
    assert program is not None
    apply_change(
        deps,
        program=program,
        change=PairChange("pin", "U0MENTOR1", "U0OUTSIDE"),
        actor_id=COORDINATOR,
        now=deps.clock(),
    )
    proposal = propose(deps, program=program, actor_id=COORDINATOR, now=deps.clock())
    assert proposal.notes == (
        "Pin <@U0MENTOR1> → <@U0OUTSIDE> not kept: "
        "one of them has no matching profile (left, or never joined).",
    )
    named = {uid for pair in proposal.pairs for uid in (pair.mentor_id, pair.mentee_id)}
    assert "U0OUTSIDE" not in named | {mentee for mentee, _ in proposal.unmatched}
