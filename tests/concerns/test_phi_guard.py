"""The PHI guard: what it flags, what it lets through, and how it names what it found."""

import logging

import pytest

from bot.kernel.phi_guard import PATTERNS, find_phi, normalise, phi_kind

POSITIVES = [
    ("MRN 1234567", "a medical record number"),
    ("his mrn: 00123456 was on the sheet", "a medical record number"),
    ("medical record number 87654321", "a medical record number"),
    ("record no. 00123456", "a medical record number"),
    ("chart # 1234567", "a medical record number"),
    ("DOB 03/04/1961", "a date of birth"),
    ("born on 3 April 1961", "a date of birth"),
    ("date of birth: April 3, 1961", "a date of birth"),
    ("D.O.B. 4/3", "a date of birth"),
    ("it was on 12/03/2025 at the nurses' station", "a full date (day, month and year)"),
    ("1961-04-03", "a full date (day, month and year)"),
    ("3rd of April 1961", "a full date (day, month and year)"),
    ("call (555) 123-4567", "a phone number"),
    ("555.123.4567", "a phone number"),
    ("+1 555 123 4567", "a phone number"),
    ("+44 20 7946 0958", "a phone number"),
    ("extension is 555-1234", "a phone number"),
    ("write to jane.doe@example.org", "an email address"),
    ("123-45-6789", "an SSN-like number"),
    ("123 45 6789", "an SSN-like number"),
    ("the man in room 12B", "a room or bed number"),
    ("bed 4 was left alone", "a room or bed number"),
    ("rm. 302", "a room or bed number"),
    ("Bay 3", "a room or bed number"),
    ("patient John was crying", "a patient's name"),
    ("pt. Smith refused", "a patient's name"),
    ("Mrs. Jones fell", "a patient's name"),
    ("Mr Brown asked twice", "a patient's name"),
    ("the patient, Maria Lopez, waited", "a patient's name"),
    ("a patient named Ahmed", "a patient's name"),
    ("number 1234567 on the wristband", "an ID-like number"),
]

NEGATIVES = [
    "in 2024 the rota changed",
    "5 mg of morphine",
    "250mg twice daily",
    "there is room for improvement",
    "his bedside manner is dismissive",
    "at 3 pm during handover",
    "for 2 weeks nobody replied",
    "on Ward 5B and Ward 7 the nurses were kind",
    "the patient was upset",
    "patient safety matters",
    "I reported it to the Patient Safety team",
    "on 3/4 we met",
    "since April 2024",
    "bed rest was ordered",
    "BP 120/80",
    "1,000 steps",
    "chart 2024 audit",
    "I record 3 cases a day",
    "the 10:30 handover",
    "Patient I'm worried about is fine",
    "two 12-hour shifts after a 24-hour call",
    "5-10 mg IV",
    "ICU bed shortage",
    "Dr. Smith ignored my questions",
    "in Q3 2024",
    "my supervisor dismisses questions; I asked 3 times",
    # Shapes the normalising and separator rules could wrongly catch.
    "I worked 12 hours on 3/4 shifts",
    "we met at 7:30 in the staff room",
    "between 08:00 and 20:00",
    "the 2023\u20132024 rota",
    "shift 0800 - 2000",
    "doses of 05 10 15 20 25 mg",
    "on day 3. 45 staff were off sick",
    "0.5 mg then 1.0 mg",
    "version 2.1.3 of the app",
    "a 1:4 ratio on nights",
    "it cost \u00a31,250.00",
    "pages 12\u201315 of the handbook",
    "BP 120 / 80",
    "5\u200bmg of morphine",
    "I was at home today",
    # Honorific look-alikes and staff members.
    "we talked it through on MS Teams",
    "MR imaging was delayed again",
    "the MR SCANNER was down",
    "MS IS A HARD DIAGNOSIS TO GIVE",
    "DON'T MISS HANDOVER",
    "PATIENT SAFETY WEEK",
    "Mr Brown from pharmacy was kind",
    "Ms Lee, our ward manager, was supportive",
    "Mr Okafor (the consultant) explained it well",
]


@pytest.mark.parametrize(("text", "kind"), POSITIVES)
def test_likely_identifiers_are_caught(text: str, kind: str) -> None:
    finding = find_phi(text)
    assert finding is not None and finding.kind == kind


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_clinical_prose_passes(text: str) -> None:
    assert find_phi(text) is None


def test_every_pattern_has_a_positive_example() -> None:
    assert {kind for kind, _ in PATTERNS} == {kind for _, kind in POSITIVES}


def test_the_message_names_the_kind_and_quotes_only_the_match() -> None:
    text = "The handover was rushed again and nobody wrote down that his son can be reached on 555-123-4567."
    finding = find_phi(text)
    assert finding is not None
    message = finding.message()
    assert message.startswith("This looks like a phone number (“555-123-4567”).")
    assert "Please remove patient identifiers and submit again." in message
    assert "handover was rushed" not in message


def test_a_long_match_is_shortened_in_the_message() -> None:
    finding = find_phi("write to " + "a" * 60 + "@example.org")
    assert finding is not None and "…" in finding.message() and len(finding.message()) < 160


def _kind(text: str) -> str | None:
    finding = find_phi(text)
    return finding.kind if finding is not None else None


def test_an_mrn_with_a_zero_width_space_between_its_digits_is_caught() -> None:
    assert _kind("MRN 123\u200b4567") == "a medical record number"


