"""The HTML error pages (the health endpoints, which report the stage, are monolith/health.py)."""
from django.shortcuts import render


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
