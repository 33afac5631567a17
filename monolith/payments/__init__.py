"""The payments context: charges against test cards, refunds, idempotency keys. Extracted at stage 2."""
