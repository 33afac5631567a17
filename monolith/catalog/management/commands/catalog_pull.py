"""manage.py catalog_pull: bring the catalog service's catalog back into the monolith (rollback, stage 1 → 0)."""

from monolith.strangler.catalog_move import TransferCommand


class Command(TransferCommand):
    help = (
        "Bring the catalog service's catalog, changed at stage 1, back into the monolith's database for a "
        "rollback, through the catalog's services." + TransferCommand.help_scope
    )
    url_option = "--from"
    to_service = False
