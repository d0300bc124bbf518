"""Set up the install's state sites from the packs named in PORTAL_STATE_PACKS.

Idempotent: it creates what is missing and never overwrites what editors or data managers
changed later. The first pack is the default site, served at WAGTAILADMIN_BASE_URL's host and
port (so canonical links name the address `make run` serves).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pages.management.commands.load_state import index_references
from pages.state_pack import PackError, load_pack


class Command(BaseCommand):
    help = "Load the state packs named in PORTAL_STATE_PACKS (safe to run again)."

    def handle(self, *args, **options):
        base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
        for position, path in enumerate(settings.PORTAL_STATE_PACKS):
            where = {}
            if position == 0:
                where = {
                    "hostname": base.hostname,
                    "port": base.port or (443 if base.scheme == "https" else 80),
                }
            try:
                outcome = load_pack(path, **where)
            except PackError as exc:
                raise CommandError(f"{exc} Nothing was loaded from {path}.") from None
            self.stdout.write(outcome.summary())
        index_references()
