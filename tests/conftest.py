"""What every test shares: a fresh cache, the made-up statistics fixtures, and factories.

The cache (rendered public pages, Wagtail's site lookups, the API's rate counts) lives in the
process and outlives a test's database transaction, so every test starts and ends with it
empty. Fixtures from tests/stats_fixtures.py (`stats_data`) and tests/open_data_fixtures.py
(`figures`) are available to every test module without importing them.
"""

from pathlib import Path

import factory
import pytest
from django.core.cache import caches
from wagtail.models import Site

from resources.models import Hotline, Organization, Statute
from stats.models import Jurisdiction, Metric, Source
from tests.open_data_fixtures import figures  # noqa: F401  (a fixture)
from tests.stats_fixtures import stats_data  # noqa: F401  (a fixture)


def pytest_configure(config):
    """Compile the Spanish catalog when it is missing or older than its .po, so a plain
    `pytest` serves Spanish pages as `make test` does (the .mo is not kept in git)."""
    import polib
    from django.conf import settings

    for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            polib.pofile(str(po)).save_as_mofile(str(mo))


@pytest.fixture(autouse=True)
def reset_caches():
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


def default_site():
    return Site.objects.get(is_default_site=True)


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jurisdiction
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n}")
    name = factory.LazyAttribute(lambda o: f"Test state {o.code}")
    kind = Jurisdiction.Kind.STATE


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    slug = factory.Sequence(lambda n: f"test-source-{n}")
    publisher = "Test publisher"
    title = "Made-up report for tests"
    edition = "2019 edition"
    edition_year = 2019


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    slug = factory.Sequence(lambda n: f"test-metric-{n}")
    label = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    unit = "count"


class SnippetFactory(factory.django.DjangoModelFactory):
    """A resource snippet of the default site, live unless told otherwise."""

    site = factory.LazyFunction(default_site)
    live = True


class StatuteFactory(SnippetFactory):
    class Meta:
        model = Statute

    citation = factory.Sequence(lambda n: f"§ 999.{n}")
    title = "A made-up statute"
    category = Statute.Category.SEX_TRAFFICKING


class HotlineFactory(SnippetFactory):
    class Meta:
        model = Hotline

    name = factory.Sequence(lambda n: f"Test line {n}")
    scope = Hotline.Scope.STATE
    phone = "555-010-0100"


class OrganizationFactory(SnippetFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Made-up organization {n}")
    kind = Organization.Kind.COALITION
