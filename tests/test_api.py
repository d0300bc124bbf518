"""The read-only JSON API under /api/: filters, pagination, schema, errors, CORS, methods,
rate limit, docs page and query counts."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stats.models import DataVersion, Observation
from stats.opendata import api as api_module
from stats.opendata import counts
from tests.factories import made_up_edition

pytestmark = pytest.mark.django_db


def get(client, url, **params):
    response = client.get(url, params)
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response, response.json()


def keys(items):
    return [(i["jurisdiction"], i["period"], i["breakdown"], i["value"]) for i in items]


# --- Observations: filters -----------------------------------------------------------------


def test_observations_of_a_metric_in_missouri_are_current_totals_with_their_sources(
    client, open_data_figures
):
    response, data = get(
        client, "/api/observations", metric="od-cases", jurisdiction="MO", breakdown="0"
    )
    assert response.status_code == 200
    assert data["count"] == 2
    assert keys(data["items"]) == [("MO", "2018", None, 170), ("MO", "2019", None, 233)]
    first = data["items"][0]
    assert first["source"] == {
        "slug": "od-report-2019",
        "publisher": "Example Institute",
        "title": "Example Report",
        "edition": "2019 edition",
        "url": "https://example.org/2019",
        "data_as_of": None,
    }
    assert first["footnote"] == "Two cases were sealed."
    assert first["current"] is True
    # The value it restates, with its own source.
    assert [(r["value"], r["source"]["slug"]) for r in first["replaced"]] == [
        (171, "od-report-2018")
    ]
    assert data["items"][1]["replaced"] == []


def test_history_lists_the_replaced_value_as_its_own_item(client, open_data_figures):
    # No breakdown filter: the totals and the categories.
    _, data = get(client, "/api/observations", metric="od-cases", jurisdiction="MO", history="true")
    items = [(i["period"], i["breakdown"], i["value"], i["current"]) for i in data["items"]]
    # The replaced value comes right after the value that replaced it.
    assert items[:2] == [("2018", None, 170, True), ("2018", None, 171, False)]
    assert sorted(items[2:], key=str) == sorted(
        [("2019", None, 233, True), ("2019", "od-sex", 180, True), ("2019", "od-labor", 53, True)],
        key=str,
    )
    assert data["count"] == 5
    assert data["items"][1]["source"]["slug"] == "od-report-2018"


def test_repeatable_filters_and_case_of_codes(client, open_data_figures):
    _, data = get(
        client,
        "/api/observations?metric=od-cases&metric=od-share&jurisdiction=mo&jurisdiction=US",
    )
    found = [(i["metric"], i["jurisdiction"], i["period"], i["breakdown"]) for i in data["items"]]
    assert sorted(found, key=str) == sorted(
        [
            ("od-cases", "MO", "2018", None),
            ("od-cases", "MO", "2019", None),
            ("od-cases", "MO", "2019", "od-sex"),
            ("od-cases", "MO", "2019", "od-labor"),
            ("od-cases", "US", "2019", None),
            ("od-share", "MO", "2012-12/2016-12", None),
        ],
        key=str,
    )


def test_period_range_holds_periods_that_lie_within_the_years(client, open_data_figures):
    _, data = get(client, "/api/observations", period_from=2019, period_to=2019)
    assert {(i["jurisdiction"], i["period"]) for i in data["items"]} == {
        ("MO", "2019"),
        ("US", "2019"),
    }
    _, data = get(client, "/api/observations", metric="od-share", period_from=2013)
    assert data["count"] == 0
    _, data = get(client, "/api/observations", metric="od-share", period_from=2012, period_to=2016)
    share = data["items"][0]
    assert (share["value"], share["numerator"], share["denominator"]) == (22.5, 9, 40)
    assert (share["period_start"], share["period_end"]) == ("2012-12-01", "2016-12-31")


@pytest.mark.parametrize(
    "breakdown, expected",
    [
        (None, {None, "od-sex", "od-labor"}),
        ("", {None, "od-sex", "od-labor"}),
        ("all", {None, "od-sex", "od-labor"}),
        ("0", {None}),
        ("total", {None}),
        ("1", {"od-sex", "od-labor"}),
        ("od-sex", {"od-sex"}),
    ],
)
def test_breakdown_filter(client, open_data_figures, breakdown, expected):
    params = {"metric": "od-cases", "jurisdiction": "MO", "period_from": 2019}
    if breakdown is not None:
        params["breakdown"] = breakdown
    _, data = get(client, "/api/observations", **params)
    assert {i["breakdown"] for i in data["items"]} == expected
    assert data["count"] == len(data["items"]) == len(expected)
    labels = {i["breakdown"]: i["breakdown_label"] for i in data["items"]}
    if "od-sex" in expected:
        assert labels["od-sex"] == "Sex trafficking"


def test_source_filter(client, open_data_figures):
    _, data = get(client, "/api/observations", source="od-report-2018", history="true")
    assert keys(data["items"]) == [("MO", "2018", None, 171)]
    # Without history, the old edition's only value is not current: nothing to show.
    _, data = get(client, "/api/observations", source="od-report-2018")
    assert data["items"] == [] and data["count"] == 0


# --- Pagination ----------------------------------------------------------------------------


def test_pagination_walks_every_item_once(client, open_data_figures):
    _, first = get(client, "/api/observations", breakdown="all", limit=3)
    assert first["count"] == 6 and len(first["items"]) == 3
    assert first["previous"] is None
    assert "offset=3" in first["next"] and "breakdown=all" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["items"]) == 3 and second["next"] is None
    assert "offset=0" in second["previous"]
    _, everything = get(client, "/api/observations", breakdown="all")
    assert first["items"] + second["items"] == everything["items"]
    _, bare = get(client, "/api/observations")
    assert bare["items"] == everything["items"]


@pytest.mark.parametrize("history", ["false", "true"])
def test_every_offset_shows_the_same_rows_as_the_whole_list(client, open_data_figures, history):
    # Pages in the back half are read from the end: the same rows, in the same order.
    add_many(open_data_figures, 9)
    _, everything = get(client, "/api/observations", breakdown="all", history=history)
    items, count = everything["items"], everything["count"]
    assert count == len(items) > 10
    for limit in (1, 3, 4):
        for offset in range(count + 2):
            _, data = get(
                client,
                "/api/observations",
                breakdown="all",
                history=history,
                limit=limit,
                offset=offset,
            )
            assert data["count"] == count
            assert data["items"] == items[offset : offset + limit], (limit, offset)


def test_pagination_has_a_maximum_page_size(client, open_data_figures):
    response, data = get(client, "/api/observations", limit=api_module.MAX_LIMIT + 1)
    assert response.status_code == 400
    assert "limit" in data["detail"] and str(api_module.MAX_LIMIT) in data["detail"]
    response, _ = get(client, "/api/observations", limit=api_module.MAX_LIMIT)
    assert response.status_code == 200


def test_reference_lists(client, open_data_figures):
    _, data = get(client, "/api/jurisdictions", kind="district", limit=500)
    assert data["count"] == len(data["items"]) > 0
    assert {i["kind"] for i in data["items"]} == {"district"}
    moed = next(i for i in data["items"] if i["code"] == "MOED")
    assert moed["parent"] == "MO"

    _, data = get(client, "/api/metrics")
    cases = next(m for m in data["items"] if m["slug"] == "od-cases")
    assert cases["unit"] == "count" and cases["dimension"] == "od-kind"
    assert {c["slug"] for c in cases["categories"]} == {"od-sex", "od-labor"}
    assert cases["sources"] == ["od-report-2018", "od-report-2019"]

    _, data = get(client, "/api/sources")
    assert [s["slug"] for s in data["items"]] == ["od-report-2019", "od-report-2018"]
    assert data["items"][0]["url"] == "https://example.org/2019"


# --- Errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, words",
    [
        ({"metric": "no-such-metric"}, ['Unknown metric "no-such-metric"', "/api/metrics"]),
        ({"jurisdiction": "ZZ"}, ['Unknown jurisdiction "ZZ"']),
        ({"source": "nope"}, ['Unknown source "nope"']),
        ({"breakdown": "nope"}, ['Unknown breakdown "nope"']),
        ({"period_from": 2019, "period_to": 2018}, ["period_from (2019) is after period_to"]),
        ({"period_from": 99999}, ["period_from must lie between"]),
        ({"period_from": "soon"}, ["period_from", "integer"]),
        ({"limit": 0}, ["limit", "greater than or equal to 1"]),
        ({"offset": -1}, ["offset"]),
        ({"history": "maybe"}, ["history"]),
    ],
)
def test_bad_parameters_get_a_json_400_with_a_clear_message(
    client, open_data_figures, params, words
):
    response, data = get(client, "/api/observations", **params)
    assert response.status_code == 400
    for word in words:
        assert word in data["detail"]


def test_unknown_endpoint_is_a_json_404(client, db):
    response, data = get(client, "/api/nothing-here")
    assert response.status_code == 404
    assert "/api/nothing-here" in data["detail"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("url", ["/api/observations", "/api/metrics", "/api/openapi.json"])
def test_only_get_is_allowed(client, open_data_figures, method, url):
    count = Observation.objects.count()
    response = getattr(client, method)(url, data={"value": "1"}, content_type="application/json")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert "read-only" in response.json()["detail"]
    assert response["Allow"] == "GET, HEAD"
    assert "Access-Control-Allow-Origin" not in response
    assert Observation.objects.count() == count


def test_head_is_answered_like_get(client, open_data_figures):
    response = client.head("/api/observations")
    assert response.status_code == 200


# --- CORS ----------------------------------------------------------------------------------


def test_cors_on_api_get_responses_only(client, open_data_figures):
    for url in ["/api/observations", "/api/metrics", "/api/openapi.json", "/api/nothing"]:
        assert (
            client.get(url, HTTP_ORIGIN="https://example.net")["Access-Control-Allow-Origin"] == "*"
        )
    response = client.get("/api/observations?metric=nope", HTTP_ORIGIN="https://example.net")
    assert response.status_code == 400 and response["Access-Control-Allow-Origin"] == "*"
    download = client.get("/data/download/csv/", HTTP_ORIGIN="https://example.net")
    assert "Access-Control-Allow-Origin" not in download
    search = client.get("/search/", HTTP_ORIGIN="https://example.net")
    assert "Access-Control-Allow-Origin" not in search


# --- Rate limit ----------------------------------------------------------------------------


def test_rate_limit_answers_429_in_json(client, open_data_figures, monkeypatch):
    monkeypatch.setattr(api_module.throttle, "num_requests", 3)
    statuses = [client.get("/api/metrics").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response, data = get(client, "/api/observations")
    assert response.status_code == 429
    assert data["detail"] == "Too many requests."
    assert int(response["Retry-After"]) > 0
    # A forged X-Forwarded-For does not buy a fresh allowance...
    forged = client.get("/api/metrics", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert forged.status_code == 429
    # ...but another client address has its own.
    other = client.get("/api/metrics", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


# --- Schema and docs -----------------------------------------------------------------------


def test_openapi_schema(client, db):
    response, schema = get(client, "/api/openapi.json")
    assert response.status_code == 200
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/jurisdictions",
        "/api/metrics",
        "/api/sources",
        "/api/observations",
    }
    for path_item in schema["paths"].values():
        assert set(path_item) == {"get"}
    observations = schema["paths"]["/api/observations"]["get"]
    names = {p["name"] for p in observations["parameters"]}
    assert names >= {
        "metric",
        "jurisdiction",
        "period_from",
        "period_to",
        "breakdown",
        "source",
        "history",
        "limit",
        "offset",
    }
    assert {"200", "400", "429"} <= set(observations["responses"])


def test_docs_page_documents_every_operation_from_the_portal_itself(client, db):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    schema = client.get("/api/openapi.json").json()
    for route, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert f"<code>{method.upper()} {route}</code>" in html
            for parameter in operation.get("parameters", []):
                assert f"<code>{parameter['name']}</code>" in html
    assert 'href="/api/openapi.json"' in html
    sources = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    # Every script has a src: no inline script; no style attribute or element.
    assert len(re.findall(r"<script\b", html)) == len(re.findall(r"<script\b[^>]*\bsrc=", html))
    assert not re.search(r"\sstyle=|<style\b", html)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


# --- Query counts --------------------------------------------------------------------------


def add_many(open_data_figures, count):
    add, place = open_data_figures["add"], open_data_figures["us"]
    for n in range(count):
        add(open_data_figures["share"], place, 1995 + n, Decimal(n % 100), open_data_figures["new"])


def queries(client, url):
    """The queries of a request whose count is not cached yet (the worst case)."""
    # The site's settings row is created (and the content version bumped) by the first
    # request that reads them (the site's time zone, pages.middleware): once per database.
    client.get(url)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/observations?metric=od-share&jurisdiction=US&source=od-report-2019&limit={n}",
        "/api/observations?breakdown=all&history=true&limit={n}",
        "/api/metrics?limit={n}",
        "/api/sources?limit={n}",
        "/api/jurisdictions?limit={n}",
    ],
)
def test_queries_do_not_grow_with_the_page_size(
    client, open_data_figures, url, django_assert_max_num_queries
):
    add_many(open_data_figures, 25)
    small = queries(client, url.format(n=1))
    large = queries(client, url.format(n=200))
    assert small == large
    cache.clear()
    # The data version, the count, the filters' lookups, the page's ids, rows and replaced;
    # and per request: the page cache's versions (portal.cache), the site and its settings
    # (the site's time zone, pages.middleware).
    with django_assert_max_num_queries(11):
        client.get(url.format(n=200))


def test_observation_queries_do_not_grow_with_the_data(client, open_data_figures):
    url = "/api/observations?metric=od-cases&metric=od-share&breakdown=all&history=1&limit=500"
    before = queries(client, url)
    add_many(open_data_figures, 30)
    open_data_figures["add"](
        open_data_figures["cases"], open_data_figures["us"], 2018, "900", open_data_figures["old"]
    )
    open_data_figures["add"](
        open_data_figures["cases"], open_data_figures["us"], 2018, "901", open_data_figures["new"]
    )
    assert queries(client, url) == before


def test_a_figure_restated_twice_is_one_current_item_listing_both_older_values(
    client, open_data_figures
):
    third = made_up_edition(
        "od-report-2020", 2020, publisher="Example Institute", title="Example Report"
    )
    open_data_figures["add"](
        open_data_figures["cases"], open_data_figures["mo"], 2018, "169", third
    )
    _, data = get(client, "/api/observations", metric="od-cases", jurisdiction="MO")
    restated = [i for i in data["items"] if i["period"] == "2018"]
    assert len(restated) == 1
    assert restated[0]["value"] == 169 and restated[0]["source"]["slug"] == "od-report-2020"
    assert [(r["value"], r["source"]["slug"]) for r in restated[0]["replaced"]] == [
        (170, "od-report-2019"),
        (171, "od-report-2018"),
    ]


def test_the_count_is_kept_until_the_data_changes(client, open_data_figures):
    url = "/api/observations?breakdown=all&history=true&limit=1"
    first = queries(client, url)
    with CaptureQueriesContext(connection) as again:
        count = client.get(url).json()["count"]
    assert len(again) == first - 1  # the COUNT is read from the cache
    version = DataVersion.current()
    add_many(open_data_figures, 3)
    # A change bumps the data version in its own transaction (no signal needed): the next
    # request counts again and sees the new rows.
    assert DataVersion.current() > version
    assert client.get(url).json()["count"] == count + 3


def test_a_count_without_a_cache_is_counted(client, open_data_figures, monkeypatch):
    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

        set = get

    monkeypatch.setattr(counts, "cache", Down())
    _, data = get(client, "/api/observations", breakdown="all")
    assert data["count"] == 6 == len(data["items"])


def walk(client, **params):
    """Every item, following `next_cursor` from the first page."""
    _, data = get(client, "/api/observations", **params)
    items, pages = list(data["items"]), 1
    while data["next_cursor"]:
        _, data = get(client, "/api/observations", cursor=data["next_cursor"], **params)
        assert "offset" not in (data["next"] or "")
        items += data["items"]
        pages += 1
    return items, pages


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_cursor_pages_reach_the_last_figure_in_order(client, open_data_figures, limit):
    add_many(open_data_figures, 9)
    _, everything = get(client, "/api/observations", breakdown="all", limit=500)
    items, pages = walk(client, breakdown="all", limit=limit)
    assert items == everything["items"] and len(items) == everything["count"] > 10
    assert pages == -(-len(items) // limit)
    # Totals and categories of one key (an empty breakdown sorts apart on each database).
    assert {i["breakdown"] for i in items} == {None, "od-sex", "od-labor"}


def test_cursor_pages_are_stable_when_figures_are_added_before_them(client, open_data_figures):
    add_many(open_data_figures, 6)
    _, first = get(client, "/api/observations", breakdown="all", limit=4)
    _, second = get(client, "/api/observations", cursor=first["next_cursor"], limit=4)
    # A figure that sorts first is added: the page after the cursor does not move.
    open_data_figures["add"](
        open_data_figures["cases"], open_data_figures["us"], 1990, "5", open_data_figures["new"]
    )
    _, again = get(client, "/api/observations", cursor=first["next_cursor"], limit=4)
    assert again["items"] == second["items"] and again["count"] == second["count"] + 1


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WzEsMiwieCJd"])
def test_a_bad_cursor_is_a_clear_400(client, open_data_figures, cursor):
    response, data = get(client, "/api/observations", cursor=cursor)
    assert response.status_code == 400 and "cursor" in data["detail"]
    response, data = get(client, "/api/observations", cursor=cursor, history="true")
    assert response.status_code == 400
