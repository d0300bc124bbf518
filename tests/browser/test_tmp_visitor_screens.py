import pytest

pytestmark = pytest.mark.browser

PAGES = [
    ("get-help", "/get-help/"),
    ("ayuda", "/es/obtener-ayuda/"),
    ("safe", "/staying-safe-online/"),
    ("home", "/"),
    ("homees", "/es/"),
]


def test_screens(page, live_server):
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in PAGES:
            page.goto(live_server.url + path)
            page.screenshot(path=f"/tmp/visitor_shots/{name}-{width}.png", full_page=False)
    # a chart page with the summary open
    page.set_viewport_size({"width": 390, "height": 900})
    from wagtail.models import Page

    for p in Page.objects.live().specific():
        body = getattr(p, "body", None)
        if body and any(b.block_type == "chart" for b in body):
            page.goto(live_server.url + p.url)
            fig = page.locator("figure[data-chart]").first
            fig.scroll_into_view_if_needed()
            fig.locator("xpath=self::*[@data-chart-drawn]").wait_for(timeout=10000)
            fig.locator(".chart__summary summary").click()
            fig.screenshot(path="/tmp/visitor_shots/chart-390.png")
            break
