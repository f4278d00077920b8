"""Tests for bot.kernel.programs: the programs.yml contract and its operator-facing error lines."""

import textwrap
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from bot.kernel.programs import (
    ConfigError,
    Program,
    ProgramsConfig,
    load_programs,
    parse_programs,
    summarize,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "programs.example.yml"


def minimal_program(program_id: str = "img-2026") -> dict[str, Any]:
    """Only the required keys, so tests can add exactly the key they exercise."""
    return {
        "id": program_id,
        "name": "IMG Transition Cohort 2026",
        "timezone": "America/New_York",
        "coordinators": ["U0COORD1"],
        "digest": {"channel": "C0DIGEST"},
        "checkins": {"cadence": "weekly", "weekday": "thu", "local_time": "16:00"},
        "competencies": ["ehr-documentation"],
    }


def write(tmp_path: Path, content: str | dict[str, Any], name: str = "programs.yml") -> Path:
    path = tmp_path / name
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, content: str | dict[str, Any]) -> list[str]:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_programs(path)
    return caught.value.lines()


def with_changes(**changes: Any) -> dict[str, Any]:
    return {"programs": [{**minimal_program(), **changes}]}


def config_of(**changes: Any) -> ProgramsConfig:
    return parse_programs(with_changes(**changes))


# --- the example file ----------------------------------------------------------------------------------


def test_example_file_loads() -> None:
    config = load_programs(EXAMPLE)

    assert config.ids == ["img-2026", "nursing-2026"]
    img, nursing = config.programs
    assert img.tz == ZoneInfo("America/New_York")
    assert nursing.tz == ZoneInfo("America/Chicago")
    assert nursing.digest.weekday == "fri"
    assert nursing.digest.weekday_index == 4
    assert img.escalation is not None and img.escalation.user == "U0DIO"
    assert nursing.cme is not None and nursing.cme.credits_per_hour == 0.5


def test_example_uses_every_key() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    used = set().union(*(program.keys() for program in raw["programs"]))
    assert used == set(Program.model_fields)
    checkin_keys = set().union(*(program["checkins"].keys() for program in raw["programs"]))
    assert checkin_keys == {
        "cadence",
        "weekday",
        "local_time",
        "reminder_after_hours",
        "expire_after_hours",
    }


def test_helpers_and_summary() -> None:
    config = load_programs(EXAMPLE)

    assert config.get("nursing-2026") is config.programs[1]
    assert config.get("nope") is None
    assert config.by_coordinator("U0COORD2") == [config.programs[0]]
    assert config.by_coordinator("U0NOBODY") == []
    assert summarize(config) == (
        "2 programs: img-2026 (3 coordinators, weekly thu 16:00), "
        "nursing-2026 (1 coordinator, biweekly tue 19:30)"
    )


# --- one line per error kind ---------------------------------------------------------------------------


def test_unknown_timezone(tmp_path: Path) -> None:
    assert problems_of(tmp_path, with_changes(timezone="Mars/Olympus")) == [
        f"{tmp_path / 'programs.yml'}: programs[0].timezone: 'Mars/Olympus' is not a known IANA timezone"
    ]


@pytest.mark.parametrize("zone", ["America", "", "../etc/passwd", "/etc/localtime", 5])
def test_malformed_timezones_are_reported_not_raised(zone: object) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of(timezone=zone)
    assert caught.value.problems == [f"programs[0].timezone: {zone!r} is not a known IANA timezone"]


def test_duplicate_program_id(tmp_path: Path) -> None:
    data = {"programs": [minimal_program("img-2026"), minimal_program("img-2026")]}
    assert problems_of(tmp_path, data) == [
        f"{tmp_path / 'programs.yml'}: programs[1].id: duplicate program id 'img-2026' (also programs[0])"
    ]


def test_duplicate_id_found_even_when_those_programs_are_invalid() -> None:
    broken = {"id": "img-2026", "name": "Broken"}
    with pytest.raises(ConfigError) as caught:
        parse_programs({"programs": [minimal_program(), broken]})
    assert "programs[1].id: duplicate program id 'img-2026' (also programs[0])" in caught.value.problems
    assert "programs[1].timezone: required key is missing" in caught.value.problems


def test_bad_weekday(tmp_path: Path) -> None:
    checkins = {"weekday": "thurs", "local_time": "16:00"}
    assert problems_of(tmp_path, with_changes(checkins=checkins)) == [
        f"{tmp_path / 'programs.yml'}: programs[0].checkins.weekday: "
        "'thurs' is not a weekday (use mon, tue, wed, thu, fri, sat, sun)"
    ]


def test_unknown_key(tmp_path: Path) -> None:
    assert problems_of(tmp_path, with_changes(privacy={"colour": "blue"})) == [
        f"{tmp_path / 'programs.yml'}: programs[0].privacy.colour: unknown key"
    ]


