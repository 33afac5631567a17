"""/healthz (the process answers, without its database) and /readyz (its database answers)."""

from django.db import OperationalError


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


def test_healthz_answers_without_touching_the_database(client):
    # No `db` fixture: pytest-django makes any database access here an error.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "catalog"}
    assert response["X-Served-By"] == "catalog"


def test_readyz_answers_when_the_database_does(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "catalog"}


def test_readyz_is_a_503_when_the_database_does_not_answer(client, monkeypatch):
    # No `db` fixture: nothing but the view's own query may reach for the database.
    monkeypatch.setattr("catalog_service.core.views.connection", UnreachableDatabase())

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "Connection refused" in response.json()["detail"]
