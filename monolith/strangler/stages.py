"""The stage table: which process owns each context, and so each URL prefix, at each stage.

This is the one place that says it (CONTRACT.md, "Stages"). Everything else reads it: the
monolith's forwarding middleware and staged adapters, `manage.py set_stage`, `shopctl` (which
checks the facade's route files against it) and the tests. Pure Python, no Django: shopctl
imports it without setting Django up.

    stage 0  every context in the monolith
    stage 1  the catalog service owns the catalog:   /api/catalog/ goes to it
    stage 2  and the payments service owns payments: /api/payments/ too

The facade's routes for each stage are literal nginx files, proxy/routes/stage-<N>.conf, and
tests/unit/test_stage_routes.py fails if one of them disagrees with routes(N).
"""

from dataclasses import dataclass

MONOLITH = "monolith"


@dataclass(frozen=True)
class Context:
    """A context that leaves the monolith: its prefixes, the service that takes it, and from which stage."""

    name: str
    api: str  # the prefix of its API, which the facade sends to the owner
    admin: str  # the monolith's admin pages for it (read-only once the service owns it)
    service: str  # the process that owns it from `from_stage` on
    from_stage: int


CONTEXTS = (
    Context("catalog", api="/api/catalog/", admin="/admin/catalog/", service="catalog", from_stage=1),
    Context("payments", api="/api/payments/", admin="/admin/payments/", service="payments", from_stage=2),
)
STAGES = (0, 1, 2)


def context(name: str) -> Context:
    """The context called `name` ("catalog" or "payments"); KeyError for any other."""
    for candidate in CONTEXTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"No context {name!r}: the stage table has {', '.join(c.name for c in CONTEXTS)}.")


def owner(name: str, stage: int) -> str:
    """The process that owns context `name` at `stage`: its service's name, or "monolith"."""
    moving = context(name)
    return moving.service if stage >= moving.from_stage else MONOLITH


def routes(stage: int) -> dict[str, str]:
    """{prefix: service} of what the facade sends to a service at `stage`; every other path goes to the monolith."""
    if stage not in STAGES:
        raise ValueError(f"Stage {stage} is not in the table: {', '.join(map(str, STAGES))}.")
    return {c.api: c.service for c in CONTEXTS if stage >= c.from_stage}


def moving_at(low: int) -> Context:
    """The context that changes owner between stage `low` and `low + 1` (one per step)."""
    (moving,) = [c for c in CONTEXTS if c.from_stage == low + 1]
    return moving
