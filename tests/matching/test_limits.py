from __future__ import annotations

import json
import time

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import MAX_VIEW_BLOCKS, validate_view
from bot.kernel.deps import Deps
from bot.matching.blocks import PAGE_ACTION, PAGE_SIZE, PROPOSE_ACTION, proposal_modal
from bot.matching.explain import CONSTRAINT
from bot.matching.proposals import ProposalView, ShownPair
from bot.matching.scoring import Factor
from storage.repositories.matching import open_proposal, proposal_pairs
from tests.support.matching import join_modal, seed_cohort

PROGRAM = "img-2026"


def test_the_profile_modal_offering_a_hundred_mentors_stays_within_slacks_limits(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    seed_cohort(deps, mentees=300, mentors=100)
    view = join_modal(slack, fake_slack, "U0MENTEE1")  # views.open went through the fake's checks
    assert validate_view(view) == []
    ranks = [b for b in view["blocks"] if b.get("block_id", "").startswith("rank_")]
    assert len(ranks) == 3 and all(len(b["element"]["options"]) == 100 for b in ranks)
    assert all(len(o["text"]["text"]) <= 75 for b in ranks for o in b["element"]["options"])


def test_the_proposal_for_300_mentees_and_100_mentors_stays_within_slacks_limits_on_every_page(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    seed_cohort(deps, mentees=300, mentors=100)
    started = time.monotonic()
    slack.block_action("U0COORD1", action_id=f"{PROPOSE_ACTION}.{PROGRAM}", value=PROGRAM)
    fake_slack.wait_for(
        lambda: any('"proposal": 1' in v.get("private_metadata", "") for v in fake_slack.views),
        timeout=20,
        what="the proposal",
    )
    assert (
        time.monotonic() - started < 10
    )  # read, solve, store and show: well inside a coordinator's patience
    with deps.read_sessions.begin() as session:
        proposal = open_proposal(session, program_id=PROGRAM)
        assert proposal is not None
        pairs = len(proposal_pairs(session, proposal_id=proposal.id))
        unmatched = len(proposal.unmatched)
    assert pairs > PAGE_SIZE * 3 and unmatched > 50 and pairs + unmatched == 300
    view = fake_slack.views[-1]
    pages = -(-pairs // PAGE_SIZE)
    seen = 0
    for page in range(pages):
        assert validate_view(view) == [] and len(view["blocks"]) <= MAX_VIEW_BLOCKS
        assert max(len(b.get("text", {}).get("text", "")) for b in view["blocks"]) <= 3000
        seen += sum(1 for b in view["blocks"] if b.get("accessory", {}).get("type") == "overflow")
        if page < pages - 1:
            slack.block_action("U0COORD1", action_id=f"{PAGE_ACTION}.next", value=str(page + 1), view=view)
            shown = view["id"]
            fake_slack.wait_for(
                lambda p=page + 1, v=shown: (
                    f'"page": {p}' in (fake_slack.view(v) or {}).get("private_metadata", "")
                )
            )
            view = fake_slack.view(view["id"]) or {}
    assert seen == pairs  # every pair was on some page, with its Pin / Forbid menu
    assert f"Unmatched ({unmatched})" in json.dumps(view)


def test_a_proposal_too_long_for_one_modal_is_cut_with_a_pointer_to_the_full_list(deps: Deps) -> None:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    pairs = tuple(
        ShownPair(n, f"U0BR{n % 600:05d}", f"U0BE{n:05d}", 40, (Factor("specialty", 5, "S" * 80),) * 8)
        for n in range(1, 601)
    )
    unmatched = tuple(
        (f"U0BE{n:05d}", "no mentor may be theirs: 599 in their department, 1 " + CONSTRAINT)
        for n in range(1400)
    )
    proposal = ProposalView(
        1, program, "open", 2000, 600, pairs, unmatched, notes=("a longer note " * 5,) * 300
    )
    for page in (0, 10, 19):
        view = proposal_modal(proposal, page=page)
        assert validate_view(view) == [] and len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert json.dumps(view).count("lists them all") == 2  # the unmatched and the notes
