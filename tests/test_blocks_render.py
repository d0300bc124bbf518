"""The figure blocks rendered from real observations (made up here, never shipped)."""

import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import RequestFactory
from django.urls import path, reverse

from portal.urls import urlpatterns as portal_urlpatterns
from stats.display import blocks as stats_blocks
from stats.display.batch import FigureStore
from stats.models import Category, Dimension, Jurisdiction
from stats.store.formatting import format_value, ordinal
from tests.factories import MetricFactory, ObservationFactory, SourceFactory

# A URLconf with a stand-in `data_download` route, for the CSV link's parameters before the
# download view exists.


def _download_stub(request, fmt):  # pragma: no cover - only reversed, never called
    raise NotImplementedError


# The portal's own patterns are added as they are: i18n_patterns cannot be include()d.
urlpatterns = [
    path("data/download/<str:fmt>/", _download_stub, name="data_download"),
    *portal_urlpatterns,
]


def text_of(html):
    """The text of rendered HTML, without its tags."""
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture(name="data")
def figures_data(db):
    mo = Jurisdiction.objects.get(code="MO")
    us = Jurisdiction.objects.get(code="US")
    ed2018 = SourceFactory(edition_year=2018, slug="test-report-2018")
    ed2019 = SourceFactory(
        edition_year=2019, slug="test-report-2019", url="https://example.org/report-2019"
    )
    kind = Dimension.objects.create(slug="test-type", label="Type of trafficking")
    sex = Category.objects.create(dimension=kind, slug="sex", label="Sex trafficking", sort_order=1)
    labor = Category.objects.create(
        dimension=kind, slug="labor", label="Labor trafficking", sort_order=2
    )
    venue = Dimension.objects.create(slug="test-venue", label="Venue")
    venues = [
        Category.objects.create(dimension=venue, slug=slug, label=label, sort_order=i)
        for i, (slug, label) in enumerate(
            [
                ("hotel", "Hotel or motel"),
                ("online", "Online ad"),
                ("street", "Street"),
                ("home", "Private home"),
                ("truck", "Truck stop"),
                ("bar", "Bar or club"),
            ]
        )
    ]
    cases = MetricFactory(slug="new-cases", label="New cases", dimension=kind)
    months = MetricFactory(slug="months-to-sentence", label="Time to sentence", unit="months")
    share = MetricFactory(slug="convicted-share", label="Defendants convicted", unit="percent")
    place = MetricFactory(slug="state-rank", label="Active cases rank", unit="rank")
    venue_rank = MetricFactory(slug="venue-rank", label="Top venues", unit="rank", dimension=venue)

    obs = ObservationFactory
    # New cases in Missouri: 2018 restated by the 2019 edition (171 -> 170).
    obs(metric=cases, jurisdiction=mo, year=2017, value=150, source=ed2018)
    obs(metric=cases, jurisdiction=mo, year=2018, value=171, source=ed2018)
    obs(metric=cases, jurisdiction=mo, year=2018, value=170, source=ed2019)
    obs(
        metric=cases,
        jurisdiction=mo,
        year=2019,
        value=1234,
        rank=11,
        source=ed2019,
        footnote="Excludes sealed cases.",
    )
    obs(metric=cases, jurisdiction=us, year=2019, value=5678, source=ed2019)
    obs(metric=cases, jurisdiction=mo, year=2019, breakdown=sex, value=1000, source=ed2019)
    obs(metric=cases, jurisdiction=mo, year=2019, breakdown=labor, value=234, source=ed2019)
    obs(metric=months, jurisdiction=mo, year=2019, value=92, rank=30, source=ed2019)
    obs(metric=months, jurisdiction=us, year=2019, value=Decimal("84.5"), source=ed2019)
    obs(
        metric=share,
        jurisdiction=mo,
        year=2019,
        value=100,
        numerator=4,
        denominator=4,
        source=ed2019,
    )
    obs(metric=place, jurisdiction=mo, year=2019, value=11, source=ed2019)
    for i, category in enumerate(venues):
        obs(
            metric=venue_rank,
            jurisdiction=mo,
            year=2019,
            breakdown=category,
            value=i + 1,
            source=ed2019,
        )
    # An older year of the venue ranking, which the list must not show.
    obs(
        metric=venue_rank,
        jurisdiction=mo,
        year=2018,
        breakdown=venues[5],
        value=1,
        source=ed2018,
    )
    return {
        "mo": mo,
        "us": us,
        "ed2018": ed2018,
        "ed2019": ed2019,
        "cases": cases,
        "months": months,
        "share": share,
        "place": place,
        "venue_rank": venue_rank,
        "sex": sex,
        "labor": labor,
        "venues": venues,
    }


