from pathlib import Path

from bot.app.demo import concerns
from bot.app.demo.world import open_world


def test_the_demo_chapter_shows_a_reply_read_with_the_case_key(tmp_path: Path) -> None:
    with open_world(tmp_path / "demo") as world:
        concerns.run(world)
        transcript = "\n".join(world.lines)
    assert "*Your case key:*" in transcript
    assert "Reply from <@UDEMOCOORD>" in transcript and concerns.COORDINATOR_REPLY in transcript
    assert "last from the sender" in transcript
    assert "This looks like a room or bed number" in transcript
    assert "UDEMOME1" not in transcript
