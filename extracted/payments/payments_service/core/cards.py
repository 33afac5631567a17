"""Card checks that need no payment provider: Luhn, brand, expiry, CVC.

A copy of the monolith's core/cards.py: its checkout form and orders API validate a card with
the same functions, so "a bad card number" means one thing on both sides of the facade.
"""

import datetime
import re

from django.core.exceptions import ValidationError

# [0-9], not \d or str.isdigit(): those accept '²' and other scripts' digits.
DIGITS = re.compile(r"[0-9]+")


def luhn_valid(number: str) -> bool:
    if not DIGITS.fullmatch(number):
        return False
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def normalise_number(number: str) -> str:
    """Card numbers are often typed in groups: '4242 4242 4242 4242'."""
    return "".join(number.split()).replace("-", "")


def validate_card(*, number, exp_month, exp_year, cvc, today=None):
    """Raise ValidationError with one message per bad field; return the cleaned number."""
    errors = {}
    number = normalise_number(number)
    if not (12 <= len(number) <= 19 and DIGITS.fullmatch(number)):
        errors["number"] = "Enter the 12 to 19 digits of the card number."
    elif not luhn_valid(number):
        errors["number"] = "This card number is not valid (it fails the Luhn check)."
    today = today or datetime.date.today()
    if (exp_year, exp_month) < (today.year, today.month):
        errors["exp_year"] = "This card has expired."
    if not (DIGITS.fullmatch(cvc) and len(cvc) in (3, 4)):
        errors["cvc"] = "Enter the 3 or 4 digits on the back of the card."
    if errors:
        raise ValidationError(errors)
    return number
