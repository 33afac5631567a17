"""manage.py catalog_push: copy the monolith's catalog into the catalog service (stage 0 → 1)."""
from monolith.catalog.transfer import TransferCommand, monolith_snapshot


class Command(TransferCommand):
    help = (
        "Copy the monolith's catalog into the catalog service, through its API with the service token "
        "(POST what is missing, PATCH what differs)." + TransferCommand.help_scope
    )
    url_option = "--to"
    verb = "push"

    def sides(self, service):
        return monolith_snapshot(), service.snapshot()

    def write(self, service, change):
        if change.action == "create":
            service.create(change.kind, change.fields)
        else:
            service.update(change.kind, change.key, change.fields)
