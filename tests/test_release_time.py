# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
"""A scheduled release: its figures appear nowhere before its time (the page, its cache, the
embed, the API, the full and filtered downloads, `as_of` now) and everywhere at it, through
the commit's own invalidation; the release task run early applies nothing and is queued again
for its time, on time and late it applies once."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from stats.exchange import tasks
from stats.models import DownloadFile, ImportRecord, Jurisdiction, Observation
from stats.opendata import api, files, views
from stats.store.history import moment_text
from tests.test_blocks_page import home, topic  # noqa: F401 - fixture
from tests.test_public_record import english, imported, row, schedule  # noqa: F401

pytestmark = pytest.mark.django_db

VALUE = "9531"  # the released figure, found nowhere else on these pages


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("manager", password="x" * 16)


@pytest.fixture
def database_tasks(settings, monkeypatch):
    # Queued again with run_after: the database backend, as in production.
    database = {"BACKEND": "django_tasks_db.DatabaseBackend"}
    settings.TASKS = {"default": database, "database": database}
    monkeypatch.setattr(api.throttle, "num_requests", 1_000_000)
    monkeypatch.setattr(views.throttle, "num_requests", 1_000_000)


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def get(client, url, params=None):
    """A GET's text, read at once; a full file not built yet is built as the worker builds
    it, then asked again."""
    response = client.get(url, params or {})
    if response.status_code == 503:
        for pending in DownloadFile.objects.filter(status="building"):
            files.build(pending.pk)
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, params, response.status_code)
    return body(response).decode("utf-8-sig")


def everywhere(client, page, embed):
    """Every public answer that could show the released figure, as text."""
    at = {"as_of": moment_text(timezone.now())}
    data = reverse("data_download", args=["csv"])
    return {
        "page": get(client, page.url),
        "embed": get(client, embed),
        "api": get(client, reverse("api:observations")),
        "api_as_of_now": get(client, reverse("api:observations"), at),
        "full_download": get(client, data),
        "full_history": get(client, data, {"history": "1"}),
        "filtered_download": get(client, data, {"metric": "test-cases", "period_from": "2018"}),
        "download_as_of_now": get(client, data, at),
    }


def test_a_release_appears_nowhere_before_its_time_and_everywhere_at_it(
    client, manager, stats_data, home, database_tasks, django_capture_on_commit_callbacks
):
    imported([row(4, period="2018", source="test-report-2018")])
    mo = Jurisdiction.objects.get(code="MO")
    figure = {"metric": stats_data["metrics"]["cases"].pk, "jurisdiction": mo.pk, "year": None}
    page = topic(home, "released", [{"type": "key_figure", "value": figure}])
    embed = reverse("figure_embed", args=[page.pk, page.body[0].id])
    record = schedule(client, manager, [row(VALUE, period="2019")], timezone.now() + _hours(2))
    before = everywhere(client, page, embed)  # also fills the page cache
    assert not [name for name, text in before.items() if VALUE in text]
    assert all("4" in before[name] for name in ("page", "embed", "api", "full_download"))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.apply_import.call(record.pk, manager.pk) == "early"
    assert everywhere(client, page, embed) == before  # nothing applied, nothing purged

    ImportRecord.objects.filter(pk=record.pk).update(go_live_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):  # the commit's own invalidation
        assert tasks.apply_import.call(record.pk, manager.pk) == "imported"
    at = everywhere(client, page, embed)
    assert not [name for name, text in at.items() if VALUE not in text.replace(",", "")]
    assert DownloadFile.objects.filter(as_of__isnull=True, status="ready").exists()


def _hours(n):
    return datetime.timedelta(hours=n)


def test_a_release_task_run_early_is_queued_again_for_its_time(
    client, manager, stats_data, database_tasks
):
    from django_tasks_db.models import DBTaskResult

    when = timezone.now() + _hours(2)
    record = schedule(client, manager, [row(9)], when)
    queued = DBTaskResult.objects.count()
    assert tasks.apply_import.call(record.pk, manager.pk) == "early"  # a worker's clock
    assert not Observation.objects.exists()
    assert DBTaskResult.objects.count() == queued + 1
    again = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert again.run_after == record.go_live_at and again.status == "READY"
    assert again.args_kwargs["args"] == [record.pk, manager.pk]
    record.refresh_from_db()
    assert record.status == "scheduled"  # still listed in the release calendar as scheduled


def test_a_release_task_run_late_applies_once(client, manager, stats_data, database_tasks):
    record = schedule(client, manager, [row(9)], timezone.now() + _hours(2))
    # The worker was down past the release's time (a restarted queue): run an hour late.
    ImportRecord.objects.filter(pk=record.pk).update(go_live_at=timezone.now() - _hours(1))
    assert tasks.apply_import.call(record.pk, manager.pk) == "imported"
    assert Observation.objects.get().value == 9
    record.refresh_from_db()
    assert record.status == "imported" and record.imported_at > record.go_live_at
    assert tasks.apply_import.call(record.pk, manager.pk) == "gone"  # applied once
    assert Observation.objects.count() == 1