def render(block, raw, request=None, figure_store=None):
    """Render a block from its raw (JSON) value, as a page would."""
    value = block.to_python(raw)
    context = {"request": request or RequestFactory().get("/")}
    if not hasattr(context["request"], "is_preview"):
        context["request"].is_preview = False
    if figure_store is not None:
        context["figure_store"] = figure_store
    return str(block.render(value, context=context))


def preview_request():
    request = RequestFactory().get("/")
    request.is_preview = True
    return request


def chart_raw(data, **overrides):
    raw = {
        "title": "New cases in Missouri",
        "metrics": [data["cases"].pk],
        "jurisdictions": [data["mo"].pk],
        "from_year": None,
        "to_year": None,
        "by_breakdown": False,
        "chart_type": "bar",
        "description": "New cases rose from 150 in 2017 to 1,234 in 2019.",
        "note": "",
    }
    raw.update(overrides)
    return raw


class TableParser(HTMLParser):
    """Reads the chart's <table>: header cells and, per row, (row header, [data-value...])."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self._cell, self._in = [], [], None, None
        self.scopes = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = None
        if tag == "th":
            self._in = "th"
            self._cell = ""
            self.scopes.append(attrs.get("scope"))
        if tag == "td":
            self._row[1].append(attrs.get("data-value"))

    def handle_data(self, text):
        if self._in == "th":
            self._cell += text

    def handle_endtag(self, tag):
        if tag == "th":
            self._in = None
            if self.scopes[-1] == "col":
                self.headers.append(self._cell.strip())
            else:
                self._row = (self._cell.strip(), [])
                self.rows.append(self._row)


def chart_json(html):
    pattern = r'<script id="(figure-[0-9a-f-]*\d+-data)" type="application/json">(.*?)</script>'
    match = re.search(pattern, html)
    assert match, html
    return json.loads(match.group(2))


def chart_table(html):
    table = html[html.index("<table>") : html.index("</table>")]
    parser = TableParser()
    parser.feed(table)
    return parser


# Formatting by unit


@pytest.mark.parametrize(
    "n, text",
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
        (56, "56th"),
    ],
)
def test_ordinal(n, text):
    assert ordinal(n) == text


@pytest.mark.parametrize(
    "args, text",
    [
        ((Decimal("92.0000"), "months"), "92 months"),
        ((Decimal("1"), "months"), "1 month"),
        ((Decimal("7.5"), "months"), "7.5 months"),
        ((Decimal("100.0000"), "percent", Decimal("4"), Decimal("4")), "100% (4 of 4)"),
        ((Decimal("22.5"), "percent"), "22.5%"),
        ((Decimal("11"), "rank"), "11th in the nation"),
        ((Decimal("1234567.0000"), "count"), "1,234,567"),
        ((Decimal("0"), "count"), "0"),
    ],
)
def test_format_value_by_unit(args, text):
    assert format_value(*args) == text


# ChartBlock


def test_chart_renders_figure_with_canvas_caption_sources_and_table(data):
    html = render(stats_blocks.ChartBlock(), chart_raw(data))
    assert "<figure" in html
    assert '<canvas role="img" aria-label="New cases rose from 150 in 2017 to 1,234 in 2019."' in (
        html
    )
    assert re.search(r"<figcaption[^>]*>New cases in Missouri</figcaption>", html)
    # Source lines: each edition with its data-as-of date, newest first.
    # (Source citations are marked lang="en", quoted as published: compare the text.)
    words = text_of(html)
    assert "Test Institute, Test Trafficking Report, 2019 edition; data as of March 31, 2020" in (
        words
    )
    assert "Test Institute, Test Trafficking Report, 2018 edition; data as of March 31, 2019" in (
        words
    )
    assert words.index("2019 edition") < words.index("2018 edition;")
    assert "<caption>New cases in Missouri</caption>" in html
    assert "Show as table" in html
    assert "<script" in html and 'type="application/json"' in html
    assert "<script>" not in html and "style=" not in html  # nothing inline beyond JSON data


def test_chart_table_holds_exactly_the_chart_data(data):
    html = render(
        stats_blocks.ChartBlock(),
        chart_raw(data, jurisdictions=[data["mo"].pk, data["us"].pk], chart_type="line"),
    )
    config = chart_json(html)
    table = chart_table(html)
    assert config["type"] == "line"
    assert config["labels"] == ["2017", "2018", "2019"]
    assert [d["label"] for d in config["datasets"]] == ["Missouri", "United States"]
    assert config["datasets"][0]["data"] == [150, 170, 1234]
    # The nation has 2019 only: the gaps stay empty, never zero.
    assert config["datasets"][1]["data"] == [None, None, 5678]
    assert table.headers == ["Period", "Missouri", "United States"]
    assert [label for label, _ in table.rows] == config["labels"]
    for i, (_label, cells) in enumerate(table.rows):
        for dataset, cell in zip(config["datasets"], cells, strict=True):
            expected = dataset["data"][i]
            assert cell == ("" if expected is None else str(expected))
    assert set(table.scopes) == {"col", "row"}
    assert "Not published" in html
    assert ">1,234</td>" in html


def test_chart_restatement_and_exclusion_footnotes(data):
    html = render(stats_blocks.ChartBlock(), chart_raw(data))
    # What each edition published, without calling the newer value a revision.
    assert "2018: the 2019 edition gives 170; the 2018 edition gave 171" in text_of(html)
    assert "revised" not in html
    assert "2019: Excludes sealed cases." in text_of(html)
    # The restated value is the one plotted.
    assert chart_json(html)["datasets"][0]["data"] == [150, 170, 1234]


def test_chart_by_breakdown_of_one_year_plots_categories(data):
    html = render(
        stats_blocks.ChartBlock(),
        chart_raw(data, by_breakdown=True, chart_type="doughnut", from_year=2019, to_year=2019),
    )
    config = chart_json(html)
    assert config["labels"] == ["Sex trafficking", "Labor trafficking"]
    assert config["datasets"][0]["data"] == [1000, 234]
    table = chart_table(html)
    assert [label for label, _ in table.rows] == ["Sex trafficking", "Labor trafficking"]
    assert [cells for _, cells in table.rows] == [["1000"], ["234"]]


def test_chart_years_limit_the_periods(data):
    html = render(stats_blocks.ChartBlock(), chart_raw(data, from_year=2018, to_year=2019))
    config = chart_json(html)
    assert config["labels"] == ["2018", "2019"]
    assert config["datasets"][0]["data"] == [170, 1234]


def test_a_chart_of_one_year_is_a_key_figure_not_a_one_point_trend(data):
    html = render(stats_blocks.ChartBlock(), chart_raw(data, from_year=2018, to_year=2018))
    assert 'type="application/json"' not in html  # nothing for Chart.js to draw
    assert "<canvas" not in html
    single = re.search(r'<div class="key-figure__value">(.*?)</div>', html).group(1)
    assert single == "170"
    assert "2018" in re.search(r'class="key-figure__label">(.*?)</p>', html).group(1)


def test_chart_note_is_shown(data):
    html = render(stats_blocks.ChartBlock(), chart_raw(data, note="Counts are of federal cases."))
    assert "Counts are of federal cases." in html


@pytest.mark.urls(__name__)
def test_chart_csv_link_carries_the_chart_filters(data):
    html = render(
        stats_blocks.ChartBlock(),
        chart_raw(data, from_year=2018, to_year=2019, by_breakdown=True, chart_type="stacked_bar"),
    )
    href = re.search(r'<a href="([^"]+)" download[^>]*>Download CSV</a>', html).group(1)
    href = href.replace("&amp;", "&")
    path_part, query = href.split("?")
    assert path_part == "/data/download/csv/"
    assert sorted(query.split("&")) == sorted(
        ["metric=new-cases", "jurisdiction=MO", "period_from=2018", "period_to=2019", "breakdown=1"]
    )


def test_chart_csv_download_holds_the_chart_data(data, client):
    import csv
    import io

    html = render(stats_blocks.ChartBlock(), chart_raw(data))
    href = re.search(r'<a href="([^"]+)" download', html).group(1).replace("&amp;", "&")
    response = client.get(href)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    got = sorted((r["jurisdiction"], r["period"], Decimal(r["value"])) for r in rows)
    assert got == [("MO", "2017", 150), ("MO", "2018", 170), ("MO", "2019", 1234)]


def test_chart_without_data_renders_nothing_for_visitors_and_a_warning_in_preview(data):
    raw = chart_raw(data, from_year=2001, to_year=2002)
    visitor = render(stats_blocks.ChartBlock(), raw)
    assert visitor.strip() == ""
    preview = render(stats_blocks.ChartBlock(), raw, request=preview_request())
    assert "figure-warning" in preview
    assert "No figures to show" in preview
    assert "<canvas" not in preview and "<table" not in preview


# Key figures


def key_raw(data, metric, **overrides):
    raw = {
        "metric": data[metric].pk,
        "jurisdiction": data["mo"].pk,
        "year": None,
        "label": "",
        "show_national": True,
    }
    raw.update(overrides)
    return raw


def test_key_figure_months_with_national_figure_and_rank(data):
    html = render(stats_blocks.KeyFigureBlock(), key_raw(data, "months"))
    assert re.search(r'class="key-figure__value">92 months<', html)
    assert "Time to sentence" in html and "Missouri, 2019" in html
    assert "United States: 84.5 months" in html
    assert "Ranked 30th in the nation" in html
    assert "2019 edition" in html  # source footnote


def test_key_figure_percent_with_fraction(data):
    html = render(stats_blocks.KeyFigureBlock(), key_raw(data, "share", label="Convicted"))
    assert "100% (4 of 4)" in re.sub(r"<[^>]+>", "", html)
    assert ">Convicted<" in html
    assert "United States" not in html  # the store has no national figure for it


def test_key_figure_rank_unit(data):
    html = render(stats_blocks.KeyFigureBlock(), key_raw(data, "place"))
    assert "11th in the nation" in html


def test_key_figure_latest_year_and_chosen_year(data):
    latest = render(stats_blocks.KeyFigureBlock(), key_raw(data, "cases"))
    assert ">1,234<" in latest and "Excludes sealed cases." in latest
    chosen = render(stats_blocks.KeyFigureBlock(), key_raw(data, "cases", year=2018))
    assert ">170<" in chosen
    assert "the 2019 edition gives 170; the 2018 edition gave 171" in text_of(chosen)


def test_key_figure_without_data(data):
    raw = key_raw(data, "cases", year=2005)
    assert render(stats_blocks.KeyFigureBlock(), raw).strip() == ""
    assert "figure-warning" in render(stats_blocks.KeyFigureBlock(), raw, request=preview_request())


def test_key_figure_row_renders_each_figure(data):
    raw = {
        "heading": "At a glance",
        "figures": [key_raw(data, "months"), key_raw(data, "share"), key_raw(data, "place")],
    }
    html = render(stats_blocks.KeyFigureRowBlock(), raw)
    assert "At a glance" in html
    assert html.count('class="key-figure"') == 3
    text = re.sub(r"<[^>]+>", "", html)
    assert "92 months" in text and "100% (4 of 4)" in text and "11th in the nation" in text


def test_a_row_whose_figures_share_their_source_names_it_once(data):
    raw = {"heading": "", "figures": [key_raw(data, "months"), key_raw(data, "share")]}
    html = render(stats_blocks.KeyFigureRowBlock(), raw)
    citation = data["months"].observations.get(jurisdiction=data["mo"]).source.citation

    def source_lines(html):
        return "".join(re.findall(r'class="figure-sources__list">(.*?)</ul>', html, re.S))

    assert source_lines(html).count(citation) == 1
    assert 'class="key-figures__source"' in html
    # Figures from different editions each keep their own source line.
    raw["figures"].append(key_raw(data, "cases", year=2017))
    html = render(stats_blocks.KeyFigureRowBlock(), raw)
    assert 'class="key-figures__source"' not in html
    assert source_lines(html).count(citation) >= 2


def test_key_figure_row_without_data_renders_nothing(data):
    raw = {"heading": "At a glance", "figures": [key_raw(data, "cases", year=2001)]}
    assert render(stats_blocks.KeyFigureRowBlock(), raw).strip() == ""


# Stack-up, ranked list, sources, downloads


def test_stack_up_shows_state_rank_and_national_figure(data):
    raw = {
        "heading": "",
        "jurisdiction": data["mo"].pk,
        "year": 2019,
        "metrics": [data["cases"].pk, data["months"].pk, data["share"].pk],
    }
    html = render(stats_blocks.StackUpBlock(), raw)
    assert "How does Missouri stack up?" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    assert cells[0] == ["Figure", "Missouri", "National rank", "National figure"]
    assert cells[1] == ["New cases", "1,234", "11th", "5,678"]
    assert cells[2] == ["Time to sentence", "92 months", "30th", "84.5 months"]
    assert cells[3] == ["Defendants convicted", "100% (4 of 4)", "Not published", "Not published"]


def test_stack_up_for_a_year_without_data(data):
    raw = {
        "heading": "",
        "jurisdiction": data["mo"].pk,
        "year": 2003,
        "metrics": [data["cases"].pk],
    }
    assert render(stats_blocks.StackUpBlock(), raw).strip() == ""


def test_ranked_list_top_categories_of_latest_year(data):
    raw = {
        "title": "Top venues",
        "metric": data["venue_rank"].pk,
        "jurisdiction": data["mo"].pk,
        "limit": 5,
    }
    html = render(stats_blocks.RankedListBlock(), raw)
    items = re.findall(r'<li value="(\d+)">(.*?)</li>', html)
    assert items == [
        ("1", "Hotel or motel"),
        ("2", "Online ad"),
        ("3", "Street"),
        ("4", "Private home"),
        ("5", "Truck stop"),
    ]
    assert "<ol" in html and "Missouri, 2019" in html


def test_source_list_every_edition_or_the_chosen_ones(data):
    data["ed2019"].methodology = "Counts federal criminal cases."
    data["ed2019"].limitations = "Federal courts only."
    data["ed2019"].coverage = "2000 to 2019"
    data["ed2019"].save()
    html = render(stats_blocks.SourceListBlock(), {"heading": "", "sources": []})
    assert html.count('class="source"') == 2
    assert "Counts federal criminal cases." in html and "Federal courts only." in html
    assert "2000 to 2019" in html and "March 31, 2020" in html
    assert 'href="https://example.org/report-2019"' in html
    chosen = render(stats_blocks.SourceListBlock(), {"heading": "", "sources": [data["ed2018"].pk]})
    assert chosen.count('class="source"') == 1 and "2018 edition" in chosen


def test_data_downloads_links_every_format(db):
    html = render(stats_blocks.DataDownloadsBlock(), {"heading": "Download the data"})
    for fmt in ("csv", "xlsx", "json"):
        assert f'href="{reverse("data_download", args=[fmt])}?' in html


# The store


def test_store_batches_every_selection_in_one_query(data, django_assert_num_queries):
    from pages.blocks import ContentStreamBlock

    block = ContentStreamBlock()
    stream = block.to_python(
        [
            {"type": "chart", "value": chart_raw(data)},
            {"type": "key_figure", "value": key_raw(data, "months")},
            {
                "type": "key_figures",
                "value": {
                    "heading": "",
                    "figures": [key_raw(data, "share"), key_raw(data, "place")],
                },
            },
        ]
    )
    # Chosen metrics and places: one query each for the whole stream; figures: the nation's
    # id, the current values, the older values they replaced.
    with django_assert_num_queries(5):
        store = FigureStore.for_stream(stream)
    assert len(store.selections) == 4
    with django_assert_num_queries(0):
        html = "".join(
            str(child.render(context={"figure_store": store, "request": RequestFactory().get("/")}))
            for child in stream
        )
    text = re.sub(r"<[^>]+>", "", html)
    assert "92 months" in text and "100% (4 of 4)" in text and "11th in the nation" in text


def test_block_fetches_its_own_figures_without_a_store(data):
    # The block picker's preview renders a block with no page around it.
    html = render(stats_blocks.KeyFigureBlock(), key_raw(data, "months"))
    assert "92 months" in html


def test_block_previews_use_real_figures(data, admin_client):
    block = stats_blocks.ChartBlock()
    assert block.is_previewable
    response = admin_client.get(
        reverse("wagtailadmin_block_preview"), {"id": block.definition_prefix}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<canvas" in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/charts.js" in html
