"""Tests on the shipped Missouri site, loaded once for the whole package.

Loading the pack (pages, snippets, every figure through the importer, the search index) is
most of what these tests cost, so it is done once, committed, before the package's first test;
each test then runs in a transaction rolled back after it (pytest-django's `db`), so what one
test changes no other sees. When the package ends the database is put back as the migrations
left it (what Django's TransactionTestCase does with serialized_rollback=True), so the rest
of the suite is unaffected. tests/browser does the same for the browser tests.
"""

import pytest
from wagtail.models import Site

from tests.content_fixtures import load_missouri, loaded_once


@pytest.fixture(scope="package")
def missouri_pack(django_db_setup, django_db_blocker):
    """The Missouri pack, loaded into the test database for this package's tests."""
    with loaded_once(django_db_blocker, load_missouri):
        yield


@pytest.fixture
def missouri_site(missouri_pack, db):
    """The Missouri Wagtail Site, in this test's transaction."""
    return Site.objects.get(is_default_site=True)
