"""Show, set or clear the faults injected into the monolith's own catalog reads (monolith/ops/faults.py).

    manage.py catalog_faults                       # show the faults in force
    manage.py catalog_faults set --latency-ms 1000 --error-rate 0.3
    manage.py catalog_faults clear                 # no faults

`set` replaces both values (one not given is 0). Every worker of a running monolith sees a change
within a second.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from monolith.ops import faults


class Command(BaseCommand):
    help = "Show, set or clear the faults injected into the monolith's in-process catalog reads."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["show", "set", "clear"], default="show")
        parser.add_argument(
            "--latency-ms", type=int, help=f"sleep this long before each catalog read (0 to {faults.MAX_DELAY_MS})"
        )
        parser.add_argument("--error-rate", type=float, help="fail this share (0 to 1) of catalog reads")

    def handle(self, *args, action, latency_ms, error_rate, **options):
        given = {
            name: value for name, value in (("latency_ms", latency_ms), ("error_rate", error_rate)) if value is not None
        }
        if given and action != "set":
            raise CommandError(f"Values are for `catalog_faults set`, not `catalog_faults {action}`.")
        if action == "set":
            if not given:
                raise CommandError("Give at least one of --latency-ms, --error-rate.")
            if not 0 <= given.get("latency_ms", 0) <= faults.MAX_DELAY_MS:
                raise CommandError(f"--latency-ms: between 0 and {faults.MAX_DELAY_MS}.")
            if not 0 <= given.get("error_rate", 0) <= 1:
                raise CommandError("--error-rate: between 0 and 1.")
            in_force = faults.faults_set(**given)
        elif action == "clear":
            in_force = faults.faults_set()
        else:
            in_force = faults.faults_get()
        self.stdout.write(json.dumps(in_force.as_dict()))
