"""Acceptance 5: track files (and programs.yml's `tracks:`) are validated strictly; each problem names the
file, the key path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.app.cli import cli
from bot.kernel.programs import load_programs
from bot.tracks.catalog import SHIPPED, TracksInvalid, check_all, tracks_for
from tests.support.people import PROGRAMS_FILE

GOOD = (SHIPPED / "img-onboarding.yml").read_text(encoding="utf-8")


def programs_with_tracks(tmp_path: Path, folder: str) -> Path:
    data = yaml.safe_load(PROGRAMS_FILE.read_text(encoding="utf-8"))
    data["programs"][0]["tracks"] = folder
    path = tmp_path / "programs.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "tracks"
    folder.mkdir()
    (folder / "typos.yml").write_text(
        GOOD.replace("kind: journey", "kind: journey\ncolour: blue")
        .replace('prompt_time: "09:00"', 'prompt_time: "25:00"')
        .replace("every: {weeks: 1}", "every: {fortnights: 1}")
        .replace("reflect: ethics", "reflect: surgery"),
        encoding="utf-8",
    )
    (folder / "pathway.yml").write_text(
        GOOD.replace("id: img-onboarding", "id: ny-pathway").replace(
            "kind: journey",
            "kind: pathway\njurisdiction: New York\ncitation: {title: A law, url: "
            "'ftp://law.example', verified: false}",
        ),
        encoding="utf-8",
    )
    (folder / "twice.yml").write_text("id: twice\nid: again\n", encoding="utf-8")
    return folder


def test_every_problem_in_every_file_is_one_line_naming_file_key_and_reason(tmp_path: Path) -> None:
    folder = broken(tmp_path)
    programs_file = programs_with_tracks(tmp_path, "tracks")
    program = load_programs(programs_file).programs[0]
    with pytest.raises(TracksInvalid) as caught:
        tracks_for(program, programs_file=programs_file)
    lines = caught.value.lines()
    typos, pathway, twice = (str(folder / name) for name in ("typos.yml", "pathway.yml", "twice.yml"))
    assert f"{typos}: colour: unknown key" in lines
    assert (
        f"{typos}: prompt_time: '25:00' is not a time of day (use 24-hour HH:MM in quotes, like \"09:00\")"
        in lines
    )
    assert f"{typos}: phases[0].every.fortnights: unknown key" in lines
    assert any(
        line.startswith(f"{typos}: phases[1].topics[3].reflect: 'surgery' is not a /reflect topic")
        for line in lines
    )
    assert (
        f"{pathway}: citation.url: 'ftp://law.example' is not a web address (like https://example.org/statute)"
        in lines
    )
    assert f"{twice}: line 2: YAML syntax error: duplicate key 'id'" in lines
    assert all(line.startswith(str(folder)) for line in lines)


def test_a_pathway_without_a_verification_note_or_a_journey_without_reviews_wiring_is_refused(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tracks"
    folder.mkdir()
    (folder / "quiet.yml").write_text(
        GOOD.replace(
            "kind: journey",
            "kind: pathway\njurisdiction: Ohio\ncitation: {title: A law, url: "
            "'https://law.example/ohio', verified: false}",
        ),
        encoding="utf-8",
    )
    (folder / "unattested.yml").write_text(
        GOOD.replace("id: img-onboarding", "id: unattested").split("attestation:")[0], encoding="utf-8"
    )
    programs_file = programs_with_tracks(tmp_path, "tracks")
    with pytest.raises(TracksInvalid) as caught:
        check_all(load_programs(programs_file).programs, programs_file=programs_file)
    assert caught.value.lines() == [
        f"{folder / 'quiet.yml'}: citation: an unverified citation needs a note saying what was not read",
        f"{folder / 'unattested.yml'}: a track with reviews needs competencies and an attestation",
    ]


def test_a_missing_track_directory_is_named_at_its_key_in_programs_yml(tmp_path: Path) -> None:
    programs_file = programs_with_tracks(tmp_path, "no-such-folder")
    with pytest.raises(TracksInvalid) as caught:
        check_all(load_programs(programs_file).programs, programs_file=programs_file)
    assert caught.value.lines() == [
        f"{programs_file}: programs[0].tracks: 'no-such-folder' is not a directory"
    ]


def test_check_config_validates_the_track_files_too(tmp_path: Path) -> None:
    broken(tmp_path)
    result = CliRunner().invoke(cli, ["check-config", str(programs_with_tracks(tmp_path, "tracks"))])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 6 and all(line.startswith(str(tmp_path / "tracks")) for line in lines)
    assert "Traceback" not in result.output


def test_an_override_replaces_the_shipped_track_with_the_same_id(tmp_path: Path) -> None:
    folder = tmp_path / "tracks"
    folder.mkdir()
    (folder / "mine.yml").write_text(GOOD.replace("name: IMG onboarding journey", "name: Our IMG year"))
    programs_file = programs_with_tracks(tmp_path, "tracks")
    tracks = tracks_for(load_programs(programs_file).programs[0], programs_file=programs_file)
    assert tracks["img-onboarding"].name == "Our IMG year"
    assert set(tracks) == {p.stem for p in SHIPPED.glob("*.yml")}
    result = CliRunner().invoke(cli, ["check-config", str(programs_file)])
    assert result.exit_code == 0 and "4 tracks" in result.stdout
