"""The payments API, /api/payments/: charges against test cards, refunds, idempotency keys; staff and services only.

The monolith's tests/integration/test_payments_api.py, adapted: the same requests must get the
same answers from both processes.
"""

import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from conftest import DECLINED_CARD, GOOD_CARD, NO_FUNDS_CARD, PAYMENT, assert_json_error, charge, refund
from payments_service.payments.models import IdempotencyKey, Payment, Refund

BIG = "x" * 10_000


# Who may use it

ENDPOINTS = [
    ("get", "/api/payments/"),
    ("post", "/api/payments/"),
    ("get", "/api/payments/{id}/"),
    ("post", "/api/payments/{id}/refunds/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_clients_are_401(api, paid, new_key, method, path):
    response = getattr(api, method)(
        path.format(id=paid["id"]),
        PAYMENT if method == "post" else None,
        format="json",
        headers={"Idempotency-Key": new_key()},
    )

    assert assert_json_error(response, 401)["detail"]
    assert response["WWW-Authenticate"].startswith("Basic")
    assert Payment.objects.count() == 1 and not Refund.objects.exists()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_customers_are_403(customer_api, paid, new_key, method, path):
    response = getattr(customer_api, method)(
        path.format(id=paid["id"]),
        PAYMENT if method == "post" else None,
        format="json",
        headers={"Idempotency-Key": new_key()},
    )

    assert assert_json_error(response, 403)["detail"]
    assert Payment.objects.count() == 1 and not Refund.objects.exists()


def test_staff_may_use_http_basic_authentication(staff_user, new_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic YWRtaW46YWRtaW4=")  # admin:admin

    assert charge(client, new_key()).status_code == 201


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_service_with_its_token_may_use_every_endpoint(service_api, paid, new_key, method, path):
    response = getattr(service_api, method)(
        path.format(id=paid["id"]),
        PAYMENT if method == "post" and "refunds" not in path else {},
        format="json",
        headers={"Idempotency-Key": new_key()},
    )

    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_wrong_service_token_is_401(service_tokens, paid, new_key, method, path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-the-token")

    response = getattr(client, method)(
        path.format(id=paid["id"]),
        PAYMENT if method == "post" else None,
        format="json",
        headers={"Idempotency-Key": new_key()},
    )

    assert assert_json_error(response, 401)["detail"]
    assert Payment.objects.count() == 1 and not Refund.objects.exists()


# Charging


@pytest.mark.parametrize(
    ("card", "status", "failure_code"),
    [
        (GOOD_CARD, "succeeded", ""),
        (DECLINED_CARD, "failed", "card_declined"),
        (NO_FUNDS_CARD, "failed", "insufficient_funds"),
    ],
)
def test_a_charge_ends_as_the_test_card_says(staff_api, new_key, card, status, failure_code):
    response = charge(staff_api, new_key(), {**PAYMENT, "card": card})

    assert response.status_code == 201, response.content
    payment = response.json()
    assert (payment["status"], payment["failure_code"]) == (status, failure_code)
    assert payment["amount"] == "12.50"
    assert payment["currency"] == "EUR"
    assert payment["order_number"] == "ORDER12345"
    assert payment["card_last4"] == card["number"][-4:]
    assert payment["card_brand"] == "visa"
    assert payment["refunds"] == []
    uuid.UUID(payment["id"])
    assert Payment.objects.get().status == status


def test_a_card_number_may_be_typed_in_groups(staff_api, new_key):
    response = charge(staff_api, new_key(), {**PAYMENT, "card": {**GOOD_CARD, "number": "4242 4242 4242 4242"}})

    assert response.status_code == 201, response.content
    assert response.json()["card_last4"] == "4242"


def test_a_card_failing_the_luhn_check_is_400_naming_card_number_and_stores_nothing(staff_api, new_key):
    key = new_key()

    response = charge(staff_api, key, {**PAYMENT, "card": {**GOOD_CARD, "number": "4242424242424241"}})

    body = assert_json_error(response, 400)
    assert "Luhn" in body["card"]["number"][0]
    assert not Payment.objects.exists()
    assert not IdempotencyKey.objects.exists()
    # Nothing was stored under the key, so the corrected request may use it.
    assert charge(staff_api, key).status_code == 201


def test_the_full_card_number_is_stored_nowhere(staff_api, service_api, new_key):
    cards = [GOOD_CARD, DECLINED_CARD, NO_FUNDS_CARD]
    for card in cards:
        key = new_key()
        charge(staff_api, key, {**PAYMENT, "card": card})
        charge(staff_api, key, {**PAYMENT, "card": card})  # a replay too
    # As the monolith's orders pay through this service: with its token, a number in groups.
    charge(service_api, new_key(), {**PAYMENT, "card": DECLINED_CARD})
    charge(service_api, new_key(), {**PAYMENT, "card": {**GOOD_CARD, "number": "4242-4242-4242-4242"}})

    payment = Payment.objects.filter(card_last4="4242").first()
    assert payment.card_last4 == "4242" and payment.card_brand == "visa"
    assert IdempotencyKey.objects.count() == 5
    for record in IdempotencyKey.objects.all():
        assert len(record.fingerprint) == 64  # an HMAC of the request, not the request
        assert record.response_body["card_last4"] in {"4242", "0002", "9995"}
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('character varying', 'character', 'text', 'json', 'jsonb')"
        )
        columns = cursor.fetchall()
        assert ("payments_payment", "card_last4") in columns
        assert ("payments_idempotencykey", "response_body") in columns
        for table, column in columns:
            for card in cards:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s', ["%" + card["number"] + "%"]
                )
                if cursor.fetchone()[0]:
                    found.append((table, column, card["number"]))
    assert found == []


# Idempotency-Key


def test_the_same_key_and_body_replays_the_first_response_without_a_second_charge(staff_api, new_key):
    key = new_key()
    first = charge(staff_api, key)

    again = charge(staff_api, key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Payment.objects.count() == 1


def test_a_replayed_decline_stays_a_decline(staff_api, new_key):
    key = new_key()
    first = charge(staff_api, key, {**PAYMENT, "card": DECLINED_CARD})

    again = charge(staff_api, key, {**PAYMENT, "card": DECLINED_CARD})

    assert again.json() == first.json()
    assert again.json()["failure_code"] == "card_declined"
    assert Payment.objects.count() == 1


def test_a_replay_after_a_refund_is_the_first_answer_not_the_payment_now(staff_api, new_key):
    key = new_key()
    first = charge(staff_api, key)
    refund = staff_api.post(
        f"/api/payments/{first.json()['id']}/refunds/",
        {"amount": "5.00"},
        format="json",
        headers={"Idempotency-Key": new_key()},
    )
    assert refund.status_code == 201, refund.content

    again = charge(staff_api, key)

    assert again.json() == first.json()
    assert (again.json()["status"], again.json()["refunds"]) == ("succeeded", [])
    assert Payment.objects.get().status == "partially_refunded"


def test_a_key_stored_as_the_api_answered_before_records_were_kept_replays_alike(staff_api, new_key):
    """Rows written before the store kept records hold the API's answer itself (and a response_status)."""
    payment_key, refund_key = new_key(), new_key()
    first = charge(staff_api, payment_key).json()
    refund_body = {"amount": "5.00"}
    refund = staff_api.post(
        f"/api/payments/{first['id']}/refunds/", refund_body, format="json", headers={"Idempotency-Key": refund_key}
    ).json()
    IdempotencyKey.objects.filter(key=f"payment:{payment_key}").update(response_status=201, response_body=first)
    IdempotencyKey.objects.filter(key=f"refund:{refund_key}").update(response_status=201, response_body=refund)

    assert charge(staff_api, payment_key).json() == first
    assert (
        staff_api.post(
            f"/api/payments/{first['id']}/refunds/", refund_body, format="json", headers={"Idempotency-Key": refund_key}
        ).json()
        == refund
    )


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "12.51"},
        {"currency": "USD"},
        {"order_number": "ORDER99999"},
        {"card": DECLINED_CARD},
        {"card": {**GOOD_CARD, "cvc": "999"}},
        {"card": {**GOOD_CARD, "exp_year": 2031}},
    ],
)
def test_the_same_key_with_another_body_is_422(staff_api, paid, new_key, change):
    key = new_key()
    charge(staff_api, key)

    response = charge(staff_api, key, {**PAYMENT, **change})

    body = assert_json_error(response, 422)
    assert body["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in body
    assert Payment.objects.count() == 2  # `paid` and the first charge with `key`


def test_the_same_amount_written_differently_is_the_same_request(staff_api, new_key):
    key = new_key()
    charge(staff_api, key, {**PAYMENT, "amount": "12.5"})

    again = charge(staff_api, key, {**PAYMENT, "amount": "12.50"})

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_a_missing_key_is_400_naming_the_header(staff_api):
    response = staff_api.post("/api/payments/", PAYMENT, format="json")

    assert "Idempotency-Key" in assert_json_error(response, 400)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("key", ["", "two words", "k" * 201, "clé"])
def test_a_malformed_key_is_400_naming_the_header(staff_api, key):
    response = staff_api.post("/api/payments/", PAYMENT, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert "Idempotency-Key" in assert_json_error(response, 400)
    assert not Payment.objects.exists()


# Reading


def test_a_payment_can_be_read_by_its_uuid(staff_api, paid):
    response = staff_api.get(f"/api/payments/{paid['id']}/")

    assert response.status_code == 200
    assert response.json() == paid


def test_payments_can_be_listed_by_order_number(staff_api, paid, new_key):
    other = charge(staff_api, new_key(), {**PAYMENT, "order_number": "OTHER00001"}).json()
    again = charge(staff_api, new_key(), {**PAYMENT, "card": DECLINED_CARD}).json()

    page = staff_api.get("/api/payments/?order_number=ORDER12345").json()

    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 2
    assert {p["id"] for p in page["results"]} == {paid["id"], again["id"]}
    assert staff_api.get("/api/payments/").json()["count"] == 3
    assert [p["id"] for p in staff_api.get("/api/payments/?order_number=OTHER00001").json()["results"]] == [other["id"]]
    assert staff_api.get("/api/payments/?order_number=NOPE").json()["count"] == 0


@pytest.mark.parametrize("value", ["%00", "ORDER%0012345", "x" * 10_000, "%E2%98%83", "'%3B--"])
def test_a_strange_order_number_filter_is_never_a_500(staff_api, paid, value):
    response = staff_api.get(f"/api/payments/?order_number={value}")

    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"].startswith("application/json")
    if response.status_code == 200:
        assert response.json()["count"] == 0
    else:
        assert "order_number" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/payments/{uuid.uuid4()}/",
        f"/api/payments/{uuid.uuid4()}/refunds/",
        "/api/payments/not-a-uuid/",
        "/api/payments/%00/",
        "/api/payments/" + "a" * 10_000 + "/",
    ],
)
def test_an_unknown_payment_is_a_json_404(staff_api, paid, path):
    method = staff_api.post if path.endswith("refunds/") else staff_api.get

    assert assert_json_error(method(path), 404)["code"] == "not_found"
    assert not Refund.objects.exists()


