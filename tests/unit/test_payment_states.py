"""A payment's status moves only along the allowed transitions; anything else is refused, never applied."""

import pytest

from monolith.core.errors import Conflict
from monolith.payments.models import IllegalTransition, Payment

S = Payment.Status
ALLOWED = {
    (S.PENDING, S.SUCCEEDED),
    (S.PENDING, S.FAILED),
    (S.SUCCEEDED, S.PARTIALLY_REFUNDED),
    (S.SUCCEEDED, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED),  # a second partial refund
    (S.PARTIALLY_REFUNDED, S.REFUNDED),
}
# Everything else, among them failed -> succeeded, refunded -> succeeded and pending -> refunded.
ILLEGAL = sorted({(a, b) for a in S for b in S} - ALLOWED)


@pytest.mark.parametrize(("start", "end"), sorted(ALLOWED))
def test_an_allowed_transition_changes_the_status(start, end):
    payment = Payment(status=start)

    payment.transition_to(end)

    assert payment.status == end


@pytest.mark.parametrize(("start", "end"), ILLEGAL)
def test_an_illegal_transition_is_refused_and_changes_nothing(start, end):
    payment = Payment(status=start)

    with pytest.raises(IllegalTransition) as refused:
        payment.transition_to(end)

    assert payment.status == start
    assert isinstance(refused.value, Conflict)  # the API answers 409
    assert refused.value.status_code == 409
    assert start in refused.value.message and end in refused.value.message


def test_a_status_read_back_from_the_database_as_a_plain_string_still_follows_the_rules():
    payment = Payment(status="failed")

    with pytest.raises(IllegalTransition):
        payment.transition_to("succeeded")
    Payment(status="pending").transition_to("succeeded")


def test_a_new_payment_starts_pending():
    assert Payment().status == S.PENDING
