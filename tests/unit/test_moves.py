"""The one data-move shape (monolith/strangler/moves.py) on in-memory sides: plan, apply, resume, verify, tally.

The real sides, the databases and the services' APIs, are moved in tests/integration/
(test_catalog_transfer.py, test_set_stage.py, test_set_stage_payments.py).
"""

import pytest

from monolith.strangler.moves import Kind, Move, TransferError, checksum, plan

PARENT = Kind("parent", "parents", "id", ("id", "name"))
CHILD = Kind("child", "children", "id", ("id", "parent", "size"))
LOG = Kind("log", "logs", "id", ("id", "text"), whole=True, kept=True)
KINDS = (PARENT, CHILD, LOG)


class Memory:
    """A side that holds its rows in a dict, and can be told to fail after some writes."""

    batch = 2

    def __init__(self, rows, *, fail_after=None):
        self.rows = {kind.name: dict(rows.get(kind.name, {})) for kind in KINDS}
        self.fail_after, self.writes = fail_after, 0

    def snapshot(self):
        return {name: {key: dict(row) for key, row in rows.items()} for name, rows in self.rows.items()}

    def write(self, changes):
        for change in changes:
            if self.fail_after is not None and self.writes >= self.fail_after:
                raise TransferError("The side went away.")
            rows = self.rows[change.kind.name]
            if change.action == "delete":
                del rows[change.key]
            else:
                rows[change.key] = {**rows.get(change.key, {}), **change.fields}
            self.writes += 1


def source_rows():
    return {
        "parent": {"p1": {"id": "p1", "name": "One"}, "p2": {"id": "p2", "name": "Two"}},
        "child": {f"c{n}": {"id": f"c{n}", "parent": "p1", "size": n} for n in range(1, 6)},
        "log": {"l1": {"id": "l1", "text": "kept"}},
    }


def move(monolith, service, **options):
    return Move(
        what="things",
        service_name="the thing service",
        kinds=KINDS,
        monolith=monolith,
        service=service,
        to_service=True,
        **options,
    )


def test_a_stopped_move_resumes_by_planning_again_and_verifies_equal():
    monolith, service = Memory(source_rows()), Memory({}, fail_after=3)
    first = move(monolith, service)
    _, changes = first.plan()
    assert [c.kind.name for c in changes] == ["parent"] * 2 + ["child"] * 5 + ["log"]  # parents first

    with pytest.raises(TransferError, match="Stopped after 2 of 8 changes; run again to resume"):
        first.apply(changes, progress=False)

    service.fail_after = None
    source, rest = first.plan()
    assert len(rest) == 5  # what the stopped run wrote compares equal now
    first.apply(rest, progress=False)
    assert first.verify() == []
    assert first.counts(source) == "2 parents, 5 children, 1 logs"
    assert first.tally(changes) == "5 children created, 1 logs created, 2 parents created"


def test_an_update_carries_the_differing_fields_or_the_whole_row_and_a_mirror_never_deletes_a_kept_kind():
    target = source_rows()
    target["child"]["c1"] = {**target["child"]["c1"], "size": 99}
    target["log"]["l1"] = {"id": "l1", "text": "changed"}
    target["log"]["l2"] = {"id": "l2", "text": "only there"}
    target["child"]["c9"] = {"id": "c9", "parent": "p1", "size": 9}
    target["parent"]["p9"] = {"id": "p9", "name": "Only there"}

    changes = plan(KINDS, source_rows(), target, mirror=True)

    assert [str(change) for change in changes] == [
        "update child c1: size=1",
        "update log l1: id='l1', text='kept'",
        "delete child c9",  # children before their parents
        "delete parent p9",
    ]
    assert plan(KINDS, source_rows(), target)[-1].action == "update"  # no mirror, no delete


def test_the_verification_names_each_differing_field_and_each_row_on_one_side_only():
    service = source_rows()
    service["child"]["c2"]["size"] = 20
    del service["parent"]["p2"]
    differences = move(Memory(source_rows()), Memory(service)).verify()

    assert [str(d) for d in differences] == [
        "parent p2: only in the monolith",
        "child c2: size: monolith 2, service 20",
    ]


def test_the_checksum_is_the_same_for_equal_rows_whatever_their_key_order():
    assert checksum({"a": 1, "b": "é"}) == checksum({"b": "é", "a": 1}) != checksum({"a": 1, "b": "e"})
