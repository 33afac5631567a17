"""API authentication: HTTP Basic that refuses what the database cannot look up, and service tokens.

Service-to-service trust: a peer service sends `Authorization: Bearer <token>`.

Tokens come from the SERVICE_TOKENS setting, one per peer ("monolith=<token>,ops=<token>").
A valid token authenticates the request as that service: a ServicePrincipal, not a database
user, which core.permissions lets do what staff may do. A wrong token is a 401. The token is
compared in constant time and kept nowhere: not on the request, not in a log record, not in
an error message.

The monolith and the catalog service each have this module, word for word, so that both
accept the same header and describe it alike in their OpenAPI documents: keep the copies equal.
"""

import hashlib
import hmac

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions


class ServicePrincipal:
    """A peer service that proved who it is with its token: request.user for its calls.

    Not a database user: it has no row, password, session or model permissions. What it may
    do is decided by IsStaffOrService, never by posing as staff (is_staff stays False).
    """

    is_active = True
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, name):
        self.name = name
        self.username = f"service:{name}"

    def __str__(self):
        return self.username

    def get_username(self):
        return self.username

    def has_perm(self, perm, obj=None):
        return False

    def has_module_perms(self, app_label):
        return False


class BasicAuthentication(authentication.BasicAuthentication):
    """DRF's HTTP Basic, which first refuses a username or password with a NUL character.

    PostgreSQL cannot hold a NUL in a string, so the user lookup of `Basic YQA6Yg==` ("a\\0:b")
    would fail with a 500 in the database driver. No user has such a name: the request is a 401
    naming the problem, before any query.
    """

    def authenticate_credentials(self, userid, password, request=None):
        if "\x00" in userid or "\x00" in password:
            raise exceptions.AuthenticationFailed(
                "Invalid basic header: the username and password may not contain a NUL character."
            )
        return super().authenticate_credentials(userid, password, request)


class ServiceTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`, checked against SERVICE_TOKENS."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None  # Basic, a session or nobody: the other classes' business
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid bearer header: send `Authorization: Bearer <token>`.")
        name = service_for_token(parts[1])
        if name is None:
            raise exceptions.AuthenticationFailed("Invalid service token.")
        # request.auth stays None: the token itself is not kept where a view or a log could show it.
        return ServicePrincipal(name), None


def service_for_token(presented):
    """The name of the service whose token is `presented` (bytes), or None.

    Both sides are hashed first, so that compare_digest always compares 32 bytes and the
    time taken says nothing about the length of a configured token; every token is
    compared, so it says nothing about which one matched either.
    """
    presented_digest = hashlib.sha256(presented).digest()
    found = None
    # No SERVICE_TOKENS setting means no peer services: every token is wrong, none is a 500.
    for name, token in getattr(settings, "SERVICE_TOKENS", {}).items():
        if hmac.compare_digest(presented_digest, hashlib.sha256(token.encode()).digest()):
            found = name
    return found


class BasicScheme(OpenApiAuthenticationExtension):
    """BasicAuthentication above in the OpenAPI document as `basicAuth`, as drf-spectacular names DRF's own."""

    target_class = BasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI document, as `serviceToken`, beside drf-spectacular's basicAuth and cookieAuth."""

    target_class = ServiceTokenAuthentication
    name = "serviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "For the shop's own services: `Authorization: Bearer <token>`, one token per "
            "service, issued by the operator of the process that serves this API. A service may do "
            "here what staff may do.",
        }
