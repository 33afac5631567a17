"""GET and PUT /ops/faults/: the faults in force, for the shop's own services and tools only.

Only a service token opens it (SERVICE_TOKENS): not staff, not a session. An anonymous caller
or a wrong token gets a 401 with a Bearer challenge; a signed-in person gets a 403. Left out of
the OpenAPI document, which describes /api/catalog/ exactly as the monolith does; README.md
documents it.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import authentication, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog_service.core.auth import BasicAuthentication, ServicePrincipal, ServiceTokenAuthentication

from . import faults
from .serializers import FaultsSerializer


class OpsTokenAuthentication(ServiceTokenAuthentication):
    """The service token, first, so that an anonymous caller is challenged for it (401), not for a password."""

    def authenticate_header(self, request):
        return 'Bearer realm="ops"'


class IsService(permissions.BasePermission):
    message = "Only a service token may read or change the fault settings."

    def has_permission(self, request, view):
        return isinstance(request.user, ServicePrincipal)


@extend_schema(exclude=True)
class FaultsView(APIView):
    # Basic and the session are accepted only to tell staff "403: not for you" rather than
    # "401: sign in", which no password could fix.
    authentication_classes = [
        OpsTokenAuthentication,
        BasicAuthentication,  # ours: a NUL in the credentials is a 401, not a database error
        authentication.SessionAuthentication,
    ]
    permission_classes = [IsService]

    def get(self, request):
        return Response(_body(faults.faults_get()))

    def put(self, request):
        data = FaultsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_body(faults.faults_set(**data.validated_data)))


def _body(in_force):
    return {**in_force.as_dict(), "defaults": faults.faults_defaults().as_dict()}
