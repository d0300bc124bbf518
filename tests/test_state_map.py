# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
"""The US map block, with made-up figures for every state (made here, never shipped)."""

import re

import pytest
from django.test import override_settings

from portal.cache import invalidate_public_pages
from stats.display import blocks as stats_blocks
from stats.display.geo import FIPS
from stats.display.shaping import MAP_FILLS, NO_FIGURE_LINE
from stats.models import Jurisdiction
from tests.factories import MetricFactory, ObservationFactory, SourceFactory
from tests.test_blocks_page import home, topic  # noqa: F401 - fixture
from tests.test_blocks_render import (  # noqa: F401 - fixture
    figures_data,
    preview_request,
    render,
)


def made_up_states(metric, source, year=2019, skip=()):
    """A value for every state, the District and the territories: 10, 20, 30..."""
    states = Jurisdiction.objects.filter(kind="state").exclude(code__in=skip).order_by("code")
    for i, state in enumerate(states, start=1):
        ObservationFactory(
            metric=metric, jurisdiction=state, year=year, value=10 * i, source=source
        )
    return {s.code: 10 * i for i, s in enumerate(states, start=1)}


@pytest.fixture
def every_state(db):
    metric = MetricFactory(slug="map-cases", label="Cases by state")
    source = SourceFactory(edition_year=2019, slug="map-report-2019")
    return metric, source, made_up_states(metric, source)


def map_raw(metric, year=2019):
    return {"title": "Cases by state", "metric": metric.pk, "year": year, "description": "A map."}


def map_table(html):
    rows = re.findall(
        r'<tr(?: class="map__row--mine")? data-code="(\w+)">\s*<td>(\d+)</td>'
        r'<th scope="row">(?:<strong>)?([^<]+)(?:</strong>)?</th><td data-value="([\d.]+)">',
        html,
    )
    return [(code, int(rank), name, float(value)) for code, rank, name, value in rows]


