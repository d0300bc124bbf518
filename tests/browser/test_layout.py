"""Phone first: at 390 px and at 1280 px no page scrolls sideways, the help buttons stay whole,
the header leaves room for the page, and the menu collapses on phones (without script too)
and fits on one row on a wide screen."""

import pytest

from tests.browser.support import run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}
WIDTHS = pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390px", "1280px"])

# The number of lines a box's text is laid out on (distinct tops of its line boxes).
TEXT_LINES = """
(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
}
"""

# The elements that reach past the right edge of the viewport, outside any scrolling box.
STICKING_OUT = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (s === "auto" || s === "scroll" || s === "hidden") return true;
    }
    return false;
  };
  return Array.from(document.querySelectorAll("body *"))
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !scrolls(el))
    .slice(0, 5)
    .map((el) => el.outerHTML.slice(0, 100));
}
"""


@pytest.fixture
def sized_page(page, request):
    """The test's page at its parametrized viewport, if it has one."""
    if "viewport" in request.fixturenames:
        page.set_viewport_size(request.getfixturevalue("viewport"))
    return page


@WIDTHS
def test_no_page_scrolls_sideways(sized_page, live_server, public_pages, viewport):
    wide = {}
    for label, path, _status in public_pages:
        sized_page.goto(live_server.url + path, wait_until="load")
        scroll_width = sized_page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > viewport["width"]:
            wide[f"{label} {path}"] = (scroll_width, sized_page.evaluate(STICKING_OUT))
    assert not wide, wide


@WIDTHS
@pytest.mark.parametrize("path", ["/", "/get-help/"])
def test_help_buttons_are_whole_and_aligned(sized_page, live_server, viewport, path):
    sized_page.goto(live_server.url + path)
    buttons = sized_page.locator(".hotline-callout__actions .button")
    assert buttons.count() >= 2, "no call and text buttons"
    boxes = []
    for i in range(buttons.count()):
        button = buttons.nth(i)
        assert button.evaluate(TEXT_LINES) == 1, f"{button.inner_text()} breaks over lines"
        boxes.append(button.bounding_box())
    if viewport is PHONE:
        # Stacked, one under the other, at the same width.
        assert len({round(b["x"]) for b in boxes}) == 1
        assert len({round(b["width"]) for b in boxes}) == 1
        assert all(b["x"] + b["width"] <= viewport["width"] for b in boxes)
    else:
        assert len({round(b["y"]) for b in boxes}) == 1, "the buttons are not on one row"
    assert len({round(b["height"]) for b in boxes}) == 1, "the buttons differ in height"


def test_on_a_phone_the_header_leaves_the_first_screen_to_the_page(sized_page, live_server):
    sized_page.set_viewport_size(PHONE)
    sized_page.goto(live_server.url + "/")
    heading = sized_page.locator("main h1").bounding_box()
    assert heading["y"] < PHONE["height"] / 2, f"the page starts {heading['y']} px down"
    nav = sized_page.get_by_role("navigation", name="Main")
    assert not nav.get_by_role("link", name="Federal prosecutions").is_visible()
    assert not sized_page.get_by_role("searchbox", name="Search").is_visible()


def test_on_a_phone_the_menu_opens_and_closes(sized_page, live_server):
    sized_page.set_viewport_size(PHONE)
    sized_page.goto(live_server.url + "/")
    nav = sized_page.get_by_role("navigation", name="Main")
    toggle = sized_page.locator(".site-menu__toggle")
    toggle.click()
    assert nav.get_by_role("link", name="Get help").is_visible()
    assert sized_page.get_by_role("searchbox", name="Search").is_visible()
    toggle.click()
    assert not nav.get_by_role("link", name="Get help").is_visible()


def test_on_a_phone_the_menu_works_by_keyboard(sized_page, live_server):
    sized_page.set_viewport_size(PHONE)
    sized_page.goto(live_server.url + "/")
    sized_page.locator(".site-menu__toggle").focus()
    sized_page.keyboard.press("Enter")
    sized_page.keyboard.press("Tab")
    in_nav = sized_page.evaluate("document.activeElement.closest('nav')?.ariaLabel")
    assert in_nav == "Main"
    sized_page.keyboard.press("Shift+Tab")
    sized_page.keyboard.press("Space")
    assert sized_page.locator(".site-menu").get_attribute("open") is None


def test_the_menu_opens_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(live_server.url + "/")
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Get help")
    assert not link.is_visible()
    page.locator(".site-menu__toggle").click()
    assert link.is_visible()
    context.close()


def test_on_a_wide_screen_the_menu_is_one_open_row(sized_page, live_server):
    sized_page.set_viewport_size(WIDE)
    sized_page.goto(live_server.url + "/")
    assert not sized_page.locator(".site-menu__toggle").is_visible()
    items = sized_page.locator(".site-nav__list li")
    assert items.count() >= 8
    tops = {round(items.nth(i).bounding_box()["y"]) for i in range(items.count())}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} rows"
    assert sized_page.get_by_role("searchbox", name="Search").is_visible()
    # Reached by Tab in page order: the quick exit, the brand and hotlines, then the menu.
    sized_page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").focus()
    sized_page.keyboard.press("Tab")
    assert sized_page.evaluate("document.activeElement.textContent") == "Federal prosecutions"


@WIDTHS
def test_header_and_menu_pass_axe(sized_page, live_server, viewport):
    sized_page.goto(live_server.url + "/get-help/")
    if viewport is PHONE:
        assert not run_axe(sized_page)
        sized_page.locator(".site-menu__toggle").click()
    assert not run_axe(sized_page)
