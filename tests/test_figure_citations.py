# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
"""Charts honest about time, notes said once, and what a journalist takes away: citation,
permalink, a CSV named after the figure, and an embeddable view (made-up data)."""

import csv
import io
import json
import re
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from portal.cache import invalidate_public_pages
from stats.display import blocks as stats_blocks
from stats.display.batch import FigureStore
from stats.display.shaping import editor_note, footnotes
from stats.exchange.common import EXPORT_COLUMNS
from stats.models import Observation, Source
from stats.store.formatting import format_decimal
from tests.factories import ObservationFactory
from tests.test_blocks_page import charts, home, key_figures, topic  # noqa: F401 - fixture
from tests.test_blocks_render import (  # noqa: F401 - fixture
    chart_json,
    chart_raw,
    chart_table,
    figures_data,
    key_raw,
    render,
)


def test_a_missing_year_is_a_gap_not_a_line_joined_across_it(data):
    # New cases: 2017, 2018 and 2019; the nation only 2019. Add 2021 with no 2020.
    ObservationFactory(
        metric=data["cases"], jurisdiction=data["mo"], year=2021, value=99, source=data["ed2019"]
    )
    html = render(stats_blocks.ChartBlock(), chart_raw(data, chart_type="line"))
    config = chart_json(html)
    assert config["years"] is True
    assert config["labels"] == ["2017", "2018", "2019", "2020", "2021"]
    assert config["datasets"][0]["data"] == [150, 170, 1234, None, 99]
    table = chart_table(html)
    assert [label for label, _ in table.rows] == ["2017", "2018", "2019", "2020", "2021"]
    assert table.rows[3][1] == [""]  # "Not published"
    assert "Not published" in html


def test_periods_that_are_not_years_are_not_filled_in(data):
    html = render(
        stats_blocks.ChartBlock(), chart_raw(data, by_breakdown=True, from_year=2019, to_year=2019)
    )
    config = chart_json(html)
    assert config["years"] is False
    assert config["labels"] == ["Sex trafficking", "Labor trafficking"]


def test_a_footnote_several_figures_share_is_said_once_naming_them(data):
    for year in (2017, 2018):
        data["cases"].observations.filter(period_start__year=year).update(
            footnote="Excludes sealed cases."
        )
    store = FigureStore()
    named = [
        (o.period_label, o)
        for o in store.observations(
            stats_blocks.ChartBlock().figure_selections(
                stats_blocks.ChartBlock().to_python(chart_raw(data))
            )[0]
        )
    ]
    # The footnote is quoted as published, marked lang="en" (issue 17).
    assert re.sub(r"<[^>]+>", "", footnotes(named)[0]) == "2017, 2018, 2019: Excludes sealed cases."


def test_an_editor_note_that_repeats_a_footnote_is_dropped():
    footnote = (
        "2020: 2 of the convicted defendants were in cases where the government did not name a "
        "trafficking victim in the charging instrument. These defendants have been excluded."
    )
    note = (
        "Convicted defendants in cases where the government did not name a trafficking victim "
        "in the charging instrument are excluded."
    )
    assert editor_note(note, [footnote]) == ""
    assert editor_note("Signals are contacts, not cases.", [footnote]) == (
        "Signals are contacts, not cases."
    )


def test_a_note_shared_by_charts_of_one_section_is_said_once(data, home, client):
    note = "These statistics are non-cumulative."
    body = [
        {"type": "heading", "value": {"heading": "Demographics", "anchor": ""}},
        *(
            {"type": "chart", "value": chart_raw(data, title=f"Chart {i}", note=note)}
            for i in range(3)
        ),
        {"type": "heading", "value": {"heading": "Another section", "anchor": ""}},
        {"type": "chart", "value": chart_raw(data, title="Chart 4", note=note)},
    ]
    page = topic(home, "notes-once", body)
    html = client.get(page.url).content.decode()
    assert html.count(note) == 2  # once in each section
    # And the footnote of 2019 ("Excludes sealed cases."): once a section too.
    assert html.count("Excludes sealed cases.") == 2


