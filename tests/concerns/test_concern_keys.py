import math
import re

import pytest

from bot.concerns.case_keys import ALPHABET, LENGTH, hash_case_key, new_case_key, normalize_case_key
from storage.crypto import Keys


def test_a_key_has_at_least_60_random_bits_and_reads_in_groups() -> None:
    assert len(set(ALPHABET)) ** LENGTH >= 2**60
    assert math.log2(len(ALPHABET)) * LENGTH >= 60
    keys = {new_case_key() for _ in range(2000)}
    assert len(keys) == 2000
    assert all(
        re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", k) for k in keys
    )


@pytest.mark.parametrize(
    "typed",
    [
        "K7QF-2M9X-PD4C",
        "k7qf-2m9x-pd4c",
        "K7QF 2M9X PD4C",
        " k7qf2m9xpd4c ",
        "K7QF–2M9X—PD4C",
        "K7QF_2M9X.PD4C",
    ],
)
def test_case_spaces_and_dashes_do_not_matter(keys: Keys, typed: str) -> None:
    assert normalize_case_key(typed) == "K7QF2M9XPD4C"
    assert hash_case_key(keys, typed) == hash_case_key(keys, "K7QF-2M9X-PD4C")


def test_letters_that_look_like_digits_are_read_as_digits(keys: Keys) -> None:
    assert hash_case_key(keys, "KOQF-2M9X-PD4C") == hash_case_key(keys, "K0QF-2M9X-PD4C")
    assert hash_case_key(keys, "KIQF-2M9X-PD4C") == hash_case_key(keys, "K1QF-2M9X-PD4C")
    assert hash_case_key(keys, "KLQF-2M9X-PD4C") == hash_case_key(keys, "K1QF-2M9X-PD4C")


def test_the_stored_hash_is_keyed_and_reveals_nothing_of_the_key(keys: Keys) -> None:
    other = Keys.from_secret("another-secret-that-is-long-enough-0123456789")
    stored = hash_case_key(keys, "K7QF-2M9X-PD4C")
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert stored != hash_case_key(other, "K7QF-2M9X-PD4C")
    assert "K7QF" not in stored.upper()
