"""The Statistics menu of the Wagtail admin, and the "Import figures" flow."""

import io
from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from stats.exchange.common import COLUMNS
from stats.models import ImportRecord, Jurisdiction, Observation, ObservationChange
from tests.stats_fixtures import csv_bytes, good_rows, xlsx_bytes
from tests.test_permissions import assert_refused

pytestmark = pytest.mark.django_db

UPLOAD = "stats_import:upload"


def make_user(django_user_model, name, *perms):
    group = Group.objects.create(name=f"{name} group")
    for perm in ("wagtailadmin.access_admin", *perms):
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = django_user_model.objects.create_user(name, password="a-long-password")
    user.groups.add(group)
    return user


VIEW_PERMS = [
    f"stats.view_{model}"
    for model in ("observation", "metric", "source", "jurisdiction", "importrecord")
]
CHANGE_PERMS = [f"stats.{action}_observation" for action in ("add", "change", "delete")]


@pytest.fixture
def manager(django_user_model):
    return make_user(
        django_user_model, "manager", *VIEW_PERMS, *CHANGE_PERMS, "stats.import_observation"
    )


@pytest.fixture
def stats_viewer(django_user_model):
    return make_user(django_user_model, "editor", *VIEW_PERMS)


@pytest.fixture
def mo_cases_2019(stats_data):
    def make(value, breakdown=None, **kwargs):
        return Observation.objects.create(
            metric=stats_data["metrics"]["cases"],
            jurisdiction=Jurisdiction.objects.get(code="MO"),
            period_start=date(2019, 1, 1),
            period_end=date(2019, 12, 31),
            breakdown=breakdown,
            value=value,
            source=stats_data["new"],
            **kwargs,
        )

    return {
        "total": make(233),
        "sex": make(180, stats_data["sex"]),
        "labor": make(54, stats_data["labor"]),
    }


def upload(client, name, content):
    return client.post(reverse(UPLOAD), {"file": SimpleUploadedFile(name, content)})


def test_menu_shows_statistics_and_import_for_a_manager(client, manager):
    client.force_login(manager)
    response = client.get(reverse("wagtailadmin_home"))
    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "Statistics",
        "Observations",
        "Metrics",
        "Sources",
        "Jurisdictions",
        "Import figures",
        "Import history",
    ):
        assert label in html, label


def test_editor_does_not_see_import_and_gets_403_by_url(client, stats_viewer, stats_data):
    client.force_login(stats_viewer)
    assert "Import figures" not in client.get(reverse("wagtailadmin_home")).content.decode()
    assert client.get(reverse(UPLOAD)).status_code == 403
    assert upload(client, "f.csv", csv_bytes(good_rows())).status_code == 403
    assert client.get(reverse("stats_import:template", args=["xlsx"])).status_code == 403
    record = ImportRecord.objects.create(
        file_name="f.csv", file_format="csv", content=csv_bytes(good_rows())
    )
    assert client.get(reverse("stats_import:preview", args=[record.pk])).status_code == 403
    response = client.post(reverse("stats_import:confirm", args=[record.pk]))
    assert response.status_code == 403
    assert Observation.objects.count() == 0


def test_editor_may_view_but_not_edit_observations(client, stats_viewer, mo_cases_2019):
    client.force_login(stats_viewer)
    assert client.get(reverse("wagtailsnippets_stats_observation:list")).status_code == 200
    edit = reverse("wagtailsnippets_stats_observation:edit", args=[mo_cases_2019["total"].pk])
    assert_refused(client.post(edit, {"value": "1"}))
    mo_cases_2019["total"].refresh_from_db()
    assert mo_cases_2019["total"].value == 233


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse(UPLOAD))
    assert response.status_code == 302 and "login" in response["Location"]


def test_upload_preview_confirm_flow(client, manager, stats_data):
    client.force_login(manager)
    assert "observations-template.xlsx" not in client.get(reverse(UPLOAD)).content.decode()
    content = xlsx_bytes(good_rows())
    response = upload(client, "figures.xlsx", content)
    assert response.status_code == 302
    record = ImportRecord.objects.get()
    assert record.status == "previewed" and record.user == manager
    assert bytes(record.content) == content  # kept in the database between the steps
    assert Observation.objects.count() == 0  # a preview saves nothing

    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert '<td data-count="new">6</td>' in html
    assert "Confirm and import 6 rows" in html

    response = client.post(reverse("stats_import:confirm", args=[record.pk]))
    assert response.status_code == 302
    assert Observation.objects.count() == 6
    record.refresh_from_db()
    assert record.status == "imported" and record.imported_at is not None
    assert record.counts["new"] == 6

    html = client.get(reverse("stats_import:preview", args=[record.pk])).content.decode()
    assert "<title>Imported" in html and "Confirm and import" not in html
    assert f"Record number {record.pk}" in html

    # A second confirm of the same record (a double click) imports nothing more.
    response = client.post(reverse("stats_import:confirm", args=[record.pk]), follow=True)
    assert "already confirmed" in response.content.decode()
    assert Observation.objects.count() == 6

    # The same file again: every row unchanged.
    response = upload(client, "figures.xlsx", xlsx_bytes(good_rows()))
    html = client.get(response["Location"]).content.decode()
    assert '<td data-count="unchanged">6</td>' in html

    # A changed value: old and new shown, then updated and logged.
    rows = good_rows()
    rows[0][4] = "234"
    response = upload(client, "figures-v2.csv", csv_bytes(rows))
    record = ImportRecord.objects.order_by("-pk").first()
    html = client.get(response["Location"]).content.decode()
    assert '<td data-count="updated">1</td>' in html
    assert "<td>233</td>" in html and "<td>234</td>" in html
    client.post(reverse("stats_import:confirm", args=[record.pk]))
    assert Observation.objects.get(metric__slug="test-cases", breakdown=None).value == 234
    change = ObservationChange.objects.get(user=manager, action="updated")
    assert (change.old["value"], change.new["value"]) == ("233", "234")
    assert change.import_record == record


