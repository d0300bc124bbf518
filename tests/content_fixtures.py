"""The shipped Missouri pack, loaded for the content tests, and its files read as data."""

import json
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from wagtail.models import Page, Revision, Site

from pages.models import SiteSettings
from pages.state_pack import load_pack
from resources.models import SNIPPET_MODELS

DATA_DIR = Path(settings.BASE_DIR) / "packs" / "missouri"


def pack_file(name, pack=DATA_DIR):
    with open(Path(pack) / name, encoding="utf-8") as f:
        return json.load(f)


PAGES = pack_file("pages.json")
TOPICS = PAGES["home"]["children"]
SNIPPETS = pack_file("snippets.json")


def load_missouri():
    """The Missouri pack, as load_initial_data loads it (figures through the importer)."""
    return load_pack(DATA_DIR)


def page_tree():
    return [
        (p.depth, p.url_path, p.specific_class.__name__, p.title, p.live)
        for p in Page.objects.order_by("path")
    ]


def loaded_content():
    """Everything loading a pack may create, as comparable values."""
    return {
        "tree": page_tree(),
        "revisions": Revision.objects.count(),
        "latest_revisions": sorted(Page.objects.values_list("pk", "latest_revision_id")),
        "snippets": {
            m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in SNIPPET_MODELS
        },
        "settings": list(
            SiteSettings.objects.values(
                "site", "jurisdiction", "national_hotline", "state_tipline", "quick_exit_url"
            )
        ),
        "sites": list(Site.objects.values()),
    }


@contextmanager
def loaded_once(django_db_blocker, load):
    """For a module's or a package's fixture: `load()` run once and committed, so every test
    sees it (its result is the context's value); when the tests are done, the tables emptied
    and what the migrations made put back (what Django's TransactionTestCase does with
    serialized_rollback=True), so the rest of the suite is unaffected."""
    with django_db_blocker.unblock():
        as_migrated = connection.creation.serialize_db_to_string()
        cache.clear()
        loaded = load()
    try:
        yield loaded
    finally:
        with django_db_blocker.unblock():
            call_command(
                "flush", verbosity=0, interactive=False, reset_sequences=False,
                inhibit_post_migrate=True,
            )  # fmt: skip
            connection.creation.deserialize_db_from_string(as_migrated)
            cache.clear()
