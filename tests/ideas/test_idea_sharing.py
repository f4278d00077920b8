"""Who sees an idea: the pair always; coordinators — the digest, the report — only what the author shares.

An idea kept between the pair never reaches a coordinator: not on their App Home, not by its buttons,
not in `/idea list`, not in the weekly digest (not even as a count), not in the annual report.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.digests.blocks import render_digest
from bot.digests.content import build_digest
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.reports.outcomes import build_report, to_csv, to_markdown
from tests.support.factories import make_pair
from tests.support.ideas import ADOPT, COORDINATOR, MENTEE, MENTOR, home, press, record_idea, through_a_cycle
from tests.support.waiting import wait_until

SHARED = "Shared: a five-minute huddle before handover"
PRIVATE = "Private: a quieter corner for calls to families"
WEEK = date(2026, 11, 23)  # the clock fixture's Monday: the ideas are adopted this week


@pytest.fixture
def program(deps: Deps) -> Program:
    found = deps.programs.get("img-2026")
    assert found is not None
    return found


@pytest.fixture
def two_adopted(slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps) -> tuple[int, int]:
    """The same mentee's two ideas, both adopted: one shared with the coordinators, one not."""
    make_pair(deps, MENTOR, MENTEE)
    shared = record_idea(slack, fake_slack, deps, shared=True, summary=SHARED)
    private = record_idea(slack, fake_slack, deps, summary=PRIVATE)
    through_a_cycle(slack, fake_slack, shared, ADOPT)
    through_a_cycle(slack, fake_slack, private, ADOPT)
    return shared, private


def digest_text(deps: Deps, program: Program) -> str:
    with deps.read_sessions.begin() as session:
        message = render_digest(
            build_digest(session, program=program, week=WEEK, now=deps.clock()), text_trend=True
        )
    return str(message.blocks)


def report_text(deps: Deps, program: Program) -> tuple[tuple[int, int, int, tuple[str, ...]], str]:
    start, end = date(2026, 10, 1), date(2026, 12, 31)
    with deps.read_sessions.begin() as session:
        (q4,) = build_report(session, program=program, start=start, end=end, now=deps.clock())
    figures = (q4.ideas_raised, q4.ideas_tested, q4.ideas_adopted, q4.adopted_changes)
    return figures, to_csv([q4]) + to_markdown(program, [q4], start=start, end=end)


def test_the_digest_counts_and_lists_only_the_shared_idea(
    deps: Deps, program: Program, two_adopted: tuple[int, int]
) -> None:
    text = digest_text(deps, program)
    assert "*Ideas and small tests* (only those their authors shared)" in text
    assert "Adopted: 1" in text and f"• {SHARED}" in text
    assert "Private" not in text and "quieter corner" not in text


def test_the_report_counts_and_lists_only_the_shared_idea(
    deps: Deps, program: Program, two_adopted: tuple[int, int]
) -> None:
    figures, text = report_text(deps, program)
    assert figures == (1, 1, 1, (SHARED,))
    assert SHARED in text and "Raised: 1 · tested: 1 · adopted: 1" in text
    assert "quieter corner" not in text


def test_coordinators_never_see_the_pairs_ideas_on_home_in_lists_or_by_their_buttons(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, two_adopted: tuple[int, int]
) -> None:
    coordinator_home = str(home(slack, fake_slack, COORDINATOR)["blocks"])
    assert "huddle" not in coordinator_home and "quieter corner" not in coordinator_home
    _, body, _ = slack.command("/idea", "list", user_id=COORDINATOR)
    assert "no ideas recorded yet" in body
    opened = len(fake_slack.calls_to("views.open", ok_only=True))
    for idea_id in two_adopted:
        slack.block_action(
            COORDINATOR, action_id=f"idea_open:{idea_id}", value=str(idea_id), view={"type": "home"}
        )
    wait_until(lambda: len(fake_slack.messages(COORDINATOR)) == 2, "both refusals")
    assert all("a pair you are not part of" in m["text"] for m in fake_slack.messages(COORDINATOR))
    assert len(fake_slack.calls_to("views.open", ok_only=True)) == opened


def test_an_idea_the_author_stops_sharing_leaves_the_digest_and_the_report(
    slack: SlackRequestSender,
    fake_slack: FakeSlack,
    deps: Deps,
    program: Program,
    two_adopted: tuple[int, int],
) -> None:
    shared, _private = two_adopted
    press(
        slack,
        fake_slack,
        MENTEE,
        home(slack, fake_slack, MENTEE),
        "Stop sharing with coordinators",
        idea_id=shared,
        opens=False,
    )
    wait_until(lambda: "No longer shared" in str(fake_slack.messages(MENTEE)), "the author told")
    assert "Ideas and small tests" not in digest_text(deps, program)
    figures, text = report_text(deps, program)
    assert figures == (0, 0, 0, ())
    assert "huddle" not in text and "quieter corner" not in text


def test_a_program_whose_ideas_are_all_private_gets_no_ideas_section_at_all(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, program: Program
) -> None:
    make_pair(deps, MENTOR, MENTEE)
    private = record_idea(slack, fake_slack, deps, summary=PRIVATE)
    through_a_cycle(slack, fake_slack, private, ADOPT)
    with deps.read_sessions.begin() as session:
        assert build_digest(session, program=program, week=WEEK, now=deps.clock()).ideas is None
    assert report_text(deps, program)[0] == (0, 0, 0, ())
