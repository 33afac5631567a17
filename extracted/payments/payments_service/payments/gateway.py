"""The test card network: decides how a charge ends, by card number, as a card processor's test mode does."""

DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}


def charge(*, number, amount, currency):
    """Return None when the charge succeeds, else the failure code."""
    return DECLINES.get(number)
