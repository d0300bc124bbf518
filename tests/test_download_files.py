"""The full downloads as files built once per data version (stats/opendata/files.py):
Content-Length, ETag, Last-Modified, byte ranges, 304, 503 until built, per-site scope,
the filtered downloads' cap and the rate limit."""

import csv
import io

import pytest
from django.core.files.storage import storages
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Site

from pages.models import SiteSettings
from stats.models import DataVersion, DownloadFile, Jurisdiction
from stats.opendata import files, views
from tests.open_data_fixtures import open_data_figures  # noqa: F401

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def places(data):
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return sorted({row["jurisdiction"] for row in rows})


def full(client, fmt="csv", **headers):
    return client.get(reverse("data_download", args=[fmt]), **headers)


def test_full_file_has_length_etag_and_last_modified(client, open_data_figures):  # noqa: F811
    response = full(client)
    data = body(response)
    assert response.status_code == 200
    assert int(response["Content-Length"]) == len(data) > 0
    version = DataVersion.current()
    assert response["ETag"].startswith(f'"{version}-all-current-csv')
    assert response["Last-Modified"] and response["Accept-Ranges"] == "bytes"
    assert 'filename="figures.csv"' in response["Content-Disposition"]
    assert places(data) == ["MO", "US"]
    row = DownloadFile.objects.get(scope="all", fmt="csv", history=False)
    assert row.status == DownloadFile.Status.READY and str(version) in row.name
    assert storages["downloads"].size(row.name) == len(data)

    for fmt in ("xlsx", "json"):
        other = full(client, fmt)
        assert int(other["Content-Length"]) == len(body(other)) > 0
        assert other["ETag"] != response["ETag"]


