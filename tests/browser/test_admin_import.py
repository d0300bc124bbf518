"""A data manager imports a spreadsheet in the Wagtail admin, end to end in Chromium: log in,
upload an XLSX, read the preview, confirm, and find the new figure on the public chart.
The import pages pass axe-core's WCAG 2.2 A and AA rules."""

import csv
import io
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook

from tests.browser.support import number_in, run_axe
from tests.stats_fixtures import HEADER

pytestmark = pytest.mark.browser

COLUMNS = HEADER


def xlsx(rows):
    """An XLSX upload (a Playwright file payload) of exchange-format rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = "observations"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.get(column, "") for column in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return {
        "name": "missouri-correction.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": buffer.getvalue(),
    }


def log_in(page, live_server, user):
    page.goto(live_server.url + reverse("wagtailadmin_login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password_plain)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(live_server.url + reverse("wagtailadmin_home"))


def upload(page, live_server, payload):
    page.goto(live_server.url + reverse("stats_import:upload"))
    page.get_by_label("Spreadsheet").set_input_files(payload)
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/\d+/$"))


def count(page, kind):
    return int(page.locator(f"[data-count='{kind}']").inner_text())


def state_chart_figure(page, live_server, public_pages, state_code):
    """A public chart with a count of the state's in it: (page path, chart id, its CSV row)."""
    from stats.models import Metric

    counts = set(Metric.objects.filter(unit="count").values_list("slug", flat=True))
    for _label, path, status in public_pages:
        if status != 200:
            continue
        page.goto(live_server.url + path)
        for chart in page.locator("figure[data-chart]").all():
            href = chart.get_by_role("link", name=re.compile("download csv", re.I)).get_attribute(
                "href"
            )
            response = page.request.get(live_server.url + href if href.startswith("/") else href)
            rows = list(csv.DictReader(io.StringIO(response.text().lstrip("\ufeff"))))
            # The CSV also lists other editions' values of the charted figures; the chart shows
            # the current ones.
            rows = [r for r in rows if r["current"] == "yes"]
            for row in rows:
                if (
                    row["jurisdiction"] == state_code
                    and row["metric"] in counts
                    and not row["numerator"]
                    and sum(number_in(r["value"]) == number_in(row["value"]) for r in rows) == 1
                ):
                    # The chart's CSV has the bulk download's columns: the import columns first.
                    keep = ("jurisdiction", "metric", "period", "breakdown", "value")
                    keep += ("numerator", "denominator", "rank", "footnote", "source")
                    return path, chart.get_attribute("id"), {k: row[k] for k in keep}
    pytest.fail(f"no public chart shows a count for {state_code}")


def chart_values(page, chart_id):
    cells = page.locator(f"#{chart_id} tbody td[data-value]").evaluate_all(
        "cells => cells.map(c => c.dataset.value)"
    )
    return Counter(number_in(v) for v in cells if v)


def default_site_state_code():
    from wagtail.models import Site

    from pages.models import SiteSettings

    return SiteSettings.for_site(Site.objects.get(is_default_site=True)).jurisdiction.code


def test_data_manager_imports_xlsx_and_the_public_chart_shows_the_new_figure(
    page, live_server, public_pages, data_manager
):
    path, chart_id, row = state_chart_figure(
        page, live_server, public_pages, default_site_state_code()
    )
    old = number_in(row["value"])
    new = old + Decimal(1234)
    before = chart_values(page, chart_id)
    assert before[old] == 1 and before[new] == 0

    log_in(page, live_server, data_manager)
    upload(page, live_server, xlsx([{**row, "value": int(new)}]))

    # The preview: nothing saved yet, one updated row, its old and new value side by side.
    assert "nothing has been saved" in page.locator("main").inner_text()
    assert (count(page, "updated"), count(page, "new"), count(page, "error")) == (1, 0, 0)
    change = page.locator("main table tbody tr", has_text=row["source"]).filter(
        has_text=re.compile(rf"\b{old}\b.*\b{new}\b", re.S)
    )
    assert change.count() == 1, page.locator("main").inner_text()

    page.get_by_role("button", name=re.compile("confirm and import", re.I)).click()
    page.wait_for_load_state("load")
    assert re.search(r"imported", page.locator("main").inner_text(), re.I)

    # The public page, which a visitor may have cached before, now shows the new figure.
    page.goto(live_server.url + path)
    after = chart_values(page, chart_id)
    assert after[new] == 1, f"the chart still shows {dict(after)}"
    assert after[old] == before[old] - 1


