"""Card checks without a payment provider: Luhn, brand, number clean-up, expiry and CVC."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from monolith.core.cards import card_brand, luhn_valid, normalise_number, validate_card

TODAY = datetime.date(2026, 6, 15)
GOOD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def errors_of(**changes):
    """The fields validate_card complains about, with their messages."""
    with pytest.raises(ValidationError) as caught:
        validate_card(**{**GOOD, **changes}, today=TODAY)
    return caught.value.message_dict


@pytest.mark.parametrize(
    "number", ["4242424242424242", "4000000000000002", "4000000000009995", "5555555555554444", "378282246310005"]
)
def test_the_test_cards_pass_the_luhn_check(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number", ["4242424242424241", "4000000000000003", "1234567812345678", "", "4242 4242 4242 4242", "abcd"]
)
def test_numbers_that_fail_the_luhn_check(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424242", "4000000000000002", "4000000000009995"])
def test_the_contracts_test_cards_are_valid_cards(number):
    assert validate_card(**{**GOOD, "number": number}, today=TODAY) == number


@pytest.mark.parametrize(
    "typed",
    [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        " 4242424242424242 ",
        "4242\t4242 4242-4242",
        "4242 - 4242 - 4242 - 4242",
    ],
)
def test_spaces_and_dashes_are_normalised_away(typed):
    assert normalise_number(typed) == "4242424242424242"
    assert validate_card(**{**GOOD, "number": typed}, today=TODAY) == "4242424242424242"


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("5105105105105100", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("2720990000000007", "mastercard"),
        ("2721000000000000", "unknown"),
        ("378282246310005", "amex"),
        ("340000000000009", "amex"),
        ("6011111111111117", "unknown"),
        ("", "unknown"),
    ],
)
def test_card_brand(number, brand):
    assert card_brand(number) == brand


@pytest.mark.parametrize(
    "number",
    ["4242424242424241", "4242", "42424242424242424242", "4242x42424242424", ""],
)
def test_a_bad_number_is_an_error_on_number(number):
    assert set(errors_of(number=number)) == {"number"}


def test_the_luhn_failure_says_so():
    assert "Luhn" in errors_of(number="4242424242424241")["number"][0]


@pytest.mark.parametrize(
    "number",
    [
        # str.isdigit() is true for all of these: int('²') would raise (a 500).
        pytest.param("424242424242424\u00b2", id="superscript-two"),
        pytest.param("\uff14\uff12" * 8, id="full-width"),
        pytest.param("\u0664\u0662" * 8, id="arabic-indic"),
    ],
)
def test_only_ascii_digits_make_a_card_number(number):
    assert set(errors_of(number=number)) == {"number"}


@pytest.mark.parametrize("exp_month, exp_year", [(5, 2026), (12, 2025), (1, 2000)])
def test_an_expired_card_is_an_error_on_exp_year(exp_month, exp_year):
    assert errors_of(exp_month=exp_month, exp_year=exp_year) == {"exp_year": ["This card has expired."]}


@pytest.mark.parametrize("exp_month, exp_year", [(6, 2026), (7, 2026), (1, 2027)])
def test_a_card_is_good_through_its_expiry_month(exp_month, exp_year):
    assert validate_card(**{**GOOD, "exp_month": exp_month, "exp_year": exp_year}, today=TODAY) == GOOD["number"]


def test_expiry_is_checked_against_today_by_default():
    last_year = datetime.date.today().year - 1
    with pytest.raises(ValidationError) as caught:
        validate_card(**{**GOOD, "exp_year": last_year})
    assert set(caught.value.message_dict) == {"exp_year"}


@pytest.mark.parametrize("cvc", ["123", "1234", "000"])
def test_a_three_or_four_digit_cvc_is_accepted(cvc):
    assert validate_card(**{**GOOD, "cvc": cvc}, today=TODAY) == GOOD["number"]


@pytest.mark.parametrize(
    "cvc",
    [
        "12",
        "12345",
        "",
        "abc",
        "12a",
        " 123",
        pytest.param("\uff11\uff12\uff13", id="full-width"),
    ],
)
def test_a_bad_cvc_is_an_error_on_cvc(cvc):
    assert set(errors_of(cvc=cvc)) == {"cvc"}


def test_every_bad_field_is_named_at_once():
    assert set(errors_of(number="4242424242424241", exp_year=2020, cvc="1")) == {"number", "exp_year", "cvc"}
