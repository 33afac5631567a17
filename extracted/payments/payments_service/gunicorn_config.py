"""Gunicorn settings for the payments service, in the local run and in its image alike.

    gunicorn --config python:payments_service.gunicorn_config --bind HOST:PORT payments_service.wsgi:application

A copy of the monolith's shopctl/gunicorn_config.py (the image has no shopctl); the reasons
for each number are the same, and the two should change together. The address comes from
the command line, or from PORT (gunicorn binds 0.0.0.0:$PORT when no --bind is given).
"""

import multiprocessing
import os
import shutil

# gthread, not sync: sync workers close the connection after every response, which would make
# the facade's upstream keepalive pointless.
worker_class = "gthread"
# gunicorn's rule of thumb, 2 x cores + 1; WEB_CONCURRENCY overrides it, as gunicorn itself
# honours that variable.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
threads = 2

# The facade's proxy_read_timeout is the same 30 s, so a stuck request gets nginx's 504 rather
# than a connection cut by gunicorn.
timeout = 30
# Longer than nginx's upstream keepalive_timeout (60 s): nginx, not gunicorn, closes an idle
# connection, so nginx never reuses one that gunicorn is closing under it.
keepalive = 75
# Under the 5 s after which `shop up` (shopctl/supervisor.py) kills what is still running.
graceful_timeout = 4

accesslog = "-"
# The combined format plus the time taken and the request id the response carries. Nothing
# here prints the Authorization header, which carries passwords and service tokens: %(u)s is
# only the user name of Basic credentials, and "-" for a bearer token.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms request_id=%({x-request-id}o)s'

# gunicorn 25.1+ opens a control socket at one path per user; two stacks at once would fight
# over it, and nothing here uses it.
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
    # a fork does not copy threads (payments_service/core/tracing.py).
    from payments_service.core import tracing

    tracing.setup("payments")
