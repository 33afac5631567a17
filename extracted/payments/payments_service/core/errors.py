"""The one error type services raise for a business rule a caller broke.

Views never catch it one by one: the API exception handler maps it to a 4xx and a
JSON body, so a service function stays free of HTTP.
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
