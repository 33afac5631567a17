"""Moving the payments context's records between the monolith and the payments service (stage 1 ⇄ 2).

The same shape as the catalog's move (monolith/catalog/transfer.py, Move), for `manage.py
set_stage`: plan what differs, apply it, verify both sides row by row. The rows are those of
monolith/payments/transfer.py; the payments service reads and writes its own through
/ops/payments/ with the monolith's service token. Nothing is ever deleted.
"""
from collections import Counter

import requests

from monolith.catalog.transfer import TransferError
from monolith.payments import transfer

BATCH = 200  # rows per POST


class PaymentsService:
    TIMEOUT = (3.05, 60)

    def __init__(self, url, token):
        self.url = url.rstrip("/") + "/ops/payments/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method, **kwargs):
        try:
            response = self.session.request(method, self.url, timeout=self.TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise TransferError(f"Cannot reach the payments service at {self.url} ({type(error).__name__}).") from None
        if response.status_code in (401, 403):
            raise TransferError(f"The payments service refused the service token ({response.status_code}): "
                                "check PAYMENTS_SERVICE_TOKEN against the service's SERVICE_TOKENS.")
        if not response.ok:
            raise TransferError(f"The payments service refused the move ({response.status_code}): {response.text[:500]}")
        return response.json()

    def snapshot(self):
        return self._request("GET")

    def write(self, rows):
        self._request("POST", json=rows)


class PaymentsMove:
    def __init__(self, service, *, to_service):
        self.service = service
        self.to_service = to_service

    def sides(self):
        ours, theirs = transfer.export_rows(), self.service.snapshot()
        return (ours, theirs) if self.to_service else (theirs, ours)

    def plan(self):
        source, target = self.sides()
        changes = [
            (kind, row) for kind in transfer.KINDS for key, row in source[kind].items()
            if key not in target.get(kind, {}) or transfer.checksum(row) != transfer.checksum(target[kind][key])
        ]
        return source, changes

    def apply(self, changes, *, progress=True):
        for start in range(0, len(changes), BATCH):
            rows = {}
            for kind, row in changes[start:start + BATCH]:
                rows.setdefault(kind, []).append(row)
            if self.to_service:
                self.service.write(rows)
            else:
                transfer.import_rows(rows)

    def verify(self):
        ours, theirs = transfer.export_rows(), self.service.snapshot()
        differences = []
        for kind in transfer.KINDS:
            mine, yours = ours[kind], theirs.get(kind, {})
            for key in sorted(mine.keys() | yours.keys()):
                if key not in yours:
                    differences.append(f"{kind} {key}: only in the monolith")
                elif key not in mine:
                    differences.append(f"{kind} {key}: only in the payments service")
                elif transfer.checksum(mine[key]) != transfer.checksum(yours[key]):
                    fields = [f for f in mine[key] if mine[key][f] != yours[key].get(f)]
                    differences.append(f"{kind} {key}: {', '.join(fields)} differ")
        return differences

    @staticmethod
    def tally(changes):
        counted = Counter(kind for kind, _ in changes)
        return ", ".join(f"{n} {kind.replace('_', ' ')} rows written" for kind, n in sorted(counted.items())) or "nothing"

    @staticmethod
    def counts(source):
        return ", ".join(f"{len(source[kind])} {kind.replace('_', ' ')}s" for kind in transfer.KINDS)
