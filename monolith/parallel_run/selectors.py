"""Reading the parallel run's differences: counts for the staff page and the report command."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from .models import ShadowDifference


def difference_list(*, since_minutes=None):
    differences = ShadowDifference.objects.all()
    if since_minutes is not None:
        differences = differences.filter(created_at__gte=timezone.now() - timedelta(minutes=since_minutes))
    return differences


def difference_counts(*, since_minutes=None):
    """[{"method", "kind", "count"}], by method then kind."""
    return list(
        difference_list(since_minutes=since_minutes)
        .order_by("method", "kind")
        .values("method", "kind")
        .annotate(count=Count("id"))
    )
