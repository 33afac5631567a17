"""Ports: how the monolith reaches a context that may move to another process.

Each port is a small interface with an in-process adapter (stage 0) and, once the
context is extracted, an HTTP adapter. A setting picks the adapter; callers never
know which one is live (branch by abstraction).
"""
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_instances = {}


def adapter(setting, adapters):
    """The adapter the setting names (one instance per name, so each keeps its own connections)."""
    name = getattr(settings, setting)
    if name not in adapters:
        raise ImproperlyConfigured(f"{setting} must be one of {sorted(adapters)}, not {name!r}.")
    if (setting, name) not in _instances:
        _instances[(setting, name)] = adapters[name]()
    return _instances[(setting, name)]
