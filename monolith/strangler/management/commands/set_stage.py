"""manage.py set_stage N: hand the catalog to the owner of stage N, with the shop serving, and record N.

    0 → 1  the monolith's catalog moves into the catalog service, which owns it from then on
    1 → 0  the catalog service's catalog (changed at stage 1) comes back into the monolith

In two passes. First a bulk copy while the shop serves and writes as usual. Then, holding the
catalog write gate alone (monolith/strangler/gate.py), so writers wait for a moment rather than
fail: the copy of what changed meanwhile, the verification (counts and a checksum per row, both
sides equal or nothing is recorded) and the record of the new stage. Writers let in afterwards
read the new stage and go to the new owner.

The facade's routes are not this command's business: `shop stage N` runs it and reloads nginx,
in the order that never sends /api/catalog/ to a process that does not own the catalog
(docs/migration-stage1.md).
"""
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monolith.catalog.transfer import CatalogService, Move, TransferError, counts, tally
from monolith.strangler import gate
from monolith.strangler.selectors import current_stage
from monolith.strangler.services import stage_record

BUILT_STAGES = (0, 1)


class Command(BaseCommand):
    help = (
        "Move the running shop to stage N (0 or 1): copy the catalog to the stage's owner through the catalog "
        "service's API (deleting on the new owner what the old one no longer has), verify it, record the stage. "
        "Idempotent: at stage N already, it says so and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("stage", type=int, nargs="?",
                            help=f"the stage to move to: {' or '.join(map(str, BUILT_STAGES))}; without it, print the stage")
        parser.add_argument("--catalog-url", default=None,
                            help="the catalog service's base URL (default: settings.CATALOG_SERVICE_URL)")
        parser.add_argument("--token", default=None,
                            help="the monolith's service token for it (default: settings.CATALOG_SERVICE_TOKEN)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--live", action="store_true",
                            help="the shop is serving: refuse unless the database can hold writers back (PostgreSQL)")

    def handle(self, *args, stage, catalog_url, token, no_progress, live, **options):
        if stage is None:
            self.stdout.write(str(current_stage()))
            return
        if stage not in BUILT_STAGES:
            raise CommandError(f"Stage {stage} is not built yet; built: {', '.join(map(str, BUILT_STAGES))}.")
        before = current_stage()
        if stage == before:
            self.stdout.write(f"Already at stage {stage}: nothing to move.")
            return
        url = (catalog_url or settings.CATALOG_SERVICE_URL).rstrip("/")
        token = token or settings.CATALOG_SERVICE_TOKEN
        if not token:
            raise CommandError("No service token: pass --token or set CATALOG_SERVICE_TOKEN.")
        if live and not gate.enforced():
            raise CommandError(
                f"The live switch needs PostgreSQL: it holds catalog writers back with an advisory lock during the "
                f"final copy, and this {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} database has none. "
                f"Stop the shop and start it at the stage (`shop up --stage {stage}` moves the data before anything "
                f"serves), or run it on PostgreSQL (DATABASE_URL; docs/running.md)."
            )
        move = Move(CatalogService(url, token), to_service=stage >= 1, mirror=True)
        owner = f"the catalog service at {url}" if move.to_service else "the monolith"
        self.stdout.write(f"Stage {before} → {stage}: the catalog moves to {owner}.")
        try:
            _, bulk = move.plan()
            move.apply(bulk, progress=not no_progress)
            self.stdout.write(f"Copied while serving: {tally(bulk)}.")
            waited_from = time.monotonic()
            with gate.held_exclusively():
                source, last = move.plan()
                move.apply(last, progress=False)
                differences = move.verify()
                if differences:
                    for difference in differences:
                        self.stderr.write(str(difference))
                    raise CommandError(
                        f"Verification failed: {len(differences)} differences remain; still at stage {before}."
                    )
                stage_record(number=stage)
            held_for = time.monotonic() - waited_from
        except TransferError as error:
            raise CommandError(f"{error} Still at stage {before}.") from None
        self.stdout.write(
            f"Copied with catalog writes held ({held_for * 1000:.0f} ms): {tally(last)}.\n"
            f"Verified: {counts(source)} on both sides, every checksum equal.\n"
            f"Stage {stage} recorded: the monolith now reads the catalog from {owner}"
            f"{' over HTTP' if move.to_service else ' in-process'}."
        )
