"""/api/catalog/ is one contract whichever process serves it: the monolith's OpenAPI document
for it and the catalog service's are the same, but for what may differ (info, servers, and the
session cookie's name, which the service changes so that it never reads the monolith's cookie
behind the shared facade host)."""

import json
import os
import subprocess
import sys
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "extracted" / "catalog"

# The view called directly, without the handler's ATOMIC_REQUESTS wrapper: the document
# needs no database, so the service needs none to produce it here.
SERVICE_DOCUMENT = """
import django, json
django.setup()
from django.test import RequestFactory
from django.urls import resolve
request = RequestFactory().get("/api/catalog/schema/", {"format": "json"})
response = resolve(request.path).func(request)
response.render()
print(response.content.decode())
"""


def comparable(document):
    document = json.loads(json.dumps(document))
    document.pop("info")
    document.pop("servers", None)
    document["components"]["securitySchemes"]["cookieAuth"].pop("name")
    return document


def service_document():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "catalog_service.settings.test"}
    env.pop("DATABASE_URL", None)  # the schema reads no data; never point the service at ours
    result = subprocess.run(
        [sys.executable, "-c", SERVICE_DOCUMENT], cwd=SERVICE, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_monolith_and_the_catalog_service_document_the_same_catalog_api(client, db):
    monolith = client.get("/api/catalog/schema/", {"format": "json"}).json()
    service = service_document()

    assert comparable(monolith) == comparable(service)
    assert set(monolith["paths"]) == set(service["paths"]) and all(
        p.startswith("/api/catalog/") for p in service["paths"]
    )
    assert (
        service["components"]["securitySchemes"]["serviceToken"]
        == monolith["components"]["securitySchemes"]["serviceToken"]
    )


def operation_ids(document, prefix="/api/catalog/"):
    return {
        (method, path): operation["operationId"]
        for path, operations in document["paths"].items()
        if path.startswith(prefix)
        for method, operation in operations.items()
    }


def test_every_document_names_each_catalog_operation_alike(client, db):
    # The contract: the same document ("paths, schemas and operationIds") from whichever process
    # serves the prefix; and the monolith's whole /api/schema/ uses the same names for them.
    whole = client.get("/api/schema/", {"format": "json"}).json()
    prefix = client.get("/api/catalog/schema/", {"format": "json"}).json()
    service = service_document()

    assert operation_ids(service) == operation_ids(prefix) == operation_ids(whole)
    assert all(name.startswith("catalog_") for name in operation_ids(service).values())
