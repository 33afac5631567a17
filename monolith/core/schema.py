"""OpenAPI generation: drf-spectacular's AutoSchema, told which reads need no credentials.

The catalog service has a copy (catalog_service/core/schema.py), so that both processes
generate one document for /api/catalog/: keep the copies equal.
"""
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.permissions import SAFE_METHODS

from .permissions import IsStaffOrServiceOrReadOnly


class AutoSchema(SpectacularAutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        # drf-spectacular marks credentials optional only for AllowAny and
        # IsAuthenticatedOrReadOnly; IsStaffOrServiceOrReadOnly lets anyone read too.
        anyone_reads = any(isinstance(p, IsStaffOrServiceOrReadOnly) for p in self.view.get_permissions())
        if self.method in SAFE_METHODS and anyone_reads and {} not in auths:
            auths.append({})
        return auths


def document_negotiation_errors(result, generator, request, public):
    """DRF's content negotiation can refuse any request: 406 for an Accept header it cannot
    satisfy, and 415 for a body whose Content-Type it cannot parse."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation["responses"]
            responses.setdefault("406", {**error, "description": "The Accept header asks for no type this API can send."})
            if "requestBody" in operation:
                responses.setdefault("415", {**error, "description": "The Content-Type is not one this operation reads."})
    return result
