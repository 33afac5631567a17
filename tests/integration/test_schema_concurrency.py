"""The OpenAPI documents under concurrent first requests, against a real gunicorn with threads:
drf-spectacular's generator is not thread-safe, so each process generates one at a time."""

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.servers import MONOLITH, free_port, serve

SCHEMAS = ["/api/schema/", "/api/catalog/schema/", "/api/payments/schema/"]


def test_thirty_concurrent_first_reads_of_the_documents_all_succeed(tmp_path):
    # One worker with gunicorn's 4 threads: every request lands in one fresh process at once.
    with serve(
        MONOLITH, port=free_port(), name="schema_threads", log_dir=tmp_path, env={"WEB_CONCURRENCY": "1"}
    ) as server:
        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(
                pool.map(
                    lambda n: requests.get(
                        f"{server.url}{SCHEMAS[n % 3]}", headers={"Accept": "application/json"}, timeout=60
                    ),
                    range(30),
                )
            )
        log = (tmp_path / "schema_threads.log").read_text()

    assert [answer.status_code for answer in answers] == [200] * 30, log[-2000:]
    assert {answer.json()["openapi"][:2] for answer in answers} == {"3."}
