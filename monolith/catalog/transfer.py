"""Moving the catalog between the monolith's database and the catalog service (issue 3, the data move).

Both directions compare two snapshots of the catalog, each side's categories and products in the
contract's representation (what `/api/catalog/` says, without `updated_at`), plan the writes
that make the target equal to the source, apply them one row at a time, and verify by counts
and a sha256 per row. Rows are keyed by the ids that survive the move (a category's slug, a
product's sku), never by database ids, so a run can stop anywhere and the next run picks up
whatever is still missing or different: the plan is always "what differs now".

catalog_push and catalog_pull never delete: a row only the target has is left alone and shows in
the verification, where an operator decides. The stage switch (`manage.py set_stage`, which
hands the whole catalog to its new owner) also deletes what the source no longer has
(`mirror=True`). Stock reservations move too, recorded as they stand: a held reservation's
stock is already out of the product's stock that moves with it.
"""
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from . import selectors, services
from .models import Category, Product
from .serializers import CategorySerializer, ProductSerializer, StockReservationSerializer


@dataclass(frozen=True)
class Kind:
    """One kind of catalog row: its collection under /api/catalog/, its key and its fields."""

    name: str
    collection: str
    key: str
    fields: tuple
    # Written whole (PUT) rather than field by field (POST, then PATCH).
    whole: bool = False


CATEGORY = Kind("category", "categories", "slug", ("slug", "name", "description"))
PRODUCT = Kind(
    "product", "products", "sku",
    ("sku", "name", "slug", "description", "category", "price", "currency", "stock", "is_active"),
)
# Stock reservations move with the stock they hold, recorded as they stand (the stock copied
# already counts them), so that an order placed before a switch is paid or released after it.
RESERVATION = Kind("reservation", "stock-reservations", "reservation_id", ("reservation_id", "status", "lines"), whole=True)
# Categories first: a product names its category, which must exist on the target; a
# reservation names products.
KINDS = (CATEGORY, PRODUCT, RESERVATION)
MAX_PAGE_SIZE = 100  # the contract's largest page_size


def checksum(row):
    """sha256 of the row as canonical JSON: sorted keys, no spaces, so equal rows hash alike everywhere."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(kind, representations):
    return {item[kind.key]: {field: item[field] for field in kind.fields} for item in representations}


def monolith_snapshot():
    """The monolith's catalog, inactive products included, as {kind name: {key: row}}."""
    return {
        CATEGORY.name: _rows(CATEGORY, CategorySerializer(Category.objects.all(), many=True).data),
        PRODUCT.name: _rows(PRODUCT, ProductSerializer(Product.objects.select_related("category"), many=True).data),
        RESERVATION.name: _rows(RESERVATION, StockReservationSerializer(selectors.reservation_queryset(), many=True).data),
    }


class TransferError(Exception):
    """The catalog service could not be read or refused a write: a clean message, never a traceback."""