def test_preview_lists_every_error_and_cannot_be_confirmed(client, manager, stats_data):
    client.force_login(manager)
    rows = good_rows()
    rows[0][0] = "Missuori"
    rows[3][4] = "130"
    response = upload(client, "bad.csv", csv_bytes(rows))
    html = client.get(response["Location"]).content.decode()
    assert "row 2, column jurisdiction: Unknown jurisdiction &quot;Missuori&quot;" in html
    assert "row 5, column value: A percent must lie between 0 and 100 (got 130)." in html
    assert '<td data-count="error">2</td>' in html
    assert "Errors (2)" in html
    assert "Confirm and import" not in html
    record = ImportRecord.objects.get()
    assert record.status == "rejected"
    client.post(reverse("stats_import:confirm", args=[record.pk]))
    assert Observation.objects.count() == 0


def test_unreadable_upload_shows_the_message(client, manager):
    client.force_login(manager)
    response = upload(client, "figures.csv", b"")
    assert response.status_code == 200
    assert "file is empty." in response.content.decode()
    response = upload(client, "figures.docx", b"PK whatever")
    assert "is not a CSV or Excel" in response.content.decode()
    assert ImportRecord.objects.count() == 0


def test_template_download(client, manager, stats_data):
    client.force_login(manager)
    html = client.get(reverse(UPLOAD)).content.decode()
    url = reverse("stats_import:template", args=["xlsx"])
    assert url in html
    book = load_workbook(io.BytesIO(client.get(url).content))
    sheet = book["observations"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [COLUMNS]  # headers only, every column: nothing to mistake for data
    about = [r[0] for r in book["instructions"].iter_rows(values_only=True)]
    assert {"jurisdiction", "value", "source", "footnote"} <= set(about)
    csv_text = client.get(reverse("stats_import:template", args=["csv"])).content.decode(
        "utf-8-sig"
    )
    lines = csv_text.splitlines()
    assert all(line.startswith(("# ", '"# ')) for line in lines[:-1]), lines
    assert lines[-1] == ",".join(COLUMNS)


def test_observation_listing_filters_and_search(client, manager, mo_cases_2019, stats_data):
    client.force_login(manager)
    url = reverse("wagtailsnippets_stats_observation:list")
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("metric", "jurisdiction", "year", "source", "breakdown"):
        assert f'name="{name}"' in html, name
    response = client.get(url, {"breakdown": stats_data["sex"].pk})
    assert list(response.context["object_list"]) == [mo_cases_2019["sex"]]
    response = client.get(url, {"breakdown": "null"})
    assert list(response.context["object_list"]) == [mo_cases_2019["total"]]
    response = client.get(
        url, {"year": 2019, "jurisdiction": mo_cases_2019["total"].jurisdiction_id}
    )
    assert len(response.context["object_list"]) == 3
    response = client.get(url, {"year": 2018})
    assert len(response.context["object_list"]) == 0
    response = client.get(url, {"q": "labor"})
    assert list(response.context["object_list"]) == [mo_cases_2019["labor"]]
    response = client.get(url, {"ordering": "-value"})
    assert response.context["object_list"][0] == mo_cases_2019["total"]


def test_listing_warns_when_a_breakdown_does_not_add_up(client, manager, mo_cases_2019):
    client.force_login(manager)
    html = client.get(reverse("wagtailsnippets_stats_observation:list")).content.decode()
    assert "the breakdown adds up to 234 but the total is 233" in html


def test_listing_export_is_the_exchange_format(client, manager, mo_cases_2019):
    client.force_login(manager)
    url = reverse("wagtailsnippets_stats_observation:list")
    response = client.get(url, {"export": "csv", "breakdown": "null"})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("jurisdiction,metric,period,breakdown,value")
    assert text.splitlines()[1].startswith("MO,test-cases,2019,,233,")
    response = client.get(url, {"export": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    assert book.active.max_row == 4


def test_metric_listing_exportneutralises_formulas(client, manager, stats_data):
    stats_data["metrics"]["months"].label = "=1+1"
    stats_data["metrics"]["months"].save()
    client.force_login(manager)
    manager.is_superuser = True
    manager.save()
    response = client.get(reverse("wagtailsnippets_stats_metric:list"), {"export": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert "'=1+1" in text


def test_edit_percent_130_is_refused_and_edits_are_in_history(client, manager, stats_data):
    manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    share = Observation.objects.create(
        metric=stats_data["metrics"]["share"],
        jurisdiction=Jurisdiction.objects.get(code="US"),
        period_start=date(2019, 1, 1),
        period_end=date(2019, 12, 31),
        value=22,
        source=stats_data["new"],
    )
    url = reverse("wagtailsnippets_stats_observation:edit", args=[share.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["value"] = "130"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "A percent must lie between 0 and 100 (got 130)." in response.content.decode()
    share.refresh_from_db()
    assert share.value == 22

    data["value"] = "23.5"
    data["reason"] = "Corrected from the report"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    share.refresh_from_db()
    assert share.value == 23.5
    entry = ModelLogEntry.objects.filter(object_id=str(share.pk), action="wagtail.edit").get()
    assert entry.user == manager
    # One history: Wagtail's "History" of a figure is its history of values.
    history = client.get(
        reverse("wagtailsnippets_stats_observation:history", args=[share.pk]), follow=True
    )
    html = history.content.decode()
    assert "manager" in html and "Corrected from the report" in html


def test_edit_view_warns_about_the_breakdown(client, manager, mo_cases_2019):
    manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    url = reverse("wagtailsnippets_stats_observation:edit", args=[mo_cases_2019["sex"].pk])
    html = client.get(url).content.decode()
    assert "adds up to 234 but the total is 233" in html


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("metric", ["Test cases", "Test share", "Test rank", "Test months"]),
        ("source", ["Test Report"]),
        ("jurisdiction", ["Alabama Middle District", "Alabama Northern District"]),
        ("dimension", ["Type of trafficking"]),
        ("category", ["Sex trafficking", "Labor trafficking"]),
        ("importrecord", ["made-up-upload.csv"]),
    ],
)
def test_other_listings_list_their_rows(client, django_user_model, stats_data, name, listed):
    admin = django_user_model.objects.create_superuser("admin", "a@example.org", "pw-long-enough")
    client.force_login(admin)
    ImportRecord.objects.create(file_name="made-up-upload.csv", file_format="csv", content=b"x")
    response = client.get(reverse(f"wagtailsnippets_stats_{name}:list"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in listed:
        assert text in html, text


def test_import_records_cannot_be_added_or_edited(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "a@example.org", "pw-long-enough")
    client.force_login(admin)
    record = ImportRecord.objects.create(file_name="f.csv", file_format="csv", content=b"x")
    assert_refused(client.get(reverse("wagtailsnippets_stats_importrecord:add")))
    edit = reverse("wagtailsnippets_stats_importrecord:edit", args=[record.pk])
    assert_refused(client.get(edit))
    inspect = reverse("wagtailsnippets_stats_importrecord:inspect", args=[record.pk])
    assert client.get(inspect).status_code == 200


def test_a_stale_preview_is_shown_again_rather_than_confirmed(client, manager, stats_data):
    """Confirming must never apply changes that nobody previewed."""
    client.force_login(manager)
    upload(client, "figures.csv", csv_bytes(good_rows()))
    client.post(reverse("stats_import:confirm", args=[ImportRecord.objects.get().pk]))

    rows = good_rows()
    rows[0][4] = "234"
    upload(client, "first.csv", csv_bytes(rows))
    first = ImportRecord.objects.order_by("-pk").first()
    rows[0][4] = "240"
    upload(client, "second.csv", csv_bytes(rows))
    second = ImportRecord.objects.order_by("-pk").first()
    client.post(reverse("stats_import:confirm", args=[second.pk]))
    assert Observation.objects.get(metric__slug="test-cases", breakdown=None).value == 240

    # The first preview showed 233 -> 234; the store now holds 240, so nothing is imported
    # and a fresh preview (240 -> 234) waits for a new confirmation.
    response = client.post(reverse("stats_import:confirm", args=[first.pk]), follow=True)
    assert "changed since this preview" in response.content.decode()
    assert Observation.objects.get(metric__slug="test-cases", breakdown=None).value == 240
    first.refresh_from_db()
    assert first.status == "previewed"
    assert first.changes[0]["fields"]["value"] == ["240", "234"]
    client.post(reverse("stats_import:confirm", args=[first.pk]))
    assert Observation.objects.get(metric__slug="test-cases", breakdown=None).value == 234


def test_observation_listing_sorts_by_indexed_keys_and_counts_once_per_version(
    client, manager, mo_cases_2019
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(manager)
    url = reverse("wagtailsnippets_stats_observation:list")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    listed = [q["sql"] for q in captured if 'FROM "stats_observation"' in q["sql"]]
    # No COUNT (kept under the data version), and the page is ordered by the key's columns.
    assert not any("COUNT(" in sql for sql in listed), listed
    page = [sql for sql in listed if "ORDER BY" in sql]
    assert page and 'ORDER BY "stats_observation"."metric_id" ASC' in page[0]
    assert response.context["paginator"].count == len(response.context["object_list"])