# Refunds


def test_a_full_refund_refunds_the_payment(staff_api, paid):
    response = refund(staff_api, paid["id"], {"reason": "Changed my mind"})

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "12.50"
    assert response.json()["payment"] == paid["id"]
    assert response.json()["reason"] == "Changed my mind"
    payment = staff_api.get(f"/api/payments/{paid['id']}/").json()
    assert payment["status"] == "refunded"
    assert payment["amount_refunded"] == "12.50"
    assert [r["id"] for r in payment["refunds"]] == [response.json()["id"]]


def test_two_partial_refunds_make_a_full_one(staff_api, paid):
    assert refund(staff_api, paid["id"], {"amount": "5.00"}).status_code == 201
    payment = staff_api.get(f"/api/payments/{paid['id']}/").json()
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", "5.00")

    assert refund(staff_api, paid["id"], {"amount": "7.50"}).status_code == 201

    payment = staff_api.get(f"/api/payments/{paid['id']}/").json()
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", "12.50")
    assert [r["amount"] for r in payment["refunds"]] == ["5.00", "7.50"]


def test_refunding_more_than_is_left_is_400_naming_amount(staff_api, paid):
    refund(staff_api, paid["id"], {"amount": "10.00"})

    body = assert_json_error(refund(staff_api, paid["id"], {"amount": "2.51"}), 400)

    assert "amount" in body
    assert "2.50" in body["amount"][0]
    assert Refund.objects.count() == 1
    assert Payment.objects.get().amount_refunded == 10