def test_admin_import_pages_pass_axe(page, live_server, data_manager):
    from stats.models import Observation

    current = (
        Observation.objects.filter(breakdown__isnull=True, numerator__isnull=True)
        .select_related("metric", "jurisdiction", "source")
        .first()
    )
    row = {
        "jurisdiction": current.jurisdiction.code,
        "metric": current.metric.slug,
        "period": current.period,
        "value": str(current.value),
        "rank": current.rank or "",
        "footnote": current.footnote,
        "source": current.source.slug,
    }
    violations = {}

    page.goto(live_server.url + reverse("wagtailadmin_login"))
    violations["login"] = run_axe(page)
    log_in(page, live_server, data_manager)

    page.goto(live_server.url + reverse("stats_import:upload"))
    violations["upload"] = run_axe(page)

    # A file with a bad row: the preview lists the error (and cannot be confirmed).
    upload(page, live_server, xlsx([row, {**row, "jurisdiction": "XX", "period": "1899"}]))
    assert count(page, "error") >= 1
    violations["preview with errors"] = run_axe(page)

    # An unchanged file: the preview of a clean import.
    upload(page, live_server, xlsx([row]))
    assert count(page, "unchanged") == 1
    violations["preview"] = run_axe(page)

    violations = {where: found for where, found in violations.items() if found}
    assert not violations, violations


def test_admin_import_history_revert_and_restore_screens_pass_axe(page, live_server, data_manager):
    from stats.models import Observation

    current = (
        Observation.objects.filter(breakdown__isnull=True, numerator__isnull=True)
        .select_related("metric", "jurisdiction", "source")
        .first()
    )
    row = {
        "jurisdiction": current.jurisdiction.code,
        "metric": current.metric.slug,
        "period": current.period,
        "value": str(current.value + 1),
        "rank": current.rank or "",
        "footnote": current.footnote,
        "source": current.source.slug,
    }
    violations = {}
    log_in(page, live_server, data_manager)
    upload(page, live_server, xlsx([row]))
    page.get_by_role("button", name=re.compile("confirm and import", re.I)).click()
    page.wait_for_load_state("load")
    preview = page.url
    for _ in range(20):  # the import runs as a task: the page says when it is done
        if page.get_by_role("link", name=re.compile("revert this import", re.I)).count():
            break
        page.wait_for_timeout(500)
        page.reload()
    violations["imported"] = run_axe(page)

    history = reverse("stats_observation_history", args=[current.pk])
    page.goto(live_server.url + history)
    violations["history"] = run_axe(page)
    # Restoring and reverting each show a summary first, then ask for a confirmation (with a
    # reason, required for a published figure).
    page.get_by_role("link", name=re.compile("restore the values before this", re.I)).first.click()
    page.wait_for_load_state("load")
    violations["restore summary"] = run_axe(page)
    page.get_by_label(re.compile("reason", re.I)).fill("Browser test: restore")
    page.get_by_role("button", name=re.compile("restore these values", re.I)).click()
    page.wait_for_url(live_server.url + history)
    page.wait_for_timeout(1500)  # the admin's message fades in: check it as it stays
    assert "earlier values were restored" in page.locator("body").inner_text()
    violations["history after restore"] = run_axe(page)

    page.goto(preview)
    revert = page.get_by_role("link", name=re.compile("revert this import", re.I))
    if revert.count():
        revert.click()
        page.wait_for_load_state("load")
        violations["revert summary"] = run_axe(page)
        page.get_by_label(re.compile("reason", re.I)).fill("Browser test: revert")
        page.get_by_role("button", name=re.compile("revert this import", re.I)).click()
        page.wait_for_url(preview)
        page.wait_for_timeout(1500)
        violations["reverted"] = run_axe(page)

    violations = {where: found for where, found in violations.items() if found}
    assert not violations, violations
