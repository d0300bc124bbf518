"""A real varnishd (deploy/varnish/portal.vcl) in front of a live test server: the portal's
purges reach it on publish, unpublish and import; it keeps serving the last good public pages
while the origin is down; nothing private or withdrawn comes through it."""

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from pytest_django.live_server_helper import LiveServer
from wagtail.models import Page, PageViewRestriction, Site

from pages.models import HomePage, SiteSettings, TopicPage
from stats.exchange import read_upload, run_import
from stats.models import Jurisdiction
from tests.stats_fixtures import csv_bytes, good_rows

VCL = Path(__file__).resolve().parent.parent / "deploy" / "varnish" / "portal.vcl"

pytestmark = [
    pytest.mark.varnish,
    pytest.mark.skipif(shutil.which("varnishd") is None, reason="needs varnishd (apt varnish)"),
    # On SQLite the live server's thread shares the test's in-memory connection, and Varnish's
    # health probe sends requests through it while the test writes: a race ("no such
    # savepoint"). On PostgreSQL (CI's second run) each thread has its own connection.
    pytest.mark.skipif(
        django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="needs PostgreSQL: on SQLite the live server shares the test's connection",
    ),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, method="GET", cookie=None):
    """(status, headers, body) of one request, errors included."""
    request = urllib.request.Request(url, method=method)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - localhost
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()
    except urllib.error.URLError:  # nothing listening (yet)
        return 0, {}, ""


def is_hit(headers):
    # X-Varnish holds two transaction ids on a hit (this request's and the object's).
    return len(headers.get("X-Varnish", "").split()) == 2


@pytest.fixture
def migrations_data_restored(django_db_blocker):
    """Set up before `transactional_db`, so torn down after its flush: puts back what the
    migrations made (the root page, the default site, the groups) for the tests that run on
    this worker next. Django's own runner gets this by running its TransactionTestCases last;
    here each module is a group and any group may follow."""
    yield
    with django_db_blocker.unblock():
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


@pytest.fixture
def varnish(
    migrations_data_restored, transactional_db, django_db_serialized_rollback, settings, tmp_path
):
    """A live server, varnishd in front of it, and a site whose address is Varnish's. The
    test's changes are committed, as in production: the live server's thread reads them
    through its own connection (on PostgreSQL it cannot see a test's open transaction), and
    the purges, sent when a change commits, are sent. The tables are emptied after, the
    migrations' data restored."""
    origin = LiveServer("127.0.0.1:0")
    (tmp_path / "backend.vcl").write_text(
        "backend default {\n"
        f'  .host = "127.0.0.1"; .port = "{origin.thread.port}";\n'
        '  .probe = { .url = "/robots.txt"; .interval = 1s; .timeout = 1s;'
        " .window = 2; .threshold = 1; }\n}\n"
    )
    process = None
    try:
        process, port = start_varnishd(tmp_path)
        home = _site(port)  # before the purges are configured: Varnish holds nothing yet
        settings.WAGTAILFRONTENDCACHE = {
            "varnish": {
                "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
                "LOCATION": f"http://127.0.0.1:{port}",
            }
        }
        base = f"http://localhost:{port}"
        # The probe has seen the origin healthy: Varnish passes requests on.
        wait_for(
            lambda: alive(process, tmp_path) and fetch(base + "/robots.txt")[0] == 200, tmp_path
        )
        yield {"base": base, "home": home, "origin": origin}
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        if origin.thread.is_alive():
            origin.stop()


