"""/api/payments/ is one contract whichever process serves it: the monolith's OpenAPI document
for it and the payments service's are the same, but for what may differ (info, servers, and the
session cookie's name, which the service changes so that it never reads the monolith's cookie
behind the shared facade host).

The catalog's test_catalog_contract_schema.py, for payments. Both documents are rendered in a
subprocess by calling the schema view directly (without the handler's ATOMIC_REQUESTS
wrapper): neither needs a database, a server or a port to produce it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "extracted" / "payments"

DOCUMENT = """
import django, json
django.setup()
from django.test import RequestFactory
from django.urls import resolve
request = RequestFactory().get("/api/payments/schema/", {"format": "json"})
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


def document(cwd, settings_module):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    env.pop("DATABASE_URL", None)  # the schema reads no data; never point either process at ours
    result = subprocess.run([sys.executable, "-c", DOCUMENT], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_monolith_and_the_payments_service_document_the_same_payments_api():
    monolith = document(REPO, "monolith.settings.test")
    service = document(SERVICE, "payments_service.settings.test")

    assert comparable(monolith) == comparable(service)
    assert monolith["info"]["title"] == service["info"]["title"] == "strangler-shop payments API"
    assert set(monolith["paths"]) == set(service["paths"]) and all(
        p.startswith("/api/payments/") for p in service["paths"]
    )
    assert (
        service["components"]["securitySchemes"]["serviceToken"]
        == monolith["components"]["securitySchemes"]["serviceToken"]
    )
    assert service["components"]["securitySchemes"]["cookieAuth"]["name"] == "payments_sessionid"


def operation_ids(document, prefix="/api/payments/"):
    return {
        (method, path): operation["operationId"]
        for path, operations in document["paths"].items()
        if path.startswith(prefix)
        for method, operation in operations.items()
    }


def test_every_document_names_each_payments_operation_alike(client, db):
    # The contract: the same document ("paths, schemas and operationIds") from whichever process
    # serves the prefix; and the monolith's whole /api/schema/ uses the same names for them.
    whole = client.get("/api/schema/", {"format": "json"}).json()
    prefix = client.get("/api/payments/schema/", {"format": "json"}).json()
    service = document(SERVICE, "payments_service.settings.test")

    assert operation_ids(service) == operation_ids(prefix) == operation_ids(whole)
    assert all(name.startswith("payments_") for name in operation_ids(service).values())
