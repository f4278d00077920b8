"""The whole `mentorbot demo`, as `make demo` runs it: every chapter in order, offline."""

import traceback
from pathlib import Path

from typer.testing import CliRunner, Result

from bot.app.cli import cli


def test_the_demo_runs_every_chapter_and_writes_the_chart(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    result = CliRunner().invoke(cli, ["demo", "--out-dir", str(out)])
    assert result.exit_code == 0, _failure(result)
    transcript = result.stdout
    for heading in (
        "/mentorship help, as the coordinator",
        "Welcome DM to",
        "A check-in week",
        "/concern: a mentee raises a concern anonymously",
        "Session reflections",
        "A digest in the coordinators' channel",
        "Supervised practice: an IMG on the Tennessee pathway",
    ):
        assert heading in transcript
    assert "Prompts sent: 6" in transcript
    assert (out / "digest-trend.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "evidence-UDEMOME2-tn-supervised-practice.pdf").read_bytes().startswith(b"%PDF")
    assert "Traceback" not in result.output


def _failure(result: Result) -> str:
    """The transcript's tail and the exception that ended it: CI shows only so much of a long message."""
    error = result.exc_info
    trace = "".join(traceback.format_exception(*error)) if error else ""
    return result.output[-2000:] + "\n" + trace
