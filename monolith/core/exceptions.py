"""DRF exception handler: every API error is a JSON body with a 4xx that names the problem."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from .errors import ApplicationError, ServiceUnavailable


def api_exception_handler(exc, context):
    if isinstance(exc, (ApplicationError, ServiceUnavailable)):
        # As DRF's own handler does: with ATOMIC_REQUESTS, nothing the view wrote
        # before the error may be committed.
        set_rollback()
        _keep_transactions_of_non_atomic_views(context)
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() inside a service: same shape as a serializer error.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = exception_handler(exc, context)
    _keep_transactions_of_non_atomic_views(context)
    if response is not None and response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        response.data.setdefault("code", "method_not_allowed")
    return response


def _keep_transactions_of_non_atomic_views(context):
    """Undo set_rollback() for a view outside the request's transaction (transaction.non_atomic_requests).

    Such a view commits its own transactions as it goes, and by the time an error reaches this
    handler they have ended: an atomic block still open is not the view's (in the tests, the
    test's own), and must not be marked for rollback.
    """
    match = getattr(context.get("request"), "resolver_match", None)
    for alias in getattr(getattr(match, "func", None), "_non_atomic_requests", ()):
        if connections[alias].in_atomic_block:
            connections[alias].set_rollback(False)
