"""Gunicorn settings for the shop's Django processes, in the local run and in docker-compose alike.

    gunicorn --config python:shopctl.gunicorn_config --bind HOST:PORT monolith.wsgi:application

The address comes from the command line, because each process has its own.
"""

import multiprocessing
import os
import shutil

# gthread, not sync: sync workers close the connection after every response, which would make
# the facade's upstream keepalive pointless.
worker_class = "gthread"
# Fewer processes with more threads than gunicorn's 2 x cores + 1 with 2 threads each: nginx
# reuses its upstream keepalive connections, and a connection stays with the worker that
# accepted it, so a worker holding more busy connections than threads queues requests while
# others idle. Measured on 2 cores (bench/facade.py, HTML product list): 5 x 2 gave
# facade/direct 0.56, 3 x 4 gives about 1.0. WEB_CONCURRENCY overrides the number of workers,
# as gunicorn itself honours that variable.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = 4

# The facade's proxy_read_timeout is the same 30 s, so a stuck request gets nginx's 504 rather
# than a connection cut by gunicorn.
timeout = 30
# Longer than nginx's upstream keepalive_timeout (60 s): nginx, not gunicorn, closes an idle
# connection, so nginx never reuses one that gunicorn is closing under it.
keepalive = 75
# Under the 5 s after which `shop up` (shopctl/supervisor.py) kills what is still running.
graceful_timeout = 4

accesslog = "-"
# The combined format plus the time taken and the request id the response carries.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms request_id=%({x-request-id}o)s'

# gunicorn 25.1+ opens a control socket at one path per user; two stacks at once (the end-to-end
# tests run two) would fight over it, and nothing here uses it.
control_socket_disable = True


# Prometheus metrics across workers (django-prometheus, /metrics): with PROMETHEUS_MULTIPROC_DIR
# set, each worker keeps its counters in a file there and /metrics adds them up. A new master
# starts from an empty folder, or the last run's counts would be added to this one's.
def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)


def child_exit(server, worker):
    # A dead worker's counters still count; its gauges (none read here) are dropped.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    # Tracing starts in each worker, after the fork: the SDK's batch processor runs a thread, and
    # a fork does not copy threads (monolith/core/tracing.py).
    from monolith.core import tracing

    tracing.setup("monolith")
