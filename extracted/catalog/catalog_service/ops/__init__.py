"""Operations: fault injection for demos and tests (latency, injected errors, a slow answer after a charge)."""
