from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import validate_view
from bot.kernel.deps import Deps
from bot.kernel.programs import load_programs
from bot.matching.blocks import JOIN_ACTION, LEAVE_ACTION, profile_modal
from bot.matching.profiles import profile_spec, program_to_join, program_to_leave
from bot.matching.proposals import propose
from storage.models import MatchingDeparture, MatchingProfile
from storage.repositories.matching import avoid_list, get_profile
from tests.support.matching import add_profile, join_modal, submit
from tests.support.people import PROGRAMS_FILE
from tests.support.waiting import wait_until

PROGRAM = "img-2026"
MENTEE_ANSWERS = {
    "role": "mentee",
    "specialty": "Internal medicine",
    "department": "4 West",
    "languages": "Portuguese, English",
    "trained_in": "Brazil",
    "focus": ["Documentation and EHR", "Cultural fluency"],
    "formats": ["video"],
    "times": ["evening"],
}


def profile(deps: Deps, user_id: str) -> MatchingProfile | None:
    with deps.read_sessions.begin() as session:
        found = get_profile(session, program_id=PROGRAM, user_id=user_id)
        if found is not None:
            session.expunge(found)
        return found


def test_join_opens_the_profile_modal_and_saving_it_opts_the_person_in(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Internal medicine", languages=["Portuguese"])
    view = join_modal(slack, fake_slack, "U0MENTEE1")
    assert validate_view(view) == []
    rank_options = next(b for b in view["blocks"] if b.get("block_id") == "rank_1")["element"]["options"]
    assert [o["text"]["text"] for o in rank_options] == ["Ana Mendes · Internal medicine · Portuguese"]
    reply = submit(slack, "U0MENTEE1", view, {**MENTEE_ANSWERS, "rank_1": rank_options[0]["value"]})
    assert reply["response_action"] == "update" and "Saved" in json.dumps(reply["view"])
    saved = profile(deps, "U0MENTEE1")
    assert saved is not None and saved.role == "mentee" and saved.source == "slack"
    assert saved.languages == ["Portuguese", "English"] and saved.ranked == ["U0MENTOR1"]
    assert saved.focus == ["Documentation and EHR", "Cultural fluency"] and saved.capacity == 0


def test_mistakes_come_back_next_to_the_field_and_nothing_is_saved(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor")
    add_profile(deps, "U0MENTOR2", role="mentor")
    view = join_modal(slack, fake_slack, "U0MENTEE1")
    options = next(b for b in view["blocks"] if b.get("block_id") == "rank_1")["element"]["options"]
    same = options[0]["value"]
    reply = submit(slack, "U0MENTEE1", view, {"role": "mentee", "rank_1": same, "rank_2": same})
    assert reply == {
        "response_action": "errors",
        "errors": {"rank_2": "You chose this mentor already: pick someone else, or leave it empty."},
    }
    assert profile(deps, "U0MENTEE1") is None


def test_editing_shows_the_saved_answers_and_the_avoid_list_only_to_its_author(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    view = join_modal(slack, fake_slack, "U0MENTEE1")
    submit(slack, "U0MENTEE1", view, {**MENTEE_ANSWERS, "avoid": ["U0MENTOR2", "U0MENTEE1"]})
    saved = profile(deps, "U0MENTEE1")
    assert saved is not None and avoid_list(saved) == ["U0MENTOR2"]  # never oneself
    again = join_modal(slack, fake_slack, "U0MENTEE1")
    blocks = {b.get("block_id"): b for b in again["blocks"]}
    assert blocks["avoid"]["element"]["initial_users"] == ["U0MENTOR2"]
    assert blocks["specialty"]["element"]["initial_value"] == "Internal medicine"
    assert "only you see this list" in blocks["avoid"]["hint"]["text"].lower()
    # Stored encrypted: the database file never holds who avoids whom in the clear.
    with deps.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT avoid FROM matching_profiles").scalar_one()
    assert "U0MENTOR2" not in raw


def test_mentors_say_how_many_mentees_they_can_take(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    view = join_modal(slack, fake_slack, "U0MENTOR1")
    submit(slack, "U0MENTOR1", view, {"role": "mentor", "specialty": "Surgery", "capacity": "3"})
    saved = profile(deps, "U0MENTOR1")
    assert saved is not None and (saved.role, saved.capacity, saved.ranked) == ("mentor", 3, [])


def test_leave_deletes_the_profile_and_no_later_proposal_includes_them(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Surgery")
    add_profile(deps, "U0MENTEE1", specialty="Surgery")
    add_profile(deps, "U0MENTEE2", specialty="Surgery")
    status, body, _ = slack.command("/mentorship", "leave", user_id="U0MENTEE1")
    assert status == 200 and "is deleted" in json.loads(body)["text"]
    assert json.loads(body)["response_type"] == "ephemeral"
    assert profile(deps, "U0MENTEE1") is None
    with deps.read_sessions.begin() as session:
        assert session.get(MatchingDeparture, (PROGRAM, "U0MENTEE1")) is not None
    program = deps.programs.get(PROGRAM)
    assert program is not None
    proposal = propose(deps, program=program, actor_id="U0COORD1", now=deps.clock())
    named = {uid for pair in proposal.pairs for uid in (pair.mentor_id, pair.mentee_id)}
    named |= {mentee for mentee, _ in proposal.unmatched}
    assert "U0MENTEE1" not in named and "U0OUTSIDE" not in named  # left / never opted in
    assert [(p.mentor_id, p.mentee_id) for p in proposal.pairs] == [("U0MENTOR1", "U0MENTEE2")]


def test_app_home_offers_join_then_edit_and_leave(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    def home_action_ids() -> set[str]:
        published = len(fake_slack.calls_to("views.publish", ok_only=True))
        slack.event({"type": "app_home_opened", "user": "U0MENTEE1", "channel": "D0HOME", "tab": "home"})
        fake_slack.wait_for(lambda: len(fake_slack.calls_to("views.publish", ok_only=True)) > published)
        home = fake_slack.home_view("U0MENTEE1")
        assert home is not None
        return {e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]}

    assert f"{JOIN_ACTION}.{PROGRAM}" in home_action_ids()
    slack.block_action("U0MENTEE1", action_id=f"{JOIN_ACTION}.{PROGRAM}", value=PROGRAM)
    fake_slack.wait_for(lambda: bool(fake_slack.views), what="the profile modal")
    submit(slack, "U0MENTEE1", fake_slack.views[-1], MENTEE_ANSWERS)
    assert f"{LEAVE_ACTION}.{PROGRAM}" in home_action_ids()
    slack.block_action("U0MENTEE1", action_id=f"{LEAVE_ACTION}.{PROGRAM}", value=PROGRAM)
    wait_until(lambda: profile(deps, "U0MENTEE1") is None, what="the profile deleted")
    fake_slack.wait_for(
        lambda: any("is deleted" in m.get("text", "") for m in fake_slack.messages("U0MENTEE1"))
    )


def test_join_and_leave_say_what_to_type_when_the_program_is_unclear() -> None:
    both = load_programs(Path(__file__).resolve().parents[1] / "data" / "matching_programs.yml")
    none = load_programs(PROGRAMS_FILE)
    assert program_to_join(none, []) == (
        "No program here matches people yet, so there is nothing to join. Ask your program coordinator."
    )
    assert "`/mentorship join` with one of: `img-2026`" in str(program_to_join(both, ["mars"]))
    assert program_to_join(both, ["IMG-2026"]) == both.get("img-2026")
    assert "nothing to leave" in str(program_to_leave(both, [], joined=[]))
    assert program_to_leave(both, [], joined=["img-2026"]) == both.get("img-2026")


def test_a_deactivated_slack_account_is_left_out_of_matching(deps: Deps) -> None:
    from storage.models import Person

    add_profile(deps, "U0MENTOR1", role="mentor")
    add_profile(deps, "U0MENTEE1")
    with deps.sessions.begin() as session:
        person = session.scalars(select(Person).where(Person.id == "U0MENTEE1")).one()
        person.active = False
    program = deps.programs.get(PROGRAM)
    assert program is not None
    assert propose(deps, program=program, actor_id="U0COORD1", now=deps.clock()).mentees == 0


def test_mentors_are_offered_anonymously_when_the_program_hides_their_names(deps: Deps) -> None:
    add_profile(deps, "U0MENTOR1", role="mentor", specialty="Surgery", languages=["Portuguese"])
    program = deps.programs.get(PROGRAM)
    assert program is not None and program.matching is not None
    hidden = program.model_copy(
        update={"matching": program.matching.model_copy(update={"show_mentor_names": False})}
    )
    with deps.read_sessions.begin() as session:
        spec = profile_spec(session, program=hidden, user_id="U0MENTEE1")
        mentor = get_profile(session, program_id=PROGRAM, user_id="U0MENTOR1")
        assert mentor is not None
        assert spec.mentors == ((str(mentor.id), f"Mentor {mentor.id} · Surgery · Portuguese"),)
    assert "Ana" not in json.dumps(profile_modal(spec))


def test_joining_again_after_leaving_opts_the_person_back_in(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    slack.command("/mentorship", "leave img-2026", user_id="U0MENTEE1")
    with deps.read_sessions.begin() as session:
        assert session.get(MatchingDeparture, (PROGRAM, "U0MENTEE1")) is not None
    submit(slack, "U0MENTEE1", join_modal(slack, fake_slack, "U0MENTEE1"), MENTEE_ANSWERS)
    with deps.read_sessions.begin() as session:
        assert session.get(MatchingDeparture, (PROGRAM, "U0MENTEE1")) is None
    assert profile(deps, "U0MENTEE1") is not None
