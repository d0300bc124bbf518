"""The factories of the tests: made-up figures, snippets and pages (factory_boy, and
wagtail-factories for pages, which places each under its parent in the tree)."""

import datetime

import factory
import wagtail_factories
from wagtail.models import Site

from pages.models import HomePage, TopicPage
from resources.models import Hotline, Organization, Statute
from stats.models import Metric, Observation, Source


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    slug = factory.Sequence(lambda n: f"test-report-{2017 + n}")
    publisher = "Test Institute"
    title = "Test Trafficking Report"
    edition_year = factory.Sequence(lambda n: 2017 + n)
    edition = factory.LazyAttribute(lambda s: f"{s.edition_year} edition")
    data_as_of = factory.LazyAttribute(lambda s: datetime.date(s.edition_year + 1, 3, 31))


def made_up_edition(slug, year, **fields):
    """A made-up source edition of that year, with no "data as of" date unless given."""
    return SourceFactory(slug=slug, edition_year=year, **{"data_as_of": None, **fields})


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    slug = factory.Sequence(lambda n: f"test-metric-{n}")
    label = factory.Sequence(lambda n: f"Test metric {n}")
    unit = "count"


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    period_start = factory.LazyAttribute(lambda o: datetime.date(o.year, 1, 1))
    period_end = factory.LazyAttribute(lambda o: datetime.date(o.year, 12, 31))

    class Params:
        year = 2019


def default_site():
    return Site.objects.get(is_default_site=True)


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


class HomePageFactory(wagtail_factories.PageFactory):
    """A state site's home page; pass `parent` (the tree's root, usually)."""

    class Meta:
        model = HomePage


class TopicPageFactory(wagtail_factories.PageFactory):
    """A topic page; pass `parent` and, for blocks, `body` (a list of raw blocks or JSON)."""

    class Meta:
        model = TopicPage
