"""The whole `mentorbot demo`, as `make demo` runs it: every chapter in order, offline."""

import re
import shutil
import subprocess
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
        "A year of history: a synthetic cohort of fictional people",
        "A digest in the coordinators' channel",
        "Supervised practice: an IMG on the Tennessee pathway",
    ):
        assert heading in transcript
    assert "Prompts sent: 35" in transcript  # the narrative's 6 prompts and the synthetic cohort's 29
    assert (out / "digest-trend.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "annual-report-img-demo.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "evidence-UDEMOME2-tn-supervised-practice.pdf").read_bytes().startswith(b"%PDF")
    assert "Traceback" not in result.output
    assert re.search(r"Instrument surveys: \d+ sent, \d+ answered; \d+ periods released", transcript)
    # The 21-item mentor rating as a mentee reads it: an honest time, and who sees the answer.
    assert "21 questions, about 4 minutes." in transcript and "[Answer (4 min)]" in transcript
    assert "Your mentor never sees your answer." in transcript
    assert "Shown once at least 5 of your mentees have answered" in transcript  # no demo mentor has 5 raters
    if shutil.which("pdftotext"):
        report = subprocess.run(["pdftotext", str(out / "annual-report-img-demo.pdf"), "-"],
                                check=True, capture_output=True, text=True).stdout  # fmt: skip
        flat = " ".join(report.split())
        assert re.search(r"Burnout \(Mini-Z\) 2026-Q\d \d\.\d \(", flat)  # a quarter with its mean
        assert "hidden (fewer than 5)" in flat and "fewer than 5 answered: discarded" in flat


def _failure(result: Result) -> str:
    """The transcript's tail and the exception that ended it: CI shows only so much of a long message."""
    error = result.exc_info
    trace = "".join(traceback.format_exception(*error)) if error else ""
    return result.output[-2000:] + "\n" + trace
