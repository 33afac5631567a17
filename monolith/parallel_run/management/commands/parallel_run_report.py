"""`manage.py parallel_run_report [--since MINUTES] [--fail-if-any]`: the parallel run's differences, counted.

With --fail-if-any it exits 1 when there is any, so a script or CI job can wait for a clean run
before switching to stage 1.
"""

from django.core.management.base import BaseCommand

from monolith.parallel_run.selectors import difference_counts


class Command(BaseCommand):
    help = "Count the differences the catalog's parallel run (CATALOG_BACKEND=shadow) recorded, by method and kind."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=int, metavar="MINUTES", help="Only the differences of the last MINUTES minutes."
        )
        parser.add_argument(
            "--fail-if-any", action="store_true", help="Exit with status 1 when there is any difference."
        )

    def handle(self, *args, since, fail_if_any, **options):
        counts = difference_counts(since_minutes=since)
        period = f"in the last {since} minutes" if since is not None else "in all"
        total = sum(row["count"] for row in counts)
        for row in counts:
            self.stdout.write(f"{row['method']:<16} {row['kind']:<14} {row['count']:>8}")
        self.stdout.write(f"{total} difference{'' if total == 1 else 's'} {period}.")
        if fail_if_any and total:
            self.stderr.write("There are differences: see /staff/parallel-run/.")
            raise SystemExit(1)
