"""Moving the catalog between the monolith and the catalog service (stage 0 ⇄ 1), in the shape of moves.py.

The monolith's side is the catalog's own rows (monolith/catalog/transfer.py); the service's side
is its API, /api/catalog/, read and written with the monolith's service token.

catalog_push and catalog_pull never delete: a row only the target has is left alone and shows in
the verification, where an operator decides. The stage switch (`manage.py set_stage`, which
hands the whole catalog to its new owner) also deletes what the source no longer has
(`mirror=True`). Stock reservations move too, recorded as they stand: a held reservation's
stock is already out of the product's stock that moves with it.
"""

from collections import Counter

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monolith.catalog import transfer
from monolith.core.service_client import MOVE_TIMEOUT, READ_RETRY, ServiceSession, UnsafePath, bearer

from .moves import Change, Move, TransferError

MAX_PAGE_SIZE = 100  # the contract's largest page_size


class MonolithCatalog:
    """The monolith's catalog, as a side of the move."""

    batch = 1  # each row through the catalog's services, in its own transaction

    def snapshot(self):
        return transfer.export_rows()

    def write(self, changes: list[Change]) -> None:
        for change in changes:
            transfer.import_change(change)


class CatalogService:
    """The catalog service's API as the data move uses it: one session carrying the service token."""

    batch = 1  # one request per row: a stop is counted exactly

    def __init__(self, url, token, *, page_size=MAX_PAGE_SIZE):
        self.url = url.rstrip("/")
        self.page_size = page_size
        # Reads retried as the adapters' are; a failed write is redone by running the move again.
        self.session = ServiceSession(retry=READ_RETRY, timeout=MOVE_TIMEOUT, auth=bearer(token))

    def _request(self, method, url, what, **kwargs):
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as error:
            raise TransferError(f"Cannot reach the catalog service at {self.url} ({type(error).__name__}).") from None
        except UnsafePath:
            raise TransferError(f"{what} cannot be named in a URL: move it by hand.") from None
        if response.status_code in (401, 403):
            raise TransferError(
                f"The catalog service at {self.url} refused the service token ({response.status_code}): "
                "check --token or CATALOG_SERVICE_TOKEN against the service's SERVICE_TOKENS."
            )
        if not response.ok:
            raise TransferError(f"The catalog service refused {what} ({response.status_code}): {response.text[:500]}")
        return response

    def snapshot(self):
        """Every category, product and reservation (as a service it sees inactive ones too), reading every page."""
        snapshot = {}
        for kind in transfer.KINDS:
            items = []
            url = f"{self.url}/api/catalog/{kind.plural}/"
            params = {"page_size": self.page_size}
            while url:
                page = self._request("GET", url, f"the list of {kind.plural}", params=params).json()
                items.extend(page["results"])
                # `next` already carries page and page_size: follow it as it is.
                url, params = page["next"], None
            snapshot[kind.name] = transfer.rows(kind, items)
        return snapshot

    def create(self, kind, row):
        self._request("POST", f"{self.url}/api/catalog/{kind.plural}/", f"{kind.name} {row[kind.key]}", json=row)

    def update(self, kind, key, changes):
        self._request("PATCH", f"{self.url}/api/catalog/{kind.plural}/{key}/", f"{kind.name} {key}", json=changes)

    def replace(self, kind, key, row):
        fields = {field: value for field, value in row.items() if field != kind.key}
        self._request("PUT", f"{self.url}/api/catalog/{kind.plural}/{key}/", f"{kind.name} {key}", json=fields)

    def delete(self, kind, key):
        self._request("DELETE", f"{self.url}/api/catalog/{kind.plural}/{key}/", f"{kind.name} {key}")

    def write(self, changes: list[Change]) -> None:
        for change in changes:
            if change.kind.whole:
                self.replace(change.kind, change.key, change.fields)
            elif change.action == "create":
                self.create(change.kind, change.fields)
            elif change.action == "update":
                self.update(change.kind, change.key, change.fields)
            else:
                self.delete(change.kind, change.key)


def catalog_move(service: CatalogService, *, to_service: bool, mirror: bool = False) -> Move:
    """The catalog's move to the catalog service (push) or back to the monolith (pull)."""
    return Move(
        what="catalog",
        service_name="the catalog service",
        kinds=transfer.KINDS,
        monolith=MonolithCatalog(),
        service=service,
        to_service=to_service,
        mirror=mirror,
    )


class TransferCommand(BaseCommand):
    """What catalog_push and catalog_pull share: options, the plan, the progress bar, the verification."""

    help_scope = (
        " Copies categories and products with all their fields, stock and is_active included, and the "
        "stock reservations as they stand (their stock is already out of the products' stock); creates what "
        "is missing, updates what differs, leaves equal rows alone and deletes nothing, so a re-run changes "
        "nothing and a stopped run resumes when run again. Writes made meanwhile by a serving shop may be "
        "missed: `manage.py set_stage` holds them back for its final copy. Order lines are never touched. "
        "Ends by comparing counts and a sha256 per row of both sides, printing every difference; exits "
        "non-zero if any remains."
    )
    url_option = None  # "--to" or "--from"
    to_service = None  # True for catalog_push, False for catalog_pull

    def add_arguments(self, parser):
        parser.add_argument(
            self.url_option,
            dest="url",
            default=None,
            help="The catalog service's base URL (default: settings.CATALOG_SERVICE_URL).",
        )
        parser.add_argument(
            "--token",
            default=None,
            help="The monolith's service token for it (default: settings.CATALOG_SERVICE_TOKEN).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print what would change, and change nothing.")
        parser.add_argument(
            "--batch",
            type=int,
            default=MAX_PAGE_SIZE,
            help=f"Rows per page read from the service, 1 to {MAX_PAGE_SIZE} (default {MAX_PAGE_SIZE}).",
        )

    def handle(self, *args, url, token, dry_run, batch, **options):
        if not 1 <= batch <= MAX_PAGE_SIZE:
            raise CommandError(f"--batch must be from 1 to {MAX_PAGE_SIZE}.")
        url = url or settings.CATALOG_SERVICE_URL
        token = token or settings.CATALOG_SERVICE_TOKEN
        if not token:
            raise CommandError("No service token: pass --token or set CATALOG_SERVICE_TOKEN.")
        move = catalog_move(CatalogService(url, token, page_size=batch), to_service=self.to_service)
        try:
            source, changes = move.plan()
            if dry_run:
                for change in changes:
                    self.stdout.write(f"Would {change}")
                self.report(source, changes, "would be ")
                return
            move.apply(changes)
            self.report(source, changes, "")
            differences = move.verify()
        except TransferError as error:
            raise CommandError(str(error)) from None
        if differences:
            for difference in differences:
                self.stderr.write(str(difference))
            raise CommandError(
                f"Verification failed: {len(differences)} differences remain ({move.counts(source)} in the source)."
            )
        self.stdout.write(f"Verified: {move.counts(source)} on both sides, every checksum equal.")

    def report(self, source, changes, mood):
        tally = Counter((change.kind.name, change.action) for change in changes)
        for kind in transfer.KINDS:
            created, updated = tally[kind.name, "create"], tally[kind.name, "update"]
            unchanged = len(source[kind.name]) - created - updated
            self.stdout.write(
                f"{kind.plural.capitalize()}: {created} {mood}created, {updated} {mood}updated, {unchanged} unchanged."
            )
