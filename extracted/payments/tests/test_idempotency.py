"""Idempotency keys across HTTP, on PostgreSQL: one key, one charge (or refund), whoever comes second.

Requests run in threads, each with its own database connection (run_at_once), so that they
really overlap. A request whose key is still in flight is answered 409
(`idempotency_key_in_use`) at once; one that comes after the first committed gets the first
response again. Never two charges. Keys are kept at least 24 hours.
"""

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import GOOD_CARD, PAYMENT, assert_json_error, charge, refund
from payments_service.payments import gateway
from payments_service.payments.models import IdempotencyKey, Payment, Refund

THREADS = 6


@pytest.fixture
def staff_client(staff_user):
    """A new staff client per call: one per thread, as each browser or service has its own."""

    def make():
        client = APIClient()
        client.force_authenticate(staff_user)
        return client

    return make


@pytest.fixture
def held_charge(monkeypatch):
    """Make the first charge wait inside its transaction until released: entered, release = held_charge.
    Later charges go through at once."""
    entered, release = threading.Event(), threading.Event()
    real_charge = gateway.charge

    def charge_when_released(**kwargs):
        if not entered.is_set():
            entered.set()
            assert release.wait(timeout=10), "never released"
        return real_charge(**kwargs)

    monkeypatch.setattr(gateway, "charge", charge_when_released)
    return entered, release


def in_thread(work):
    """Start work() in a thread with its own connection; join() returns its result."""
    from django.db import connections

    result = {}

    def run():
        try:
            result["value"] = work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(timeout=15)
        assert not thread.is_alive()
        return result["value"]

    return join


def is_first(response):
    return response.status_code == 201 and not response.has_header("Idempotent-Replayed")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_charge(staff_client, run_at_once):
    responses = run_at_once(THREADS, lambda index: charge(staff_client(), "one-key"))

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert Payment.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    firsts = [r for r in responses if is_first(r)]
    assert len(firsts) == 1
    payment = firsts[0].json()
    assert payment["id"] == str(Payment.objects.get().pk)
    for response in responses:
        if response.status_code == 201:  # the first, or a replay of it after it committed
            assert response.json() == payment
        else:  # arrived while the first was in flight
            assert assert_json_error(response, 409)["code"] == "idempotency_key_in_use"


@pytest.mark.django_db(transaction=True)
def test_a_request_while_the_first_is_in_flight_is_409_and_charges_nothing(staff_client, held_charge):
    entered, release = held_charge
    first = in_thread(lambda: charge(staff_client(), "in-flight"))
    assert entered.wait(timeout=10)

    second = charge(staff_client(), "in-flight")
    other_body = charge(staff_client(), "in-flight", {**PAYMENT, "amount": "99.00"})

    body = assert_json_error(second, 409)
    assert body["code"] == "idempotency_key_in_use"
    assert "Idempotency-Key" in body  # names the header, as every other key error does
    assert assert_json_error(other_body, 409)["code"] == "idempotency_key_in_use"
    assert not Payment.objects.exists()  # the first has not committed yet
    release.set()
    first = first()
    assert is_first(first)
    # Once the first has committed, the same request gets its response, with no second charge.
    again = charge(staff_client(), "in-flight")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Payment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_another_key_is_not_held_up_by_a_key_in_flight(staff_client, held_charge):
    entered, release = held_charge
    first = in_thread(lambda: charge(staff_client(), "slow-key"))
    assert entered.wait(timeout=10)

    assert is_first(charge(staff_client(), "other-key"))  # while "slow-key" is still in flight
    release.set()
    assert is_first(first())
    assert Payment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_request_that_fails_midway_leaves_the_key_free_for_a_retry(staff_client, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the card network fell over")

    monkeypatch.setattr(gateway, "charge", broken)
    failed = charge(staff_client(), "retry-me")
    monkeypatch.undo()

    assert assert_json_error(failed, 500)["code"] == "server_error"
    # The key row rolled back with the charge (and the advisory lock went with the transaction).
    assert not IdempotencyKey.objects.exists() and not Payment.objects.exists()
    assert is_first(charge(staff_client(), "retry-me"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_with_one_key_refund_once(staff_client, run_at_once, new_key):
    payment_id = charge(staff_client(), new_key()).json()["id"]

    responses = run_at_once(
        THREADS, lambda index: refund(staff_client(), payment_id, {"amount": "5.00"}, key="refund-1")
    )

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert Refund.objects.count() == 1
    assert len([r for r in responses if is_first(r)]) == 1
    assert {r.json()["id"] for r in responses if r.status_code == 201} == {str(Refund.objects.get().pk)}
    assert all(r.json()["code"] == "idempotency_key_in_use" for r in responses if r.status_code != 201)
    assert str(Payment.objects.get().amount_refunded) == "5.00"


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_refund_more_than_was_paid(staff_client, run_at_once, new_key):
    payment_id = charge(staff_client(), new_key()).json()["id"]

    responses = run_at_once(
        THREADS, lambda index: refund(staff_client(), payment_id, {"amount": "5.00"}, key=f"refund-{index}")
    )

    assert sorted(r.status_code for r in responses) == [201, 201] + [400] * (THREADS - 2)  # 2 x 5.00 of 12.50
    assert all("amount" in r.json() for r in responses if r.status_code == 400)
    payment = Payment.objects.get()
    assert (str(payment.amount_refunded), payment.status) == ("10.00", "partially_refunded")
    assert Refund.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_without_keys_never_refund_more_than_was_paid(staff_client, run_at_once, new_key):
    payment_id = charge(staff_client(), new_key()).json()["id"]

    responses = run_at_once(THREADS, lambda index: refund(staff_client(), payment_id))

    assert sorted(r.status_code for r in responses) == [201] + [409] * (THREADS - 1)  # the rest: not refundable
    assert Refund.objects.count() == 1
    assert Payment.objects.get().status == "refunded"


# --- How long keys are kept ------------------------------------------------------------------


def purge(*args):
    out = io.StringIO()
    call_command("purge_idempotency_keys", *args, stdout=out)
    return out.getvalue()


def make_key(key, age):
    record = IdempotencyKey.objects.create(key=key, fingerprint="0" * 64, response_status=201, response_body={})
    IdempotencyKey.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)


def test_purge_deletes_only_keys_older_than_24_hours_by_default(db):
    make_key("old", timedelta(hours=25))
    make_key("young", timedelta(hours=23, minutes=59))

    assert "Deleted 1 idempotency keys" in purge()

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]


def test_purge_older_than_more_hours(db):
    make_key("three-days", timedelta(hours=72))
    make_key("two-days", timedelta(hours=47))

    purge("--older-than", "48")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["two-days"]


@pytest.mark.parametrize("hours", ["23", "0", "-1"])
def test_purge_refuses_fewer_than_24_hours(db, hours):
    make_key("old", timedelta(hours=25))

    with pytest.raises(CommandError, match="at least 24 hours"):
        purge("--older-than", hours)

    assert IdempotencyKey.objects.count() == 1


def test_a_key_is_replayed_until_it_is_purged(staff_api):
    first = charge(staff_api, "kept")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=23))
    assert charge(staff_api, "kept")["Idempotent-Replayed"] == "true"

    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    purge()

    # A day later the key is free again: the same request is a new charge.
    again = charge(staff_api, "kept", {**PAYMENT, "card": GOOD_CARD})
    assert is_first(again) and again.json()["id"] != first.json()["id"]
    assert Payment.objects.count() == 2
