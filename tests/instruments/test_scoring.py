from pathlib import Path

import pytest

from bot.checkins import edmondson
from bot.instruments.catalog import Instrument, load_instrument, shipped_instruments
from bot.instruments.scoring import InvalidAnswers, item_score, score
from bot.kernel.programs import ConfigError


def instrument(instrument_id: str) -> Instrument:
    return shipped_instruments()[instrument_id]


def test_the_four_instruments_ship_versioned_with_citation_licence_and_verification_status() -> None:
    found = shipped_instruments()
    assert set(found) == {
        "mini-z-burnout",
        "edmondson-psych-safety",
        "mca-21",
        "mentorship-effectiveness-scale",
    }
    for item in found.values():
        assert item.key == f"{item.id}@{item.version}"
        assert item.citation and item.licence
        assert item.verified or item.verification_note  # unverified wording is said so, in the data


@pytest.mark.parametrize(
    ("answer", "band"), [(1, "no burnout"), (2, "no burnout"), (3, "burnout"), (5, "burnout")]
)
def test_mini_z_counts_three_or_more_as_burnout(answer: int, band: str) -> None:
    result = score(instrument("mini-z-burnout"), {1: answer})
    assert (result.value, result.band) == (answer, band)


def test_mini_z_has_one_item_on_a_one_to_five_scale() -> None:
    mini_z = instrument("mini-z-burnout")
    assert len(mini_z.items) == 1 and (mini_z.scale.min, mini_z.scale.max) == (1, 5)


def test_edmondson_reverses_items_one_three_and_five_as_eight_minus_the_answer() -> None:
    scale = instrument("edmondson-psych-safety")
    assert [i.number for i in scale.items if i.reverse] == [1, 3, 5]
    # 1, 3, 5 answered 2 (-> 6 each); 2, 4, 6, 7 answered 5: (6*3 + 5*4) / 7 = 38/7.
    result = score(scale, {1: 2, 2: 5, 3: 2, 4: 5, 5: 2, 6: 5, 7: 5})
    assert result.value == pytest.approx(38 / 7)
    assert score(scale, dict.fromkeys(range(1, 8), 4)).value == 4


def test_edmondson_is_scored_only_with_all_seven_items() -> None:
    result = score(instrument("edmondson-psych-safety"), dict.fromkeys(range(1, 7), 6))
    assert (result.value, result.answered) == (None, 6)


def test_edmondson_data_agrees_with_the_check_in_item_and_its_reverse_scoring() -> None:
    scale = instrument("edmondson-psych-safety")
    assert {i.number: i.text for i in scale.items} == edmondson.ITEMS
    for item in scale.items:
        for answer in range(1, 8):
            assert item_score(scale, item.number, answer) == edmondson.scored(item.number, answer)


def test_mca_21_has_21_items_in_six_domains_and_leaves_not_applicable_out() -> None:
    mca = instrument("mca-21")
    assert len(mca.items) == 21 and len({i.domain for i in mca.items}) == 6
    assert not any(i.reverse for i in mca.items) and mca.rates == "mentor"
    answers: dict[int, int | None] = dict.fromkeys(range(1, 22), 6)
    answers[1], answers[2], answers[21] = 7, 7, None
    result = score(mca, answers)
    # 20 answered: eighteen 6s and two 7s -> 122/20 = 6.1; communication domain: (7+7+6+6+6)/5 = 6.4.
    assert (result.value, result.answered) == (6.1, 20)
    assert result.domains["Maintaining effective communication"] == pytest.approx(6.4)


def test_mca_21_needs_fifteen_answered_items() -> None:
    assert score(instrument("mca-21"), dict.fromkeys(range(1, 15), 5)).value is None
    assert score(instrument("mca-21"), dict.fromkeys(range(1, 16), 5)).value == 5


def test_mentorship_effectiveness_scale_is_twelve_items_on_six_points_without_reverse_items() -> None:
    mes = instrument("mentorship-effectiveness-scale")
    assert len(mes.items) == 12 and (mes.scale.min, mes.scale.max) == (1, 6)
    assert not any(i.reverse for i in mes.items)
    result = score(mes, {n: 6 if n <= 6 else 3 for n in range(1, 13)})
    assert result.value == 4.5 and result.band is None


def test_an_answer_off_the_scale_or_an_unknown_item_is_refused() -> None:
    with pytest.raises(InvalidAnswers, match="off the 1-6 scale"):
        score(instrument("mentorship-effectiveness-scale"), {1: 7})
    with pytest.raises(InvalidAnswers, match="no item 2"):
        score(instrument("mini-z-burnout"), {2: 1})


def test_an_invalid_definition_names_the_file_the_key_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        "id: bad\nversion: 1\nname: x\nshort_name: x\nmeasures: x\nrates: self\ncitation: x\nlicence: x\n"
        "verified: false\nstem: x\nscale: {min: 1, max: 3, labels: {1: a, 2: b}}\n"
        "items: [{number: 1, text: q}]\nscoring: {method: single, min_answered: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_instrument(path)
    assert any("scale" in line and "labels must name every point" in line for line in caught.value.lines())
