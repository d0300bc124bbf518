"""Bulk downloads at /data/download/<fmt>/: formats, columns, filters, formula safety,
caching headers, the round trip through the importer, and the downloads block."""

import csv
import html as html_lib
import io
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from stats.display.blocks import ChartBlock, DataDownloadsBlock
from stats.exchange import read_upload, run_import
from stats.exchange.common import EXPORT_COLUMNS
from stats.models import Observation, Source
from tests.test_blocks_page import home, topic  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

# The export format, pinned byte for byte by tests/missouri/test_export_bytes.py.
COLUMNS = list(EXPORT_COLUMNS)


def content(response):
    """The body of a response, streamed or not (read once, kept on the response)."""
    if not hasattr(response, "_test_body"):
        response._test_body = response.getvalue()
    return response._test_body


def url(fmt, **params):
    return reverse("data_download", args=[fmt]), params


def download(client, fmt, **params):
    path, params = url(fmt, **params)
    response = client.get(path, params)
    assert response.status_code == 200, content(response)[:300]
    return response


def csv_rows(response):
    text = content(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def key(row):
    return (row["jurisdiction"], row["metric"], row["period"], row["breakdown"], row["value"])


EVERY_CURRENT_FIGURE = [
    ("US", "od-cases", "2019", "", "1000"),
    ("MO", "od-cases", "2018", "", "170"),
    ("MO", "od-cases", "2019", "", "233"),
    ("MO", "od-cases", "2019", "od-sex", "180"),
    ("MO", "od-cases", "2019", "od-labor", "53"),
    ("MO", "od-share", "2012-12/2016-12", "", "22.5"),
]


def hrefs(html, text):
    """The (unescaped) href of each link whose text starts with `text`."""
    found = re.findall(r'<a href="([^"]*)"[^>]*>' + re.escape(text), html)
    return [html_lib.unescape(h) for h in found]


# --- Formats -------------------------------------------------------------------------------


def test_csv_of_every_current_figure(client, open_data_figures):
    # No breakdown filter: totals and categories, as the /data/ page's plain link.
    response = download(client, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="figures.csv"'
    text = content(response).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == COLUMNS
    rows = csv_rows(response)
    assert sorted(key(r) for r in rows) == sorted(EVERY_CURRENT_FIGURE)
    share = next(r for r in rows if r["metric"] == "od-share")
    assert (share["numerator"], share["denominator"]) == ("9", "40")
    restated = next(r for r in rows if r["period"] == "2018")
    assert restated["source"] == "od-report-2019"
    assert restated["source_title"] == "Example Report"
    assert restated["source_publisher"] == "Example Institute"
    assert restated["source_url"] == "https://example.org/2019"
    assert restated["footnote"] == "Two cases were sealed."


@pytest.mark.parametrize("breakdown", ["", "all", "ALL"])
def test_empty_or_all_breakdown_is_the_same_as_none(client, open_data_figures, breakdown):
    rows = csv_rows(download(client, "csv", breakdown=breakdown))
    assert sorted(key(r) for r in rows) == sorted(EVERY_CURRENT_FIGURE)


@pytest.mark.parametrize("breakdown", ["0", "total", "false"])
def test_totals_only(client, open_data_figures, breakdown):
    rows = csv_rows(download(client, "csv", breakdown=breakdown))
    assert sorted(key(r) for r in rows) == sorted(r for r in EVERY_CURRENT_FIGURE if not r[3])


def test_full_history_adds_the_restated_values(client, open_data_figures):
    response = download(client, "csv", history="1")
    assert response["Content-Disposition"] == 'attachment; filename="figures-history.csv"'
    rows = csv_rows(response)
    assert sorted(key(r) for r in rows) == sorted(
        [*EVERY_CURRENT_FIGURE, ("MO", "od-cases", "2018", "", "171")]
    )
    mo_2018 = [(r["value"], r["source"]) for r in rows if r["period"] == "2018"]
    assert mo_2018 == [("170", "od-report-2019"), ("171", "od-report-2018")]


def test_xlsx(client, open_data_figures):
    response = download(client, "xlsx", history="1")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="figures-history.xlsx"'
    sheet = load_workbook(io.BytesIO(content(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == 8
    source = COLUMNS.index("source")
    by_key = {(r[0], r[2], r[3] or "", r[source]): r for r in rows[1:]}
    assert Decimal(str(by_key[("MO", "2018", "", "od-report-2018")][4])) == 171
    assert Decimal(str(by_key[("MO", "2012-12/2016-12", "", "od-report-2019")][4])) == Decimal(
        "22.5"
    )


def test_json(client, open_data_figures):
    # No breakdown filter: the totals and the categories.
    response = download(client, "json", metric="od-cases", jurisdiction="MO")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="figures.json"'
    data = json.loads(content(response))
    assert [list(item) for item in data] == [COLUMNS] * 4
    assert sorted((d["period"], d["breakdown"], d["value"], d["source"]) for d in data) == [
        ("2018", "", "170", "od-report-2019"),
        ("2019", "", "233", "od-report-2019"),
        ("2019", "od-labor", "53", "od-report-2019"),
        ("2019", "od-sex", "180", "od-report-2019"),
    ]


def test_unknown_format_is_not_found(client, open_data_figures):
    assert client.get("/data/download/pdf/").status_code == 404


# --- Filters: the same as the API and as each chart's "Download CSV" -------------------------


def chart_csv_url(open_data_figures, places, **options):
    """The "Download CSV" link of a chart of cases, as the rendered chart block gives it."""
    block = ChartBlock()
    value = block.to_python(
        {
            "title": "Cases",
            "metrics": [open_data_figures["cases"].pk],
            "jurisdictions": [open_data_figures[place].pk for place in places],
            "chart_type": "bar",
            "description": "Cases by year.",
            **options,
        }
    )
    request = RequestFactory().get("/")
    request.is_preview = False
    (url,) = hrefs(str(block.render(value, context={"request": request})), "Download CSV")
    return url


def test_a_chart_of_totals_downloads_exactly_its_totals(client, open_data_figures):
    # A chart of one metric for Missouri and the nation, 2018 to 2019, by total.
    url = chart_csv_url(open_data_figures, ["mo", "us"], from_year=2018, to_year=2019)
    assert "breakdown=0" in url.split("?")[1].split("&")
    response = client.get(url)
    assert response.status_code == 200, content(response)[:300]
    assert sorted(key(r) for r in csv_rows(response)) == sorted(
        [
            ("MO", "od-cases", "2018", "", "170"),
            ("MO", "od-cases", "2019", "", "233"),
            ("US", "od-cases", "2019", "", "1000"),
        ]
    )


def test_a_chart_by_breakdown_downloads_exactly_its_categories(client, open_data_figures):
    url = chart_csv_url(open_data_figures, ["mo"], from_year=2019, by_breakdown=True)
    assert "breakdown=1" in url.split("?")[1].split("&")
    response = client.get(url)
    assert response.status_code == 200, content(response)[:300]
    assert sorted(key(r) for r in csv_rows(response)) == [
        ("MO", "od-cases", "2019", "od-labor", "53"),
        ("MO", "od-cases", "2019", "od-sex", "180"),
    ]


def test_several_metrics_and_a_period_range(client, open_data_figures):
    response = download(client, "csv", metric=["od-cases", "od-share"], period_to=2016)
    assert [key(r) for r in csv_rows(response)] == [
        ("MO", "od-share", "2012-12/2016-12", "", "22.5")
    ]


def test_source_filter_keeps_current_values_unless_history(client, open_data_figures):
    current = csv_rows(download(client, "csv", source="od-report-2018", breakdown="all"))
    assert current == []
    history = csv_rows(
        download(client, "csv", source="od-report-2018", breakdown="all", history="1")
    )
    assert [key(r) for r in history] == [("MO", "od-cases", "2018", "", "171")]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"metric": "nope"}, 'Unknown metric "nope"'),
        ({"jurisdiction": "ZZ"}, 'Unknown jurisdiction "ZZ"'),
        ({"source": "nope"}, 'Unknown source "nope"'),
        ({"period_from": "later"}, "period_from must be a year"),
        ({"breakdown": "nope"}, 'Unknown breakdown "nope"'),
    ],
)
def test_bad_filters_get_a_400_with_a_clear_message(client, open_data_figures, params, message):
    path, params = url("csv", **params)
    response = client.get(path, params)
    assert response.status_code == 400
    assert message in content(response).decode()


def test_only_get_and_head(client, open_data_figures):
    path, _ = url("csv")
    assert client.post(path).status_code == 405
    assert client.head(path).status_code == 200


# --- Formula safety ------------------------------------------------------------------------


@pytest.fixture
def dangerous(open_data_figures):
    source = Source.objects.create(
        slug="od-tricky",
        publisher="@SUM(1+1)",
        title='=HYPERLINK("http://example.com","click")',
        edition="2020 edition",
        edition_year=2020,
    )
    open_data_figures["add"](
        open_data_figures["cases"],
        open_data_figures["us"],
        2017,
        "5",
        source,
        footnote="=1+2 excluded",
    )
    open_data_figures["add"](
        open_data_figures["cases"],
        open_data_figures["mo"],
        2017,
        "6",
        source,
        footnote="-cmd|' /C calc'!A0",
    )
    return source


def test_csv_cells_cannot_start_a_formula(client, dangerous):
    rows = csv_rows(download(client, "csv", source="od-tricky"))
    assert len(rows) == 2
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@")), (column, cell)
    assert {r["footnote"] for r in rows} == {"'=1+2 excluded", "'-cmd|' /C calc'!A0"}
    assert rows[0]["source_title"] == '\'=HYPERLINK("http://example.com","click")'


def test_xlsx_cells_are_never_formulas(client, dangerous):
    response = download(client, "xlsx", source="od-tricky")
    sheet = load_workbook(io.BytesIO(content(response))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells
    assert all(cell.data_type != "f" for cell in cells)
    assert all(not str(cell.value or "").startswith(("=", "+", "-", "@")) for cell in cells)


def test_formulaneutralised_export_imports_back_to_the_same_text(client, dangerous):
    body = content(download(client, "csv", source="od-tricky"))
    outcome = run_import(read_upload("figures.csv", body), dry_run=True)
    assert outcome.ok, outcome.errors
    assert outcome.counts["unchanged"] == 2 and outcome.counts["updated"] == 0


# --- Round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_download_of_everything_imports_back_unchanged(client, open_data_figures, fmt):
    before = list(Observation.objects.order_by("pk").values())
    body = content(download(client, fmt, history="1"))
    outcome = run_import(read_upload(f"figures.{fmt}", body), dry_run=False)
    assert outcome.ok, outcome.errors
    assert outcome.counts["total"] == len(before) == 7
    assert outcome.counts["unchanged"] == 7
    assert outcome.counts["new"] == outcome.counts["updated"] == 0
    assert list(Observation.objects.order_by("pk").values()) == before


# --- Caching headers -----------------------------------------------------------------------


def test_etag_answers_304_until_a_figure_changes(client, open_data_figures):
    path, params = url("csv", breakdown="all")
    first = client.get(path, params)
    etag = first["ETag"]
    assert etag and "no-cache" in first["Cache-Control"]
    again = client.get(path, params, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and content(again) == b""

    # Another filter or format is another file.
    assert client.get(path, {"breakdown": "1"})["ETag"] != etag
    assert client.get(reverse("data_download", args=["json"]), params)["ETag"] != etag

    row = open_data_figures["rows"]["mo_2019"]
    row.value = Decimal(234)
    row.save()
    changed = client.get(path, params, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "234" in content(changed).decode()

    # A deletion changes it too, though no remaining row is newer.
    etag = changed["ETag"]
    open_data_figures["rows"]["us_2019"].delete()
    assert client.get(path, params, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_download_queries_do_not_grow_with_the_data(client, open_data_figures):
    def count():
        with CaptureQueriesContext(connection) as captured:
            download(client, "csv", metric="od-cases", breakdown="all", history="1")
        return len(captured)

    count()  # the first request of a process also reads the sites (the page cache's key)
    before = count()
    for year in range(1995, 2015):
        open_data_figures["add"](
            open_data_figures["cases"],
            open_data_figures["us"],
            year,
            "10",
            open_data_figures["new"],
        )
    # The first request at a new data version also counts the rows (once per version).
    assert count() == before + 1
    # The data version, the metric lookup, the four small tables named, the rows.
    assert count() == before <= 7


# --- The downloads block ---------------------------------------------------------------------


def test_downloads_block_links_and_filter_form(open_data_figures, django_assert_max_num_queries):
    block = DataDownloadsBlock()
    with django_assert_max_num_queries(3):
        html = block.render(block.to_python({"heading": "Get the figures"}))
    assert "<h2" in html and "Get the figures" in html
    for fmt in ("csv", "xlsx", "json"):
        path = reverse("data_download", args=[fmt])
        assert f'href="{path}"' in html
        assert f'href="{path}?history=1"' in html
    assert 'action="/data/download/csv/"' in html and 'method="get"' in html
    assert 'formaction="/data/download/xlsx/"' in html
    assert 'formaction="/data/download/json/"' in html
    for name in ("metric", "jurisdiction", "period_from", "period_to", "source", "breakdown"):
        assert f'name="{name}"' in html
    assert '<option value="od-cases">Cases</option>' in html
    assert 'id="dl-place" type="text" name="jurisdiction" value=""' in html
    assert '<option value="od-report-2019"' in html
    assert 'href="/api/docs"' in html
    assert "style=" not in html and "<script" not in html


def test_downloads_block_links_give_every_figure(client, open_data_figures):
    """The /data/ page's plain links hold the totals and the categories."""
    block = DataDownloadsBlock()
    html = block.render(block.to_python({"heading": "Get the figures"}))
    (current,) = hrefs(html, "Current figures as CSV")
    (history,) = hrefs(html, "Full history as CSV")
    assert sorted(key(r) for r in csv_rows(client.get(current))) == sorted(EVERY_CURRENT_FIGURE)
    assert sorted(key(r) for r in csv_rows(client.get(history))) == sorted(
        [*EVERY_CURRENT_FIGURE, ("MO", "od-cases", "2018", "", "171")]
    )
    for label, count in (("Current figures as JSON", 6), ("Full history as JSON", 7)):
        (link,) = hrefs(html, label)
        assert len(json.loads(content(client.get(link)))) == count


def test_the_filter_form_builds_working_download_urls(client, open_data_figures):
    """What the form submits (empty fields included) is a valid download."""
    response = client.get(
        "/data/download/csv/",
        {
            "metric": "od-cases",
            "jurisdiction": "",
            "period_from": "",
            "period_to": "2019",
            "source": "",
            "breakdown": "all",
        },
    )
    assert response.status_code == 200
    assert len(csv_rows(response)) == 5


# The filter form, as a browser submits it (asking for a page).
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_the_place_is_typed_not_chosen_from_every_place(
    open_data_figures, django_assert_max_num_queries
):
    block = DataDownloadsBlock()
    with django_assert_max_num_queries(2):  # the metrics and the sources; no place is read
        html = block.render(block.to_python({}))
    place = re.search(r'<input id="dl-place"[^>]*>', html).group(0)
    assert 'type="text"' in place and 'name="jurisdiction"' in place
    assert 'data-place-chooser="/data/places/?lang=en"' in place
    assert "<optgroup" not in html and "<script" not in html


def test_a_page_with_the_form_loads_the_place_chooser(client, open_data_figures, home):  # noqa: F811
    page = topic(home, "data", [{"type": "data_downloads", "value": {"heading": "Data"}}])
    html = client.get(page.url).content.decode()
    assert '<script src="/static/js/place-chooser.js" defer></script>' in html
    assert "js/charts.js" not in html  # no figure on the page: no chart script
    # The form as it comes back with a message loads it too.
    response = client.get(reverse("data_download", args=["csv"]), {"period_from": "x"}, **BROWSER)
    assert "js/place-chooser.js" in response.content.decode()


@pytest.mark.parametrize("typed", ["MO", "mo", "Missouri", " missouri ", "Missouri (MO)"])
def test_a_typed_place_downloads_without_javascript(client, open_data_figures, typed):
    path, _ = url("csv")
    response = client.get(path, {"jurisdiction": typed, "metric": "od-cases"}, **BROWSER)
    assert response.status_code == 200, response.content[:300]
    assert {row["jurisdiction"] for row in csv_rows(response)} == {"MO"}


def test_a_place_typed_in_part_names_the_places_it_could_be(client, open_data_figures):
    path, _ = url("csv")
    response = client.get(path, {"jurisdiction": "Miss", "metric": "od-cases"}, **BROWSER)
    assert response.status_code == 400
    body = response.content.decode()
    # Only places with figures are named (Mississippi has none here).
    assert "Places with figures named so: Missouri (MO)." in body
    assert 'value="Miss"' in body, "what was typed is kept"


def test_the_place_list_is_filtered_by_the_server(client, open_data_figures):
    def places(q, **extra):
        response = client.get(reverse("data_places"), {"q": q, **extra})
        assert response.status_code == 200
        return response.json()["places"]

    assert places("mis") == [{"code": "MO", "name": "Missouri"}]
    assert places("US")[0]["code"] == "US"
    assert places("") == [] and places("Kansas") == []  # Kansas has no figures here
    assert len(places("a")) <= 10


def test_a_bad_year_from_the_form_shows_the_form_with_a_message(client, open_data_figures):
    path, _ = url("csv")
    response = client.get(path, {"period_from": "20x9", "jurisdiction": "MO"}, **BROWSER)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert 'role="alert"' in body and "From year must be a year such as 2019" in body
    assert 'name="jurisdiction" value="MO"' in body, "the visitor's choices are kept"
    assert 'class="data-downloads__form"' in body
    # A script still gets the plain message.
    response = client.get(path, {"period_from": "20x9"})
    assert response["Content-Type"].startswith("text/plain")


def test_a_choice_with_no_figures_says_so_instead_of_an_empty_file(client, open_data_figures):
    path, _ = url("csv")
    response = client.get(path, {"jurisdiction": "US", "period_to": "2018"}, **BROWSER)
    assert response.status_code == 404
    assert "No figures match these choices" in response.content.decode()
    assert client.get(path, {"jurisdiction": "US"}, **BROWSER).status_code == 200
