"""Every public page type loads cleanly in Chromium, talks only to the portal, sets no cookie,
breaks no Content-Security-Policy rule, and passes axe-core's WCAG 2.2 A and AA rules."""

import pytest

from tests.browser.support import PageWatch, origin, run_axe

pytestmark = pytest.mark.browser


def test_every_public_page_loads_cleanly_from_its_own_origin(context, live_server, public_pages):
    own = origin(live_server.url)
    problems = {}
    for label, path, status in public_pages:
        url = live_server.url + path
        page = context.new_page()
        watch = PageWatch(page, own, expected_statuses={url: status})
        response = page.goto(url, wait_until="load")
        assert response.status == status, f"{label} {path} answered {response.status}"
        found = watch.problems()
        if found:
            problems[f"{label} {path}"] = found
        page.close()
    assert not problems, problems
    assert context.cookies() == [], "a visitor was given a cookie"


def test_no_cookie_for_a_visitor_who_searches_and_browses(page, context, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox", name="Search").fill("hotline")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search/?q=hotline")
    first_result = page.locator("main a[href^='/']").first
    if first_result.count():
        first_result.click()
        page.wait_for_load_state("load")
    assert context.cookies() == []


def test_every_public_page_passes_axe_wcag_22_a_and_aa(page, live_server, public_pages):
    violations = {}
    for label, path, _status in public_pages:
        page.goto(live_server.url + path, wait_until="load")
        found = run_axe(page)
        if found:
            violations[f"{label} {path}"] = found
    assert not violations, violations
