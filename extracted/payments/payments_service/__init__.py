"""The payments service: /api/payments/ (charges against test cards, refunds, idempotency keys), extracted from the monolith."""
