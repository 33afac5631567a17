"""The one error type services raise for a business rule a caller broke.

Views never catch it one by one: the API exception handler and the HTML views map
it to a 4xx and a message, so a service stays free of HTTP.
"""


class ApplicationError(Exception):
    """A request the shop understood but will not carry out."""

    status_code = 400
    code = "invalid"

    def __init__(self, message, *, code=None, status_code=None, extra=None, field=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.field = field
        self.extra = extra or {}

    def as_dict(self):
        body = {"detail": self.message, "code": self.code, **self.extra}
        if self.field:
            body = {self.field: [self.message], **body}
        return body


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


class ServiceUnavailable(Exception):
    """Another process the request needs cannot be reached: nothing was done, try again later.

    Not an ApplicationError on purpose: a view that turns ApplicationErrors into form
    errors must not show an outage as a mistake of the shopper's. It reaches
    ServiceUnavailableMiddleware (pages) or the API's exception handler (JSON) as a 503.
    """

    status_code = 503
    code = "unavailable"

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def as_dict(self):
        return {"detail": self.message, "code": self.code}