def test_bad_slack_user_id(tmp_path: Path) -> None:
    assert problems_of(tmp_path, with_changes(coordinators=["U0COORD1", "bob"])) == [
        f"{tmp_path / 'programs.yml'}: programs[0].coordinators[1]: "
        "'bob' is not a Slack user id (like U0123ABCD)"
    ]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = """\
        programs:
          - id: img-2026
            name: IMG
            timezone: America/New_York
            coordinators: [U0COORD1]
            digest: {channel: C0DIGEST}
            checkins: {weekday: thu: 16:00}
        """
    [line] = problems_of(tmp_path, text)
    assert line.startswith(f"{tmp_path / 'programs.yml'}: line 7: YAML syntax error: ")


def test_duplicate_yaml_key_is_reported(tmp_path: Path) -> None:
    text = """\
        programs:
          - id: img-2026
            timezone: America/New_York
            timezone: America/Chicago
        """
    assert problems_of(tmp_path, text) == [
        f"{tmp_path / 'programs.yml'}: line 4: duplicate key 'timezone' (also on line 3)"
    ]


def test_file_not_found_uses_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_programs("config/programs.yml")
    assert caught.value.lines() == ["config/programs.yml: file not found"]
    assert str(caught.value) == "config/programs.yml: file not found"


def test_missing_required_key() -> None:
    data = with_changes()
    del data["programs"][0]["digest"]
    with pytest.raises(ConfigError) as caught:
        parse_programs(data)
    assert caught.value.problems == ["programs[0].digest: required key is missing"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "file is empty (expected a top-level 'programs:' list)"),
        ("- a\n- b\n", "expected a top-level 'programs:' list, got a list"),
        ("programs: []\n", "programs: must list at least one entry"),
    ],
)
def test_wrong_top_level_shape(tmp_path: Path, content: str, expected: str) -> None:
    assert problems_of(tmp_path, content) == [f"{tmp_path / 'programs.yml'}: {expected}"]


# --- all problems at once ------------------------------------------------------------------------------


def test_three_problems_reported_together(tmp_path: Path) -> None:
    first = {**minimal_program("img-2026"), "privacy": {"min_group_size": 5, "colour": "teal"}}
    second = {**minimal_program("img-2026"), "timezone": "Mars/Olympus"}
    path = write(tmp_path, {"programs": [first, second]}, name="programs.yml")

    with pytest.raises(ConfigError) as caught:
        load_programs(path)

    assert caught.value.path == str(path)
    assert caught.value.lines() == [
        f"{path}: programs[0].privacy.colour: unknown key",
        f"{path}: programs[1].id: duplicate program id 'img-2026' (also programs[0])",
        f"{path}: programs[1].timezone: 'Mars/Olympus' is not a known IANA timezone",
    ]
    assert str(caught.value) == "\n".join(caught.value.lines())


def test_problems_have_no_file_prefix() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_programs(with_changes(timezone="Mars/Olympus"), source="config/programs.yml")
    assert caught.value.problems == ["programs[0].timezone: 'Mars/Olympus' is not a known IANA timezone"]
    assert caught.value.lines() == [
        "config/programs.yml: programs[0].timezone: 'Mars/Olympus' is not a known IANA timezone"
    ]


# --- weekday and time parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "name", "index"),
    [("mon", "mon", 0), ("THU", "thu", 3), ("Thursday", "thu", 3), (" sunday ", "sun", 6), ("Sat", "sat", 5)],
)
def test_weekday_parsing(written: str, name: str, index: int) -> None:
    program = config_of(checkins={"weekday": written}, digest={"channel": "C0DIGEST", "weekday": written})
    assert program.programs[0].checkins.weekday == name
    assert program.programs[0].checkins.weekday_index == index
    assert program.programs[0].digest.weekday_index == index


@pytest.mark.parametrize(
    ("written", "parsed"), [("08:00", time(8, 0)), ("7:05", time(7, 5)), ("23:59", time(23, 59))]
)
def test_time_parsing(written: str, parsed: time) -> None:
    config = config_of(checkins={"local_time": written}, digest={"channel": "C0DIGEST", "time": written})
    assert config.programs[0].checkins.local_time == parsed
    assert config.programs[0].digest.time == parsed


@pytest.mark.parametrize("written", ["24:00", "16:60", "4pm", "16:00:00", 960])
def test_bad_times_rejected(written: object) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of(checkins={"local_time": written})
    [problem] = caught.value.problems
    assert problem.startswith(f"programs[0].checkins.local_time: {written!r} is not a time of day")


def test_unquoted_time_in_yaml_is_a_clock_time(tmp_path: Path) -> None:
    # Plain YAML 1.1 would read 16:00 as the base-60 number 960.
    text = """\
        programs:
          - id: img-2026
            name: IMG
            timezone: America/New_York
            coordinators: [U0COORD1]
            digest: {channel: C0DIGEST, time: 09:30}
            checkins: {local_time: 16:00}
            competencies: [ethics]
        """
    program = load_programs(write(tmp_path, text)).programs[0]
    assert program.checkins.local_time == time(16, 0)
    assert program.digest.time == time(9, 30)


