"""The quick exit leaves for the neutral destination in site settings, by a click or by Shift
pressed three times, and replaces the history entry so Back does not return to the portal.

The destination never really loads: the browser context answers it with a stub page."""

import pytest

pytestmark = pytest.mark.browser

# A page before the portal in the history, answered by the context's stub (nothing leaves).
START = "http://start.test/"


def open_portal_page(page, live_server, path="/"):
    page.goto(START)
    page.goto(live_server.url + path)
    page.wait_for_load_state("load")
    return page.url


def assert_left_for_good(page, portal_url, quick_exit_url):
    page.wait_for_url(quick_exit_url)
    page.go_back()
    assert page.url != portal_url, "Back returned to the portal page"
    assert page.url == START


def test_quick_exit_is_a_plain_link_to_the_destination(page, live_server, quick_exit_url):
    page.goto(live_server.url + "/")
    button = page.get_by_role("link", name="Exit this page")
    assert button.is_visible()
    assert button.get_attribute("href") == quick_exit_url
    box = button.bounding_box()
    assert box["y"] < 200, "the quick exit is not at the top of the page"


def test_quick_exit_by_click(page, live_server, quick_exit_url):
    portal_url = open_portal_page(page, live_server)
    page.get_by_role("link", name="Exit this page").click()
    assert_left_for_good(page, portal_url, quick_exit_url)


def test_quick_exit_by_pressing_shift_three_times(page, live_server, public_pages, quick_exit_url):
    path = next(path for _label, path, status in public_pages if status == 200 and path != "/")
    portal_url = open_portal_page(page, live_server, path)
    for _ in range(3):
        page.keyboard.press("Shift")
    assert_left_for_good(page, portal_url, quick_exit_url)


def test_shift_pressed_twice_or_interrupted_stays(page, live_server):
    portal_url = open_portal_page(page, live_server)
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("a")
    page.keyboard.press("Shift")
    page.wait_for_timeout(300)
    assert page.url == portal_url


def test_quick_exit_blanks_the_page_at_once(page, context, live_server, quick_exit_url):
    # The destination's answer is held back, so the portal page stays as the exit left it. A
    # click listener added after the portal's own reports what it looks like then, through a
    # binding (page.evaluate would wait for the pending navigation).
    held = []
    context.route(quick_exit_url + "**", lambda route: held.append(route))
    seen = []
    page.expose_function(
        "qaRecord", lambda classes, visibility, cover: seen.append((classes, visibility, cover))
    )
    open_portal_page(page, live_server)
    page.evaluate(
        """() => document.addEventListener("click", () => window.qaRecord(
            document.documentElement.className, getComputedStyle(document.body).visibility,
            [[1, 1], [innerWidth / 2, innerHeight / 2], [innerWidth - 2, innerHeight - 2]]
              .map(([x, y]) => document.elementFromPoint(x, y)?.className)))"""
    )
    page.get_by_role("link", name="Exit this page").click(no_wait_after=True)
    for _ in range(100):
        if seen and held:
            break
        page.wait_for_timeout(20)
    assert held, "the destination was not requested"
    assert seen, "the click was not seen"
    classes, visibility, cover = seen[0]
    assert "quick-exit-active" in classes
    assert visibility == "hidden", "the page stays readable while the destination loads"
    assert cover == ["quick-exit-overlay"] * 3, f"the overlay does not cover the page: {cover}"
    held[0].fulfill(status=200, content_type="text/html", body="<!DOCTYPE html><title>x</title>")
    page.wait_for_url(quick_exit_url)


def test_screen_readers_hear_the_presses_left_and_the_expiry(page, live_server):
    open_portal_page(page, live_server)
    status = page.locator("[data-quick-exit-status]")
    assert status.get_attribute("aria-live") == "polite"
    page.keyboard.press("Shift")
    assert status.text_content() == "Shift, press 2 more times to exit."
    page.keyboard.press("Shift")
    assert status.text_content() == "Shift, press 1 more time to exit."
    page.wait_for_timeout(5200)
    assert status.text_content() == "Exit this page expired."
    # The count starts again: one press after the expiry does not leave.
    page.keyboard.press("Shift")
    assert status.text_content() == "Shift, press 2 more times to exit."


def test_a_page_restored_from_the_cache_is_shown_again(page, context, live_server):
    """A page the browser brings back from its back-forward cache after the exit began is shown
    whole again: no overlay, its own title, the count of presses reset. Here the exit goes to a
    fragment of the page itself, so the page stays to be "restored" by a pageshow event."""

    def same_page_exit(route):
        response = route.fetch()
        attribute = 'data-quick-exit-url="'
        body = response.text().replace(attribute + "http", attribute + "#left-http")
        route.fulfill(response=response, body=body)

    page.route(live_server.url + "/get-help/", same_page_exit)
    page.goto(live_server.url + "/get-help/")
    title = page.title()
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_function("location.hash.startsWith('#left-')")
    assert page.locator(".quick-exit-overlay").is_visible()
    assert page.title() == "Loading"
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    assert page.locator(".quick-exit-overlay").count() == 0
    assert "quick-exit-active" not in page.evaluate("document.documentElement.className")
    assert page.title() == title
    assert page.get_by_role("heading", name="Get help", level=1).is_visible()


def test_staying_safe_online_is_linked_beside_the_quick_exit(page, live_server):
    page.goto(live_server.url + "/")
    link = page.locator(".quick-exit").get_by_role("link", name="Staying safe online")
    assert link.is_visible()
    link.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Staying safe online"
    headings = page.locator("main h2").all_inner_texts()
    for topic in ("private browsing", "history", "safer device", "every trace"):
        assert any(topic in h.lower() for h in headings), (topic, headings)
