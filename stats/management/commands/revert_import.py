"""python manage.py revert_import ID

Undo a confirmed import (its number is printed by import_stats and shown in the admin):
restore every value it changed and remove the rows it created, all or nothing. Refused,
naming the figures, when a later import or edit changed them since.
Exit status: 0 reverted, 1 refused, 2 usage error (no such record).
"""

from django.core.management.base import BaseCommand, CommandError

from stats.exchange import RevertRefused, revert_import
from stats.models import ImportRecord


class Command(BaseCommand):
    help = "Revert a confirmed import: restore the values it changed, remove the rows it added."

    def add_arguments(self, parser):
        parser.add_argument("id", type=int, help="The import record's number.")

    def handle(self, *args, id, **options):
        record = ImportRecord.objects.filter(pk=id).defer("content").first()
        if record is None:
            raise CommandError(f"No import record {id}.", returncode=2)
        try:
            record = revert_import(record)
        except RevertRefused as e:
            raise CommandError(str(e), returncode=1) from None
        self.stdout.write(self.style.SUCCESS(f"{record.file_name} (record {id}): {record.message}"))
