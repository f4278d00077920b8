from __future__ import annotations

from pathlib import Path

from bot.app.demo import matching
from bot.app.demo.world import open_world


def test_the_demo_runs_an_intake_round_and_a_proposal_through_the_real_app(tmp_path: Path) -> None:
    with open_world(tmp_path / "demo") as world:
        matching.run(world)
        invalid = [call.method for call in world.fake.invalid]
    transcript = "\n".join(world.lines)
    assert invalid == []
    assert "Approved proposal #1: 2 pairs created" in transcript
    assert "same specialty (Internal medicine), required; shared language (Portuguese) +3" in transcript
    assert "shared languages (Yoruba, English) +3" in transcript
    assert "<@UDEMOME10>: no mentor may be theirs: 3 don't share their specialty (required)" in transcript
    # Dr. Rao's only psychiatrist is on her avoid list: she is left out, and it is never named.
    assert (
        "<@UDEMOME9>: no mentor may be theirs: 2 don't share their specialty (required), "
        "1 excluded by a constraint" in transcript
    )
    assert "avoid" not in transcript.split("Dr. Rao's avoid list")[1].lower()
    assert "Why you were matched" in transcript and "you ranked them first +4" in transcript
