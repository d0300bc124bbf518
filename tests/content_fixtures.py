"""The shipped Missouri pack, loaded for the content tests, and its files read as data."""

import json
from pathlib import Path

from django.conf import settings

from pages.state_pack import load_pack

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
