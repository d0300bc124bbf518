"""Delete import previews that were never confirmed, with their stored files.

    manage.py clear_stale_previews              # older than STATS_PREVIEW_MAX_AGE_HOURS
    manage.py clear_stale_previews --hours 24   # another age
    manage.py clear_stale_previews --dry-run    # only count them

Run it from cron or a systemd timer (see the README). A preview changes nothing in the store,
so deleting it loses nothing but the chance to confirm it: upload the file again.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stats.models import ImportRecord


def stale_previews(hours=None, now=None):
    """Previews not confirmed within `hours` (STATS_PREVIEW_MAX_AGE_HOURS by default)."""
    hours = settings.STATS_PREVIEW_MAX_AGE_HOURS if hours is None else hours
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    return ImportRecord.objects.filter(status=ImportRecord.Status.PREVIEWED, created_at__lt=cutoff)


class Command(BaseCommand):
    help = "Delete import previews never confirmed, older than STATS_PREVIEW_MAX_AGE_HOURS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=int,
            default=None,
            help="Age in hours (default: the STATS_PREVIEW_MAX_AGE_HOURS setting).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count only; delete nothing.")

    def handle(self, *args, hours=None, dry_run=False, **options):
        if hours is not None and hours < 1:
            raise CommandError("--hours must be 1 or more.")
        hours = settings.STATS_PREVIEW_MAX_AGE_HOURS if hours is None else hours
        stale = stale_previews(hours)
        if dry_run:
            count = stale.count()
            self.stdout.write(f"{count} preview(s) older than {hours} hours would be deleted.")
            return
        _total, by_model = stale.delete()
        count = by_model.get(ImportRecord._meta.label, 0)
        self.stdout.write(f"Deleted {count} preview(s) older than {hours} hours.")
