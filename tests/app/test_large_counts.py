"""Every surface at ten times today's largest sizes, over signed HTTP, each payload checked by the fake.

The `fake_slack` fixture fails a test whose bot sent anything Slack would reject; these also check that
what does not fit is counted in an "…and N more" line rather than dropped silently.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from bot.fake_slack import validation
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.reflections.blocks import PAIR_ACTION, PAIR_BLOCK
from tests.support.factories import make_pairs

MENTOR = "U0MENTOR1"
COORDINATOR = "U0COORD1"
SLOW = 20.0  # seconds a surface may take on a loaded machine; most take well under one


def mentees(count: int) -> list[tuple[str, str]]:
    return [(MENTOR, f"U0BULK{n:04d}") for n in range(count)]


def texts(blocks: list[dict[str, Any]]) -> str:
    found = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found.extend(e.get("text", "") for e in block.get("elements", []) if block["type"] == "context")
    return "\n".join(found)


def more_count(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"…and ([\d,]+) more", text)]


def open_home(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> dict[str, Any]:
    slack.event({"type": "app_home_opened", "user": user_id, "channel": "D0HOME", "tab": "home"})
    fake.wait_for(lambda: bool(fake.calls_to("views.publish")), timeout=SLOW, what="views.publish")
    assert [call.ok for call in fake.calls_to("views.publish")] == [True]
    view = fake.home_view(user_id)
    assert view is not None
    return view


def test_a_mentor_home_with_230_overdue_pairs_names_the_longest_overdue_and_counts_the_rest(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pairs(deps, mentees(200), started_at=clock.now - timedelta(days=45))
    make_pairs(
        deps, [(MENTOR, f"U0LATE{n:03d}") for n in range(30)], started_at=clock.now - timedelta(days=90)
    )
    view = open_home(slack, fake_slack, MENTOR)
    text = texts(view["blocks"])
    overdue = next(b["text"]["text"] for b in view["blocks"] if "No confirmed session" in str(b.get("text")))
    assert overdue.count(":warning:") == 10 and "for 90 days" in overdue.splitlines()[0]
    assert "…and 220 more — the longest overdue are named above." in overdue
    # the mentee list: no pointer back to `/mentorship status`, which is capped too
    assert "…and 210 more — those longest without a logged session are listed first." in text
    assert "/mentorship status" not in text
    assert "…and 205 more — too many mentees to list here." in text  # their latest check-ins
    assert len(view["blocks"]) <= 100


def test_reflect_with_1200_pairs_offers_them_as_the_mentor_types(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    pair_ids = make_pairs(deps, mentees(1200))
    assert slack.command("/reflect", user_id=MENTOR).status == 200
    fake_slack.wait_for(lambda: bool(fake_slack.views), timeout=SLOW, what="views.open")
    view = fake_slack.views[-1]
    select = next(b for b in view["blocks"] if b.get("block_id") == PAIR_BLOCK)["element"]
    assert select["type"] == "external_select" and select["min_query_length"] == 0

    everyone = _suggest(slack, view, "")
    assert len(everyone) == 100
    found = _suggest(slack, view, "u0bulk0042")
    assert [option["value"] for option in found] == [str(pair_ids[42])]

    chosen = {"type": "external_select", "selected_option": found[0]}
    action = {"action_id": PAIR_ACTION, "block_id": PAIR_BLOCK, "action_ts": f"{time.time():.6f}", **chosen}
    slack.block_action(MENTOR, action_id=PAIR_ACTION, view=view, action=action)
    fake_slack.wait_for(lambda: bool(fake_slack.calls_to("views.update")), timeout=SLOW, what="views.update")
    assert [call.ok for call in fake_slack.calls_to("views.update")] == [True]
    updated = fake_slack.view(view["id"])
    assert updated is not None
    select = next(b for b in updated["blocks"] if b.get("block_id") == PAIR_BLOCK)["element"]
    assert select["initial_option"]["value"] == str(pair_ids[42])


def _suggest(slack: SlackRequestSender, view: dict[str, Any], typed: str) -> list[dict[str, Any]]:
    reply = slack.block_suggestion(MENTOR, action_id=PAIR_ACTION, block_id=PAIR_BLOCK, value=typed, view=view)
    assert reply.status == 200
    body = reply.json()
    assert validation.validate_options_response(body) == []
    options: list[dict[str, Any]] = body["options"]
    return options


def test_mentorship_status_for_1200_pairs_fits_what_slack_shows(
    deps: Deps, slack: SlackRequestSender
) -> None:
    make_pairs(deps, mentees(1200))
    reply = slack.command("/mentorship", "status", user_id=MENTOR)
    assert reply.status == 200
    text = reply.json()["text"]
    assert validation.display_problems(text) == []
    assert text.startswith("You are in 1,200 pairs")
    assert more_count(text) == [1200 - text.count("You mentor <@")]  # one line, counting pairs
    assert re.search(r"…and [\d,]+ more — those shown have gone longest without a confirmed session\.", text)
    assert "App Home" not in text  # which lists no more of them


def test_a_digest_of_1200_pairs_fits_one_message_and_its_preview_modal(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    mentors = [f"U0MTR{n:03d}" for n in range(120)]
    make_pairs(
        deps,
        [(mentors[n % 120], f"U0BULK{n:04d}") for n in range(1200)],
        started_at=clock.now - timedelta(days=60),
    )
    slack.command("/mentorship", "digest preview", user_id=COORDINATOR)
    fake_slack.wait_for(lambda: bool(fake_slack.responses), timeout=SLOW, what="the preview")
    _, message = fake_slack.responses[-1]
    assert validation.validate_blocks(message["blocks"]) == []
    assert validation.display_problems(message.get("text")) == []
    assert "Overdue for a session (1200)" in texts(message["blocks"])
    assert more_count(texts(message["blocks"])) == [1200 - 15]

    home = {"type": "home", "blocks": []}
    slack.block_action(COORDINATOR, action_id="digest_preview_home", value="img-2026", view=home)
    fake_slack.wait_for(lambda: bool(fake_slack.calls_to("views.update")), timeout=SLOW, what="the modal")
    assert [call.ok for call in fake_slack.calls_to("views.update")] == [True]


def test_mentorship_status_with_long_pair_lines_counts_pairs_in_one_more_line(
    deps: Deps, slack: SlackRequestSender
) -> None:
    from sqlalchemy import update

    from storage.models import Pair

    make_pairs(deps, [(COORDINATOR, f"U0BULK{n:04d}") for n in range(24)])  # within the 25 listed
    with deps.sessions.begin() as session:
        session.execute(update(Pair).values(focus="f" * 200))  # each line over 250 characters
    text = slack.command("/mentorship", "status", user_id=COORDINATOR).json()["text"]
    assert validation.display_problems(text) == []
    assert text.startswith("You coordinate *img-2026*")  # the coordinator line stays
    assert more_count(text) == [24 - text.count("You mentor <@")]
    assert 0 < text.count("You mentor <@") < 24
