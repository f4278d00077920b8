"""The authorization matrix: every Action in POLICY × every kind of person, through the real entry points.

Expected outcomes are a table keyed by Action; a new Action in POLICY fails here until it has a row.
Where an action has a slash command or an App Home event, the request goes over signed HTTP into the
running app (refusals must come back as the guard's ephemeral message); actions reached only from
stateful buttons or modals of other features are checked at the guard, with roles read from the database.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app.commands import roster_import_command
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.ideas.record import NO_PAIR as IDEA_NO_PAIR
from bot.kernel.authz import HINT, POLICY, Action, authorize
from bot.kernel.deps import Deps
from bot.kernel.roles import operator_roles, roles_of
from bot.pairs.commands import split_command
from bot.reflections.reflect import NO_PAIR
from handlers.mentorship import SUBCOMMANDS
from storage.models import Pair
from tests.support.factories import make_pair

PROGRAM = "img-2026"
# Refused cases first: an allowed pair/unpair must not change who is who for the rest.
PEOPLE = {
    "not enrolled": "U0OUTSIDE",
    "coordinator of another program": "U0COORD2",
    "mentee": "U0MENTEE1",
    "mentor": "U0MENTOR1",
    "coordinator": "U0COORD1",
}
EVERYONE = frozenset(PEOPLE)
ENROLLED = EVERYONE - {"not enrolled"}
COORDINATOR = frozenset({"coordinator"})
PAIRED = frozenset({"mentor", "mentee"})

# Who may do each action in img-2026 (U0MENTOR1 mentors U0MENTEE1 there; U0COORD2 coordinates nursing-2026).
EXPECTED: dict[Action, frozenset[str]] = {
    Action.HELP: EVERYONE,
    Action.STATUS: EVERYONE,
    Action.HOME: EVERYONE,
    Action.CONCERN_STATUS: EVERYONE,  # the case key is the authority
    Action.PAIR: COORDINATOR,
    Action.UNPAIR: COORDINATOR,
    Action.DIGEST_PREVIEW: COORDINATOR,
    Action.CONCERNS_LIST: COORDINATOR,
    Action.CONCERN_RESPOND: COORDINATOR,
    Action.ROSTER_IMPORT: COORDINATOR,
    Action.MATCH_JOIN: EVERYONE,
    Action.MATCH_PROPOSE: COORDINATOR,
    Action.PROFILES_IMPORT: COORDINATOR,
    Action.CONCERN_RAISE: ENROLLED,
    Action.CHECKIN_OPEN: frozenset({"mentee"}),
    Action.CHECKIN_PAUSE: frozenset({"mentee"}),
    Action.CHECKIN_ANSWER: frozenset({"mentee"}),
    Action.REFLECT: PAIRED,
    Action.REFLECT_COMPETENCIES: frozenset({"mentor"}),
    Action.SESSION_CONFIRM: PAIRED,
    Action.IDEA: PAIRED,
    Action.IDEA_EVIDENCE: frozenset({"mentor"}),
    Action.TRACK_ENROL: COORDINATOR,
    Action.TRACK_ATTEST: frozenset({"coordinator", "mentor"}),  # and only the supervisor named (tests/tracks)
    Action.TRACK_EVIDENCE: COORDINATOR,
}

# The slash command that reaches each action; the others come from buttons and modals on state
# (a sent check-in, a concern thread, a logged session) or from the CLI, and are checked at the guard.
COMMANDS: dict[Action, tuple[str, str]] = {
    Action.HELP: ("/mentorship", "help"),
    Action.STATUS: ("/mentorship", "status"),
    Action.PAIR: ("/mentorship", f"pair <@U0MENTOR2|dr.chen> <@U0MENTEE3|lin> {PROGRAM}"),
    Action.UNPAIR: ("/mentorship", f"unpair <@U0MENTOR2|dr.chen> <@U0MENTEE2|diego> {PROGRAM}"),
    Action.DIGEST_PREVIEW: ("/mentorship", f"digest {PROGRAM} preview"),
    Action.CONCERNS_LIST: ("/mentorship", f"concerns {PROGRAM}"),
    Action.TRACK_ENROL: ("/mentorship", "track <@U0MENTEE1|amara> img-onboarding"),
    Action.CONCERN_RAISE: ("/concern", ""),
    Action.CONCERN_STATUS: ("/concern", "status K7QF-2M9X-PD4C"),
    Action.CHECKIN_OPEN: ("/checkin", ""),
    Action.CHECKIN_PAUSE: ("/checkin", "pause 2w"),
    Action.REFLECT: ("/reflect", ""),
    Action.IDEA: ("/idea", ""),
}


# Features that refuse with their own, more specific ephemeral text instead of the guard's.
OWN_REFUSALS: dict[Action, str] = {Action.REFLECT: NO_PAIR, Action.IDEA: IDEA_NO_PAIR}
DONE = {Action.PAIR: "Paired <@U0MENTOR2>", Action.UNPAIR: "Ended the pairing of <@U0MENTOR2>"}


def test_every_action_has_expected_outcomes() -> None:
    missing = set(POLICY) - set(EXPECTED)
    assert not missing, (
        f"add rows to EXPECTED in {Path(__file__).name} for the new actions: {sorted(missing)}"
    )
    assert set(Action) == set(POLICY), "every Action needs a Rule in POLICY"


def refusals(action: Action) -> set[str]:
    """The guard's refusal, worded for the program or (when a handler passes none) for 'this program'."""
    rule = POLICY[action]
    own = {OWN_REFUSALS[action]} if action in OWN_REFUSALS else set()
    return {f"{rule.refusal.format(program=p)} {HINT}" for p in (PROGRAM, "this program")} | own


