"""WSGI entry point for gunicorn: catalog_service.wsgi:application."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog_service.settings.local")
application = get_wsgi_application()
