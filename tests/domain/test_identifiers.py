import pytest

from ecmbill.domain.identifiers import is_medi_cal_cin, is_npi, luhn_ok


@pytest.mark.parametrize("cin", ["91234567A", "00000000Z", "10000001A"])
def test_a_medi_cal_cin_is_eight_digits_then_a_capital_letter(cin: str) -> None:
    assert is_medi_cal_cin(cin)


@pytest.mark.parametrize(
    "text", ["91234567a", "9123456A", "912345678A", "91234567", "A91234567", "91234567AB", ""]
)
def test_anything_else_is_not_a_cin(text: str) -> None:
    assert not is_medi_cal_cin(text)


def test_npi_1234567893_is_valid_its_check_digit_includes_the_80840_prefix() -> None:
    assert is_npi("1234567893")


@pytest.mark.parametrize(
    "text", ["1234567890", "1234567894", "123456789", "12345678931", "abcdefghij"]
)
def test_an_npi_with_a_wrong_check_digit_or_length_is_refused(text: str) -> None:
    assert not is_npi(text)


def test_luhn_check_matches_the_textbook_example() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