def test_a_refunded_payment_cannot_be_refunded_again(staff_api, paid):
    refund(staff_api, paid["id"])

    assert assert_json_error(refund(staff_api, paid["id"], {"amount": "0.01"}), 409)["code"] == "not_refundable"
    assert Refund.objects.count() == 1


def test_a_failed_payment_cannot_be_refunded(staff_api, new_key):
    failed = charge(staff_api, new_key(), {**PAYMENT, "card": DECLINED_CARD}).json()

    assert assert_json_error(refund(staff_api, failed["id"]), 409)["code"] == "not_refundable"
    assert not Refund.objects.exists()
    assert Payment.objects.get().status == "failed"


def test_a_refund_with_a_key_is_made_once(staff_api, paid, new_key):
    key = new_key()
    first = refund(staff_api, paid["id"], {"amount": "5.00"}, key=key)

    again = refund(staff_api, paid["id"], {"amount": "5.00"}, key=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1
    assert staff_api.get(f"/api/payments/{paid['id']}/").json()["amount_refunded"] == "5.00"
    assert (
        assert_json_error(refund(staff_api, paid["id"], {"amount": "6.00"}, key=key), 422)["code"]
        == "idempotency_key_reused"
    )


def test_a_refund_amount_written_differently_is_the_same_refund(staff_api, paid, new_key):
    key = new_key()
    refund(staff_api, paid["id"], {"amount": "5"}, key=key)

    again = refund(staff_api, paid["id"], {"amount": "5.00"}, key=key)

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1


def test_a_refund_key_is_not_a_payment_key(staff_api, paid, new_key):
    """Keys are scoped to what they guard: the same value on a refund and a charge are two requests."""
    key = new_key()
    assert charge(staff_api, key).status_code == 201

    assert refund(staff_api, paid["id"], {"amount": "1.00"}, key=key).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "abc"},
        {"amount": "0"},
        {"amount": "-1.00"},
        {"amount": "0.001"},
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": "1e20"},
        {"amount": 2**63},
        {"amount": "5\x00"},
        {"reason": BIG},
        {"reason": "because\x00"},
        {"reason": ["x"]},
    ],
)
def test_bad_refund_input_is_400_naming_the_field(staff_api, paid, body):
    response = refund(staff_api, paid["id"], body)

    assert next(iter(body)) in assert_json_error(response, 400)
    assert not Refund.objects.exists()