def test_the_map_holds_every_state_and_its_table_matches(every_state, home, client):
    from wagtail.models import Site

    from pages.models import SiteSettings

    metric, _source, values = every_state
    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.jurisdiction = Jurisdiction.objects.get(code="MO")  # the site's state
    settings.save()
    page = topic(home, "map", [{"type": "state_map", "value": map_raw(metric)}])
    html = client.get(page.url).content.decode()
    shapes = map_shapes(html)
    # The 50 states and the District are drawn (the territories are off the map), each with
    # the class of its value: five equal steps from the lowest value (10) to the highest.
    assert len(shapes) == 51 and {code for code, _c, _m, _f in shapes} <= set(values)
    low, high = min(values.values()), max(values.values())
    step = (high - low) / 5
    for code, number, _mine, fill in shapes:
        assert number == min(int((values[code] - low) // step) + 1, 5), code
        assert fill == MAP_FILLS[number - 1]
    assert [code for code, _c, mine, _f in shapes if mine] == ["MO"]
    table = map_table(html)
    assert {code: value for code, _rank, _name, value in table} == values
    # Ranked by value, highest first.
    assert [rank for _c, rank, _n, _v in table] == list(range(1, 57))
    assert table[0][3] == max(values.values())
    # The site's state (from its settings: MO here) is highlighted, with its rank.
    mine = [row for row in table if row[0] == "MO"][0]
    assert 'class="map__row--mine" data-code="MO"' in html
    assert (
        f"Missouri: <strong>{int(values['MO'])}</strong>, {ordinal_text(mine[1])} highest" in html
    )
    # Drawn by the server: no map library, atlas or Chart.js is loaded for it.
    assert "chartjs-chart-geo" not in html and "us-atlas" not in html
    assert "chart.umd.min.js" not in html


def test_a_state_without_a_figure_is_drawn_with_no_class(db):
    metric = MetricFactory(slug="gaps", label="Gaps")
    source = SourceFactory(edition_year=2019, slug="gaps-2019")
    made_up_states(metric, source, skip=["TX"])
    html = render(stats_blocks.MapBlock(), map_raw(metric))
    assert 'class="map__state map__state--none"><title>Texas: no figure</title>' in html
    assert len(map_shapes(html)) == 50
    # Hatched, not a fill a class could have, and named in the key.
    texas = re.search(r'<path d="[^"]+" fill="([^"]+)"[^>]*map__state--none', html).group(1)
    assert texas.startswith("url(#") and texas not in MAP_FILLS
    assert [label for _fill, label in map_key(html)][-1] == "No figure in the store"


def contrast(a, b):
    """WCAG's contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_class_stands_out_from_the_page_and_the_borders_between_states():
    # The lowest values are not near-white beside the hatched states without a figure.
    for fill in MAP_FILLS:
        assert contrast(fill, "#ffffff") >= 3, fill
    assert contrast(NO_FIGURE_LINE, "#ffffff") >= 3


def map_key(html):
    """(fill, words) of each entry of the map's key."""
    key = html.split("data-map-legend", 1)[1].split("</ul>", 1)[0]
    return [
        (fill, re.sub(r"<[^>]+>", "", words).strip())
        for fill, words in re.findall(r'<li data-legend-fill="(#\w+)"[^>]*>(.*?)</li>', key, re.S)
    ]


def test_the_key_gives_each_class_its_lowest_and_highest_published_value(db):
    metric = MetricFactory(slug="keyed", label="Keyed cases")
    source = SourceFactory(edition_year=2019, slug="keyed-2019")
    values = made_up_states(metric, source)  # 10, 20 ... 560: five equal steps of 110
    html = render(stats_blocks.MapBlock(), map_raw(metric))
    key = map_key(html)
    assert [fill for fill, _words in key] == list(MAP_FILLS)
    assert [words for _fill, words in key] == [
        "10 to 110", "120 to 220", "230 to 330", "340 to 440", "450 to 560"
    ]  # fmt: skip
    assert max(values.values()) == 560
    # Every state has a figure: no "no figure" entry.
    assert "No figure" not in html


def test_the_year_is_added_to_a_title_only_when_it_lacks_it(every_state):
    metric, _source, _values = every_state
    for title, caption in [
        ("Cases by state, 2019", "Cases by state, 2019"),
        ("Cases by state", "Cases by state, 2019"),
    ]:
        html = render(stats_blocks.MapBlock(), {**map_raw(metric), "title": title})
        shown = re.search(r'<figcaption class="chart__title"[^>]*>(.*?)</figcaption>', html)
        assert shown.group(1) == caption
        assert "2019, 2019" not in html and "by state, by state" not in html


def test_the_rank_is_labelled_as_the_portals_own(every_state):
    metric, _source, _values = every_state
    html = render(stats_blocks.MapBlock(), map_raw(metric))
    assert '<th scope="col">Rank (worked out by this portal)</th>' in html


def map_shapes(html):
    """(code, class number, highlighted, fill) of each state's shape with a figure."""
    found = re.findall(
        r'<path d="[^"]+" fill="(#\w+)" stroke="#\w+" stroke-width="[\d.]+" '
        r'class="map__state map__state--c(\d)( map__state--mine)?" data-code="(\w+)">',
        html,
    )
    return [(code, int(number), bool(mine), fill) for fill, number, mine, code in found]


def ordinal_text(n):
    from stats.store.formatting import ordinal

    return ordinal(n)


def test_the_highlighted_state_comes_from_the_site_settings(every_state, home, client):
    from wagtail.models import Site

    from pages.models import SiteSettings

    metric, _source, _values = every_state
    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.jurisdiction = Jurisdiction.objects.get(code="KS")
    settings.save()
    page = topic(home, "map-ks", [{"type": "state_map", "value": map_raw(metric)}])
    invalidate_public_pages()
    html = client.get(page.url).content.decode()
    assert 'class="map__row--mine" data-code="KS"' in html
    assert [code for code, _c, mine, _f in map_shapes(html) if mine] == ["KS"]


def test_ties_share_a_rank(db):
    metric = MetricFactory(slug="tied", label="Tied")
    source = SourceFactory(edition_year=2019, slug="tied-2019")
    for state in Jurisdiction.objects.filter(kind="state"):
        ObservationFactory(metric=metric, jurisdiction=state, year=2019, value=5, source=source)
    html = render(stats_blocks.MapBlock(), map_raw(metric))
    assert {rank for _c, rank, _n, _v in map_table(html)} == {1}


def test_too_few_states_show_nothing_and_editors_see_why(data):
    # The made-up fixture: Missouri and the nation only, like the shipped Missouri data.
    raw = map_raw(data["cases"])
    assert render(stats_blocks.MapBlock(), raw).strip() == ""
    preview = render(stats_blocks.MapBlock(), raw, request=preview_request())
    assert "hidden from visitors" in preview
    assert "holds this figure for 1 state; a map needs at least 40" in preview


@override_settings(PORTAL_MAP_MIN_STATES=3)
def test_the_threshold_is_a_setting(db):
    metric = MetricFactory(slug="few", label="Few")
    source = SourceFactory(edition_year=2019, slug="few-2019")
    made_up_states(metric, source, skip=[c for c in FIPS if c not in ("MO", "KS", "IA")])
    html = render(stats_blocks.MapBlock(), map_raw(metric))
    assert len(map_table(html)) == 3


def test_a_page_of_maps_and_charts_runs_one_batch_of_figure_queries(every_state, home, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    metric, _source, _values = every_state
    body = [{"type": "state_map", "value": map_raw(metric, year)} for year in (2018, 2019)]
    page = topic(home, "maps", body * 3)
    client.get(home.url)
    invalidate_public_pages()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page.url).status_code == 200
    observation_queries = [
        q for q in queries.captured_queries if 'FROM "stats_observation"' in q["sql"]
    ]
    # The current values, and the older editions they restate (stats.models current()).
    assert len(observation_queries) <= 2