def count_pairs(deps: Deps) -> int:
    with deps.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(Pair)) or 0)


def ask(
    slack: SlackRequestSender, fake: FakeSlack, action: Action, user_id: str
) -> tuple[int, dict[str, str], str]:
    command, text = COMMANDS[action]
    url = fake.response_url()
    status, body, _ = slack.command(command, text, user_id=user_id, response_url=url)
    reply = json.loads(body) if body and body.startswith("{") else {}
    return status, reply, url.rsplit("/", 1)[1]


def replies(fake: FakeSlack, url_id: str) -> list[str]:
    return [str(body.get("text", "")) for uid, body in fake.responses if uid == url_id]


def check_command(
    deps: Deps, slack: SlackRequestSender, fake: FakeSlack, action: Action, who: str, allowed: bool
) -> None:
    command, text = COMMANDS[action]
    if command == "/mentorship" and split_command(text)[0] not in SUBCOMMANDS:
        pytest.skip(f"`/mentorship {split_command(text)[0]}` is not built yet; checked at the guard only")
    pairs_before, opened = count_pairs(deps), len(fake.calls_to("views.open"))
    status, reply, url_id = ask(slack, fake, action, PEOPLE[who])
    if status == 404:
        pytest.skip(f"{command} is not built yet; checked at the guard only")
    assert status == 200, f"{action} as {who}: HTTP {status}"
    refused_with = refusals(action)
    if allowed:
        assert reply.get("text", "") not in refused_with, f"{action} wrongly refused for {who}"
        if action in DONE:
            fake.wait_for(lambda: any(DONE[action] in r for r in replies(fake, url_id)), what=str(action))
        elif not reply.get("text"):  # the answer comes after the ack: a response or a modal
            fake.wait_for(lambda: bool(replies(fake, url_id)) or len(fake.calls_to("views.open")) > opened)
        assert not set(replies(fake, url_id)) & refused_with, f"{action} wrongly refused for {who}"
        return
    if reply.get("text") in refused_with:
        assert reply.get("response_type") == "ephemeral"
    else:  # refused after the ack, through the response_url
        fake.wait_for(
            lambda: bool(set(replies(fake, url_id)) & refused_with), what=f"{action} refused for {who}"
        )
    if action in (Action.PAIR, Action.UNPAIR):
        assert count_pairs(deps) == pairs_before, f"a refused {action} changed the pairs"


def check_home(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> None:
    before = len(fake.calls_to("views.publish", ok_only=True))
    status, _, _ = slack.event(
        {"type": "app_home_opened", "user": user_id, "channel": "D0HOME", "tab": "home"}
    )
    assert status == 200
    fake.wait_for(lambda: len(fake.calls_to("views.publish", ok_only=True)) > before, what="the Home view")
    assert fake.home_view(user_id) is not None


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_authorization_matrix(
    action: Action, deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    assert action in EXPECTED, f"add a row to EXPECTED for {action}"
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE2")  # the pair a coordinator unpairs
    for who, user_id in PEOPLE.items():
        allowed = who in EXPECTED[action]
        with deps.read_sessions.begin() as session:
            roles = roles_of(session, programs=deps.programs, user_id=user_id)
        decision = authorize(roles, action, program_id=PROGRAM)
        assert decision.allowed == allowed, f"the guard: {action} for {who}"
        if not allowed:
            assert decision.message in refusals(action)
        if action == Action.HOME:
            check_home(slack, fake_slack, user_id)
        elif action in COMMANDS:
            check_command(deps, slack, fake_slack, action, who, allowed)


def test_pair_and_unpair_by_the_coordinator_take_effect(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    for action, done in (
        (Action.PAIR, "Paired <@U0MENTOR2>"),
        (Action.UNPAIR, "Ended the pairing of <@U0MENTOR2>"),
    ):
        _, reply, url_id = ask(slack, fake_slack, action, "U0COORD1")
        assert reply["response_type"] == "ephemeral"
        fake_slack.wait_for(
            lambda d=done, u=url_id: any(d in r for r in replies(fake_slack, u)), what=str(action)
        )
    with deps.sessions.begin() as session:
        active = session.scalars(select(Pair.mentee_id).where(Pair.ended_at.is_(None))).all()
    assert active == ["U0MENTEE3"]


def test_the_cli_acts_as_the_operator_through_the_same_guard(deps: Deps, tmp_path: Path) -> None:
    assert authorize(operator_roles(deps.programs), Action.ROSTER_IMPORT, program_id=PROGRAM).allowed
    path = tmp_path / "roster.csv"
    path.write_text("mentor,mentee\nU0MENTOR1,U0MENTEE1\n")
    assert roster_import_command(deps, program_id=PROGRAM, path=path, replace=False, now=deps.clock()) == 0
    assert count_pairs(deps) == 1


@pytest.mark.parametrize("who", list(PEOPLE))
def test_help_lists_only_what_each_person_may_do(
    who: str, deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    from bot.home.help_text import COMMANDS as HELP_LINES

    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _, reply, _ = ask(slack, fake_slack, Action.HELP, PEOPLE[who])
    for action, usage, _ in HELP_LINES:
        listed = f"`{usage}`" in reply["text"]
        # Help is not about one program: a coordinator of any program sees the coordinator commands.
        may = who in EXPECTED[action] or (
            who == "coordinator of another program" and "coordinator" in EXPECTED[action]
        )
        assert listed == may, f"help for {who}: {usage}"
