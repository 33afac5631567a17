"""manage.py catalog_push: copy the monolith's catalog into the catalog service (stage 0 → 1)."""

from monolith.strangler.catalog_move import TransferCommand


class Command(TransferCommand):
    help = (
        "Copy the monolith's catalog into the catalog service, through its API with the service token "
        "(POST what is missing, PATCH what differs)." + TransferCommand.help_scope
    )
    url_option = "--to"
    to_service = True
