"""The Missouri site its pack makes: tree, idempotence, editors' changes, settings, SEO."""

import re

import pytest
from wagtail.models import Page

from pages.models import HomePage, SiteSettings, TopicPage
from resources.models import SNIPPET_MODELS, Hotline, Statute
from tests.content_fixtures import SNIPPETS as PACK_SNIPPETS
from tests.content_fixtures import TOPICS, load_missouri, loaded_content

pytestmark = pytest.mark.django_db


def test_tree_after_build(missouri_site):
    home = missouri_site.root_page.specific
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


def test_second_run_changes_nothing(missouri_site):
    before = loaded_content()
    assert "content: nothing to do" in load_missouri().summary()
    assert loaded_content() == before


def test_editors_changes_survive_a_second_run(missouri_site):
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
    settings_row = SiteSettings.objects.get(site=missouri_site)
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
    assert SiteSettings.objects.get(site=missouri_site).state_tipline is None
    assert TopicPage.objects.filter(slug="get-help").count() == 1
    assert Statute.objects.filter(citation="§ 566.206").count() == 1


def test_site_settings_point_at_the_hotline_snippets(missouri_site, client):
    settings_row = SiteSettings.objects.get(site=missouri_site)
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


def test_snippets_are_live_with_a_revision(missouri_site):
    for model in SNIPPET_MODELS:
        items = list(model.objects.all())
        assert items, model
        for item in items:
            assert item.live and item.site == missouri_site
            assert item.latest_revision_id and item.live_revision_id == item.latest_revision_id


def test_every_page_answers_with_title_description_canonical_and_open_graph(missouri_site, client):
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


def test_breadcrumbs_on_topic_pages(missouri_site, client):
    html = client.get("/laws/").content.decode()
    crumbs = re.search(
        r'<nav class="breadcrumbs[^"]*" aria-label="Breadcrumb">(.*?)</nav>', html, re.S
    )
    assert crumbs
    assert '<a href="/">Home</a>' in crumbs.group(1)
    assert '<span aria-current="page">Laws</span>' in crumbs.group(1)


def test_sitemap_lists_every_page_and_robots_points_at_it(missouri_site, client):
    xml = client.get("/sitemap.xml").content.decode()
    locations = set(re.findall(r"<loc>([^<]+)</loc>", xml))
    pages = {p.full_url for p in Page.objects.live().filter(depth__gte=2).specific()}
    assert len(pages) == 2 * (1 + len(TOPICS))  # in English and in Spanish
    assert locations == pages
    robots = client.get("/robots.txt").content.decode()
    # The Site's configured address, not the request's host (portal.cache, pages.views).
    assert f"Sitemap: {missouri_site.root_url}/sitemap.xml" in robots
    assert "Disallow: /admin/" in robots


def test_home_has_hotline_callout_key_figures_and_a_card_per_section(missouri_site, client):
    html = client.get("/").content.decode()
    main = html.split('<main id="main"')[1]
    assert 'class="callout hotline-callout"' in main
    assert 'href="tel:+18883737888"' in main
    assert main.count('class="key-figure"') >= 5
    for spec in TOPICS:
        assert f'<a href="/{spec["slug"]}/">{spec["title"]}</a>' in main
    assert '<a href="/search/">Search</a>' in main


def test_a_withdrawn_page_leaves_the_footer_and_the_quick_exit(missouri_site, client):
    """The footer's links and the quick exit's safety link name only live pages: a page
    unpublished (or its translation) is not linked from every other page."""
    for slug in ("laws", "staying-safe-online"):
        Page.objects.get(slug=slug, locale__language_code="en").unpublish()
    html = client.get("/get-help/").content.decode()
    footer = html.split('class="site-footer"')[1]
    assert 'href="/get-help/"' in footer
    assert 'href="/laws/"' not in footer and 'href="/staying-safe-online/"' not in html
