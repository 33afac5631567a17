"""The API's throttle for signed-in callers: a rate per user, from settings.API_USER_THROTTLE_RATE.

The facade limits requests per client address (proxy/); this limits what one account may do
through the API, wherever its requests come from. Anonymous callers are the facade's alone, and
the shop's own services (a service token) are not throttled: their volume is the shop's, not a
user's.

DRF counts in the default cache, which is each gunicorn worker's own memory: a user may make up
to the rate at each worker, so the limit is rough (a factor of WEB_CONCURRENCY), and costs no
query.

The catalog and payments services have a copy (core/throttling.py): keep the copies equal.
"""

from django.conf import settings
from rest_framework import throttling

from .auth import ServicePrincipal


class UserRateThrottle(throttling.UserRateThrottle):
    def get_rate(self):
        # Read when the throttle is made, not when DRF's settings were first read, so that a test can change it.
        return settings.API_USER_THROTTLE_RATE

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated) or isinstance(user, ServicePrincipal):
            return None  # not throttled here
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