def test_a_304_reads_only_the_data_version(client, open_data_figures):  # noqa: F811
    etag = full(client)["ETag"]
    full(client)  # the site's lookups are cached per process after the first request
    with CaptureQueriesContext(connection) as captured:
        again = full(client, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    sqls = [q["sql"] for q in captured]
    assert not any("stats_observation" in sql or "stats_downloadfile" in sql for sql in sqls)
    # Besides the page cache's read of the versions (pages_contentversion, every request).
    own = [sql for sql in sqls if "pages_contentversion" not in sql]
    assert sum("stats_dataversion" in sql for sql in own) == 1


def test_byte_ranges(client, open_data_figures):  # noqa: F811
    whole = body(full(client))
    size = len(whole)
    part = full(client, HTTP_RANGE="bytes=0-9")
    assert part.status_code == 206 and body(part) == whole[:10]
    assert part["Content-Range"] == f"bytes 0-9/{size}" and part["Content-Length"] == "10"
    tail = full(client, HTTP_RANGE="bytes=-5")
    assert tail.status_code == 206 and body(tail) == whole[-5:]
    rest = full(client, HTTP_RANGE="bytes=10-")
    assert body(rest) == whole[10:] and rest["Content-Range"] == f"bytes 10-{size - 1}/{size}"
    beyond = full(client, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    # A range of another version of the file (If-Range) gets the whole file.
    stale = full(client, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"0-all-current-csv-2"')
    assert stale.status_code == 200 and body(stale) == whole
    # Several ranges, or a form not understood: the whole file.
    assert body(full(client, HTTP_RANGE="bytes=0-1,5-6")) == whole
    assert full(client, HTTP_RANGE="bytes=9-2").status_code == 200


@override_settings(TASKS=DUMMY_TASKS)
def test_not_built_answers_503_and_asks_for_the_build(client, open_data_figures):  # noqa: F811
    response = full(client)
    assert response.status_code == 503 and response["Retry-After"] == str(files.RETRY_AFTER)
    assert b"being built" in response.content and "no-store" in response["Cache-Control"]
    row = DownloadFile.objects.get(scope="all", fmt="csv", history=False)
    assert row.status == DownloadFile.Status.BUILDING
    assert files.build(row.pk) == DownloadFile.Status.READY
    assert full(client).status_code == 200


@override_settings(TASKS=DUMMY_TASKS)
def test_a_failed_build_says_so(client, open_data_figures, monkeypatch):  # noqa: F811
    full(client)
    row = DownloadFile.objects.get(scope="all", fmt="csv")

    def broken(rows, fmt, state=None):
        raise OSError("disk full")

    monkeypatch.setattr(files, "export_stream", broken)
    with pytest.raises(OSError):
        files.build_download.call(row.pk)
    row.refresh_from_db()
    assert row.status == DownloadFile.Status.FAILED
    response = full(client)
    assert response.status_code == 503 and b"could not be built" in response.content


def test_a_change_of_figures_is_a_new_file(client, open_data_figures):  # noqa: F811
    first = full(client)
    old_name = DownloadFile.objects.get(scope="all", fmt="csv").name
    open_data_figures["rows"]["mo_2019"].value = 234
    open_data_figures["rows"]["mo_2019"].save()
    again = full(client, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert b"234" in body(again)
    assert not storages["downloads"].exists(old_name)
    assert DownloadFile.objects.filter(scope="all", fmt="csv").count() == 1


def test_a_state_site_downloads_its_state(client, open_data_figures):  # noqa: F811
    kansas = Jurisdiction.objects.get(code="KS")
    open_data_figures["add"](
        open_data_figures["cases"], kansas, 2019, "12", open_data_figures["new"]
    )
    root = Site.objects.get(is_default_site=True).root_page
    site = Site.objects.create(hostname="kansas.test", root_page=root, site_name="Kansas")
    SiteSettings.objects.update_or_create(site=site, defaults={"jurisdiction": kansas})
    SiteSettings.objects.update_or_create(
        site=Site.objects.get(is_default_site=True), defaults={"jurisdiction": None}
    )

    state = full(client, HTTP_HOST="kansas.test")
    assert places(body(state)) == ["KS"]
    assert 'filename="ks-figures.csv"' in state["Content-Disposition"]
    assert places(body(full(client))) == ["KS", "MO", "US"]


def test_a_filtered_download_of_too_many_figures_is_refused(client, open_data_figures, settings):  # noqa: F811
    settings.STATS_FILTERED_DOWNLOAD_MAX_ROWS = 2
    path = reverse("data_download", args=["csv"])
    response = client.get(path, {"period_from": "2010"})
    assert response.status_code == 400 and b"more than 2 figures" in response.content
    assert client.get(path, {"metric": "od-share"}).status_code == 200


def test_downloads_are_rate_limited(client, open_data_figures, monkeypatch):  # noqa: F811
    monkeypatch.setattr(views, "throttle", views.DownloadThrottle("2/min"))
    assert full(client).status_code == 200
    assert full(client).status_code == 200
    third = full(client)
    assert third.status_code == 429 and int(third["Retry-After"]) >= 1


def test_only_filters_make_a_filtered_download(open_data_figures):  # noqa: F811
    from django.http import QueryDict

    assert files.wants_full_file(QueryDict("history=1&breakdown=all&utm=x"))
    assert files.wants_full_file(QueryDict("metric=&jurisdiction="))
    assert not files.wants_full_file(QueryDict("metric=od-cases"))
    assert not files.wants_full_file(QueryDict("breakdown=0"))


@override_settings(TASKS=DUMMY_TASKS)
def test_a_change_of_figures_asks_for_the_downloads_asked_for_before(client, open_data_figures):  # noqa: F811
    from stats.signals import figures_changed

    full(client, "json")
    DataVersion.bump()
    version = DataVersion.current()
    figures_changed.send(sender=DataVersion, metric_ids=None, version=version)
    asked = DownloadFile.objects.filter(version=version)
    assert list(asked.values_list("scope", "fmt", "status")) == [("all", "json", "building")]
