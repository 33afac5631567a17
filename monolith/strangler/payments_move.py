"""Moving the payments context's records between the monolith and the payments service (stage 1 ⇄ 2).

The shape of every move (monolith/strangler/moves.py): plan what differs, apply it, verify both
sides row by row. The rows are those of monolith/payments/transfer.py; the payments service reads
and writes its own, with the same module, through /ops/payments/ with the monolith's service
token. Nothing is ever deleted.
"""

import requests

from monolith.core.service_client import MOVE_TIMEOUT, READ_RETRY, ServiceSession, bearer
from monolith.payments import transfer

from .moves import Change, Kind, Move, TransferError

# transfer.KINDS (model, key, fields) as the move's kinds, parents before children, as it lists them.
# Written whole: import_rows writes rows as they are, every field and timestamp included.
PLURALS = {"payment": "payments", "refund": "refunds", "idempotency_key": "idempotency keys"}
KINDS = tuple(Kind(name, PLURALS[name], key, fields, whole=True) for name, (_, key, fields) in transfer.KINDS.items())


def _rows_by_kind(changes: list[Change]) -> dict[str, list[dict]]:
    """{kind: [row, ...]}, as transfer.import_rows and /ops/payments/ take them: every change is a whole row."""
    rows = {}
    for change in changes:
        rows.setdefault(change.kind.name, []).append(change.fields)
    return rows


class MonolithPayments:
    """The monolith's payment records, as a side of the move."""

    batch = 200  # rows per transaction

    def snapshot(self):
        return transfer.export_rows()

    def write(self, changes: list[Change]) -> None:
        transfer.import_rows(_rows_by_kind(changes))


class PaymentsService:
    """The payments service's /ops/payments/, as a side of the move."""

    batch = 200  # rows per POST

    def __init__(self, url, token):
        self.url = url.rstrip("/") + "/ops/payments/"
        # Reads retried as the adapters' are; a failed write is redone by running the move again.
        self.session = ServiceSession(retry=READ_RETRY, timeout=MOVE_TIMEOUT, auth=bearer(token))

    def _request(self, method, **kwargs):
        try:
            response = self.session.request(method, self.url, **kwargs)
        except requests.RequestException as error:
            raise TransferError(f"Cannot reach the payments service at {self.url} ({type(error).__name__}).") from None
        if response.status_code in (401, 403):
            raise TransferError(
                f"The payments service refused the service token ({response.status_code}): "
                "check PAYMENTS_SERVICE_TOKEN against the service's SERVICE_TOKENS."
            )
        if not response.ok:
            raise TransferError(
                f"The payments service refused the move ({response.status_code}): {response.text[:500]}"
            )
        return response.json()

    def snapshot(self):
        return self._request("GET")

    def write(self, changes: list[Change]) -> None:
        self._request("POST", json=_rows_by_kind(changes))


def payments_move(service: PaymentsService, *, to_service: bool) -> Move:
    """The payment records' move to the payments service, or back to the monolith."""
    return Move(
        what="payment records",
        service_name="the payments service",
        kinds=KINDS,
        monolith=MonolithPayments(),
        service=service,
        to_service=to_service,
    )
