"""One shape for every data move: a context's rows between the monolith and the service that takes it.

A move compares two snapshots, the monolith's and the service's, each {kind: {key: row}} with
rows keyed by ids that survive the move (a product's sku, a payment's UUID), never by database
ids. Then:

    plan     the changes that make the target equal to the source: "what differs now"
    apply    write them, in batches, with a progress bar; a failure says how far it got
    verify   compare both sides again, by counts and a sha256 per row (checksum()), then field by field
    tally    what a plan did or would do ("3 products updated, 1 categories created")

Resuming is planning again: a stopped run left some rows written, which now compare equal, so
the next plan holds only what is still missing or different. A dry run is a plan not applied.

Each context supplies its rows and how to write them: a Side for the monolith's database
(monolith/catalog/transfer.py, monolith/payments/transfer.py) and one for the service's API
(monolith/strangler/catalog_move.py, monolith/strangler/payments_move.py). `manage.py set_stage`
moves each context with this; catalog_push and catalog_pull move the catalog with it too.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from tqdm import tqdm


class TransferError(Exception):
    """A side could not be read or refused a write: a clean message, never a traceback."""


def checksum(row: dict) -> str:
    """sha256 of the row as canonical JSON: sorted keys, no spaces, so equal rows hash alike everywhere."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Kind:
    """One kind of row a context moves: its key, its fields, and how it is written."""

    name: str  # "product"
    plural: str  # as reports count it: "products" (the catalog's: its collection under /api/catalog/)
    key: str
    fields: tuple
    # An update carries the whole row rather than the fields that differ.
    whole: bool = False
    # A mirroring move (the stage switch) deletes what the source lacks, but never a kept kind.
    kept: bool = False


@dataclass(frozen=True)
class Change:
    """One write that makes the target match the source: a whole row to create, the fields to update, or a delete."""

    kind: Kind
    key: str
    action: str  # "create", "update" or "delete"
    fields: dict

    def __str__(self):
        return f"{self.action} {self.kind.name} {self.key}" + "".join(
            f"{', ' if i else ': '}{field}={value!r}" for i, (field, value) in enumerate(self.fields.items())
        )


@dataclass(frozen=True)
class Difference:
    """A row or field on which the two sides disagree after a move. A missing row has field None."""

    kind: str
    key: str
    field: str | None
    monolith: object
    service: object
    service_name: str = "the service"

    def __str__(self):
        if self.field is None:
            where = "only in the monolith" if self.service is None else f"only in {self.service_name}"
            return f"{self.kind} {self.key}: {where}"
        return f"{self.kind} {self.key}: {self.field}: monolith {self.monolith!r}, service {self.service!r}"


class Side(Protocol):
    """One end of a move: the monolith's database, or a service's API."""

    batch: int  # changes per write(): 1 where each row is its own request, so a stop is counted exactly

    def snapshot(self) -> dict[str, dict[str, dict]]:
        """Every row, as {kind name: {key: row}}."""
        ...

    def write(self, changes: list[Change]) -> None:
        """Apply the changes, in order; TransferError if the side refuses or cannot be reached."""
        ...


def plan(kinds, source, target, *, mirror=False) -> list[Change]:
    """The changes that make `target` hold every row of `source`, kind by kind as listed, in key order.

    With mirror, also the deletions that leave `target` no row `source` lacks, kinds in reverse
    (a product goes before its category), never of a kept kind.
    """
    changes = []
    for kind in kinds:
        theirs = target.get(kind.name, {})
        for key, row in sorted(source[kind.name].items()):
            if key not in theirs:
                changes.append(Change(kind, key, "create", row))
            elif checksum(row) != checksum(theirs[key]):
                differing = row if kind.whole else {f: v for f, v in row.items() if theirs[key].get(f) != v}
                changes.append(Change(kind, key, "update", differing))
    if mirror:
        for kind in reversed(kinds):
            if not kind.kept:
                changes.extend(
                    Change(kind, key, "delete", {})
                    for key in sorted(target.get(kind.name, {}).keys() - source[kind.name].keys())
                )
    return changes


def verify(kinds, monolith, service, *, service_name="the service") -> list[Difference]:
    """Every difference between the two snapshots, compared by per-row checksum, then field by field."""
    differences = []
    for kind in kinds:
        ours, theirs = monolith.get(kind.name, {}), service.get(kind.name, {})
        for key in sorted(ours.keys() | theirs.keys()):
            mine, yours = ours.get(key), theirs.get(key)
            if mine is None or yours is None:
                differences.append(Difference(kind.name, key, None, mine, yours, service_name))
            elif checksum(mine) != checksum(yours):
                differences.extend(
                    Difference(kind.name, key, field, mine.get(field), yours.get(field), service_name)
                    for field in kind.fields
                    if mine.get(field) != yours.get(field)
                )
    return differences


def tally(changes) -> str:
    """ "3 products updated, 1 categories created", or "nothing"."""
    counted = Counter((change.kind.plural, change.action) for change in changes)
    return ", ".join(f"{n} {plural} {action}d" for (plural, action), n in sorted(counted.items())) or "nothing"


class Move:
    """One direction of one context's move: to its service, or back to the monolith."""

    def __init__(
        self,
        *,
        what: str,
        service_name: str,
        kinds: tuple,
        monolith: Side,
        service: Side,
        to_service: bool,
        mirror: bool = False,
    ):
        self.what = what  # "catalog", "payment records": what the reports say moves
        self.service_name = service_name  # "the catalog service"
        self.kinds = kinds  # parents before children: a product names its category, which must exist first
        self.monolith = monolith
        self.service = service
        self.to_service = to_service
        self.mirror = mirror

    @property
    def target(self) -> Side:
        return self.service if self.to_service else self.monolith

    def sides(self):
        """(source, target) snapshots."""
        ours, theirs = self.monolith.snapshot(), self.service.snapshot()
        return (ours, theirs) if self.to_service else (theirs, ours)

    def plan(self):
        """(source snapshot, the changes that make the target equal to it)."""
        source, target = self.sides()
        return source, plan(self.kinds, source, target, mirror=self.mirror)

    def apply(self, changes, *, progress=True):
        done, target = 0, self.target
        # tqdm writes to stderr, so stdout stays the plain report a script can read.
        with tqdm(
            total=len(changes),
            desc=f"{self.what} {'push' if self.to_service else 'pull'}",
            unit="row",
            disable=not (changes and progress),
        ) as bar:
            try:
                for start in range(0, len(changes), target.batch):
                    batch = changes[start : start + target.batch]
                    target.write(batch)
                    done += len(batch)
                    bar.update(len(batch))
            except TransferError as error:
                raise TransferError(
                    f"{error} Stopped after {done} of {len(changes)} changes; run again to resume."
                ) from None

    def verify(self):
        """Every difference left between the two sides (counts and per-row checksums)."""
        return verify(self.kinds, self.monolith.snapshot(), self.service.snapshot(), service_name=self.service_name)

    @staticmethod
    def tally(changes):
        return tally(changes)

    def counts(self, snapshot):
        """ "3 categories, 31 products, 0 stock-reservations"."""
        return ", ".join(f"{len(snapshot[kind.name])} {kind.plural}" for kind in self.kinds)
