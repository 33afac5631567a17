"""manage.py set_stage N: hand each context to the owner of stage N, with the shop serving, and record N.

    0 → 1  the monolith's catalog moves into the catalog service, which owns it from then on
    1 → 2  the monolith's payment records move into the payments service, which owns payments then
    and back the same way: 2 → 1 brings the payments service's records back, 1 → 0 the catalog

A move of more than one stage is made one step at a time. Each step in two passes. First a bulk
copy while the shop serves and writes as usual. Then, holding the context's write gate alone
(monolith/strangler/gate.py), so that its writers wait for a moment rather than fail: the copy
of what changed meanwhile, the verification (counts and a checksum per row, both sides equal or
nothing is recorded) and the record of the new stage. Writers let in afterwards read the new
stage and go to the new owner.

The facade's routes are not this command's business: `shop stage N` runs it a step at a time and
reloads nginx, in the order that never sends a prefix straight to a process that does not own
its context (docs/migration-stage1.md, docs/migration-stage2.md).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monolith.strangler import gate, stages
from monolith.strangler.catalog_move import CatalogService, catalog_move
from monolith.strangler.moves import TransferError
from monolith.strangler.payments_move import PaymentsService, payments_move
from monolith.strangler.selectors import current_stage
from monolith.strangler.services import stage_record

BUILT_STAGES = stages.STAGES

# How each context of the stage table moves, given its service's URL and token, in which direction.
# The stage switch mirrors the catalog (what its old owner no longer has goes on the new one too).
MOVES = {
    "catalog": lambda url, token, forward: catalog_move(CatalogService(url, token), to_service=forward, mirror=True),
    "payments": lambda url, token, forward: payments_move(PaymentsService(url, token), to_service=forward),
}


class Command(BaseCommand):
    help = (
        "Move the running shop to stage N (0, 1 or 2), a stage at a time: copy the moving context's data to the "
        "stage's owner through the service's API, verify it, record the stage. Idempotent: at stage N already, "
        "it says so and changes nothing. Without N, print the stage."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "stage",
            type=int,
            nargs="?",
            help=f"the stage to move to: {', '.join(map(str, BUILT_STAGES))}; without it, print the stage",
        )
        parser.add_argument(
            "--catalog-url", default=None, help="the catalog service's base URL (default: settings.CATALOG_SERVICE_URL)"
        )
        parser.add_argument(
            "--payments-url",
            default=None,
            help="the payments service's base URL (default: settings.PAYMENTS_SERVICE_URL)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--live",
            action="store_true",
            help="the shop is serving: refuse unless the database can hold writers back (PostgreSQL)",
        )

    def handle(self, *args, stage, catalog_url, payments_url, no_progress, live, **options):
        if live and not gate.enforced():
            # Checked first, also without a stage, so that `shop stage` can ask before it touches anything.
            raise CommandError(
                f"The live switch needs PostgreSQL: it holds writers back with an advisory lock during the "
                f"final copy, and this {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} database has none. "
                f"Stop the shop and start it at the stage (`shop up --stage N` moves the data before anything "
                f"serves), or run it on PostgreSQL (DATABASE_URL; docs/running.md)."
            )
        if stage is None:
            self.stdout.write(str(current_stage()))
            return
        if stage not in BUILT_STAGES:
            raise CommandError(f"Stage {stage} is not built yet; built: {', '.join(map(str, BUILT_STAGES))}.")
        before = current_stage()
        if stage == before:
            self.stdout.write(f"Already at stage {stage}: nothing to move.")
            return
        self.urls = {
            "catalog": (catalog_url or settings.CATALOG_SERVICE_URL).rstrip("/"),
            "payments": (payments_url or settings.PAYMENTS_SERVICE_URL).rstrip("/"),
        }
        self.progress = not no_progress
        direction = 1 if stage > before else -1
        for current in range(before, stage, direction):
            self.step(current, current + direction)

    def step(self, before, after):
        context = stages.moving_at(min(before, after))
        context_gate = gate.BY_CONTEXT[context.name]
        forward = after > before
        url = self.urls[context.service]
        token_setting = f"{context.service.upper()}_SERVICE_TOKEN"
        token = getattr(settings, token_setting)
        if not token:
            raise CommandError(f"No service token for the {context.service} service: set {token_setting}.")
        move = MOVES[context.name](url, token, forward)
        owner = f"the {context.service} service at {url}" if forward else "the monolith"
        self.stdout.write(f"Stage {before} → {after}: moving the {move.what} to {owner}.")
        started_at = timezone.now()
        try:
            _, bulk = move.plan()
            move.apply(bulk, progress=self.progress)
            self.stdout.write(f"Copied while serving: {move.tally(bulk)}.")
            waited_from = time.monotonic()
            with context_gate.held_exclusively():
                source, last = move.plan()
                move.apply(last, progress=False)
                differences = move.verify()
                if differences:
                    for difference in differences:
                        self.stderr.write(str(difference))
                    raise CommandError(
                        f"Verification failed: {len(differences)} differences remain; still at stage {before}."
                    )
                # The record is the last thing done with writes held: the move's record says for how long.
                stage_record(number=after, started_at=started_at, writes_held_for=time.monotonic() - waited_from)
            held_for = time.monotonic() - waited_from
        except TransferError as error:
            raise CommandError(f"{error} Still at stage {before}.") from None
        self.stdout.write(
            f"Copied with {context_gate.name} writes held ({held_for * 1000:.0f} ms): {move.tally(last)}.\n"
            f"Verified: {move.counts(source)} on both sides, every checksum equal.\n"
            + (
                f"Stage {after} recorded: {owner} owns the {move.what} now; the monolith reaches it over HTTP."
                if forward
                else f"Stage {after} recorded: the monolith owns the {move.what} again, in-process."
            )
        )
