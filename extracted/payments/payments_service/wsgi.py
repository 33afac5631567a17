"""WSGI entry point for gunicorn: payments_service.wsgi:application."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_service.settings.local")
application = get_wsgi_application()
