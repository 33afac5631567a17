# The monolith's image: Django under gunicorn, everything configured from the environment.
#
#   docker build -t strangler-shop/monolith .
#   docker run -p 8001:8001 -e SECRET_KEY=... -e DATABASE_URL=postgres://... \
#       -e ALLOWED_HOSTS=shop.example.com,127.0.0.1 strangler-shop/monolith
#
# Production settings unless DJANGO_SETTINGS_MODULE says otherwise (docker-compose.yml runs
# the local ones, which seed the demo users). ALLOWED_HOSTS must include 127.0.0.1: the
# HEALTHCHECK below asks the container itself. Migrations are a separate one-off run of the
# same image (`python manage.py migrate`), not a side effect of starting a web process.
FROM python:3.11-slim

# gunicorn binds 0.0.0.0:$PORT when no --bind is given; GUNICORN_CMD_ARGS="--bind ..." picks
# another address.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=monolith.settings.production \
    PORT=8001

RUN groupadd --system shop && useradd --system --gid shop --home-dir /app --no-create-home shop

WORKDIR /app
COPY pyproject.toml manage.py ./
COPY monolith ./monolith
COPY shopctl ./shopctl
# Editable, so that the code runs from /app: the templates and static files live beside the
# modules (monolith/templates, monolith/static) and are not package data that a wheel would
# carry. psycopg2-binary comes as a wheel, so no compiler or libpq is needed.
RUN pip install --editable .

# The static files once, at build time, with the settings production uses (manifest names,
# compressed copies), into STATIC_ROOT (/app/.run/static), which whitenoise serves. The
# secret is a throwaway: collectstatic signs nothing and opens no database.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --settings=monolith.settings.production

USER shop
EXPOSE 8001

# Alive, not ready: /healthz never touches the database (docker-compose.yml asks /readyz).
# X-Forwarded-Proto: the probe speaks plain HTTP from inside the container, where production
# settings would answer with a redirect to https; it stands in for the TLS-terminating proxy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen(r.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8001'), headers={'X-Forwarded-Proto': 'https'}), timeout=2)"]

# The same gunicorn settings as the local run (shopctl/gunicorn_config.py); the address comes
# from PORT (see above). WEB_CONCURRENCY sets the number of workers.
CMD ["gunicorn", "--config", "python:shopctl.gunicorn_config", "monolith.wsgi:application"]
