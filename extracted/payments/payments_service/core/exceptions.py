"""DRF exception handler: every API error is a JSON body with a 4xx that names the problem."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from .errors import ApplicationError


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        # As DRF's own handler does: with ATOMIC_REQUESTS, nothing the view wrote
        # before the error may be committed.
        set_rollback()
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() inside a service: same shape as a serializer error.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        response.data.setdefault("code", "method_not_allowed")
    return response
