"""Load a state pack: python manage.py load_state PATH [--hostname HOST] [--port PORT]."""

from django.core.management.base import BaseCommand, CommandError

from pages.state_pack import PackError, load_pack


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
        self.stdout.write(outcome.summary())