def test_permalinks_come_from_block_ids_and_survive_edits(data, home, client):
    page = topic(home, "permalinks", charts(data, 2) + key_figures(data))
    html = client.get(page.url).content.decode()
    ids = [child.id for child in page.body]
    chart_ids = re.findall(r'<figure class="chart[^"]*" id="([^"]+)"', html)
    assert chart_ids == [f"figure-{ids[0][:8]}", f"figure-{ids[1][:8]}"]
    # A block added at the top changes no existing anchor.
    page.body.insert(0, ("text", "<p>New introduction.</p>"))
    page.save_revision().publish()
    invalidate_public_pages()
    again = client.get(page.url).content.decode()
    assert re.findall(r'<figure class="chart[^"]*" id="([^"]+)"', again) == chart_ids
    # Each key figure of a row has its own anchor, from its list item's id.
    row = page.body[-1]
    item_ids = [item.id for item in row.value["figures"].bound_blocks]
    for item_id in item_ids:
        assert f'id="figure-{item_id[:8]}"' in again


def test_citation_names_the_figure_page_url_anchor_and_sources(data, home, client):
    from wagtail.models import Site

    from pages.models import SiteSettings
    from stats.models import Jurisdiction

    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.jurisdiction = Jurisdiction.objects.get(code="MO")  # the portal's name says it
    settings.save()
    page = topic(home, "citations", charts(data, 1))
    html = client.get(page.url).content.decode()
    anchor = re.search(r'<figure class="chart[^"]*" id="([^"]+)"', html).group(1)
    cite = re.search(r'<p class="figure-actions__cite" id="[^"]+">(.*?)</p>', html, re.S).group(1)
    assert "Chart 0" in cite
    assert "Missouri Human Trafficking Data Portal" in cite
    # The link reproduces the figures as cited: the page as of the moment it was rendered.
    cited = re.search(r"Figures as of [^:]+: (\S+)\.", cite).group(1)
    assert cited.startswith(f"{page.full_url}?as_of=") and cited.endswith(f"#{anchor}")
    assert "Test Institute, Test Trafficking Report, 2019 edition" in cite
    assert "Retrieved <span data-retrieved>" in cite


def test_source_line_says_when_the_portal_last_changed_the_figure(data):
    html = render(stats_blocks.ChartBlock(), chart_raw(data))
    newest = timezone.localtime(data["cases"].observations.latest("updated_at").updated_at)
    assert f"last changed on this portal {newest:%B} {newest.day}, {newest.year}" in html


def figure_links(html):
    csv_url = re.findall(r'<a href="(/figures/\d+/[0-9a-f-]+\.csv)" download', html)
    embed = re.findall(r'<a href="(/embed/\d+/[0-9a-f-]+/)">Open the embeddable view', html)
    return csv_url, embed


def test_each_figure_has_a_csv_named_after_it_with_labels_units_and_editions(data, home, client):
    page = topic(home, "named-csv", charts(data, 1) + key_figures(data))
    html = client.get(page.url).content.decode()
    csv_urls, _ = figure_links(html)
    assert len(csv_urls) == 1 + 1 + 3  # the chart, the key figure, the row's three
    response = client.get(csv_urls[0])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="chart-0.csv"'
    assert not response.cookies
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert content.splitlines()[0] == ",".join(EXPORT_COLUMNS)  # the bulk download's columns
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {r["metric_label"] for r in rows} == {"New cases"}
    assert {r["unit"] for r in rows} == {"count"}
    current = [r for r in rows if r["current"] == "yes"]
    assert sorted(r["value"] for r in current) == ["1234", "150", "170"]  # what the chart plots
    assert {r["source_edition"] for r in current} == {"2018 edition", "2019 edition"}
    # A key figure's CSV: its own figure and the nation's beside it.
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(client.get(csv_urls[1]).streaming_content).decode("utf-8-sig"))
        )
    )
    assert sorted((r["jurisdiction"], r["value"]) for r in rows if r["current"] == "yes") == [
        ("MO", "92"),
        ("US", "84.5"),
    ]


