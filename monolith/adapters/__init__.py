"""Adapters: the ways each port (monolith/ports/) is served, one module each.

    catalog_local    the catalog context in this process (stage 0)
    catalog_http     the catalog service over HTTP (from stage 1)
    catalog_shadow   a parallel run: served locally, compared with the service
    catalog_staged   local or HTTP, whichever the recorded stage says
    payments_local   the payments context in this process (stages 0 and 1)
    payments_http    the payments service over HTTP (stage 2)
    payments_staged  local or HTTP, whichever the recorded stage says

monolith/wiring.py chooses one per port at start-up; nothing else imports them, but tests.
"""