def test_an_mrn_with_a_zero_width_space_inside_the_letters_is_caught() -> None:
    assert _kind("M\u200bRN 1234567") == "a medical record number"


@pytest.mark.parametrize(
    "invisible",
    ["\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200b\u200b"],
    ids=["zwnj", "zwj", "word-joiner", "bom", "soft-hyphen", "two-zwsp"],
)
def test_other_invisible_characters_inside_an_mrn_are_ignored(invisible: str) -> None:
    assert _kind(f"M{invisible}RN 12{invisible}34567") == "a medical record number"


def test_a_phone_number_separated_by_slashes_is_caught() -> None:
    assert _kind("555/123/4567") == "a phone number"


def test_a_phone_number_with_en_dashes_is_caught() -> None:
    assert _kind("555\u2013123\u20134567") == "a phone number"


@pytest.mark.parametrize(
    "dash",
    ["\u2014", "\u2212", "\u2012", "\u2011", "\u2010", "\u2015", "\uff0d", " - ", " \u2013 "],
    ids=["em-dash", "minus", "figure-dash", "nb-hyphen", "hyphen", "bar", "fullwidth", "spaced", "spaced-en"],
)
def test_a_phone_number_with_any_other_dash_is_caught(dash: str) -> None:
    assert _kind(f"555{dash}123{dash}4567") == "a phone number"


def test_a_uk_mobile_number_is_caught() -> None:
    assert _kind("his daughter is on 07700 900123") == "a phone number"


def test_a_uk_landline_number_is_caught() -> None:
    assert _kind("ring the ward on 020 7946 0958") == "a phone number"


def test_a_date_of_birth_written_year_first_with_slashes_is_caught() -> None:
    assert _kind("DOB 1961/04/03") == "a date of birth"


def test_a_date_of_birth_written_with_spaces_is_caught() -> None:
    assert _kind("DOB 03 04 1961") == "a date of birth"


def test_a_patient_named_after_a_colon_is_caught() -> None:
    finding = find_phi("patient: John Smith")
    assert finding is not None and finding.kind == "a patient's name" and "John Smith" in finding.match


def test_an_honorific_and_surname_in_capitals_is_caught() -> None:
    assert _kind("MR SMITH was shouting at the desk") == "a patient's name"


@pytest.mark.parametrize("text", ["Mr Smith", "Mrs Jones", "Ms Lee", "Mr O'Brien", "MRS JONES", "Mx Taylor"])
def test_an_honorific_and_surname_is_caught_in_any_usual_spelling(text: str) -> None:
    assert _kind(f"{text} waited four hours") == "a patient's name"


def test_an_honorific_name_without_a_staff_context_is_still_flagged() -> None:
    assert _kind("Mr Brown asked the nurse for water") == "a patient's name"


def test_room_4_at_7_30_is_flagged_for_the_room_and_not_the_time() -> None:
    finding = find_phi("Room 4 at 7:30")
    assert finding is not None and finding.kind == "a room or bed number" and finding.match == "Room 4"


def test_an_email_with_at_in_parentheses_is_caught() -> None:
    assert _kind("write to x(at)host") == "an email address"


def test_an_email_with_at_in_square_brackets_is_caught() -> None:
    assert _kind("write to x [at] host.org") == "an email address"


def test_an_email_spelled_out_with_at_and_dot_is_caught() -> None:
    assert _kind("jane at nhs dot net") == "an email address"


def test_an_mrn_in_superscript_digits_is_caught() -> None:
    assert _kind("MRN \u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077") == "a medical record number"


def test_an_mrn_in_fullwidth_characters_is_caught() -> None:
    assert (
        _kind("\uff2d\uff32\uff2e\u3000\uff11\uff12\uff13\uff14\uff15\uff16\uff17")
        == "a medical record number"
    )


def test_an_mrn_in_arabic_indic_digits_is_caught() -> None:
    assert _kind("MRN \u0661\u0662\u0663\u0664\u0665\u0666\u0667") == "a medical record number"


def test_an_mrn_with_spaced_digits_is_caught() -> None:
    assert _kind("MRN 123 4567") == "a medical record number"


def test_normalise_unifies_digits_dashes_separators_and_drops_invisible_characters() -> None:
    assert normalise("\u00b9\u00b2\u200b3 \u2013 4\u00a0\u00a0/ 5\u2212\uff16") == "123-4/5-6"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("call 555\u2013123\u20134567", "a phone number"),
        ("MRN 1234567", "a medical record number"),
        ("DOB 1961/04/03", "a date of birth"),
        ("patient: John Smith", "a patient's name"),
        ("x [at] host.org", "an email address"),
    ],
)
def test_the_message_tells_the_sender_which_kind_of_identifier_was_found(text: str, kind: str) -> None:
    finding = find_phi(text)
    assert finding is not None and finding.message().startswith(f"This looks like {kind} (")


def test_phi_kind_names_the_kind_without_the_matched_words() -> None:
    assert phi_kind("ring 07700 900123 after six") == "a phone number"


def test_phi_kind_is_none_for_clean_text() -> None:
    assert phi_kind("the handover was rushed again") is None


def test_the_guard_never_logs_the_text(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        find_phi("MR SMITH, MRN 123\u200b4567, on 555/123/4567")
    assert caplog.records == []
