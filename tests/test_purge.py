"""What the HTTP cache in front is told to purge (portal/purge.py): exactly the pages that show
what changed, once the change commits. A recording backend stands in for Varnish here;
tests/test_varnish.py runs the real one."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from wagtail.contrib.frontend_cache.backends.base import BaseBackend
from wagtail.models import Locale, Page, ReferenceIndex, Site

from pages.models import HomePage, SiteSettings, TopicPage
from resources.models import Hotline
from stats.models import Jurisdiction, Metric, Observation, Source

pytestmark = pytest.mark.django_db

PURGED = []


class RecordingBackend(BaseBackend):
    def purge(self, url):
        PURGED.append(url)


@pytest.fixture
def purged(settings):
    settings.WAGTAILFRONTENDCACHE = {"test": {"BACKEND": "tests.test_purge.RecordingBackend"}}
    PURGED.clear()
    return PURGED


@pytest.fixture
def purge_site(db):
    missouri = Jurisdiction.objects.get(code="MO")
    shown, other = (
        Metric.objects.create(slug=slug, label=slug, unit="count") for slug in ("shown", "other")
    )
    home = Page.get_first_root_node().add_child(instance=HomePage(title="Home", slug="h"))
    figure = {"metric": shown, "jurisdiction": missouri, "show_national": False}
    with_figure = home.add_child(
        instance=TopicPage(title="Figures", slug="figures", body=[("key_figure", figure)])
    )
    without = home.add_child(instance=TopicPage(title="Words", slug="words"))
    wagtail_site = Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "testserver", "port": 80, "root_page": home}
    )[0]
    hotline = Hotline.objects.create(site=wagtail_site, name="Tipline", scope="state", phone="1")
    settings = SiteSettings.objects.update_or_create(
        site=wagtail_site, defaults={"jurisdiction": missouri, "state_tipline": hotline}
    )[0]
    for obj in (with_figure, without, settings):
        ReferenceIndex.create_or_update_for_object(obj)
    source = Source.objects.create(slug="s", publisher="P", title="T", edition_year=2019)
    # What a commit does with what the setup queued (the test's transaction never commits): the
    # store's one announcement per transaction would otherwise absorb the test's own.
    pending = [func for _sids, func, _robust in connection.run_on_commit]
    connection.run_on_commit.clear()
    for func in pending:
        func()
    return {
        "pages": (with_figure, without),
        "metrics": (shown, other),
        "hotline": hotline,
        "source": source,
        "missouri": missouri,
    }


def observe(purge_site, metric):
    Observation.objects.create(
        metric=metric,
        jurisdiction=purge_site["missouri"],
        period_start=datetime.date(2019, 1, 1),
        period_end=datetime.date(2019, 12, 31),
        value=Decimal("12"),
        source=purge_site["source"],
    )


def test_a_figure_purges_the_pages_that_show_its_metric_after_the_commit(
    purge_site, purged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        observe(purge_site, purge_site["metrics"][0])
        assert purged == []  # nothing before the commit
    with_figure, without = purge_site["pages"]
    assert "http://testserver/figures/" in purged
    assert f"http://testserver/embed/{with_figure.pk}/*" in purged
    assert "http://testserver/words/" not in purged
    assert "http://testserver/search/*" in purged


def test_a_figure_no_page_shows_purges_no_page(
    purge_site, purged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        observe(purge_site, purge_site["metrics"][1])
    assert "http://testserver/figures/" not in purged and "http://testserver/*" not in purged


def test_a_hotline_in_the_header_purges_its_whole_site(
    purge_site, purged, django_capture_on_commit_callbacks
):
    hotline = purge_site["hotline"]
    hotline.phone = "2"
    with django_capture_on_commit_callbacks(execute=True):
        hotline.save()
    assert "http://testserver/*" in purged


def test_publishing_a_page_purges_it_and_its_parent(
    purge_site, purged, django_capture_on_commit_callbacks
):
    _with_figure, without = purge_site["pages"]
    without.title = "New words"
    with django_capture_on_commit_callbacks(execute=True):
        without.save_revision().publish()
    assert "http://testserver/words/" in purged
    assert "http://testserver/" in purged  # the parent, which may list it
    assert "http://testserver/figures/" not in purged


def test_a_publish_purges_nothing_before_its_commit(
    purge_site, purged, django_capture_on_commit_callbacks
):
    """Wagtail's own frontend-cache handlers purge on publish, inside the transaction (Varnish
    could fetch the old page again before the commit) and through the task worker (a row per
    publish: load_initial_data queued ~500): the portal's purge is the only one."""
    _with_figure, without = purge_site["pages"]
    without.title = "New words"
    with django_capture_on_commit_callbacks(execute=False) as pending:
        without.save_revision().publish()
        assert purged == []
    assert pending  # the portal's purge waits for the commit


def test_settings_reference_snippets_for_used_n_times(purge_site):
    references = ReferenceIndex.get_references_to(purge_site["hotline"])
    assert any(r.content_type.model_class() is SiteSettings for r in references)


def test_a_hotlines_translation_is_used_where_its_source_is(purge_site, admin_client):
    """The settings name the English hotline; the Spanish header shows its translation."""
    spanish = Locale.objects.get_or_create(language_code="es")[0]
    translation = purge_site["hotline"].copy_for_translation(spanish)
    translation.save()
    edit = admin_client.get(f"/admin/snippets/resources/hotline/edit/{translation.pk}/")
    assert "Used 1 time" in edit.text
    usage = admin_client.get(f"/admin/snippets/resources/hotline/usage/{translation.pk}/")
    assert "Site settings" in usage.text or "site settings" in usage.text.lower()
