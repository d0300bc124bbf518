"""`as_of=` on the API and the downloads: the figures exactly as they stood at a moment,
rebuilt from the one history, equal byte for byte to what was served then."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from stats.exchange import read_upload, revert_import, run_import
from stats.exchange.importing import restore_values
from stats.models import DownloadFile, Observation
from stats.opendata import api, views
from stats.store.history import moment_text
from tests.stats_fixtures import csv_bytes, good_rows

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture(autouse=True)
def unlimited(monkeypatch):
    """This walks every page and file at every moment: more than a client's minute allows."""
    monkeypatch.setattr(api.throttle, "num_requests", 1_000_000)
    monkeypatch.setattr(views.throttle, "num_requests", 1_000_000)


def row(value, period="2019", source="test-report-2019", place="MO", breakdown=""):
    return [place, "test-cases", period, breakdown, str(value), "", "", "", "", source]


def imported(rows, name="figures.csv"):
    return run_import(read_upload(name, csv_bytes(rows)), dry_run=False).record


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def api_items(client, limit, **params):
    """Every item of /api/observations, walked page by page with `offset`."""
    items, offset = [], 0
    while True:
        page = client.get(reverse("api:observations"), {**params, "limit": limit, "offset": offset})
        assert page.status_code == 200, page.content
        answer = page.json()
        items += answer["items"]
        offset += limit
        if answer["next"] is None:
            assert answer["count"] == len(items)
            return items


def download(client, fmt="csv", **params):
    return client.get(reverse("data_download", args=[fmt]), params)


def served_now(client):
    """What the API and the downloads give now: the moment, and each answer."""
    moment = timezone.now()
    return moment, {
        "api": api_items(client, 2),
        "api_history": api_items(client, 3, history="1"),
        "csv": body(download(client)),
        "history_csv": body(download(client, history="1")),
        "json": body(download(client, "json")),
        "filtered": body(download(client, metric="test-cases", breakdown="0")),
    }


def served_then(client, moment):
    at = moment_text(moment)
    return {
        "api": api_items(client, 2, as_of=at),
        "api_history": api_items(client, 3, history="1", as_of=at),
        "csv": body(download(client, as_of=at)),
        "history_csv": body(download(client, history="1", as_of=at)),
        "json": body(download(client, "json", as_of=at)),
        "filtered": body(download(client, metric="test-cases", breakdown="0", as_of=at)),
    }


def total():
    return Observation.objects.get(
        metric__slug="test-cases", period_start__year=2019, jurisdiction__code="MO", breakdown=None
    )


def test_the_api_and_downloads_as_of_each_moment_are_what_they_gave_then(client, stats_data):
    seen = [served_now(client)]  # empty
    first = imported(good_rows())
    seen.append(served_now(client))
    second = imported([row(240), row(181, breakdown="sex"), row(7, place="KS")])
    seen.append(served_now(client))
    restore_values(total(), {"value": "235"}, reason="A typo")
    seen.append(served_now(client))
    newer = imported([["MO", "test-rank", "2018", "", "11", "", "", "", "", "test-report-2019"]])
    seen.append(served_now(client))
    revert_import(second, with_later=True)
    seen.append(served_now(client))
    revert_import(newer)
    revert_import(first)
    seen.append(served_now(client))
    assert len({answers["csv"] for _moment, answers in seen}) == 6
    assert seen[0][1] == seen[-1][1]
    for moment, answers in seen:
        then = served_then(client, moment)
        for name, answer in answers.items():
            assert then[name] == answer, (moment, name)


def test_moments_between_two_steps_share_one_file(client, stats_data):
    imported(good_rows())
    between = [timezone.now()]
    between.append(timezone.now())
    imported([row(240)])
    for moment in between:
        assert download(client, as_of=moment_text(moment)).status_code == 200
    assert DownloadFile.objects.filter(as_of__isnull=False).count() == 1
    # A moment after the last step is the file of now.
    download(client, as_of=moment_text(timezone.now()))
    assert DownloadFile.objects.filter(as_of__isnull=True).count() == 1


def test_a_file_as_of_a_moment_has_its_own_etag_length_and_ranges(client, stats_data):
    imported(good_rows())
    moment = moment_text(timezone.now())
    imported([row(240)])
    whole = download(client, as_of=moment)
    data = body(whole)
    assert int(whole["Content-Length"]) == len(data) and whole["ETag"] != download(client)["ETag"]
    assert b",233," in data and b",240," not in data
    assert 'filename="figures-as-of-' in whole["Content-Disposition"]
    part = client.get(
        reverse("data_download", args=["csv"]), {"as_of": moment}, HTTP_RANGE="bytes=3-9"
    )
    assert part.status_code == 206 and body(part) == data[3:10]
    again = client.get(
        reverse("data_download", args=["csv"]), {"as_of": moment}, HTTP_IF_NONE_MATCH=whole["ETag"]
    )
    assert again.status_code == 304


@override_settings(TASKS=DUMMY_TASKS)
def test_a_file_as_of_a_moment_not_built_yet_is_a_503_never_a_partial_file(client, stats_data):
    imported(good_rows())
    moment = moment_text(timezone.now())
    imported([row(240)])
    response = download(client, as_of=moment)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert DownloadFile.objects.get(as_of__isnull=False).status == DownloadFile.Status.BUILDING


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "2024-05-01T25:00"])
def test_a_bad_as_of_is_a_400_saying_what_is_expected(client, stats_data, text):
    api = client.get(reverse("api:observations"), {"as_of": text})
    assert api.status_code == 400
    assert api.json()["detail"].startswith(f'as_of: "{text}" is not a date or a date and time.')
    assert "site's time zone" in api.json()["detail"]
    file = download(client, as_of=text)
    assert file.status_code == 400 and f'as_of: "{text}"' in file.content.decode()
    assert not DownloadFile.objects.exists()


def test_a_date_is_the_end_of_that_day_in_the_sites_time_zone(client, stats_data):
    imported(good_rows())
    today = timezone.localdate().isoformat()
    items = client.get(reverse("api:observations"), {"as_of": today}).json()["items"]
    assert len(items) == len(good_rows())
    before = client.get(reverse("api:observations"), {"as_of": "2000-01-01"}).json()
    assert before["count"] == 0 and before["items"] == []


def test_as_of_pages_are_read_with_offset_not_cursor(client, stats_data):
    imported(good_rows())
    answer = client.get(reverse("api:observations"), {"as_of": "2000-01-01", "cursor": "x"})
    assert answer.status_code == 400 and "offset" in json.loads(answer.content)["detail"]