# --- range rules ---------------------------------------------------------------------------------------


def test_min_group_size_below_three_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        config_of(privacy={"min_group_size": 2})
    assert caught.value.problems == [
        "programs[0].privacy.min_group_size: 2 is too small: anonymity needs groups of at least 3"
    ]
    assert config_of(privacy={"min_group_size": 3}).programs[0].privacy.min_group_size == 3


@pytest.mark.parametrize(("reminder", "expire"), [(24, 24), (48, 24)])
def test_expire_must_be_after_reminder(reminder: int, expire: int) -> None:
    checkins = {"reminder_after_hours": reminder, "expire_after_hours": expire}
    with pytest.raises(ConfigError) as caught:
        config_of(checkins=checkins)
    assert caught.value.problems == [
        f"programs[0].checkins.expire_after_hours: must be greater than reminder_after_hours ({reminder}), "
        f"got {expire}"
    ]


def test_default_expiry_checked_against_reminder() -> None:
    with pytest.raises(ConfigError) as caught:
        config_of(checkins={"reminder_after_hours": 120})
    assert caught.value.problems == [
        "programs[0].checkins.expire_after_hours: must be greater than reminder_after_hours (120), got 96"
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"id": "IMG 2026"}, "programs[0].id: 'IMG 2026' is not a valid program id"),
        ({"name": " "}, "programs[0].name: must not be empty"),
        ({"coordinators": []}, "programs[0].coordinators: must list at least one entry"),
        (
            {"coordinators": ["U0A1", "U0A1"]},
            "programs[0].coordinators[1]: duplicate user id 'U0A1' (also coordinators[0])",
        ),
        (
            {"competencies": ["ethics", "ethics"]},
            "programs[0].competencies[1]: duplicate competency 'ethics' (also competencies[0])",
        ),
        (
            {"competencies": [f"competency-{n}" for n in range(41)]},
            "programs[0].competencies: must list at most 40",
        ),
        (
            {"digest": {"channel": "general"}},
            "programs[0].digest.channel: 'general' is not a Slack channel id",
        ),
        ({"checkins": {"cadence": "daily"}}, "programs[0].checkins.cadence: 'daily' is not allowed"),
        (
            {"checkins": {"reminder_after_hours": 0}},
            "programs[0].checkins.reminder_after_hours: must be at least 1",
        ),
        (
            {"privacy": {"retention_days": 7}},
            "programs[0].privacy.retention_days: must be at least 30, got 7",
        ),
        ({"max_mentees_per_mentor": 0}, "programs[0].max_mentees_per_mentor: must be at least 1, got 0"),
        ({"escalation": {}}, "programs[0].escalation: needs a user, a channel, or both"),
        ({"cme": {"credits_per_hour": 5}}, "programs[0].cme.credits_per_hour: must be at most 4, got 5"),
        (
            {"cme": {"max_credits_per_year": 0}},
            "programs[0].cme.max_credits_per_year: must be greater than 0",
        ),
        (
            {"pairs": {"session_expected_every_days": 400}},
            "programs[0].pairs.session_expected_every_days: must",
        ),
    ],
)
def test_other_rules(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of(**changes)
    [found] = caught.value.problems
    assert found.startswith(problem)


# --- defaults and immutability -------------------------------------------------------------------------


def test_defaults_applied() -> None:
    data = with_changes(checkins={}, digest={"channel": "C0DIGEST"})
    program = parse_programs(data).programs[0]

    assert program.checkins.cadence == "weekly"
    assert program.checkins.weekday == "thu"
    assert program.checkins.local_time == time(16, 0)
    assert program.checkins.reminder_after_hours == 24
    assert program.checkins.expire_after_hours == 96
    assert program.digest.weekday == "mon"
    assert program.digest.time == time(8, 0)
    assert program.privacy.min_group_size == 5
    assert program.privacy.retention_days is None
    assert program.pairs.session_expected_every_days == 30
    assert program.max_mentees_per_mentor is None
    assert program.escalation is None
    assert program.cme is None


def test_empty_optional_blocks_mean_defaults() -> None:
    program = config_of(privacy=None, pairs=None, cme={}).programs[0]
    assert program.privacy.min_group_size == 5
    assert program.pairs.session_expected_every_days == 30
    assert program.cme is not None and program.cme.credits_per_hour == 1.0


def test_models_are_frozen() -> None:
    config = load_programs(EXAMPLE)
    program = config.programs[0]
    with pytest.raises(ValidationError):
        program.name = "Renamed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        program.checkins.weekday = "fri"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.programs = []  # type: ignore[misc]
    assert isinstance(program.coordinators, tuple)
