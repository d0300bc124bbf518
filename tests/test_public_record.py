# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
"""The public record: the revisions log and its Atom feed, the release calendar and its
iCalendar feed, figures as of a past moment, and the release task's time check."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from portal.cache import invalidate_public_pages
from stats.exchange import export_dataset, read_upload, revert_import, run_import
from stats.exchange.importing import restore_values
from stats.models import ImportRecord, Jurisdiction, Observation
from stats.store.history import figures_as_of, moment_text, parse_moment
from tests.stats_fixtures import csv_bytes
from tests.test_blocks_page import home, topic  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def english():
    # A request in Spanish leaves Spanish active in the test's thread, and reverse() follows it.
    translation.activate("en")
    yield
    translation.activate("en")


def row(value, period="2019", source="test-report-2019", metric="test-cases", place="MO"):
    return [place, metric, period, "", str(value), "", "", "", "", source]


def imported(rows, name="figures.csv"):
    return run_import(read_upload(name, csv_bytes(rows)), dry_run=False).record


def total():
    return Observation.objects.get(
        metric__slug="test-cases", period_start__year=2019, jurisdiction__code="MO"
    )


def current_export():
    return export_dataset(Observation.objects.current(), "csv")


def export_as_of(moment):
    return export_dataset(figures_as_of(Q(), moment), "csv")


@pytest.fixture
def corrected(stats_data):
    """A figure released, revised by a second import, then corrected by hand with a reason."""
    imported([row(4), row(7, place="KS")], name="first.csv")
    imported([row(5)], name="second.csv")
    restore_values(total(), {"value": "6"}, reason="A typo in the report")
    return total()


@pytest.fixture
def spanish_site(db):
    """The default site with a Spanish home page: a site without one redirects /es/ to
    English (pages.middleware)."""
    from wagtail.models import Locale, Site

    spanish = Locale.objects.get_or_create(language_code="es")[0]
    root = Site.objects.get(is_default_site=True).root_page
    root.copy_for_translation(spanish).save_revision().publish()


def test_the_revisions_log_lists_each_change_with_its_reason(client, corrected, spanish_site):
    html = client.get(reverse("revisions")).content.decode()
    rows = re.findall(r'<tr id="change-\d+" data-kind="(\w+)">(.*?)</tr>', html, re.S)
    assert [kind for kind, _cells in rows] == ["correction", "revision"]
    cells = re.findall(r"<td>(.*?)</td>", rows[0][1], re.S)
    assert cells[1:6] == [
        "Test cases, Missouri, 2019",
        "5",
        "6",
        "Correction by the portal",
        "A typo in the report",
    ]
    assert "Test Institute, Test Report, 2019 edition" in cells[6]
    # The first release of a figure is not a revision.
    assert html.count('data-kind="') == 2
    spanish = client.get("/es" + reverse("revisions")).content.decode()
    assert "Corrección del portal" in spanish and "A typo in the report" in spanish
    assert 'class="quick-exit' in spanish and not client.cookies


def test_the_log_is_filtered_by_metric_and_year(client, corrected):
    url = reverse("revisions")
    assert client.get(url, {"year": "2018"}).content.decode().count('data-kind="') == 0
    assert client.get(url, {"metric": "test-cases"}).content.decode().count('data-kind="') == 2
    assert client.get(url, {"metric": "test-share"}).content.decode().count('data-kind="') == 0


def test_a_state_site_shows_its_own_states_revisions(client, corrected):
    from wagtail.models import Site

    from pages.models import SiteSettings

    restore_values(
        Observation.objects.get(jurisdiction__code="KS"), {"value": "8"}, reason="Kansas fix"
    )
    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.jurisdiction = Jurisdiction.objects.get(code="MO")
    settings.save()
    html = client.get(reverse("revisions")).content.decode()
    assert "A typo in the report" in html and "Kansas fix" not in html


def test_the_atom_feed_is_valid_xml_with_the_entries(client, corrected):
    response = client.get(reverse("revisions_feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles == [
        "Test cases, Missouri, 2019: 5 → 6 (Correction by the portal)",
        "Test cases, Missouri, 2019: 4 → 5 (Revised by the source)",
    ]
    assert "A typo in the report" in entries[0].find(f"{ATOM}summary").text
    assert all(e.find(f"{ATOM}updated").text for e in entries)


def test_a_new_editions_value_is_a_revision_in_the_log(client, stats_data):
    imported([row(4, period="2018", source="test-report-2018")])
    imported([row(5, period="2018", source="test-report-2019")])
    html = client.get(reverse("revisions")).content.decode()
    entry = re.search(r'data-kind="new_edition">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", entry)[2:4] == ["4", "5"]


def schedule(client, manager, rows, when):
    from stats.exchange import tasks
    from stats.staff import views as admin_views

    record = ImportRecord.objects.create(
        file_name="release.csv", file_format="csv", content=csv_bytes(rows), status="previewed"
    )
    outcome = run_import(read_upload("release.csv", csv_bytes(rows)), dry_run=True)
    from stats.exchange import record_import

    record_import("release.csv", b"", outcome, record=record)
    database = tasks.apply_import.using(backend="database")
    original, admin_views.apply_import = admin_views.apply_import, database
    try:
        client.force_login(manager)
        client.post(
            reverse("stats_import:confirm", args=[record.pk]),
            {"go_live_at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")},
        )
    finally:
        admin_views.apply_import = original
        client.logout()
    record.refresh_from_db()
    assert record.status == "scheduled"
    return record


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("manager", password="x" * 16)


def unfolded(body):
    """iCalendar content lines, unfolded (RFC 5545 3.1), each checked to be at most 75 octets."""
    raw = body.decode()
    assert raw.endswith("\r\n")
    physical = raw.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    lines = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def test_the_release_calendar_shows_a_scheduled_release_without_values(client, manager, stats_data):
    when = timezone.now() + datetime.timedelta(days=3)
    record = schedule(client, manager, [row(9531, period="2019")], when)
    html = client.get(reverse("releases")).content.decode()
    assert f'id="release-{record.pk}" data-status="scheduled"' in html
    assert "Test cases" in html and "Test Institute, Test Report, 2019 edition" in html
    assert "9531" not in html and "9,531" not in html
    assert not Observation.objects.exists()  # nothing is public before its time
    lines = unfolded(client.get(reverse("releases_ics")).content)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events = [i for i, line in enumerate(lines) if line == "BEGIN:VEVENT"]
    assert len(events) == 1
    event = dict(line.split(":", 1) for line in lines[events[0] + 1 : lines.index("END:VEVENT")])
    start = datetime.datetime.strptime(event["DTSTART"], "%Y%m%dT%H%M%SZ")
    assert start.replace(tzinfo=datetime.UTC) == record.go_live_at.replace(second=0, microsecond=0)
    assert event["STATUS"] == "CONFIRMED" and "9531" not in "".join(lines)
    assert event["UID"] == f"release-{record.pk}@testserver"
    # Cancelled, it stays listed with its reason.
    client.force_login(manager)
    client.post(reverse("stats_import:cancel", args=[record.pk]), {"reason": "A late erratum"})
    client.logout()
    invalidate_public_pages()  # as the commit of the cancellation does
    html = client.get(reverse("releases")).content.decode()
    assert 'data-status="cancelled"' in html and "A late erratum" in html
    lines = unfolded(client.get(reverse("releases_ics")).content)
    assert "STATUS:CANCELLED" in lines and "SEQUENCE:1" in lines


def test_a_release_task_run_early_applies_nothing_and_is_queued_again(
    client, manager, stats_data, settings
):
    from django_tasks_db.models import DBTaskResult

    from stats.exchange import tasks

    # Queued again with run_after: the database backend, as in production.
    database = {"BACKEND": "django_tasks_db.DatabaseBackend"}
    settings.TASKS = {"default": database, "database": database}

    when = timezone.now() + datetime.timedelta(hours=2)
    record = schedule(client, manager, [row(9)], when)
    queued = DBTaskResult.objects.count()
    assert tasks.apply_import.call(record.pk, manager.pk) == "early"  # a worker's clock
    assert not Observation.objects.exists()
    again = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == queued + 1
    assert again.run_after == record.go_live_at
    ImportRecord.objects.filter(pk=record.pk).update(go_live_at=timezone.now())
    assert tasks.apply_import.call(record.pk, manager.pk) == "imported"  # on time
    assert total().value == 9
    assert tasks.apply_import.call(record.pk, manager.pk) == "gone"  # late: applied once


def test_as_of_gives_the_figures_as_they_stood_at_each_moment(stats_data):
    moments, exports = [], []

    def snapshot():
        moments.append(timezone.now())
        exports.append(current_export())

    snapshot()  # empty
    first = imported(
        [row(4), row(12, period="2018", metric="test-rank", source="test-report-2018")]
    )
    snapshot()
    newer_rank = row(3, period="2018", metric="test-rank", source="test-report-2019")
    second = imported([row(5), newer_rank])
    snapshot()
    restore_values(total(), {"value": "6"}, reason="typo")
    snapshot()
    revert_import(second, with_later=True)
    snapshot()
    revert_import(first)
    snapshot()
    # Reverting the second import with the later correction returns to the first's state.
    assert exports[0] == exports[-1] and exports[1] == exports[4] and len(set(exports)) == 4
    for moment, export in zip(moments, exports, strict=True):
        assert export_as_of(moment) == export
        assert parse_moment(moment_text(moment)) == moment


def test_a_cited_page_shows_the_figures_as_cited(client, stats_data, home):
    imported([row(4)])
    metric = stats_data["metrics"]["cases"]
    mo = Jurisdiction.objects.get(code="MO")
    figure = {"metric": metric.pk, "jurisdiction": mo.pk, "year": None, "label": ""}
    page = topic(home, "cited", [{"type": "key_figure", "value": figure}])
    html = client.get(page.url).content.decode()
    assert re.search(r'class="key-figure__value">4<', html)
    cite = re.search(r'<p class="figure-actions__cite"[^>]*>(.*?)</p>', html, re.S).group(1)
    cited = re.search(r"Figures as of [^:]+: (\S+)\.", cite).group(1)
    imported([row(5)])
    invalidate_public_pages()  # as the commit of the import does
    assert re.search(r'class="key-figure__value">5<', client.get(page.url).content.decode())
    then = client.get(cited.replace("&amp;", "&")).content.decode()
    assert re.search(r'class="key-figure__value">4<', then)
    assert 'class="as-of-banner"' in then and "See the current figures" in then


def test_the_log_is_cached_keyed_by_its_filters_and_renewed_on_a_change(client, corrected):
    url = reverse("revisions")
    first = client.get(url)
    assert "public" in first["Cache-Control"] and not first.cookies
    assert client.get(url, {"metric": "test-share"}).content.decode().count('data-kind="') == 0
    client.get(url)  # the first visit created the site's settings, a content change
    with CaptureQueriesContext(connection) as again:
        assert client.get(url).content == first.content
    assert len(again) == 1  # from the cache: only the versions are read
    restore_values(total(), {"value": "7"}, reason="Another look")
    # Every figure write bumps the data version in its own transaction, so the key moves at
    # once (a reader in the same transaction sees it; stats.models).
    assert "Another look" in client.get(url).content.decode()


def test_a_figures_citation_links_the_revisions_log_and_the_calendar(client, stats_data, home):
    imported([row(4)])
    metric = stats_data["metrics"]["cases"]
    mo = Jurisdiction.objects.get(code="MO")
    figure = {"metric": metric.pk, "jurisdiction": mo.pk, "year": None, "label": ""}
    html = client.get(topic(home, "linked", [{"type": "key_figure", "value": figure}]).url)
    record = re.search(r'<p class="figure-actions__record">(.*?)</p>', html.content.decode())
    assert f'href="{reverse("revisions")}"' in record.group(1)
    assert f'href="{reverse("releases")}"' in record.group(1)


def test_a_corrected_figure_is_marked_revised_linking_to_its_own_entries(
    client, stats_data, home, spanish_site
):
    imported([row(4), row(7, place="KS")])
    metric = stats_data["metrics"]["cases"]
    figure = {"metric": metric.pk, "jurisdiction": Jurisdiction.objects.get(code="MO").pk}
    page = topic(home, "marked", [{"type": "key_figure", "value": {**figure, "year": None}}])
    label = r'<p class="key-figure__label"[^>]*>(.*?)</p>'
    assert "figure-revised" not in re.search(label, client.get(page.url).content.decode()).group(1)
    restore_values(total(), {"value": "6"}, reason="A typo in the report")
    ks = Observation.objects.get(jurisdiction__code="KS")
    restore_values(ks, {"value": "8"}, reason="Kansas's own correction")
    invalidate_public_pages()
    shown = re.search(label, client.get(page.url).content.decode(), re.S).group(1)
    mark = re.search(r'<a class="figure-revised" href="([^"]+)">Revised</a>', shown)
    link = mark.group(1).replace("&amp;", "&")
    assert link == f"{reverse('revisions')}?metric=test-cases&place=MO&year=2019&breakdown=total"
    log = client.get(link).content.decode()
    assert log.count('data-kind="correction"') == 1 and "A typo in the report" in log
    assert "Kansas" not in log and "Only the entries of one figure are shown." in log
    with translation.override("es"):
        assert translation.gettext("Revised") == "Revisado"
        spanish_log = client.get(
            link.replace(reverse("revisions", urlconf=None), reverse("revisions"))
        )
    assert "A typo in the report" in spanish_log.content.decode()


def test_a_new_editions_different_value_is_marked_revised_in_a_charts_table(
    client, stats_data, home
):
    old = "test-report-2018"
    imported([row(3, period="2017", source=old), row(4, period="2018", source=old)])
    imported([row(5, period="2018")])  # the 2019 edition restates 2018: 4 -> 5
    metric = stats_data["metrics"]["cases"]
    chart = {
        "title": "Cases",
        "metrics": [metric.pk],
        "jurisdictions": [Jurisdiction.objects.get(code="MO").pk],
        "from_year": None,
        "to_year": None,
        "by_breakdown": False,
        "chart_type": "line",
        "description": "Cases by year.",
        "note": "",
    }
    html = client.get(topic(home, "chart", [{"type": "chart", "value": chart}]).url)
    cells = re.findall(r'<td data-value="[^"]*">(.*?)</td>', html.content.decode())
    assert [("figure-revised" in c) for c in cells] == [False, True]
