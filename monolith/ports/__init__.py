"""Ports: how the monolith reaches a context that may move to another process.

A port is a small interface (a Protocol), the DTOs it answers with and its errors: catalog.py
and payments.py, nothing else. Each port has an in-process adapter (stage 0) and, once the
context is extracted, an HTTP adapter, in monolith/adapters/; monolith/wiring.py chooses one at
start-up, and callers never know which one is live (branch by abstraction).
"""
