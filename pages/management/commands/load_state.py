"""Load a state pack: python manage.py load_state PATH [--hostname HOST] [--port PORT]."""

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Page, ReferenceIndex

from pages.models import SiteSettings
from pages.state_pack import PackError, load_pack


def index_references():
    """Record in Wagtail's reference index which metrics and snippets every page and every
    site's settings choose (what the HTTP cache's purge and the admin's "Used N times" read),
    at once rather than through the task worker. One pass over the pages and settings."""
    for obj in [*Page.objects.specific(), *SiteSettings.objects.all()]:
        ReferenceIndex.create_or_update_for_object(obj)


class Command(BaseCommand):
    help = (
        "Load a state pack (catalog, figures, pages, snippets, site settings) as one site. "
        "Creates what is missing, never overwrites what staff changed: safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The pack's folder, e.g. packs/<state>.")
        parser.add_argument("--hostname", help="The site's host name (default: the manifest's).")
        parser.add_argument("--port", type=int, help="The site's port (default: 80).")

    def handle(self, *args, path, hostname=None, port=None, **options):
        try:
            outcome = load_pack(path, hostname=hostname, port=port)
        except PackError as exc:
            raise CommandError(f"{exc} Nothing was loaded.") from None
        index_references()
        self.stdout.write(outcome.summary())