class CatalogService:
    """The catalog service's API as the data move uses it: one session carrying the service token."""

    # Connect quickly or not at all; a page of 100 products from a cold service may take a while.
    TIMEOUT = (3.05, 30)

    def __init__(self, url, token, *, page_size=MAX_PAGE_SIZE):
        self.url = url.rstrip("/")
        self.page_size = page_size
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method, url, what, **kwargs):
        try:
            response = self.session.request(method, url, timeout=self.TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise TransferError(f"Cannot reach the catalog service at {self.url} ({type(error).__name__}).") from None
        if response.status_code in (401, 403):
            raise TransferError(
                f"The catalog service at {self.url} refused the service token ({response.status_code}): "
                "check --token or CATALOG_SERVICE_TOKEN against the service's SERVICE_TOKENS."
            )
        if not response.ok:
            raise TransferError(f"The catalog service refused {what} ({response.status_code}): {response.text[:500]}")
        return response

    def snapshot(self):
        """Every category and product (as a service it sees inactive ones too), reading every page."""
        snapshot = {}
        for kind in KINDS:
            items = []
            url = f"{self.url}/api/catalog/{kind.collection}/"
            params = {"page_size": self.page_size}
            while url:
                page = self._request("GET", url, f"the list of {kind.collection}", params=params).json()
                items.extend(page["results"])
                # `next` already carries page and page_size: follow it as it is.
                url, params = page["next"], None
            snapshot[kind.name] = _rows(kind, items)
        return snapshot

    def create(self, kind, row):
        self._request("POST", f"{self.url}/api/catalog/{kind.collection}/", f"{kind.name} {row[kind.key]}", json=row)

    def update(self, kind, key, changes):
        self._request("PATCH", f"{self.url}/api/catalog/{kind.collection}/{key}/", f"{kind.name} {key}", json=changes)

    def delete(self, kind, key):
        self._request("DELETE", f"{self.url}/api/catalog/{kind.collection}/{key}/", f"{kind.name} {key}")

    def write(self, change):
        if change.kind.whole:
            url = f"{self.url}/api/catalog/{change.kind.collection}/{change.key}/"
            fields = {field: value for field, value in change.fields.items() if field != change.kind.key}
            self._request("PUT", url, f"{change.kind.name} {change.key}", json=fields)
        elif change.action == "create":
            self.create(change.kind, change.fields)
        elif change.action == "update":
            self.update(change.kind, change.key, change.fields)
        else:
            self.delete(change.kind, change.key)


@dataclass(frozen=True)
class Change:
    """One write that makes the target match the source: a whole row to create, or the fields to update."""

    kind: Kind
    key: str
    action: str  # "create", "update" or "delete"
    fields: dict

    def __str__(self):
        return f"{self.action} {self.kind.name} {self.key}" + "".join(
            f"{', ' if i else ': '}{field}={value!r}" for i, (field, value) in enumerate(self.fields.items())
        )


def plan(source, target, *, mirror=False):
    """The changes that make `target` hold every row of `source`, categories first, in key order.

    With mirror, also the deletions that leave `target` no row `source` lacks: products before
    categories, since a category goes only once it has no products.
    """
    changes = []
    for kind in KINDS:
        theirs = target[kind.name]
        for key, row in sorted(source[kind.name].items()):
            if key not in theirs:
                changes.append(Change(kind, key, "create", row))
            elif checksum(row) != checksum(theirs[key]):
                differing = row if kind.whole else {f: v for f, v in row.items() if theirs[key].get(f) != v}
                changes.append(Change(kind, key, "update", differing))
    if mirror:
        # Reservations are never deleted: each side keeps every one it has seen.
        for kind in (PRODUCT, CATEGORY):
            changes.extend(
                Change(kind, key, "delete", {}) for key in sorted(target[kind.name].keys() - source[kind.name].keys())
            )
    return changes


@dataclass(frozen=True)
class Difference:
    """A row or field on which the two sides disagree after a move. A missing row has field None."""

    kind: str
    key: str
    field: str | None
    monolith: object
    service: object

    def __str__(self):
        if self.field is None:
            where = "only in the monolith" if self.service is None else "only in the catalog service"
            return f"{self.kind} {self.key}: {where}"
        return f"{self.kind} {self.key}: {self.field}: monolith {self.monolith!r}, service {self.service!r}"


def verify(monolith, service):
    """Every difference between the two snapshots, compared by per-row checksum, then field by field."""
    differences = []
    for kind in KINDS:
        ours, theirs = monolith[kind.name], service[kind.name]
        for key in sorted(ours.keys() | theirs.keys()):
            mine, yours = ours.get(key), theirs.get(key)
            if mine is None or yours is None:
                differences.append(Difference(kind.name, key, None, mine, yours))
            elif checksum(mine) != checksum(yours):
                differences.extend(
                    Difference(kind.name, key, field, mine.get(field), yours.get(field))
                    for field in kind.fields if mine.get(field) != yours.get(field)
                )
    return differences


def write_to_monolith(change):
    """Apply one change to the monolith's database through the catalog's services (validated, atomic)."""
    fields = dict(change.fields)
    if change.kind is RESERVATION:
        services.reservation_record(reservation_id=change.key, status=fields["status"], lines=fields["lines"])
        return
    if change.action == "delete":
        if change.kind is CATEGORY:
            services.category_delete(category=Category.objects.get(slug=change.key))
        else:
            services.product_delete(product=Product.objects.get(sku=change.key))
        return
    if change.kind is CATEGORY:
        if change.action == "create":
            services.category_create(**fields)
        else:
            services.category_update(category=Category.objects.get(slug=change.key), **fields)
        return
    if "category" in fields:
        fields["category"] = Category.objects.get(slug=fields["category"])
    if "price" in fields:
        fields["price"] = Decimal(fields["price"])
    if change.action == "create":
        services.product_create(**fields)
    else:
        services.product_update(product=Product.objects.get(sku=change.key), **fields)


class Move:
    """One direction of the data move: to the catalog service (push) or back to the monolith (pull)."""

    def __init__(self, service, *, to_service, mirror=False):
        self.service = service
        self.to_service = to_service
        self.mirror = mirror
        self.verb = "push" if to_service else "pull"

    def sides(self):
        """(source, target) snapshots."""
        ours, theirs = monolith_snapshot(), self.service.snapshot()
        return (ours, theirs) if self.to_service else (theirs, ours)

    def plan(self):
        """(source snapshot, the changes that make the target equal to it)."""
        source, target = self.sides()
        return source, plan(source, target, mirror=self.mirror)

    def apply(self, changes, *, progress=True):
        done = 0
        try:
            # tqdm writes to stderr, so stdout stays the plain report a script can read.
            for change in tqdm(changes, desc=f"catalog {self.verb}", unit="row", disable=not (changes and progress)):
                if self.to_service:
                    self.service.write(change)
                else:
                    write_to_monolith(change)
                done += 1
        except TransferError as error:
            raise TransferError(f"{error} Stopped after {done} of {len(changes)} changes; run again to resume.") from None

    def verify(self):
        """Every difference left between the two sides (counts and per-row checksums)."""
        return verify(monolith_snapshot(), self.service.snapshot())

    @staticmethod
    def tally(changes):
        return tally(changes)

    @staticmethod
    def counts(source):
        return counts(source)


def counts(snapshot):
    return ", ".join(f"{len(snapshot[kind.name])} {kind.collection}" for kind in KINDS)


def tally(changes):
    """"3 products updated, 1 category created", or "nothing"."""
    counted = Counter((change.kind.collection, change.action) for change in changes)
    return ", ".join(f"{n} {collection} {action}d" for (collection, action), n in sorted(counted.items())) or "nothing"


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
        parser.add_argument(self.url_option, dest="url", default=None,
                            help="The catalog service's base URL (default: settings.CATALOG_SERVICE_URL).")
        parser.add_argument("--token", default=None,
                            help="The monolith's service token for it (default: settings.CATALOG_SERVICE_TOKEN).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would change, and change nothing.")
        parser.add_argument("--batch", type=int, default=MAX_PAGE_SIZE,
                            help=f"Rows per page read from the service, 1 to {MAX_PAGE_SIZE} (default {MAX_PAGE_SIZE}).")

    def handle(self, *args, url, token, dry_run, batch, **options):
        if not 1 <= batch <= MAX_PAGE_SIZE:
            raise CommandError(f"--batch must be from 1 to {MAX_PAGE_SIZE}.")
        url = url or settings.CATALOG_SERVICE_URL
        token = token or settings.CATALOG_SERVICE_TOKEN
        if not token:
            raise CommandError("No service token: pass --token or set CATALOG_SERVICE_TOKEN.")
        move = Move(CatalogService(url, token, page_size=batch), to_service=self.to_service)
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
            raise CommandError(f"Verification failed: {len(differences)} differences remain ({counts(source)} in the source).")
        self.stdout.write(f"Verified: {counts(source)} on both sides, every checksum equal.")

    def report(self, source, changes, mood):
        tally = Counter((change.kind.name, change.action) for change in changes)
        for kind in KINDS:
            created, updated = tally[kind.name, "create"], tally[kind.name, "update"]
            unchanged = len(source[kind.name]) - created - updated
            self.stdout.write(
                f"{kind.collection.capitalize()}: {created} {mood}created, {updated} {mood}updated, {unchanged} unchanged."
            )
