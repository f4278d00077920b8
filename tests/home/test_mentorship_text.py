"""Property tests of `/mentorship` text: the pure parser, then a smaller sample over signed HTTP."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.authz import HINT, Action, authorize
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from bot.kernel.roles import Role, UserRoles
from bot.pairs.commands import PairPlan, Problem, plan_pair, split_command, tokenize
from handlers.mentorship import SUBCOMMANDS
from tests.support.factories import make_pair
from tests.support.people import PROGRAMS_FILE

PROGRAMS: ProgramsConfig = load_programs(PROGRAMS_FILE)
C = frozenset({Role.COORDINATOR})
ROLES = {
    "coordinator": UserRoles("U0COORD1", {"img-2026": C}),
    "coordinator of two": UserRoles("U0COORD1", {"img-2026": C, "nursing-2026": C}),
    "other coordinator": UserRoles("U0COORD2", {"nursing-2026": C}),
    "mentee": UserRoles("U0MENTEE1", {"img-2026": frozenset({Role.MENTEE})}),
    "not enrolled": UserRoles("U0OUTSIDE", {}),
}

mentions = st.from_regex(r"<@[UW][A-Z0-9]{2,11}(\|[a-z. ]{0,12})?>", fullmatch=True)
bare_ids = st.from_regex(r"[UW][A-Z0-9]{1,10}", fullmatch=True)
words = st.one_of(
    st.sampled_from(
        [*SUBCOMMANDS, "PAIR", "img-2026", "nursing-2026", "mars-2030", "@bob", "<#C0X|chan>", "<!here>"]
    ),
    mentions,
    bare_ids,
    st.text(max_size=12),
)
texts = st.one_of(st.text(max_size=200), st.lists(words, max_size=6).map(" ".join))


@given(text=st.text(max_size=300))
def test_tokenize_loses_nothing_but_whitespace(text: str) -> None:
    assert re.sub(r"\s", "", "".join(tokenize(text))) == re.sub(r"\s", "", text)
    name, args = split_command(text)
    assert name == name.lower() and (name == "help" or tokenize(text)[0].lower() == name)
    assert len(args) == max(len(tokenize(text)) - 1, 0)


@given(text=texts, who=st.sampled_from(sorted(ROLES)), verb=st.sampled_from(["pair", "unpair"]))
def test_any_pair_text_is_a_plan_or_a_problem_with_usage(text: str, who: str, verb: str) -> None:
    roles = ROLES[who]
    result = plan_pair(verb, tokenize(text), roles=roles, programs=PROGRAMS)
    if isinstance(result, PairPlan):
        assert result.mentor_id != result.mentee_id
        assert all(re.fullmatch(r"[UW][A-Z0-9]{2,}", uid) for uid in (result.mentor_id, result.mentee_id))
        assert PROGRAMS.get(result.program_id) is not None
        assert authorize(
            roles, Action.PAIR if verb == "pair" else Action.UNPAIR, program_id=result.program_id
        ).allowed
        return
    assert isinstance(result, Problem) and result.message
    refused = result.message.endswith(HINT)
    assert refused or result.message.endswith(f"Usage: `/mentorship {verb} @mentor @mentee [PROGRAM]`")
    if not roles.has(Role.COORDINATOR):
        assert refused  # people who may not pair are refused, never coached on syntax
    # Whatever was typed is echoed escaped: no channel-wide pings, no broken formatting.
    assert "<!" not in result.message and "<#" not in result.message


@given(text=st.from_regex(r"pair <@(U0M[A-Z0-9]{3})\|x> <@(U0E[A-Z0-9]{3})> ?(img-2026)?", fullmatch=True))
def test_escaped_mentions_and_an_omitted_program_make_a_plan(text: str) -> None:
    name, args = split_command(text)
    plan = plan_pair(name, args, roles=ROLES["coordinator"], programs=PROGRAMS)
    assert isinstance(plan, PairPlan) and plan.program_id == "img-2026"
    assert plan.mentor_id.startswith("U0M") and plan.mentee_id.startswith("U0E")


def _reply_arrived(fake: FakeSlack, url_id: str, opened_before: int) -> bool:
    return any(uid == url_id for uid, _ in fake.responses) or len(fake.calls_to("views.open")) > opened_before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, user=st.sampled_from(["U0COORD1", "U0MENTEE1", "U0OUTSIDE"]))
def test_any_text_over_signed_http_gets_a_200_and_a_reply(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, text: str, user: str
) -> None:
    url = fake_slack.response_url()
    url_id = url.rsplit("/", 1)[1]
    opened = len(fake_slack.calls_to("views.open"))
    status, body, _ = slack.command("/mentorship", text, user_id=user, response_url=url)
    assert status == 200
    ack_text = json.loads(body).get("text", "") if body else ""
    if not ack_text:
        fake_slack.wait_for(lambda: _reply_arrived(fake_slack, url_id, opened), what="a reply to the command")


def test_a_real_pairing_text_over_http_gets_its_result(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    url = fake_slack.response_url()
    status, body, _ = slack.command(
        "/mentorship",
        "  PAIR   <@U0MENTOR1|dr mendes>\t<@U0MENTEE1|amara>  ",
        user_id="U0COORD1",
        response_url=url,
    )
    assert status == 200 and json.loads(body)["text"].startswith("Pairing")
    url_id = url.rsplit("/", 1)[1]
    fake_slack.wait_for(lambda: any(uid == url_id for uid, _ in fake_slack.responses))
