"""Payments: charges against test cards, refunds, idempotency keys (the monolith's payments app, extracted)."""
