from __future__ import annotations

from typing import Any, get_args

import pytest

from bot.kernel.programs import MATCHING_CRITERIA, ConfigError, MatchingConfig, parse_programs
from bot.matching.form import FormatKey, TimeKey
from bot.matching.scoring import Rules
from bot.matching.terms import FORMATS, TIMES


def program(matching: Any) -> dict[str, Any]:
    return {
        "programs": [
            {
                "id": "img-2026",
                "name": "IMG",
                "timezone": "America/New_York",
                "coordinators": ["U0COORD1"],
                "digest": {"channel": "C0DIGEST"},
                "checkins": {},
                "competencies": ["ethics"],
                "matching": matching,
            }
        ]
    }


def problems(matching: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_programs(program(matching), source="programs.yml")
    return caught.value.lines()


def test_an_empty_matching_mapping_switches_matching_on_with_the_defaults_and_null_leaves_it_off() -> None:
    assert parse_programs(program(None)).programs[0].matching is None
    config = parse_programs(program({})).programs[0].matching
    assert config == MatchingConfig()
    assert config is not None
    rules = Rules.from_config(config)
    assert rules.used == ("specialty", "languages", "trained_in", "focus", "format", "times", "ranking")
    assert rules.musts == frozenset() and not rules.same_department and rules.avoid_lists


def test_criteria_take_a_weight_or_must() -> None:
    config = parse_programs(program({"criteria": {"specialty": "must", "languages": 7}})).programs[0].matching
    assert config is not None
    rules = Rules.from_config(config)
    assert rules.musts == frozenset({"specialty"}) and rules.weights["languages"] == 7
    assert "specialty" not in rules.weights and set(rules.used) <= set(MATCHING_CRITERIA)


def test_mistakes_name_the_file_the_key_path_and_the_reason() -> None:
    assert problems({"criteria": {"specialities": 5, "ranking": "high"}, "cooldown_days": -1}) == [
        "programs.yml: programs[0].matching.criteria.ranking: 'high' is not a weight "
        '(use a whole number from 0 to 20, or "must" to require it)',
        "programs.yml: programs[0].matching.criteria.specialities: unknown key",
        "programs.yml: programs[0].matching.cooldown_days: must be at least 0, got -1",
    ]
    assert problems({"exclusions": {"same_department": "yes", "supervisor": True}}) == [
        "programs.yml: programs[0].matching.exclusions.same_department: expected true or false, got 'yes'",
        "programs.yml: programs[0].matching.exclusions.supervisor: unknown key",
    ]


def test_rewarding_the_department_that_an_exclusion_forbids_is_refused() -> None:
    assert problems({"criteria": {"department": 2}, "exclusions": {"same_department": True}}) == [
        "programs.yml: programs[0].matching.criteria.department: can't count the same department toward a "
        "match while exclusions.same_department forbids it: set one of them to 0 / false"
    ]


def test_focus_areas_are_a_list_without_repeats() -> None:
    assert problems({"focus_areas": ["Ethics", "Ethics"]}) == [
        "programs.yml: programs[0].matching.focus_areas[1]: "
        "duplicate focus area 'Ethics' (also focus_areas[0])"
    ]


def test_the_forms_literal_choices_are_the_vocabulary() -> None:
    assert set(get_args(FormatKey)) == set(FORMATS) and set(get_args(TimeKey)) == set(TIMES)
