"""Figure blocks on real pages: one batched fetch, a constant number of queries."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, Site

from portal.cache import invalidate_public_pages
from tests.factories import HomePageFactory, TopicPageFactory
from tests.test_blocks_render import chart_raw, figures_data, key_raw  # noqa: F401 - fixture

# 12, two for the figures since they are read by index (the nation's id, and the older
# editions' values of the figures shown), the sites (the page cache's key, once per cache
# version), the page's locale and translations (the language link), and its view restrictions
# (embeds). None of them grows with the number of blocks (see the next test).
MAX_QUERIES = 18


@pytest.fixture
def home(db):
    # Public pages are cached whole (portal.cache); conftest's reset_caches empties the cache.
    home = HomePageFactory(parent=Page.objects.get(id=1), title="Missouri", slug="missouri-home")
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    return home


def topic(home, slug, blocks):
    title = slug.replace("-", " ").title()
    return TopicPageFactory(parent=home, title=title, slug=slug, body=json.dumps(blocks))


def charts(data, n):
    variants = [
        {"chart_type": "bar"},
        {"chart_type": "line", "jurisdictions": [data["mo"].pk, data["us"].pk]},
        {"chart_type": "horizontal_bar", "from_year": 2018},
        {"chart_type": "stacked_bar", "by_breakdown": True},
        {"chart_type": "doughnut", "by_breakdown": True},
        {"chart_type": "bar", "metrics": [data["months"].pk]},
        {"chart_type": "line", "metrics": [data["cases"].pk, data["months"].pk]},
        {"chart_type": "bar", "to_year": 2018},
    ]
    return [
        {"type": "chart", "value": chart_raw(data, title=f"Chart {i}", **variants[i % 8])}
        for i in range(n)
    ]


def key_figures(data):
    return [
        {"type": "key_figure", "value": key_raw(data, "months")},
        {
            "type": "key_figures",
            "value": {
                "heading": "At a glance",
                "figures": [
                    key_raw(data, "share"),
                    key_raw(data, "place"),
                    key_raw(data, "cases", year=2018),
                ],
            },
        },
    ]


def count_queries(client, url):
    invalidate_public_pages()  # measure the render, not portal.cache's stored copy
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_page_with_8_charts_and_4_key_figures_renders_in_few_queries(
    data, home, client, django_assert_max_num_queries
):
    page = topic(home, "eight-charts", charts(data, 8) + key_figures(data))
    client.get(home.url)  # warm what every page shares (the site's root paths)
    invalidate_public_pages()
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(page.url)
    html = response.content.decode()
    assert html.count("<figure") == 8
    assert html.count('class="key-figure"') == 4
    # A chart of one year is shown as key figures, without data for Chart.js.
    singles = html.count('class="chart chart--single"')
    assert singles < 8
    assert html.count('type="application/json"') == 8 - singles
    # Unique ids, from each block's StreamField id (permalinks that survive edits).
    assert len(set(re.findall(r'<figure [^>]*id="(figure-[0-9a-f]{8}(?:-\d+)?)"', html))) == 8
    text = re.sub(r"<[^>]+>", "", html)
    assert "92 months" in text and "100% (4 of 4)" in text and "11th in the nation" in text
    assert 'data-chartjs="/static/vendor/chartjs/chart.umd.min.js"' in html
    assert "js/charts.js" in html


def test_one_chart_costs_as_many_queries_as_eight(data, home, client):
    one = topic(home, "one-chart", charts(data, 1) + key_figures(data))
    eight = topic(home, "eight-charts", charts(data, 8) + key_figures(data))
    client.get(home.url)
    count_one, html_one = count_queries(client, one.url)
    count_eight, html_eight = count_queries(client, eight.url)
    assert html_one.count("<figure") == 1 and html_eight.count("<figure") == 8
    assert count_one == count_eight
    assert count_eight <= MAX_QUERIES


def test_stats_blocks_use_one_observation_query_per_page(data, home, client):
    page = topic(home, "eight-charts", charts(data, 8) + key_figures(data))
    client.get(home.url)
    invalidate_public_pages()
    with CaptureQueriesContext(connection) as queries:
        client.get(page.url)
    observation_queries = [
        q["sql"] for q in queries.captured_queries if 'FROM "stats_observation"' in q["sql"]
    ]
    # The current values of every block, then the older editions' values of those shown.
    assert len(observation_queries) == 2
    assert '"stats_observation"."is_current"' in observation_queries[0]
    assert 'NOT "stats_observation"."is_current"' in observation_queries[1]


def test_empty_chart_hidden_from_visitors_and_flagged_in_preview(data, home, client):
    blocks = [
        {
            "type": "chart",
            "value": chart_raw(data, title="Nothing yet", from_year=1995, to_year=1996),
        }
    ]
    page = topic(home, "empty-chart", blocks)
    html = client.get(page.url).content.decode()
    assert "Nothing yet" not in html and "<figure" not in html
    assert "figure-warning" not in html
    # A preview from the admin carries the editor's sign-in cookie and so skips the page cache;
    # this one is made without a request, as an anonymous visitor, so drop the cached copy.
    invalidate_public_pages()
    preview = page.make_preview_request()
    assert preview.status_code == 200
    content = preview.content.decode()
    assert "figure-warning" in content and "No figures to show: Nothing yet" in content
    assert "<canvas" not in content
