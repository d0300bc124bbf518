"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

The Missouri site is loaded once for the whole package (load_initial_data through the real
importer) and shared by every browser test; at the end the database is put back as the
migrations left it, so the rest of the suite is unaffected.

Playwright lives for this package only (pytest-playwright keeps it for the session): its sync
API runs an event loop in the main thread, beside which Django's ORM only works with
DJANGO_ALLOW_ASYNC_UNSAFE set. Both end with the package, so no other test runs with either.
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.content_fixtures import loaded_once

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
]
DATA_MANAGER_PASSWORD = "correct-horse-battery-staple-42"


def in_ci():
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="package")
def _async_unsafe_allowed():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def playwright(_async_unsafe_allowed, _pw_api_request_contexts):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser):
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{message}; browser tests may not be skipped in CI.")
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="package")
def browser_context_args():
    return {
        "locale": "en-US",
        "timezone_id": "America/Chicago",
        "service_workers": "block",
        "accept_downloads": True,
    }


@pytest.fixture(scope="package")
def missouri_site(django_db_setup, django_db_blocker):
    """Load the real Missouri content and figures once, for every browser test."""

    def load():
        call_command("load_initial_data", verbosity=0, stdout=io.StringIO())

    with loaded_once(django_db_blocker, load):
        yield


@pytest.fixture(autouse=True)
def _live_server_helper(request):
    """Replaces pytest-django's helper of the same name for the browser tests.

    Its version wraps each test that uses `live_server` in a TransactionTestCase, which empties
    every table after the test: the Missouri site would have to be loaded again for each one.
    Here the site is loaded once (`missouri_site`) and the tests run against it with the
    database unblocked; the data they change (a user, an imported figure) is undone with the
    rest when the package ends.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("missouri_site")
    live_server = request.getfixturevalue("live_server")
    blocker = request.getfixturevalue("django_db_blocker")
    live_server._live_server_modified_settings.enable()
    with blocker.unblock():
        yield
    live_server._live_server_modified_settings.disable()


@pytest.fixture(scope="package")
def public_pages(missouri_site, django_db_blocker):
    from tests.browser.support import public_page_paths

    with django_db_blocker.unblock():
        return public_page_paths()


@pytest.fixture
def data_manager():
    """A member of the "Data managers" group, made for this test."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from portal.permissions import DATA_MANAGERS

    user, _ = get_user_model().objects.get_or_create(
        username="qa-data-manager", defaults={"email": "qa@example.org"}
    )
    user.set_password(DATA_MANAGER_PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=DATA_MANAGERS))
    user.password_plain = DATA_MANAGER_PASSWORD
    return user


@pytest.fixture
def quick_exit_url():
    from wagtail.models import Site

    from pages.models import SiteSettings

    return SiteSettings.for_site(Site.objects.get(is_default_site=True)).quick_exit_url


@pytest.fixture
def context(context, live_server, quick_exit_url):
    """Every browser context: a CSP recorder in each page, and no request may leave the
    machine. Anything not for the live server is answered here (the quick-exit destination
    with a tiny page, anything else refused), so a mistake shows up as a failed request."""
    from tests.browser.support import CSP_RECORDER, origin

    own = origin(live_server.url)
    destination = origin(quick_exit_url)

    def guard(route):
        url = route.request.url
        if origin(url) == own:
            route.continue_()
        elif origin(url) in (destination, "http://start.test"):
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<!DOCTYPE html><title>Elsewhere</title><p>Elsewhere</p>",
            )
        else:
            route.abort("blockedbyclient")

    context.add_init_script(CSP_RECORDER)
    context.route("**/*", guard)
    return context
