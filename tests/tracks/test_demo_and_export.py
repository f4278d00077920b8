"""Acceptances 4 and 6: the demo's IMG on the Tennessee template (journey prompts, a flagged gap, an
attestation) and the board-ready PDF it writes, read back with pdftotext."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.demo import tracks as chapter
from bot.app.demo.world import open_world
from bot.app.evidence_commands import evidence_command


@dataclass(frozen=True)
class DemoRun:
    transcript: str
    pdf: Path
    csv_text: str
    cli_pdf: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    with open_world(out) as world:
        chapter.run(world)
        cli_pdf = out / "from-the-cli.pdf"
        assert (
            evidence_command(
                world.deps,
                person="rahul@hospital.example",
                track_id=chapter.TRACK,
                out_file=cli_pdf,
                now=world.clock(),
            )
            == 0
        )
        csv_file = out / "evidence.csv"
        assert (
            evidence_command(
                world.deps,
                person=chapter.LICENSEE,
                track_id=chapter.TRACK,
                out_file=csv_file,
                now=world.clock(),
            )
            == 0
        )
        yield DemoRun(
            "\n".join(world.lines),
            out / f"evidence-{chapter.LICENSEE}-{chapter.TRACK}.pdf",
            csv_file.read_text(),
            cli_pdf,
        )


def test_the_demo_shows_an_img_on_the_tennessee_template_with_prompts_a_gap_and_an_attestation(
    demo: DemoRun,
) -> None:
    assert "Supervised practice: an IMG on the Tennessee pathway" in demo.transcript
    assert "40 dated milestones (30 topics, 8 reviews, 2 checkpoints)" in demo.transcript
    assert "09:15 in Dr. Rahul Iyer's timezone" in demo.transcript
    assert "09:15 in Dr. Ana Mendes's timezone" in demo.transcript
    assert "The next pass the same morning sends nothing again: no lines." in demo.transcript
    assert "tracks: gap flags 2 sent" in demo.transcript and "*No evidence yet*" in demo.transcript
    assert ":lock: *Attested* by Dr. Ana Mendes" in demo.transcript
    assert demo.pdf.read_bytes().startswith(b"%PDF")


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; CI installs it to read the export back")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_exported_pdf_names_competencies_dates_attestations_and_citation_and_no_private_note(
    demo: DemoRun,
) -> None:
    text = pdf_text(demo.pdf)
    for competency in (
        "Patient care",
        "Medical knowledge",
        "Practice-based learning and improvement",
        "Interpersonal and communication skills",
        "Professionalism",
        "Systems-based practice",
    ):
        assert competency in text
    assert "Dr. Rahul Iyer" in text and "Supervising physician" in text and "Dr. Ana Mendes" in text
    assert "3 Nov 2026" in text and "24 Nov 2026" in text  # the confirmed sessions' days
    assert "Attested by Dr. Ana Mendes on 3 February 2027" in text
    assert "Level 3: competent" in text and "Level 2: advanced beginner" in text
    assert "https://www.tn.gov/health/health-program-areas/health-professional-boards/me-board.h" in text
    assert "Citation not verified" in text
    assert "No evidence in: Review 1" in text
    assert "Page 1 of" in text
    assert chapter.PRIVATE_NOTE not in text and "visa" not in text
    assert "handover works on the wards" not in text  # "what I learned" is not evidence either


def test_the_cli_export_by_email_matches_and_its_csv_lists_sessions_and_signatures(demo: DemoRun) -> None:
    assert pdf_text(demo.cli_pdf).count("Level 2: advanced beginner") == pdf_text(demo.pdf).count(
        "Level 2: advanced beginner"
    )
    rows = list(csv.DictReader(io.StringIO(demo.csv_text)))
    assert {r["record"] for r in rows} == {"session", "attestation"}
    assert all(r["citation_verified"] == "false" and r["licensee"] == "Dr. Rahul Iyer" for r in rows)
    sessions = [r for r in rows if r["record"] == "session"]
    assert {(r["competency"], r["date"], r["minutes"]) for r in sessions} >= {
        ("Patient care", "2026-11-03", "60"),
        ("Systems-based practice", "2026-11-24", "60"),
    }
    assert chapter.PRIVATE_NOTE not in demo.csv_text
