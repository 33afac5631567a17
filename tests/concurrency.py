"""Run calls truly at once, each in its own thread and database connection (for the race tests on PostgreSQL)."""

import threading

from django.db import connection, connections


def run_concurrently(calls):
    """Run each call in its own thread, all at once; return ("ok", value) or ("error", exception) per call."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            connection.ensure_connection()  # connect first, so that the calls start together
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as exc:  # the test inspects whatever each thread got
            results[index] = ("error", exc)
        finally:
            connections.close_all()  # this thread's connections; else the test database cannot be dropped

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: a deadlock or a lock never released"
    return results
