"""`manage.py sweep_reservations`: cancel abandoned orders and release orphan stock reservations (run it from cron)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monolith.orders.sweep import reservations_sweep


class Command(BaseCommand):
    help = (
        "Cancel orders still awaiting payment after the TTL (their stock goes back) and release held stock "
        "reservations older than the TTL that no order awaiting payment owns. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="MINUTES",
            default=settings.RESERVATION_TTL_MINUTES,
            help=f"The TTL in minutes (default: RESERVATION_TTL_MINUTES, {settings.RESERVATION_TTL_MINUTES}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would be done, and do nothing.")

    def handle(self, *, older_than, dry_run, **options):
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more minutes.")
        steps = reservations_sweep(older_than=timezone.now() - timedelta(minutes=older_than), dry_run=dry_run)
        for step in steps:
            self.stdout.write(step.describe(dry_run=dry_run))
        failed = [step for step in steps if step.error]
        done = len(steps) - len(failed)
        self.stdout.write(
            f"{'Dry run: would do' if dry_run else 'Done:'} {done} step(s), older than {older_than} minute(s)"
            + (f"; {len(failed)} failed (the next run tries again)." if failed else ".")
        )
        if failed:
            raise CommandError(f"{len(failed)} step(s) failed.")