def _site(port):
    home = Page.get_first_root_node().add_child(instance=HomePage(title="Varnish home", slug="vh"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": port, "root_page": home}
    )
    SiteSettings.objects.update_or_create(
        site=Site.objects.get(), defaults={"jurisdiction": Jurisdiction.objects.get(code="MO")}
    )
    return home


def start_varnishd(tmp_path, attempts=3):
    """varnishd on a free port with its own work directory, listening; another port if that
    one was taken between its choice and varnishd's bind."""
    for attempt in range(attempts):
        port = free_port()
        log = tmp_path / f"varnishd-{attempt}.log"
        process = subprocess.Popen(
            [
                "varnishd", "-F", "-j", "none", "-n", str(tmp_path / f"work-{attempt}"),
                "-a", f"127.0.0.1:{port}", "-f", str(VCL), "-s", "malloc,32m",
                "-p", f"vcl_path={tmp_path}:{VCL.parent}",
            ],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda p=process, n=port: p.poll() is not None or listening(n), tmp_path)
        if process.poll() is None:
            return process, port
    raise AssertionError("varnishd did not start: " + logs(tmp_path))


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(process, tmp_path):
    assert process.poll() is None, "varnishd stopped: " + logs(tmp_path)
    return True


def wait_for(ready, tmp_path, seconds=30):
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, "varnishd not ready: " + logs(tmp_path)
        time.sleep(0.1)


def logs(tmp_path):
    return " | ".join(p.read_text()[-500:] for p in sorted(tmp_path.glob("varnishd-*.log")))


def served_twice(url):
    """Fetch twice; the second answer must come from Varnish."""
    first = fetch(url)
    second = fetch(url)
    assert first[0] == 200 and is_hit(second[1]), (first[0], second[1].get("X-Varnish"))
    return second


def test_publish_and_unpublish_are_purged(varnish):
    topic = varnish["home"].add_child(instance=TopicPage(title="Old title", slug="topic"))
    url = varnish["base"] + "/topic/"
    status, headers, body = served_twice(url)
    assert "Old title" in body
    # Headers pass untouched, and Varnish adds no cookie.
    assert headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in headers
    assert "s-maxage=" in headers["Cache-Control"] and "Set-Cookie" not in headers
    assert fetch(url, method="HEAD")[2] == ""

    topic.title = "New title"
    topic.save_revision().publish()
    assert "New title" in fetch(url)[2]

    topic.unpublish()
    status, _headers, body = fetch(url)
    assert status == 404 and "New title" not in body


def test_an_import_purges_the_pages_that_show_its_metric(varnish, stats_data):
    missouri = Jurisdiction.objects.get(code="MO")
    page = varnish["home"].add_child(
        instance=TopicPage(
            title="Figures",
            slug="figures",
            body=[
                (
                    "key_figure",
                    {
                        "metric": stats_data["metrics"]["cases"],
                        "jurisdiction": missouri,
                        "show_national": False,
                    },
                )
            ],
        )
    )
    page.save_revision().publish()
    varnish["home"].add_child(instance=TopicPage(title="Words", slug="words"))
    run_import(read_upload("figures.csv", csv_bytes(good_rows())), dry_run=False)
    url = varnish["base"] + "/figures/"
    before = served_twice(url)[2]
    assert "233" in before and "977" not in before
    served_twice(varnish["base"] + "/words/")
    rows = [["MO", "test-cases", "2019", "", "977", "", "", "", "", "test-report-2019"]]
    run_import(read_upload("figures.csv", csv_bytes(rows)), dry_run=False)
    origin = varnish["origin"].url + "/figures/"
    assert "977" in fetch(origin)[2], "the origin itself"
    status, headers, after = fetch(url)
    assert "977" in after and not is_hit(headers)
    # Exactly those pages: one that shows no figure stays in Varnish.
    assert is_hit(fetch(varnish["base"] + "/words/")[1])


def test_nothing_private_or_for_staff_is_kept(varnish):
    topic = varnish["home"].add_child(
        instance=TopicPage(title="Soon private", slug="private", intro="<p>Only for some</p>")
    )
    url = varnish["base"] + "/private/"
    assert "<p>Only for some</p>" in served_twice(url)[2]
    PageViewRestriction.objects.create(
        page=topic, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    assert "<p>Only for some</p>" not in fetch(varnish["origin"].url + "/private/")[2], "origin"
    for _ in range(2):
        status, headers, body = fetch(url)
        assert not is_hit(headers), "purged"
        assert "<p>Only for some</p>" not in body
    # An editor's requests pass: their pages are never stored, nor served to them from store.
    get_user_model().objects.create_superuser("ed", "ed@example.org", "pw-for-tests")
    status, headers, _body = fetch(varnish["base"] + "/admin/login/")
    assert status == 200 and "no-store" in headers["Cache-Control"]
    assert not is_hit(fetch(varnish["base"] + "/admin/login/")[1])
    _s, headers, _b = fetch(varnish["base"] + "/", cookie="sessionid=abc")
    assert not is_hit(headers)


def test_grace_serves_the_last_good_pages_while_the_origin_is_down(varnish, settings):
    settings.PUBLIC_PAGE_SHARED_MAX_AGE = 2  # short, so that grace is what serves it after
    status, _h, body = served_twice(varnish["base"] + "/")
    assert "Varnish home" in body
    varnish["origin"].stop()
    time.sleep(4)  # past the page's s-maxage, and the probe has seen the origin go
    for _ in range(3):
        status, headers, body = fetch(varnish["base"] + "/")
        assert status == 200 and "Varnish home" in body
        assert headers["X-Frame-Options"] == "DENY"


def test_an_error_of_the_origin_before_the_probe_sees_it_serves_the_last_good_page(
    varnish, settings, monkeypatch
):
    """PostgreSQL just stopped: gunicorn answers 500, and for a few seconds the probe still
    calls it healthy. A page past its s-maxage (and the short grace of a healthy origin) is
    fetched again while the visitor waits: the visitor gets the last good copy, not the 500."""
    import portal.cache

    settings.PUBLIC_PAGE_SHARED_MAX_AGE = 1
    status, _h, body = served_twice(varnish["base"] + "/")
    assert "Varnish home" in body
    time.sleep(12)  # past s-maxage and the 10 s grace Varnish gives a healthy origin

    def database_down(*args, **kwargs):
        raise RuntimeError("the database went away")

    # The origin's pages fail (its page cache needs the database too); robots.txt, the probe's
    # URL, still answers, so Varnish holds the origin healthy.
    monkeypatch.setattr(portal.cache, "current_version", lambda: None)
    monkeypatch.setattr(HomePage, "serve", database_down)
    assert fetch(varnish["base"] + "/robots.txt")[0] == 200
    for _ in range(3):
        status, headers, body = fetch(varnish["base"] + "/")
        assert status == 200 and "Varnish home" in body
        assert headers["X-Frame-Options"] == "DENY"
    # A page Varnish never held still shows the origin's error.
    assert fetch(varnish["base"] + "/no-such-page-ever/")[0] in (404, 500)
