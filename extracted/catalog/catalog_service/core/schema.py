"""OpenAPI generation: drf-spectacular's AutoSchema, told which reads need no credentials, naming
operations by one rule in every document, and stating the decimals the API accepts.

A copy of the monolith's core/schema.py, so that both processes generate one document.
"""

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
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

    def _tokenize_path(self):
        """The path's words after /api/, whatever document the operation is in.

        drf-spectacular strips the prefix common to a document's paths, so the same operation was
        `products_list` in /api/catalog/schema/, `catalog_products_list` in the monolith's
        /api/schema/, and `root_list` where only one path was left. One rule makes the operation
        ids of every document, the monolith's and the services', the same.
        """
        path = re.sub(r"^/api/", "", self.path)
        path = re.sub(r"\{[\w\-]+\}", "", path)  # path parameters
        return [token for token in path.split("/") if token]

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        result = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and result.get("format") == "decimal" and "pattern" in result:
            result["pattern"] = decimal_pattern(field)
        return result


def decimal_pattern(field):
    """What a DecimalField takes as text: drf-spectacular's pattern admits "", "." and "-" alone, and a
    minus sign where min_value forbids one."""
    whole = field.max_digits - field.decimal_places if field.max_digits is not None else None
    whole_digits = f"[0-9]{{1,{whole}}}" if whole else "[0-9]+"
    fraction = f"(?:\\.[0-9]{{1,{field.decimal_places}}})?" if field.decimal_places else ""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    return f"^{sign}{whole_digits}{fraction}$"


def document_negotiation_errors(result, generator, request, public):
    """DRF's content negotiation can refuse any request: 406 for an Accept header it cannot
    satisfy, and 415 for a body whose Content-Type it cannot parse; and any request may be
    throttled (429); and the facade refuses a malformed path (400) before any process sees it."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation["responses"]
            responses.setdefault(
                "406", {**error, "description": "The Accept header asks for no type this API can send."}
            )
            # The facade limits every client per address, and the API each signed-in user (core/throttling.py).
            responses.setdefault("429", {**error, "description": "Too many requests: wait as Retry-After says."})
            if "requestBody" in operation:
                responses.setdefault(
                    "415", {**error, "description": "The Content-Type is not one this operation reads."}
                )
            # A path with an encoded slash, a dot segment or a control character never reaches a
            # view: the facade refuses it (code bad_path, proxy/nginx.conf).
            if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
                responses.setdefault(
                    "400", {**error, "description": "The request is malformed (a path no address has)."}
                )
    return result
