"""Delete idempotency keys older than --older-than hours (24 by default, and never fewer).

A client may retry a request with the same key for at least 24 hours and get the first
response back: a younger key is never deleted. Run it from cron, e.g. daily.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments_service.payments.models import IdempotencyKey


class Command(BaseCommand):
    help = "Delete idempotency keys older than --older-than hours (default and minimum 24)."

    def add_arguments(self, parser):
        minimum = settings.IDEMPOTENCY_KEY_MIN_AGE_HOURS
        parser.add_argument(
            "--older-than",
            type=int,
            default=minimum,
            metavar="HOURS",
            help=f"Delete keys created more than this many hours ago (at least {minimum}).",
        )

    def handle(self, *args, older_than, **options):
        minimum = settings.IDEMPOTENCY_KEY_MIN_AGE_HOURS
        if older_than < minimum:
            raise CommandError(
                f"--older-than must be at least {minimum} hours: clients may retry with a key for that long."
            )
        cutoff = timezone.now() - timedelta(hours=older_than)
        deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} idempotency keys created before {cutoff.isoformat(timespec='seconds')}.")
