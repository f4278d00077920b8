"""The digest's psychological-safety figures come from the unlinked team-climate table only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select, text

from bot.app.tick import tick
from bot.checkins.climate import close_due
from bot.digests.blocks import render_digest
from bot.digests.content import Digest, build_digest
from bot.digests.figures import PENDING
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.suppression import SMALL
from storage.models.digests import DigestFigure
from tests.support.climate import answer_climate, stored_tokens
from tests.support.digests import DUE, PROGRAM, WEEK, mentee_ids

MENTEES = mentee_ids(6)


def digest_at(deps: Deps, now: datetime) -> Digest:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        return build_digest(session, program=program, week=WEEK, now=now)


def rendered(digest: Digest) -> str:
    return json.dumps(render_digest(digest, text_trend=True).blocks, ensure_ascii=False)


def frozen_psych(deps: Deps) -> list[tuple[str, bool]]:
    with deps.sessions.begin() as session:
        query = select(DigestFigure.grp, DigestFigure.shown).where(
            DigestFigure.metric == "psych", DigestFigure.week == WEEK
        )
        return [(grp, shown) for grp, shown in session.execute(query)]


def test_before_the_week_closes_team_climate_is_not_yet_available_and_nothing_of_it_is_frozen(
    deps: Deps, clock: Clock
) -> None:
    answer_climate(deps, MENTEES[:5], [5] * 5)
    preview = digest_at(deps, DUE - timedelta(hours=1))
    assert preview.figure("psych").reason == PENDING and preview.figure("psych").mean is None
    assert "not yet available — team-climate answers are counted when the week's digest is due" in rendered(
        preview
    )
    late = digest_at(deps, clock.now)  # past the cutoff, but no tick has closed the week yet
    assert late.figure("psych").reason == PENDING and late.figure("wellbeing").shown
    assert frozen_psych(deps) == []
    close_due(deps, clock.now)
    closed = digest_at(deps, clock.now)
    assert (closed.figure("psych").mean, closed.figure("psych").n) == (5.0, 5)
    assert ("all", True) in frozen_psych(deps)


def test_the_digest_the_tick_posts_at_its_due_time_has_the_team_climate_figure(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    answer_climate(deps, MENTEES[:5], [6] * 5)
    tick(deps, DUE)  # the check-in job closes the week, then the digest job builds and posts it
    [posted] = fake_slack.messages("C0DIGEST")
    assert "*6.0* (5 answers)" in json.dumps(posted["blocks"], ensure_ascii=False)
    assert stored_tokens(deps) == []


def test_team_climate_figures_are_read_from_the_unlinked_table_only(deps: Deps, clock: Clock) -> None:
    answer_climate(deps, MENTEES[:5], [5] * 5)
    close_due(deps, clock.now)
    with deps.sessions.begin() as session:
        session.execute(text("UPDATE climate_answers SET score = 2"))
    assert digest_at(deps, clock.now).figure("psych").mean == 2.0


def test_a_week_too_small_to_move_says_fewer_than_k_answers(deps: Deps, clock: Clock) -> None:
    answer_climate(deps, MENTEES[:4], [7] * 4)
    close_due(deps, clock.now)
    digest = digest_at(deps, clock.now)
    assert (digest.figure("psych").n, digest.figure("psych").reason) == (4, SMALL)
    text_ = rendered(digest)
    assert "fewer than 5 answers — hidden to protect anonymity" in text_ and "7.0" not in text_


def test_a_split_too_small_to_keep_is_hidden_while_the_program_figure_is_shown(
    deps: Deps, clock: Clock
) -> None:
    answer_climate(deps, MENTEES, [6] * 6, met=[True] * 5 + [False])
    close_due(deps, clock.now)
    digest = digest_at(deps, clock.now)
    assert digest.figure("psych").mean == 6.0
    assert digest.figure("psych", "met").mean is None and digest.figure("psych", "not_met").mean is None
