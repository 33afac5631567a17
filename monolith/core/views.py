"""The HTML error pages (the health endpoints, which report the stage, are monolith/health.py)."""

from django.http import JsonResponse
from django.shortcuts import render

from .middleware import wants_json


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    # A request Django refused before any view (a bad Host header, too many form fields).
    if wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
