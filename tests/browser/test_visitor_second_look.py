"""Issue 22 and 25 in the browser: charts walked by keyboard and announced, a linked figure's
title clear of the sticky quick-exit bar, an embed's source in sight at 600 and 375 px, the
API docs without sideways scroll on a phone, the favicon, and the admin's import screens
through axe."""

import functools
import html
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.support import run_axe

pytestmark = pytest.mark.browser


def first_chart_page(page, live_server, public_pages):
    for _label, path, status in public_pages:
        if status != 200:
            continue
        page.goto(live_server.url + path)
        charts = page.locator("figure[data-chart]")
        if charts.count():
            chart = charts.first
            chart.scroll_into_view_if_needed()
            chart.locator("xpath=self::*[@data-chart-drawn]").wait_for(timeout=10_000)
            return path, chart
    pytest.fail("no chart on any public page")


def test_a_chart_is_walked_by_keyboard_and_each_point_announced(page, live_server, public_pages):
    _path, chart = first_chart_page(page, live_server, public_pages)
    canvas = chart.locator("canvas[data-chart-canvas]")
    assert canvas.get_attribute("tabindex") == "0"
    canvas.focus()
    live = chart.locator("[data-chart-live]")
    page.keyboard.press("ArrowRight")
    first = live.text_content()
    rows = [t.strip() for t in chart.locator("tbody th").all_text_contents()]
    assert first and any(first.startswith(row) for row in rows), (first, rows)
    page.keyboard.press("End")
    assert live.text_content() and live.text_content() != first or len(rows) == 1
    # The announcement names the source edition and the value as the table writes it.
    cells = " ".join(chart.locator("tbody td").all_text_contents())
    number = re.search(r"\d[\d.,]*", live.text_content().split(":", 1)[1]).group(0)
    assert number.rstrip(".,") in cells
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.matches('figure[data-chart]')")
    assert run_axe(page) == []


def test_a_linked_figure_title_is_not_under_the_quick_exit_bar(page, live_server, public_pages):
    path, chart = first_chart_page(page, live_server, public_pages)
    anchor = chart.get_attribute("id")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}{path}#{anchor}")
        page.wait_for_timeout(300)
        bar = page.locator(".quick-exit").bounding_box()
        title = page.locator(f"#{anchor}-title").bounding_box()
        assert title["y"] >= bar["y"] + bar["height"] - 1, (width, bar, title)


@pytest.mark.parametrize("width", [600, 375])
def test_an_embed_keeps_its_source_in_sight(page, live_server, public_pages, width):
    _path, chart = first_chart_page(page, live_server, public_pages)
    code = chart.locator(".figure-actions__embed").input_value()
    src = re.sub(r"^https?://[^/]+", live_server.url, re.search(r'src="([^"]+)"', code).group(1))
    height = int(re.search(r'height="(\d+)"', code).group(1))
    page.set_viewport_size({"width": width, "height": height})
    page.goto(src)
    source = page.locator(".figure-sources").bounding_box()
    assert source["y"] >= 0 and source["y"] + source["height"] <= height + 1, source


@pytest.fixture
def other_origin(tmp_path):
    """A page of another site (a local server on another port) that pastes embed codes."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def publish(codes):
        body = "".join(f"<p>Another site's text.</p>{code}" for code in codes)
        (tmp_path / "story.html").write_text(
            f'<!doctype html><html lang="en"><title>A story</title><body>{body}</body></html>',
            encoding="utf-8",
        )
        return f"http://127.0.0.1:{server.server_address[1]}/story.html"

    yield publish
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("width", [600, 375])
def test_an_embed_framed_by_another_site_shows_its_source_without_scrolling(
    page, browser, live_server, public_pages, other_origin, width
):
    path, chart = first_chart_page(page, live_server, public_pages)
    # Every chart of the page, as its embed code gives it (its suggested height included).
    codes = [
        html.unescape(re.sub(r"https?://[^/\"]+/embed/", f"{live_server.url}/embed/", code))
        for code in page.locator(".figure-actions__embed").evaluate_all(
            "areas => areas.map(a => a.value)"
        )
    ]
    assert codes, path
    # A context of its own: the other site is on this machine, not the live server.
    context = browser.new_context(viewport={"width": width, "height": 900})
    story = context.new_page()
    story.goto(other_origin(codes))
    frames = story.locator("iframe")
    assert frames.count() == len(codes)
    for i in range(len(codes)):
        frame_box = frames.nth(i)
        frame_box.scroll_into_view_if_needed()
        inner = frame_box.content_frame
        sources = inner.locator(".figure-sources")
        sources.wait_for()
        box, where = sources.bounding_box(), frame_box.bounding_box()
        # Inside the frame, as the visitor first sees it: no scrolling needed to read it.
        assert inner.locator("html").evaluate("e => e.scrollTop") == 0
        # All of it: not cut off inside a scroll box of its own.
        assert sources.evaluate("e => e.scrollHeight <= e.clientHeight + 1"), codes[i]
        assert (
            box["y"] >= where["y"] - 1
            and box["y"] + box["height"] <= where["y"] + where["height"] + 1
        ), (codes[i], box, where)
        assert inner.locator("html").evaluate("e => e.scrollWidth <= e.clientWidth"), codes[i]
    context.close()


def test_the_api_docs_do_not_scroll_sideways_on_a_phone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server.url + "/api/docs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_favicon_is_served_from_the_site(page, live_server):
    response = page.request.get(live_server.url + "/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.body()[:4] == b"\x00\x00\x01\x00"


def test_the_search_language_link_keeps_the_query(page, live_server):
    page.goto(live_server.url + "/search/?q=hotline")
    href = page.locator(".site-languages a").first.get_attribute("href")
    assert href.startswith("/es/search/") and "q=hotline" in href


def test_every_chart_control_is_at_least_24_px(page, live_server, public_pages):
    _path, chart = first_chart_page(page, live_server, public_pages)
    small = page.evaluate(
        """(figure) => Array.from(figure.querySelectorAll(
              "button, summary, .figure-actions a, canvas[tabindex]"))
            .filter((el) => el.getClientRects().length)
            .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
            .filter(([, r]) => r.width < 24 || r.height < 24)
            .map(([html, r]) => `${html} ${r.width}x${r.height}`)""",
        chart.element_handle(),
    )
    assert small == []
