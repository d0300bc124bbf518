"""The site search finds the text a visitor reads on a page, not only its title: the words of
its blocks, the statutes, hotlines, figures and sources they show; and it forgives a misspelt
word. On the Missouri content as load_initial_data builds it."""

import re

import pytest
from django.core.cache import cache

from pages.models import TopicPage
from pages.search import corrected, rendered_body_text, text_of

pytestmark = pytest.mark.django_db


def page_results(client, query):
    """The URLs of the pages found, in order, and the results' heading."""
    html = client.get("/search/", {"q": query}).content.decode()
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    pages = main.split('id="results-pages"', 1)
    found = re.findall(r'<li><a href="([^"]+)">', pages[1]) if len(pages) > 1 else []
    heading = re.search(r"<h2>(.*?)</h2>", main)
    return found, heading.group(1) if heading else "", main


@pytest.mark.parametrize(
    ("query", "page", "shown_by"),
    [
        ("TVPA", "/federal-prosecutions/", "a metric's label in a chart"),
        ("hotel", "/state-profile/", "a category of a breakdown"),
        ("spotlight", "/hotline-statistics/", "a source's title"),
        ("confidential", "/get-help/", "a hotline snippet's text"),
        ("hotline", "/get-help/", "the hotline list"),
        ("incognito", "/staying-safe-online/", "a text block"),
    ],
)
def test_search_finds_text_the_page_shows(missouri_site, client, query, page, shown_by):
    found, _heading, _main = page_results(client, query)
    assert page in found, f"{query!r} ({shown_by}) did not find {page}: {found}"


def test_search_for_a_word_no_page_uses_finds_nothing(missouri_site, client):
    found, heading, main = page_results(client, "zzyzxq")
    assert found == [] and heading.startswith("0 results")
    assert "Nothing matched" in main


def test_a_misspelt_word_is_corrected_and_says_so(missouri_site, client):
    found, heading, main = page_results(client, "trafficing")
    assert "trafficking" in heading
    assert "Nothing matched “trafficing”" in main
    assert "/federal-prosecutions/" in found
    assert corrected("hotlin statistcs") == "hotline statistics"
    assert corrected("hotline") is None, "a word pages use is left alone"
    assert corrected("911 MO") is None, "numbers and short words are left alone"


def test_indexed_text_is_what_a_visitor_reads_not_editor_notes_or_chart_data(missouri_site):
    page = TopicPage.objects.get(slug="federal-prosecutions")
    text = rendered_body_text(page)
    assert "outside the TVPA" in text
    assert '"datasets"' not in text and "{" not in text, "a chart's JSON data was indexed"
    assert text_of('<p>a<script type="application/json">{"x": 1}</script> b</p>') == "a b"


def test_a_page_whose_blocks_cannot_render_is_indexed_by_its_text(missouri_site, monkeypatch):
    page = TopicPage.objects.get(slug="laws")

    def broken(*args, **kwargs):
        raise RuntimeError("a block template failed")

    monkeypatch.setattr("pages.search.render_to_string", broken)
    text = rendered_body_text(page)
    assert "Laws" in page.title and text, "the body's own text should still be indexed"


def test_the_search_costs_a_bounded_number_of_queries(
    missouri_site, client, django_assert_max_num_queries
):
    page_results(client, "hotline")  # warm the site root paths and settings
    cache.clear()
    # The correction's vocabulary reads each resource model once, the safety guidance too.
    with django_assert_max_num_queries(46):
        page_results(client, "trafficing")


def test_the_home_page_says_when_the_figures_were_last_updated(missouri_site, client):
    import zoneinfo

    from django.utils.timezone import localtime

    from pages.models import SiteSettings
    from stats.models import Observation

    rows = Observation.objects.filter(jurisdiction__code="MO")
    # The day in the site's own time zone (pages.middleware activates it), not the server's.
    zone = zoneinfo.ZoneInfo(SiteSettings.for_site(missouri_site).time_zone)
    latest = localtime(rows.latest("updated_at").updated_at, zone)
    html = client.get("/").content.decode()
    assert f'Figures last changed on this portal on <time datetime="{latest:%Y-%m-%d}">' in html
