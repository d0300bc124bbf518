"""Data operations a data manager can trust: template, editions, revert, history, stale
previews, background tasks, scheduled releases and the importer's hardening."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from stats.exchange import (
    UploadError,
    export_dataset,
    read_upload,
    revert_import,
    run_import,
)
from stats.exchange.common import parse_number
from stats.exchange.template import template_file
from stats.models import ImportRecord, Observation, ObservationChange
from tests.stats_fixtures import HEADER, csv_bytes, good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("manager", password="x" * 16)


def imported(rows, name="figures.csv", **kwargs):
    content = csv_bytes(rows) if name.endswith(".csv") else xlsx_bytes(rows)
    return run_import(read_upload(name, content), dry_run=False, **kwargs)


def export():
    return export_dataset(Observation.objects.by_key(), "csv")  # the order the downloads use


# --- The template ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_uploaded_unchanged_changes_nothing(stats_data, fmt):
    imported(good_rows())
    before = export()
    with pytest.raises(UploadError, match="no data rows"):
        run_import(read_upload(f"template.{fmt}", template_file(fmt)), dry_run=False)
    assert export() == before


def test_csv_comment_lines_are_skipped(stats_data):
    content = b"# an instruction, with, commas\n" + csv_bytes(good_rows())
    outcome = run_import(read_upload("f.csv", content), dry_run=True)
    assert outcome.ok and outcome.counts["new"] == 6


# --- Source editions -------------------------------------------------------------------


def test_a_period_after_the_editions_year_is_an_error_that_says_so(stats_data):
    row = ["MO", "test-cases", "2019", "", "5", "", "", "", "", "test-report-2018"]
    outcome = imported([row])
    assert not outcome.ok
    assert "ends after what" in outcome.errors[0] and "2018" in outcome.errors[0]
    assert Observation.objects.count() == 0
    earlier = ["MO", "test-cases", "2017", "", "5", "", "", "", "", "test-report-2019"]
    assert imported([earlier]).ok  # an edition restates earlier years


def test_did_you_mean_never_proposes_an_edition_too_old_for_the_period(stats_data):
    row = ["MO", "test-cases", "2019", "", "5", "", "", "", "", "test-report-2021"]
    outcome = imported([row])
    assert "test-report-2018" not in outcome.errors[0]
    assert "A new report needs its Source first" in outcome.errors[0]


def test_the_import_page_links_to_adding_a_source(client, manager):
    client.force_login(manager)
    html = client.get(reverse("stats_import:upload")).content.decode()
    assert "needs its Source first" in html
    assert reverse("wagtailsnippets_stats_source:add") in html


# --- Preview ---------------------------------------------------------------------------


def test_preview_lists_every_new_changed_and_unchanged_row(client, manager, stats_data):
    imported(good_rows()[:3])
    rows = good_rows()
    rows[0][4] = "240"
    client.force_login(manager)
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "v2.csv"
    response = client.post(reverse("stats_import:upload"), {"file": upload})
    html = client.get(response["Location"]).content.decode()
    assert '<td data-count="new">3</td>' in html and "New rows (3)" in html
    assert "Unchanged rows (2)" in html and "Changed values (1)" in html
    assert "<td>233</td>" in html and "<td>240</td>" in html
    assert "<td>14.25</td>" in html  # a new row's value
    assert "Confirm and import 6 rows" in html


def test_a_wrong_header_counts_its_error(client, manager, stats_data):
    client.force_login(manager)
    upload = io.BytesIO(csv_bytes([r[:-1] for r in good_rows()], header=HEADER[:-1]))
    upload.name = "bad.csv"
    response = client.post(reverse("stats_import:upload"), {"file": upload})
    html = client.get(response["Location"]).content.decode()
    assert '<td data-count="error">1</td>' in html and "Errors (1)" in html
    assert "<title>Import rejected" in html


# --- Revert and history ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["figures.csv", "figures.xlsx"])
def test_import_then_revert_leaves_the_export_byte_identical(stats_data, manager, name):
    imported(good_rows()[:4])
    before = export()
    rows = good_rows()
    rows[0][4] = "240"
    rows[1][8] = "a new footnote"
    outcome = imported(rows, name=name, user=manager)
    assert outcome.counts["new"] == 2 and outcome.counts["updated"] == 2
    record = outcome.record
    assert record is not None and export() != before
    revert_import(record, user=manager)
    assert export() == before
    record.refresh_from_db()
    assert record.status == "reverted" and record.reverted_by == manager
    assert ObservationChange.objects.filter(via="revert").count() == 4


def test_revert_is_refused_naming_figures_a_later_import_changed(stats_data):
    first = imported(good_rows()).record
    rows = good_rows()
    rows[0][4] = "240"
    imported(rows)
    before = export()
    with pytest.raises(Exception) as caught:
        revert_import(first)
    assert "Test cases, Missouri, 2019" in str(caught.value)
    assert export() == before
    first.refresh_from_db()
    assert first.status == "imported"


def test_revert_import_command(stats_data, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(good_rows()))
    out = io.StringIO()
    call_command("import_stats", str(path), stdout=out)
    record = ImportRecord.objects.get()
    assert f"Import record {record.pk}" in out.getvalue()
    call_command("revert_import", str(record.pk), stdout=io.StringIO())
    assert Observation.objects.count() == 0
    with pytest.raises(CommandError) as caught:
        call_command("revert_import", str(record.pk), stdout=io.StringIO())
    assert caught.value.returncode == 1


def test_revert_from_the_admin(client, manager, stats_data):
    record = imported(good_rows()).record
    client.force_login(manager)
    html = client.get(reverse("stats_import:preview", args=[record.pk])).content.decode()
    assert "Revert this import" in html
    client.post(reverse("stats_import:revert", args=[record.pk]))
    assert Observation.objects.count() == 0


def test_history_of_a_figure_and_restore(client, manager, stats_data):
    imported(good_rows())
    rows = good_rows()
    rows[0][4] = "240"
    imported(rows, user=manager)
    total = Observation.objects.get(metric__slug="test-cases", breakdown=None)
    client.force_login(manager)
    url = reverse("stats_observation_history", args=[total.pk])
    html = client.get(url).content.decode()
    assert "value: 233 → 240" in html and "figures.csv" in html
    change = total.changes.get()
    restore_url = reverse("stats_observation_restore", args=[total.pk])
    confirm = client.get(restore_url, {"change": change.pk, "side": "old"}).content.decode()
    assert "<td>240</td><td>233</td>" in confirm  # now -> after, before anything changes
    total.refresh_from_db()
    assert total.value == 240
    refused = client.post(restore_url, {"change": change.pk, "side": "old"})
    assert "Say why this published figure changes." in refused.content.decode()
    client.post(restore_url, {"change": change.pk, "side": "old", "reason": "typo"})
    total.refresh_from_db()
    assert total.value == 233
    restore = total.changes.get(via="restore")
    assert (restore.old["value"], restore.new["value"], restore.user) == ("240", "233", manager)
    assert restore.reason == "typo"


def test_an_edit_in_the_admin_is_recorded_with_old_and_new_values(client, manager, stats_data):
    imported(good_rows())
    share = Observation.objects.get(metric__slug="test-share")
    client.force_login(manager)
    url = reverse("wagtailsnippets_stats_observation:edit", args=[share.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        metric=share.metric_id,
        jurisdiction=share.jurisdiction_id,
        source=share.source_id,
        value="25",
        numerator="10",
        denominator="40",
        period_start="2012-12-01",
        period_end="2016-12-31",
        footnote="",
        breakdown="",
        rank="",
    )
    response = client.post(url, data)
    assert "Say why this published figure changes." in response.content.decode()
    assert not ObservationChange.objects.filter(via="edit").exists()
    client.post(url, dict(data, reason="The source corrected it"))
    change = ObservationChange.objects.get(via="edit")
    assert change.old["value"] == "22.5" and change.new["value"] == "25"
    assert change.user == manager and change.reason == "The source corrected it"


# --- No lost updates -------------------------------------------------------------------


def preview(client, rows, name="v.csv"):
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = name
    client.post(reverse("stats_import:upload"), {"file": upload})
    return ImportRecord.objects.order_by("-pk").first()


def test_two_previews_of_the_same_figure_confirmed_one_after_the_other(client, manager, stats_data):
    imported(good_rows())
    client.force_login(manager)
    first_rows, second_rows = good_rows(), good_rows()
    first_rows[0][4], second_rows[0][4] = "240", "250"
    first, second = preview(client, first_rows), preview(client, second_rows)
    client.post(reverse("stats_import:confirm", args=[first.pk]))
    client.post(reverse("stats_import:confirm", args=[second.pk]))
    total = Observation.objects.get(metric__slug="test-cases", breakdown=None)
    assert total.value == 240  # the first one, not silently overwritten
    second.refresh_from_db()
    assert second.status == "previewed" and "changed since this preview" in second.message
    assert second.changes[0]["fields"]["value"] == ["240", "250"]  # shown again, fresh
    client.post(reverse("stats_import:confirm", args=[second.pk]))  # confirmed knowingly
    total.refresh_from_db()
    assert total.value == 250


def test_a_new_row_created_meanwhile_makes_the_preview_stale(stats_data):
    dataset = read_upload("f.csv", csv_bytes(good_rows()))
    digest = run_import(dataset, dry_run=True).digest
    imported(good_rows()[:1])
    outcome = run_import(
        read_upload("f.csv", csv_bytes(good_rows())), dry_run=False, expected_digest=digest
    )
    assert outcome.stale and not outcome.imported
    assert Observation.objects.count() == 1


# --- Background and scheduled release --------------------------------------------------


def work():
    """A database-backend worker, run in this process until the queue is empty."""
    call_command(
        "db_worker",
        "--backend",
        "database",
        "--batch",
        "--no-startup-delay",
        "--no-reload",
        verbosity=0,
        stdout=io.StringIO(),
    )


# The in-process worker closes its database connection, as in production; inside the test's
# transaction on PostgreSQL that closes the test's own connection. Run there by a real worker
# (README, "Workers"); on SQLite these run in-process.
@pytest.mark.skipif(
    "postgresql" in settings.DATABASES["default"]["ENGINE"],
    reason="the in-process worker closes the test transaction's connection on PostgreSQL",
)
def test_the_database_backend_and_its_worker_run_an_import(client, manager, stats_data):
    from stats.exchange import tasks

    record = ImportRecord.objects.create(
        file_name="f.csv", file_format="csv", content=csv_bytes(good_rows()), status="checking"
    )
    tasks.check_import.using(backend="database").enqueue(record.pk)
    record.refresh_from_db()
    assert record.status == "checking"  # waits for a worker
    work()
    record.refresh_from_db()
    assert record.status == "previewed" and record.counts["new"] == 6
    ImportRecord.objects.filter(pk=record.pk).update(status="queued")
    tasks.apply_import.using(backend="database").enqueue(record.pk, manager.pk)
    work()
    record.refresh_from_db()
    assert record.status == "imported" and Observation.objects.count() == 6


def test_the_go_live_time_names_the_zone_it_is_read_in(client, manager, stats_data):
    """Wagtail's admin reads times in the user's own zone (their profile, else the install's
    UTC): the field names it, so a release is not set an hour or six early."""
    from wagtail.users.models import UserProfile

    client.force_login(manager)
    record = preview(client, good_rows())
    page = reverse("stats_import:preview", args=[record.pk])
    assert "Go live at, UTC time" in client.get(page).content.decode()
    profile = UserProfile.get_for_user(manager)
    profile.current_time_zone = "America/Chicago"
    profile.save()
    html = client.get(page).content.decode()
    assert "Go live at, America/Chicago time" in html
    assert "a date and time in America/Chicago time" in html


# The in-process worker closes its database connection, as in production; inside the test's
# transaction on PostgreSQL that closes the test's own connection. Run there by a real worker
# (README, "Workers"); on SQLite these run in-process.
@pytest.mark.skipif(
    "postgresql" in settings.DATABASES["default"]["ENGINE"],
    reason="the in-process worker closes the test transaction's connection on PostgreSQL",
)
def test_a_scheduled_import_is_invisible_until_its_time(client, manager, stats_data):
    from stats.exchange import tasks

    imported(good_rows())
    rows = good_rows()
    rows[0][4] = "240"
    client.force_login(manager)
    record = preview(client, rows)
    soon = timezone.localtime() + datetime.timedelta(hours=2)
    # The view enqueues with run_after: the immediate backend cannot, so use the database one.
    tasks.apply_import = tasks.apply_import.using(backend="database")
    try:
        from stats.staff import views as admin_views

        admin_views.apply_import = tasks.apply_import
        client.post(
            reverse("stats_import:confirm", args=[record.pk]),
            {"go_live_at": soon.strftime("%Y-%m-%dT%H:%M")},
        )
    finally:
        from importlib import reload

        reload(tasks)
        admin_views.apply_import = tasks.apply_import
    record.refresh_from_db()
    assert record.status == "scheduled" and record.go_live_at is not None
    total = Observation.objects.get(metric__slug="test-cases", breakdown=None)
    assert total.value == 233  # visitors see the previous value
    html = client.get(reverse("stats_import:upload")).content.decode()
    assert "Scheduled releases" in html and "v.csv" in html
    # Nothing runs before the time; at the time the worker applies it.
    work()
    total.refresh_from_db()
    assert total.value == 233
    ImportRecord.objects.filter(pk=record.pk).update(go_live_at=timezone.now())
    tasks.apply_import.call(record.pk, manager.pk)
    total.refresh_from_db()
    assert total.value == 240


# --- Hardening -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["١٢", "１２", "1_000", "1e3", "12.", "+5", "0x10", "∞"])
def test_only_ascii_digits_make_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_minus_zero_is_not_a_count(stats_data):
    row = ["MO", "test-cases", "2019", "", "-0", "", "", "", "", "test-report-2019"]
    outcome = imported([row])
    assert not outcome.ok and "write 0" in outcome.errors[0]


def test_duplicate_header_check_is_linear():
    header = ",".join(f"c{i}" for i in range(100_000)) + ",c5"
    content = (header + "\n" + ",".join("1" for _ in range(100_001)) + "\n").encode()
    started = timezone.now()
    with pytest.raises(Exception) as caught:
        read_upload("wide.csv", content)
    assert '"c5"' in str(caught.value)
    assert (timezone.now() - started).total_seconds() < 20


def test_a_suggestion_is_worked_out_once_per_distinct_name(stats_data, monkeypatch):
    from stats.exchange import validating

    calls = []
    real = validating._closest
    monkeypatch.setattr(validating, "_closest", lambda *a: calls.append(1) or real(*a))
    rows = [
        ["MO", f"unknown-{i % 3}", str(1995 + i % 20), "", "1", "", "", "", "", "test-report-2019"]
        for i in range(3000)
    ]
    outcome = imported(rows)
    assert outcome.counts["error"] == 3000
    assert len(calls) == 3  # one per distinct unknown name, not one per row
    rows = [
        ["MO", f"nope-{i}", "2019", "", "1", "", "", "", "", "test-report-2019"] for i in range(200)
    ]
    calls.clear()
    imported(rows)
    assert len(calls) == validating.MAX_SUGGESTED_NAMES  # bounded


def test_a_huge_footnote_is_refused(stats_data):
    rows = good_rows()
    rows[0][8] = "x" * 60_000
    outcome = imported(rows, name="figures.xlsx")
    assert not outcome.ok
    assert "the limit is 2,000" in outcome.errors[0]
    assert len(outcome.errors[0]) < 300
    assert Observation.objects.count() == 0


def test_the_import_record_reads_as_words_in_local_time(client, manager, stats_data):
    imported(good_rows())
    rows = good_rows()
    rows[0][4] = "240"
    record = imported(rows, user=manager).record
    client.force_login(manager)
    url = reverse("wagtailsnippets_stats_importrecord:inspect", args=[record.pk])
    html = client.get(url).content.decode()
    assert "6 rows: 0 new, 1 updated, 5 unchanged" in html
    assert "value 233 -&gt; 240" in html
    assert "{&#x27;total&#x27;" not in html and "[]" not in html
    local = timezone.localtime(record.created_at)
    assert local.strftime("%Y") in html and str(local.day) in html
