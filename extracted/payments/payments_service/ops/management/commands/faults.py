"""Show, set or clear the faults the service injects into /api/payments/.

    manage.py faults                       # show the faults in force
    manage.py faults set --latency-ms 300 --error-rate 0.2 --timeout-after-charge-ms 8000
    manage.py faults clear                 # back to the settings' defaults

`set` changes only the values given; the others keep theirs. The same store as
PUT /ops/faults/, so every worker of a running service sees the change at its next request.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from payments_service.ops import faults
from payments_service.ops.serializers import FaultsSerializer


class Command(BaseCommand):
    help = "Show, set or clear the faults injected into /api/payments/ (latency, error rate, delay after a charge)."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["show", "set", "clear"], default="show")
        parser.add_argument("--latency-ms", help="Sleep this long before handling each payments request.")
        parser.add_argument("--error-rate", help="Answer this share (0 to 1) of payments requests with a 503.")
        parser.add_argument(
            "--timeout-after-charge-ms", help="After a charge is committed, delay its response this long."
        )

    def handle(self, *args, action, **options):
        given = {field: options[field] for field in faults.FIELDS if options[field] is not None}
        if given and action != "set":
            raise CommandError(f"Values are for `faults set`, not `faults {action}`.")
        if action == "set":
            if not given:
                raise CommandError("Give at least one of --latency-ms, --error-rate, --timeout-after-charge-ms.")
            # The API's validation, so that both refuse the same values with the same words.
            data = FaultsSerializer(data={**faults.faults_overrides(), **given})
            if not data.is_valid():
                raise CommandError(
                    "; ".join(
                        f"--{field.replace('_', '-')}: {' '.join(map(str, messages))}"
                        for field, messages in data.errors.items()
                    )
                )
            in_force = faults.faults_set(**data.validated_data)
        elif action == "clear":
            in_force = faults.faults_clear()
        else:
            in_force = faults.faults_get()
        self.stdout.write(json.dumps(in_force.as_dict()))
