import json

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from tests.support.digests import DUE, WEEK, add_people, answer_week, mentee_ids

COORDINATOR = "U0COORD1"


def _reply(response: object) -> dict[str, object]:
    body = json.loads(response.body)  # type: ignore[attr-defined]
    assert isinstance(body, dict)
    return body


def _seed(deps: Deps) -> None:
    add_people(deps, mentee_ids(6))
    answer_week(deps, WEEK, dict.fromkeys(mentee_ids(6), (4, 5, True)))


def test_coordinator_previews_the_digest_ephemerally(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    _seed(deps)
    clock.now = DUE
    reply = _reply(slack.command("/mentorship", "digest preview", user_id=COORDINATOR))
    assert reply == {
        "response_type": "ephemeral",
        "text": "Building the digest preview for IMG Transition Cohort 2026…",
    }
    fake_slack.wait_for(lambda: bool(fake_slack.responses), what="the preview")
    [(_, body)] = fake_slack.responses
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert (
        "Weekly digest · IMG Transition Cohort 2026" in text
        and "Preview: the digest posts to <#C0DIGEST>" in text
    )
    assert "*4.0* (6 answers)" in text and "8-week trend" in text
    assert fake_slack.calls_to("chat.postMessage") == []


def test_preview_names_the_program_when_given(slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    reply = _reply(slack.command("/mentorship", "digest img-2026", user_id=COORDINATOR))
    assert str(reply["text"]).startswith("Building the digest preview")
    fake_slack.wait_for(lambda: bool(fake_slack.responses), what="the preview")


def test_mentors_cannot_preview(slack: SlackRequestSender, deps: Deps) -> None:
    reply = _reply(slack.command("/mentorship", "digest img-2026 preview", user_id="U0MENTOR1"))
    assert reply["text"] == (
        "Only coordinators of img-2026 can see its digest. Type `/mentorship help` to see what you can do."
    )


def test_a_coordinator_cannot_preview_another_program(slack: SlackRequestSender) -> None:
    reply = _reply(slack.command("/mentorship", "digest nursing-2026 preview", user_id=COORDINATOR))
    assert "Only coordinators of nursing-2026" in str(reply["text"])


def test_unknown_program_and_extra_words_say_what_to_type(slack: SlackRequestSender) -> None:
    reply = _reply(slack.command("/mentorship", "digest imgg preview", user_id=COORDINATOR))
    assert reply["text"] == (
        "There is no program `imgg`. Programs: img-2026, nursing-2026. "
        "Type `/mentorship digest PROGRAM preview`."
    )
    reply = _reply(slack.command("/mentorship", "digest a b", user_id=COORDINATOR))
    assert "Too many words" in str(reply["text"])
    reply = _reply(slack.command("/mentorship", "digest", user_id="U0OUTSIDE"))
    assert str(reply["text"]).startswith("Only program coordinators can see a digest.")


def test_home_button_opens_the_preview_in_a_modal(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    _seed(deps)
    clock.now = DUE
    response = slack.block_action(
        COORDINATOR, action_id="digest_preview_home", value="img-2026", view={"type": "home", "blocks": []}
    )
    assert response.status == 200
    fake_slack.wait_for(
        lambda: any("Weekly digest" in json.dumps(v["blocks"]) for v in fake_slack.views), what="the modal"
    )
    [view] = fake_slack.views
    assert view["title"]["text"] == "Digest preview"
    assert len(fake_slack.calls_to("views.update", ok_only=True)) == 1


def test_home_buttons_of_later_programs_carry_the_program_in_their_action_id(
    slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    slack.block_action(
        COORDINATOR,
        action_id="digest_preview_home.img-2026",
        value="img-2026",
        view={"type": "home", "blocks": []},
    )
    fake_slack.wait_for(
        lambda: any("Weekly digest" in json.dumps(v["blocks"]) for v in fake_slack.views), what="the modal"
    )


def test_home_button_refuses_non_coordinators_in_a_modal(
    slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    slack.block_action(
        "U0MENTOR1", action_id="digest_preview_home", value="img-2026", view={"type": "home", "blocks": []}
    )
    fake_slack.wait_for(lambda: bool(fake_slack.views), what="the refusal")
    assert "Only coordinators of img-2026" in json.dumps(fake_slack.views[0]["blocks"])
