"""Every chart on the Missouri site is drawn, shows its table on demand, and its CSV link
downloads exactly the figures in that table."""

import csv
import io
import re
from collections import Counter

import pytest

from tests.browser.support import canvas_ink, number_in

pytestmark = pytest.mark.browser

# Coloured pixels (the data: bars, lines, points, slices) a drawn chart has at the least for
# each value it plots (a point of radius 5, even cut in half at the edge, has more); the axes,
# grid and labels are grey, so a chart whose data is not drawn has none.
MIN_PIXELS_PER_VALUE = 30
# What names one figure in a CSV row, whichever edition gave its value.
FIGURE_KEY = ("jurisdiction", "metric", "period", "breakdown")


def draw_every_chart(page):
    """Charts are drawn as they come into view: scroll to each, wait until it is drawn."""
    charts = page.locator("figure[data-chart]")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        chart.locator("xpath=self::*[@data-chart-drawn]").wait_for(timeout=10_000)
    return [charts.nth(i) for i in range(charts.count())]


def charts_by_page(page, live_server, public_pages):
    """Visit every public page; yield (label, chart locators) for the pages that have charts."""
    total = 0
    for label, path, status in public_pages:
        if status != 200:
            continue
        page.goto(live_server.url + path)
        charts = draw_every_chart(page)
        if charts:
            total += len(charts)
            yield f"{label} {path}", charts
    assert total, "no chart on any public page"


def test_every_chart_canvas_is_drawn(page, live_server, public_pages):
    blank = []
    for where, charts in charts_by_page(page, live_server, public_pages):
        for chart in charts:
            canvas = chart.locator("canvas[data-chart-canvas]")
            name = f"{where} #{chart.get_attribute('id')}"
            has_chart = canvas.evaluate("c => !!(window.Chart && window.Chart.getChart(c))")
            ink, data_pixels = canvas_ink(canvas)
            values = chart.locator("tbody td[data-value]:not([data-value=''])").count()
            assert values, f"{name}: nothing to plot"
            if not has_chart or data_pixels < MIN_PIXELS_PER_VALUE * values:
                blank.append(f"{name}: Chart.js {has_chart}, ink {ink:.3f}, data {data_pixels}px")
    assert not blank, blank


def test_show_as_table_reveals_the_table(page, live_server, public_pages):
    for where, charts in charts_by_page(page, live_server, public_pages):
        for chart in charts:
            name = f"{where} #{chart.get_attribute('id')}"
            table = chart.locator("table")
            toggle = chart.get_by_role("button", name=re.compile("show as table", re.I))
            assert toggle.count() == 1, f"{name}: no visible 'Show as table' button"
            toggle = chart.locator("button[aria-controls]")  # its name changes when pressed
            assert table.is_hidden(), f"{name}: table shown before the toggle"
            assert toggle.get_attribute("aria-expanded") == "false", name
            toggle.click()
            assert table.is_visible(), f"{name}: the toggle did not reveal the table"
            assert toggle.get_attribute("aria-expanded") == "true", name
            assert toggle.get_attribute("aria-controls") == table.locator("..").get_attribute(
                "id"
            ), f"{name}: the button does not control the table"
            assert table.locator("tbody tr").count() > 0, f"{name}: empty table"


def table_values(chart):
    cells = chart.locator("tbody td").evaluate_all(
        "cells => cells.map(c => [c.dataset.value, c.textContent.trim()])"
    )
    values = Counter()
    for raw, text in cells:
        if raw:
            value = number_in(raw)
            # The shown text states the same number (allowing for "1,234", "22%", "92 months").
            shown = number_in(text)
            assert shown is not None and abs(shown - value) < 1, (raw, text)
            values[value] += 1
    return values


def test_csv_download_holds_exactly_the_charted_figures(page, live_server, public_pages):
    checked = 0
    for where, charts in charts_by_page(page, live_server, public_pages):
        for chart in charts:
            name = f"{where} #{chart.get_attribute('id')}"
            link = chart.get_by_role("link", name=re.compile("download csv", re.I))
            assert link.count() == 1, f"{name}: no CSV link"
            with page.expect_download() as info:
                link.click()
            download = info.value
            assert download.suggested_filename.endswith(".csv"), download.suggested_filename
            with open(download.path(), encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(io.StringIO(handle.read())))
            assert rows, f"{name}: empty CSV"
            # The charted figures are the current rows; the others are other editions' values
            # of those same figures.
            current = [row for row in rows if row["current"] == "yes"]
            downloaded = Counter(number_in(row["value"]) for row in current)
            assert downloaded == table_values(chart), f"{name}: CSV and table differ"
            keys = {tuple(row[k] for k in FIGURE_KEY) for row in current}
            others = [row for row in rows if row["current"] != "yes"]
            assert all(row["current"] == "no" for row in others), name
            assert {tuple(row[k] for k in FIGURE_KEY) for row in others} <= keys, name
            checked += 1
    assert checked