BAD_PAYMENTS = [
    ({}, "order_number"),
    ({**PAYMENT, "order_number": ""}, "order_number"),
    ({**PAYMENT, "order_number": "ORDER\x0012345"}, "order_number"),
    ({**PAYMENT, "order_number": BIG}, "order_number"),
    ({**PAYMENT, "order_number": "ORDER 12345"}, "order_number"),
    ({**PAYMENT, "amount": "0"}, "amount"),
    ({**PAYMENT, "amount": "-5"}, "amount"),
    ({**PAYMENT, "amount": "12.505"}, "amount"),
    ({**PAYMENT, "amount": "NaN"}, "amount"),
    ({**PAYMENT, "amount": "-Infinity"}, "amount"),
    ({**PAYMENT, "amount": "99999999999"}, "amount"),
    ({**PAYMENT, "amount": 2**63}, "amount"),
    ({**PAYMENT, "amount": "twelve"}, "amount"),
    ({**PAYMENT, "amount": None}, "amount"),
    ({**PAYMENT, "currency": "eur"}, "currency"),
    ({**PAYMENT, "currency": "EURO"}, "currency"),
    ({**PAYMENT, "currency": 978}, "currency"),
    ({**PAYMENT, "card": None}, "card"),
    ({**PAYMENT, "card": "4242424242424242"}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "number": "4242\x00424242424242"}}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "number": BIG}}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "exp_year": 2**31}}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "exp_year": 2020}}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "exp_month": 2**31}}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "cvc": "12a"}}, "card"),
    ({**PAYMENT, "card": {**GOOD_CARD, "number": "424242424242424²"}}, "card"),
    ([PAYMENT], None),
]


def case_id(body):
    """The part of a bad request that differs from PAYMENT, e.g. amount='NaN'."""
    if not isinstance(body, dict) or not body:
        return repr(body)[:40]
    changed = {name: value for name, value in body.items() if PAYMENT.get(name) != value}
    if set(changed) == {"card"} and isinstance(changed["card"], dict):
        changed = {f"card.{name}": value for name, value in changed["card"].items() if GOOD_CARD.get(name) != value}
    return " ".join(f"{name}={value!r}"[:40] for name, value in changed.items())


@pytest.mark.parametrize(("body", "field"), BAD_PAYMENTS, ids=[case_id(body) for body, _ in BAD_PAYMENTS])
def test_bad_payment_input_is_400_naming_the_field(staff_api, new_key, body, field):
    response = charge(staff_api, new_key(), body)

    payload = assert_json_error(response, 400)
    if field:
        assert field in payload, payload
    assert not Payment.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("raw", [b'{"amount": ', b"\xff\xfe", b'{"amount": NaN}', b"\x00"])
def test_malformed_json_is_400(staff_api, new_key, raw):
    response = staff_api.post(
        "/api/payments/", raw, content_type="application/json", headers={"Idempotency-Key": new_key()}
    )

    assert assert_json_error(response, 400)["detail"]
    assert not Payment.objects.exists()
