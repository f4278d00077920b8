import pytest

from bot.kernel.phi_guard import PATTERNS, find_phi

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
