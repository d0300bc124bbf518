"""Set up a new state site: reference data, the shipped figures, pages and snippets.

Idempotent: it creates what is missing and never overwrites what editors changed later.
Figures go through the same import code that data managers use.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stats.catalog import load_catalog

DATA_DIR = Path(settings.BASE_DIR) / "packs" / "missouri"


class Command(BaseCommand):
    help = "Load the Missouri catalog, figures, pages and snippets (safe to run again)."

    def handle(self, *args, **options):
        from portal.initial_content import build_site
        from stats.spreadsheets import read_upload, run_import

        created = load_catalog(DATA_DIR / "catalog.json")
        self.stdout.write(f"Catalog: {created} new dimensions, categories, sources or metrics.")

        path = DATA_DIR / "observations.csv"
        outcome = run_import(
            read_upload(path.name, path.read_bytes()), dry_run=False, user=None, keep_existing=True
        )
        if not outcome.ok:
            for message in outcome.errors:
                self.stderr.write(message)
            raise CommandError(f"{path.name} was rejected; nothing was imported.")
        self.stdout.write(f"Figures: {outcome.summary()}")

        self.stdout.write(f"Content: {build_site()}")
