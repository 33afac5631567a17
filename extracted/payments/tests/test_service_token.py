"""Service-to-service trust: `Authorization: Bearer <token>` lets a peer service do what staff may do.

The catalog service's tests/test_service_token.py, adapted to the payments API.
"""

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient, APIRequestFactory

from conftest import PAYMENT, SERVICE_TOKEN, assert_json_error
from payments_service.core.auth import ServicePrincipal, ServiceTokenAuthentication
from payments_service.payments.models import Payment

PAYMENTS = "/api/payments/"


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def post(client, key="k-1", body=PAYMENT):
    return client.post(PAYMENTS, body, format="json", headers={"Idempotency-Key": key})


def test_each_configured_service_has_its_own_token(service_tokens, db):
    assert post(bearer(service_tokens["ops"])).status_code == 201


def test_a_service_needs_no_csrf_token(service_tokens, db):
    # CSRF protects cookies a browser sends by itself; a bearer token is never sent that way.
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")

    assert post(client).status_code == 201


def test_a_service_is_not_a_database_user(service_tokens, db):
    users = get_user_model().objects.count()
    request = APIRequestFactory().get(PAYMENTS, HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")

    user, auth = ServiceTokenAuthentication().authenticate(request)

    assert isinstance(user, ServicePrincipal)
    assert (user.name, str(user), user.is_authenticated, user.is_staff, user.pk) == (
        "monolith",
        "service:monolith",
        True,
        False,
        None,
    )
    assert auth is None  # the token is not kept on the request
    assert get_user_model().objects.count() == users


@pytest.mark.parametrize("token", ["", "anything", SERVICE_TOKEN])
def test_no_token_is_accepted_when_none_is_configured(settings, db, token):
    settings.SERVICE_TOKENS = {}

    assert_json_error(post(bearer(token)), 401)
    assert not Payment.objects.exists()


class EverythingFormatter(logging.Formatter):
    def format(self, record):
        return f"{super().format(record)} {vars(record)!r}"


def test_the_token_never_reaches_a_log_line(settings, service_tokens, db):
    settings.LOG_REQUESTS = True  # django-log-request-id's line per request, with the user
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(EverythingFormatter())
    loggers = [
        logging.getLogger(name)
        for name in ("", "django", "django.request", "django.security", "log_request_id.middleware")
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    wrong = SERVICE_TOKEN[:-1] + "!"
    try:
        client = bearer(SERVICE_TOKEN)
        assert post(client).status_code == 201
        assert post(client, key="k-2", body={**PAYMENT, "amount": "abc"}).status_code == 400
        assert client.get(f"{PAYMENTS}00000000-0000-0000-0000-000000000000/").status_code == 404
        assert client.get("/ops/faults/").status_code == 200
        assert post(bearer(wrong)).status_code == 401
        assert bearer(wrong).get("/ops/faults/").status_code == 401
    finally:
        for logger, level in zip(loggers, levels, strict=False):
            logger.removeHandler(handler)
            logger.setLevel(level)

    output = stream.getvalue()
    assert "Unauthorized" in output and "status=201" in output  # the capture did capture
    assert SERVICE_TOKEN not in output
    assert wrong not in output
    assert SERVICE_TOKEN[:16] not in output  # not even in part