def test_a_figure_csv_gives_the_other_editions_value_the_page_notes(data, home, client):
    page = topic(home, "csv-editions", charts(data, 1))
    csv_urls, _ = figure_links(client.get(page.url).content.decode())
    content = b"".join(client.get(csv_urls[0]).streaming_content).decode("utf-8-sig")
    first = next(csv.DictReader(io.StringIO(content)))
    shown = Observation.objects.get(
        metric__slug=first["metric"],
        jurisdiction__code=first["jurisdiction"],
        source__slug=first["source"],
        breakdown__slug=first["breakdown"] or None,
        value=Decimal(first["value"]),
    )
    older = Source.objects.create(
        slug="csv-older-edition",
        publisher=shown.source.publisher,
        title=shown.source.title,
        edition="older edition",
        edition_year=shown.source.edition_year - 1,
    )
    Observation.objects.create(
        metric=shown.metric,
        jurisdiction=shown.jurisdiction,
        period_start=shown.period_start,
        period_end=shown.period_end,
        breakdown=shown.breakdown,
        value=shown.value + 1,
        source=older,
    )
    content = b"".join(client.get(csv_urls[0]).streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    other = [r for r in rows if r["source"] == "csv-older-edition"]
    assert [(r["current"], r["value"]) for r in other] == [("no", format_decimal(shown.value + 1))]


def test_embed_may_be_framed_by_any_site_and_the_page_may_not(data, home, client):
    page = topic(home, "embeds", charts(data, 2))
    response = client.get(page.url)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    _, embeds = figure_links(response.content.decode())
    assert len(embeds) == 2
    embed = client.get(embeds[0])
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    policy = embed["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert not embed.cookies
    html = embed.content.decode()
    assert "Chart 0" in html and "Chart 1" not in html
    assert "Test Trafficking Report, 2019 edition" in html
    assert "data as of March 31, 2020" in html
    assert f'href="{page.full_url}' in html  # a link back
    assert 'type="application/json"' in html and "js/charts.js" in html
    assert "<iframe" not in html  # no embed code inside the embed


def test_embed_and_csv_of_a_private_or_unknown_figure_are_not_found(data, home, client):
    from wagtail.models import PageViewRestriction

    page = topic(home, "private", charts(data, 1))
    html = client.get(page.url).content.decode()
    csv_urls, embeds = figure_links(html)
    assert client.get(embeds[0].replace(str(page.pk), str(page.pk + 999))).status_code == 404
    assert client.get(embeds[0][:-5] + "0000/").status_code == 404
    PageViewRestriction.objects.create(page=page, restriction_type="login")
    cache.clear()
    assert client.get(embeds[0]).status_code == 404
    assert client.get(csv_urls[0]).status_code == 404


def test_embed_renders_in_a_bounded_number_of_queries(
    data, home, client, django_assert_max_num_queries
):
    page = topic(home, "embed-queries", charts(data, 8))
    _, embeds = figure_links(client.get(page.url).content.decode())
    # Constant per request besides the view's: the page cache's versions, the site's settings
    # (its time zone) and the active locale (the embed in the page's language).
    with django_assert_max_num_queries(12):
        assert client.get(embeds[-1]).status_code == 200


def test_chartjs_is_loaded_only_on_pages_with_a_chart(data, home, client):
    with_chart = topic(home, "with-chart", charts(data, 1))
    only_figures = topic(home, "only-figures", key_figures(data))
    html = client.get(with_chart.url).content.decode()
    assert 'data-chartjs="/static/vendor/chartjs/chart.umd.min.js"' in html
    html = client.get(only_figures.url).content.decode()
    assert "chart.umd.min.js" not in html
    assert "js/charts.js" in html  # the small script of the copy buttons only
    html = client.get(home.url).content.decode()
    assert "chart.umd.min.js" not in html and "js/charts.js" not in html


def test_store_says_each_note_once_per_section():
    store = FigureStore()
    assert store.unsaid(1, ["a", "b"]) == ["a", "b"]
    assert store.unsaid(1, ["b", "c"]) == ["c"]
    assert store.unsaid(2, ["a"]) == ["a"]
    assert json.dumps(store.unsaid(None, ["", "a"])) == '["a"]'
