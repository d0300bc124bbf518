"""The Spanish pages in Chromium: each loads cleanly from the portal's own origin, passes axe's
WCAG 2.2 A and AA rules, and the quick exit ("Salir de esta página", Shift three times) and the
chart's table toggle work in Spanish."""

import pytest

from tests.browser.support import PageWatch, origin, run_axe
from tests.browser.test_quick_exit import assert_left_for_good, open_portal_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def spanish_pages(missouri_site, django_db_blocker):
    from wagtail.models import Locale, Page

    with django_db_blocker.unblock():
        spanish = Locale.objects.get(language_code="es")
        paths = [
            p.get_url() for p in Page.objects.live().public().filter(locale=spanish, depth__gt=1)
        ]
    assert "/es/" in paths
    return [(path, 200) for path in paths] + [
        ("/es/search/?q=trata", 200),
        ("/es/no-existe/", 404),
    ]


def test_every_spanish_page_loads_cleanly_and_passes_axe(context, live_server, spanish_pages):
    own = origin(live_server.url)
    problems, violations = {}, {}
    for path, status in spanish_pages:
        url = live_server.url + path
        page = context.new_page()
        watch = PageWatch(page, own, expected_statuses={url: status})
        response = page.goto(url, wait_until="load")
        assert response.status == status, path
        assert page.locator("html").get_attribute("lang") == "es", path
        if found := watch.problems():
            problems[path] = found
        if found := run_axe(page):
            violations[path] = found
        page.close()
    assert not problems, problems
    assert not violations, violations
    assert context.cookies() == []


def test_quick_exit_in_spanish_by_click(page, live_server, quick_exit_url):
    portal_url = open_portal_page(page, live_server, "/es/")
    page.get_by_role("link", name="Salir de esta página").click()
    assert_left_for_good(page, portal_url, quick_exit_url)


def test_quick_exit_in_spanish_by_pressing_shift_three_times(page, live_server, quick_exit_url):
    portal_url = open_portal_page(page, live_server, "/es/obtener-ayuda/")
    assert page.get_by_text("pulse 3 veces la tecla Shift").is_visible()
    for _ in range(3):
        page.keyboard.press("Shift")
    assert_left_for_good(page, portal_url, quick_exit_url)


def test_chart_table_toggle_speaks_spanish(page, live_server):
    page.goto(live_server.url + "/es/procesos-federales/", wait_until="load")
    # A handle on the button itself: its name changes once clicked.
    toggle = page.get_by_role("button", name="Ver como tabla").first.element_handle()
    toggle.scroll_into_view_if_needed()
    toggle.click()
    assert toggle.text_content() == "Ocultar la tabla"
    toggle.click()
    assert toggle.text_content() == "Ver como tabla"


def test_the_language_link_goes_to_the_same_page(page, live_server):
    page.goto(live_server.url + "/get-help/", wait_until="load")
    page.get_by_role("link", name="Español").click()
    page.wait_for_url("**/es/obtener-ayuda/")
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/get-help/")
