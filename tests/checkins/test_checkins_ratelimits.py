import dataclasses
from datetime import timedelta

from bot.checkins.home import run_due
from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from tests.support.checkins import at, checkins, prompts_per_channel
from tests.support.factories import make_pair

START = at(2026, 11, 23, 9, 0)
KOLKATA_DUE = at(2026, 11, 26, 10, 30)


def test_thirty_percent_429s_still_deliver_every_prompt_once(deps: Deps, fake_slack: FakeSlack) -> None:
    mentees = [f"U0BULK{n:03d}" for n in range(12)]
    for mentee in mentees:
        fake_slack.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, "U0MENTOR1", mentee, started_at=START, mentee_tz="Asia/Kolkata")
    busy = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"send_workers": 12}))
    fake_slack.set_error_rate("*", 429, 0.3, retry_after=1)
    instant = KOLKATA_DUE
    while any(r.status != "sent" for r in checkins(deps)) or not checkins(deps):
        run_due(busy, instant)
        instant += timedelta(minutes=10)
        assert instant < KOLKATA_DUE + timedelta(hours=2)
    assert len(fake_slack.calls_to("chat.postMessage", ok_only=False)) > len(mentees)  # 429s happened
    assert prompts_per_channel(fake_slack) == {f"D{m}": 1 for m in mentees}
