"""The US map drawn in Chromium from made-up figures for every state (made in the test; the
package's database is put back when the browser tests end)."""

import datetime
import json
import struct
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def map_page(live_server):
    from wagtail.models import Page, Site

    from pages.models import TopicPage
    from portal.cache import invalidate_public_pages
    from stats.models import Jurisdiction, Metric, Observation
    from tests.factories import made_up_edition

    metric = Metric.objects.create(slug="made-up-map-metric", label="Made-up cases", unit="count")
    source = made_up_edition("made-up-map-2019", 2019, title="Made-up report")
    states = list(Jurisdiction.objects.filter(kind="state").order_by("code"))
    for i, state in enumerate(states, start=1):
        Observation.objects.create(
            metric=metric,
            jurisdiction=state,
            period_start=datetime.date(2019, 1, 1),
            period_end=datetime.date(2019, 12, 31),
            value=7 * i,
            source=source,
        )
    home = Site.objects.get(is_default_site=True).root_page
    body = [
        {
            "type": "state_map",
            "value": {
                "title": "Made-up cases by state",
                "metric": metric.pk,
                "year": 2019,
                "description": "Made-up figures for every state.",
            },
        }
    ]
    page = home.add_child(
        instance=TopicPage(title="Map test", slug="map-test", body=json.dumps(body))
    )
    invalidate_public_pages()
    yield page, {s.name: 7 * i for i, s in enumerate(states, start=1)}
    Page.objects.get(pk=page.pk).delete()
    Observation.objects.filter(metric=metric).delete()
    metric.delete()
    source.delete()
    invalidate_public_pages()


@pytest.mark.parametrize("width", [390, 1280])
def test_map_draws_every_state_and_its_table_matches(browser, live_server, map_page, width):
    page_obj, values = map_page
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(live_server.url + page_obj.url)
    figure = page.locator("figure[data-svg-map]")
    figure.scroll_into_view_if_needed()
    svg = figure.locator("svg[data-map-svg]")
    # Drawn by the server: one shape per state on the map, each of its value's class.
    drawn = svg.locator("path[data-code]").evaluate_all(
        "paths => paths.map(p => [p.dataset.code, p.getAttribute('fill')])"
    )
    rows = figure.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('th').textContent.trim(),"
        " Number(r.querySelector('td[data-value]').dataset.value)])"
    )
    table = dict(rows)
    assert table == {name: float(v) for name, v in values.items()}
    assert len(drawn) == 51 and len({fill for _code, fill in drawn}) == 5
    # The script adds a tooltip that follows the pointer.
    texas = svg.locator('path[data-code="TX"]')
    texas.hover()
    tip = figure.locator(".map__tooltip")
    tip.wait_for(state="visible", timeout=5_000)
    assert tip.inner_text().startswith("Texas: ")
    mine = figure.locator("tr.map__row--mine")
    assert mine.count() == 1 and "Missouri" in mine.inner_text()
    assert "Missouri" in figure.locator(".map__mine").inner_text()
    # The drawing takes the figure's width, and its box no more height than the drawing.
    box = svg.bounding_box()
    inner = figure.locator(".map__picture").bounding_box()
    assert box["width"] >= 0.95 * inner["width"]
    assert abs(box["height"] - box["width"] * 500 / 960) < 2, box
    # On a phone the table is part of the page, not a scroll box of its own.
    table = figure.locator(".map__table")
    if width == 390:
        sizes = table.evaluate("t => [t.scrollHeight, t.clientHeight]")
        assert sizes[0] <= sizes[1] + 1, sizes
        assert table.locator("tbody tr").last.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not errors, errors
    context.close()


def png_of(page, figure):
    with page.expect_download() as download:
        figure.locator("[data-chart-png]").click()
    return Path(download.value.path()).read_bytes()


def test_the_map_png_has_its_key_and_never_the_tooltip(browser, live_server, map_page):
    page_obj, _values = map_page
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(live_server.url + page_obj.url)
    figure = page.locator("figure[data-svg-map]")
    figure.locator("[data-chart-png]").wait_for(state="visible")
    plain = png_of(page, figure)
    figure.locator('svg[data-map-svg] path[data-code="TX"]').hover()
    figure.locator(".map__tooltip").wait_for(state="visible")
    assert png_of(page, figure) == plain  # the pointer's tooltip is not in the image
    # The image is as tall as the map and its five key entries at least (2 px a CSS pixel).
    width, height = struct.unpack(">II", plain[16:24])
    svg = figure.locator("svg[data-map-svg]").bounding_box()
    assert figure.locator("[data-map-legend] li").count() == 5
    assert height >= 2 * (svg["height"] + 5 * 20) and width == 2 * round(svg["width"])
    context.close()
