"""The Missouri site its pack makes: tree, idempotence, editors' changes, settings, SEO."""

import io
import re

import pytest
from django.core.management import call_command
from wagtail.models import Page, Revision, Site

from pages.models import HomePage, SiteSettings, TopicPage
from resources.models import (
    Campaign,
    FundingOpportunity,
    Hotline,
    Organization,
    Publication,
    Statute,
)
from stats.models import Observation
from tests.content_fixtures import SNIPPETS as PACK_SNIPPETS
from tests.content_fixtures import TOPICS, load_missouri

SNIPPETS = (Statute, Organization, Publication, FundingOpportunity, Campaign, Hotline)
pytestmark = pytest.mark.django_db


def tree():
    return [
        (p.depth, p.url_path, p.specific_class.__name__, p.title, p.live)
        for p in Page.objects.order_by("path")
    ]


def state():
    """Everything loading a pack may create, as comparable values."""
    return {
        "tree": tree(),
        "revisions": Revision.objects.count(),
        "latest_revisions": sorted(Page.objects.values_list("pk", "latest_revision_id")),
        "snippets": {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in SNIPPETS},
        "settings": list(
            SiteSettings.objects.values(
                "site", "jurisdiction", "national_hotline", "state_tipline", "quick_exit_url"
            )
        ),
        "sites": list(Site.objects.values()),
    }


@pytest.fixture
def site(db):
    load_missouri()
    return Site.objects.get(is_default_site=True)


def test_tree_after_build(site):
    home = site.root_page.specific
    assert isinstance(home, HomePage)
    assert home.live and home.url == "/"
    children = list(home.get_children().live().specific())
    assert [c.slug for c in children] == [t["slug"] for t in TOPICS]
    assert all(isinstance(c, TopicPage) for c in children)
    # Every topic is in the menu but the safety advice, linked beside the quick exit instead.
    assert [c.slug for c in children if not c.show_in_menus] == ["staying-safe-online"]
    assert TopicPage.objects.get(slug="data").url == "/data/"
    # Wagtail's "Welcome" page is gone: the only pages are the root, home and the topics, and
    # the Spanish translations of home and the topics.
    assert Page.objects.count() == 2 + len(TOPICS) + (1 + len(TOPICS))
    assert all(p.search_description for p in [home, *children])


def test_second_run_changes_nothing(site):
    before = state()
    assert "content: nothing to do" in load_missouri().summary()
    assert state() == before


def test_editors_changes_survive_a_second_run(site):
    laws = TopicPage.objects.get(slug="laws")
    laws.title = "Missouri laws"
    laws.body = []
    laws.save_revision().publish()
    statute = Statute.objects.get(citation="§ 566.206")
    statute.title = "Edited by an editor"
    statute.url = "https://example.test/566.206"
    statute.save()
    hotline = Hotline.objects.get(name=PACK_SNIPPETS["hotlines"][0]["name"])
    hotline.hours = "Edited hours"
    hotline.save()
    settings_row = SiteSettings.objects.get(site=site)
    settings_row.state_tipline = None  # an editor chose to show the national hotline only
    settings_row.save()
    TopicPage.objects.get(slug="get-help").delete()  # missing pages are created again

    load_missouri()

    laws.refresh_from_db()
    assert laws.title == "Missouri laws" and len(laws.body) == 0
    statute.refresh_from_db()
    assert statute.title == "Edited by an editor"
    hotline.refresh_from_db()
    assert hotline.hours == "Edited hours"
    assert SiteSettings.objects.get(site=site).state_tipline is None
    assert TopicPage.objects.filter(slug="get-help").count() == 1
    assert Statute.objects.filter(citation="§ 566.206").count() == 1


def test_site_settings_point_at_the_hotline_snippets(site, client):
    settings_row = SiteSettings.objects.get(site=site)
    assert settings_row.jurisdiction.code == "MO" and settings_row.jurisdiction.name == "Missouri"
    assert settings_row.national_hotline.phone == "888-373-7888"
    assert settings_row.state_tipline.phone == "800-700-1650"
    assert [link.value["page"].slug for link in settings_row.footer_links] == [
        "get-help",
        "staying-safe-online",
        "laws",
        "data",
    ]
    assert settings_row.safety_page.slug == "staying-safe-online"
    html = client.get("/laws/").content.decode()
    header = html.split("</header>")[0]
    assert 'href="tel:+18883737888"' in header and 'href="tel:+18007001650"' in header


def test_snippets_are_live_with_a_revision(site):
    for model in SNIPPETS:
        items = list(model.objects.all())
        assert items, model
        for item in items:
            assert item.live and item.site == site
            assert item.latest_revision_id and item.live_revision_id == item.latest_revision_id


def test_every_page_answers_with_title_description_canonical_and_open_graph(site, client):
    for page in Page.objects.live().filter(depth__gte=2).specific():
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        html = response.content.decode()
        assert f"<title>{page.title} |" in html
        assert html.count("<h1") == 1
        description = re.search(r'<meta name="description" content="([^"]+)">', html)
        assert description and len(description.group(1)) > 40
        assert f'<link rel="canonical" href="{page.full_url}">' in html
        assert f'<meta property="og:url" content="{page.full_url}">' in html
        assert '<meta property="og:title"' in html


def test_breadcrumbs_on_topic_pages(site, client):
    html = client.get("/laws/").content.decode()
    crumbs = re.search(
        r'<nav class="breadcrumbs[^"]*" aria-label="Breadcrumb">(.*?)</nav>', html, re.S
    )
    assert crumbs
    assert '<a href="/">Home</a>' in crumbs.group(1)
    assert '<span aria-current="page">Laws</span>' in crumbs.group(1)


def test_sitemap_lists_every_page_and_robots_points_at_it(site, client):
    xml = client.get("/sitemap.xml").content.decode()
    locations = set(re.findall(r"<loc>([^<]+)</loc>", xml))
    pages = {p.full_url for p in Page.objects.live().filter(depth__gte=2).specific()}
    assert len(pages) == 2 * (1 + len(TOPICS))  # in English and in Spanish
    assert locations == pages
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots
    assert "Disallow: /admin/" in robots


def test_home_has_hotline_callout_key_figures_and_a_card_per_section(site, client):
    html = client.get("/").content.decode()
    main = html.split('<main id="main"')[1]
    assert 'class="callout hotline-callout"' in main
    assert 'href="tel:+18883737888"' in main
    assert main.count('class="key-figure"') >= 5
    for spec in TOPICS:
        assert f'<a href="/{spec["slug"]}/">{spec["title"]}</a>' in main
    assert '<a href="/search/">Search</a>' in main


def test_load_initial_data_builds_the_site_and_a_second_run_changes_nothing(db):
    call_command("load_initial_data", stdout=open("/dev/null", "w"))
    first = state()
    assert len(first["tree"]) == 2 + len(TOPICS) + (1 + len(TOPICS))  # and Spanish
    call_command("load_initial_data", stdout=open("/dev/null", "w"))
    assert state() == first


def test_load_initial_data_again_keeps_a_data_managers_correction(db):
    call_command("load_initial_data", stdout=io.StringIO())
    figure = Observation.objects.get(
        metric__slug="new-defendants", jurisdiction__code="MO", period_start__year=2020
    )
    figure.value = 9
    figure.save()
    call_command("load_initial_data", stdout=io.StringIO())
    figure.refresh_from_db()
    assert figure.value == 9
