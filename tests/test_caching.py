"""Public pages are cached whole and go stale on every change; staff views are never cached."""

import datetime
import logging
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, PageViewRestriction, Site

from pages.models import ContentVersion, HomePage, SiteSettings, TopicPage
from portal.cache import SIGNED_IN_COOKIE, invalidate_public_pages, marker_value
from stats.models import Jurisdiction, Metric, Observation, Source
from stats.store.formatting import format_value

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=60, s-maxage=600"
# A page served from the cache costs one query: the versions that key it (portal.cache).
VERSIONS = 1


@pytest.fixture
def key_figure_pages(db):
    """A home page with one key figure (a made-up value) and a topic page under it."""
    metric = Metric.objects.create(slug="test-cases", label="Test cases", unit="count")
    source = Source.objects.create(
        slug="test-report", publisher="Test Institute", title="Test Report", edition_year=2019
    )
    missouri = Jurisdiction.objects.get(code="MO")
    observation = Observation.objects.create(
        metric=metric,
        jurisdiction=missouri,
        period_start=datetime.date(2019, 1, 1),
        period_end=datetime.date(2019, 12, 31),
        value=Decimal("4321"),
        source=source,
    )
    root = Page.get_first_root_node()
    home = root.add_child(
        instance=HomePage(
            title="Test home",
            slug="test-home",
            body=[
                (
                    "key_figure",
                    {"metric": metric, "jurisdiction": missouri, "show_national": False},
                )
            ],
        )
    )
    topic = home.add_child(instance=TopicPage(title="Test topic", slug="test-topic"))
    wagtail_site, _ = Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "testserver", "port": 80, "root_page": home},
    )
    SiteSettings.for_site(wagtail_site)  # else the first visit creates them
    commit_pending()
    return {"home": home, "topic": topic, "observation": observation}


def commit_pending():
    """What a commit does with the on-commit callbacks queued so far.

    The test's own transaction never commits, and portal.signals queues one invalidation per
    transaction: without this, the setup's queued invalidation would absorb the test's own.
    """
    pending = [func for _sids, func, _robust in connection.run_on_commit]
    connection.run_on_commit.clear()
    for func in pending:
        func()


def shown(value):
    return format_value(Decimal(value), "count")


def test_second_visit_is_served_from_the_cache_without_a_query(
    client, key_figure_pages, django_assert_num_queries
):
    first = client.get("/")
    assert first.status_code == 200
    assert shown("4321") in first.content.decode()
    with django_assert_num_queries(VERSIONS):
        second = client.get("/")
    assert second.status_code == 200
    assert second.content == first.content


def test_public_page_headers_and_no_cookie_for_a_visitor(key_figure_pages):
    visitor = Client()
    for _ in range(2):  # rendered, then from the cache
        response = visitor.get("/")
        assert response.status_code == 200
        assert response["Cache-Control"] == PUBLIC
        assert not response.cookies
        assert "Set-Cookie" not in response
        # Headers of the inner middleware are stored with the page.
        assert "Content-Security-Policy" in response
        assert response["X-Frame-Options"] == "DENY"
    assert not visitor.cookies


def cache_entries():
    return len(cache._cache)  # the test settings' local-memory cache


def test_query_strings_and_host_ports_get_the_one_cached_page(
    client, key_figure_pages, django_assert_num_queries
):
    # The key names the normalised host (and the site Wagtail serves there), not its port.
    first = client.get("/", HTTP_HOST="127.0.0.1")
    entries = cache_entries()
    with django_assert_num_queries(1000 * VERSIONS):
        for n in range(1000):
            response = client.get(
                f"/?utm_source=x{n}&fbclid={n}&whatever={n}", HTTP_HOST=f"127.0.0.1:{n + 1024}"
            )
            assert response.status_code == 200
            assert response.content == first.content
    assert cache_entries() == entries


def test_a_made_up_session_cookie_gets_the_cached_page(key_figure_pages, django_assert_num_queries):
    Client().get("/")
    visitor = Client()
    visitor.cookies["sessionid"] = "made-up"
    visitor.cookies[SIGNED_IN_COOKIE] = "1:forged:signature"
    with django_assert_num_queries(VERSIONS):
        response = visitor.get("/")
    assert response.status_code == 200 and response["Cache-Control"] == PUBLIC


def test_signing_in_through_the_form_sets_the_marker_and_signing_out_clears_it(
    key_figure_pages, superuser
):
    staff = Client()
    response = staff.post("/admin/login/", {"username": "editor", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert staff.cookies[SIGNED_IN_COOKIE].value == marker_value()
    page = staff.get("/")
    assert "no-store" in page["Cache-Control"] and b"wagtail-userbar" in page.content
    staff.post("/admin/logout/")
    assert staff.cookies[SIGNED_IN_COOKIE].value == ""
    for name in [name for name, morsel in staff.cookies.items() if not morsel.value]:
        del staff.cookies[name]  # as a browser drops the cookies the logout deleted
    assert staff.get("/")["Cache-Control"] == PUBLIC


def test_a_page_made_private_is_not_served_from_the_cache(
    key_figure_pages, django_capture_on_commit_callbacks
):
    assert Client().get("/test-topic/").status_code == 200  # now cached
    commit_pending()
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=key_figure_pages["topic"],
            restriction_type=PageViewRestriction.PASSWORD,
            password="secret",
        )
    response = Client().get("/test-topic/")
    assert b"Test topic" not in response.content or b"password" in response.content.lower()
    assert response.get("Cache-Control") != PUBLIC
    again = Client().get("/test-topic/")
    assert again.get("Cache-Control") != PUBLIC


def test_a_moved_or_deleted_page_is_not_served_from_the_cache(
    key_figure_pages, django_capture_on_commit_callbacks
):
    other = key_figure_pages["home"].add_child(instance=TopicPage(title="Other", slug="other"))
    commit_pending()
    assert Client().get("/test-topic/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Page.objects.get(pk=key_figure_pages["topic"].pk).move(other, pos="last-child")
    commit_pending()
    moved = Client().get("/test-topic/")
    assert moved.status_code in (301, 404)  # Wagtail's redirect to the new place, or gone
    assert Client().get("/other/test-topic/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Page.objects.get(pk=key_figure_pages["topic"].pk).delete()
    assert Client().get("/other/test-topic/").status_code == 404


BROKEN_CACHES = {
    # Nothing listens on port 1: every call fails at once.
    "redis down": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
    },
    # Its folder cannot be made: as a disk that is full or read-only.
    "file cache unwritable": {"BACKEND": "portal.cache_backends.FailSafeFileBasedCache"},
}


@pytest.mark.parametrize("broken", list(BROKEN_CACHES))
def test_a_failing_cache_degrades_and_never_fails(
    key_figure_pages,
    superuser,
    settings,
    tmp_path,
    broken,
    caplog,
    django_capture_on_commit_callbacks,
):
    backend = dict(BROKEN_CACHES[broken])
    if "LOCATION" not in backend:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the cache folder should be")
        backend["LOCATION"] = str(blocker / "cache")
    settings.CACHES = {**settings.CACHES, "default": backend}
    visitor = Client()
    for url in ("/", "/test-topic/", "/api/observations", "/search/?q=test", "/admin/login/"):
        assert visitor.get(url).status_code == 200, url
    staff = Client()
    login = staff.post("/admin/login/", {"username": "editor", "password": "pw-for-tests"})
    assert login.status_code == 302 and staff.get("/admin/").status_code == 200
    # A change still commits, and its invalidation only logs.
    with django_capture_on_commit_callbacks(execute=True):
        key_figure_pages["observation"].save()
    invalidate_public_pages()
    assert any(r.levelno >= logging.WARNING for r in caplog.records)  # logged, not raised


def test_publishing_a_page_invalidates(
    client, key_figure_pages, django_capture_on_commit_callbacks
):
    assert "Test topic" in client.get("/test-topic/").content.decode()
    topic = key_figure_pages["topic"]
    topic.title = "Renamed topic"
    with django_capture_on_commit_callbacks(execute=True):
        topic.save_revision().publish()
    assert "Renamed topic" in client.get("/test-topic/").content.decode()


def test_unpublishing_a_page_invalidates(
    client, key_figure_pages, django_capture_on_commit_callbacks
):
    assert client.get("/test-topic/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        key_figure_pages["topic"].unpublish()
    assert client.get("/test-topic/").status_code == 404


def test_editing_an_observation_invalidates(
    client, key_figure_pages, django_capture_on_commit_callbacks
):
    assert shown("4321") in client.get("/").content.decode()
    observation = key_figure_pages["observation"]
    observation.value = Decimal("8765")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        observation.save()
    assert len(callbacks) == 1
    html = client.get("/").content.decode()
    assert shown("8765") in html
    assert shown("4321") not in html


def content_version():
    return ContentVersion.objects.get().value


def test_many_changes_in_one_transaction_announce_once(
    key_figure_pages, django_capture_on_commit_callbacks
):
    observation = key_figure_pages["observation"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for value in ("1", "2", "3"):
            observation.value = Decimal(value)
            observation.save()
    assert len(callbacks) == 1
    before = content_version()
    settings = SiteSettings.for_site(Site.objects.get())
    settings.save()
    assert content_version() > before  # bumped in the change's own transaction


def test_a_rolled_back_change_leaves_the_versions_as_they_were(
    client, key_figure_pages, django_capture_on_commit_callbacks
):
    client.get("/")
    before = content_version()
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                key_figure_pages["observation"].save()
                SiteSettings.for_site(Site.objects.get()).save()
                raise RuntimeError
    assert callbacks == [] and content_version() == before
    # And the next change still queues its announcement.
    with django_capture_on_commit_callbacks() as callbacks:
        key_figure_pages["observation"].save()
    assert len(callbacks) == 1


def test_site_settings_change_invalidates(
    client, key_figure_pages, django_capture_on_commit_callbacks
):
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        testland = Jurisdiction.objects.create(code="TL", name="Testland", kind="state")
        SiteSettings.objects.update_or_create(
            site=Site.objects.get(), defaults={"jurisdiction": testland}
        )
    assert "Testland" in client.get("/").content.decode()


def test_invalidate_public_pages_invalidates(
    client, key_figure_pages, django_assert_max_num_queries
):
    client.get("/")
    # A change that sends no signal (as a bulk update would), then the explicit call.
    Observation.objects.filter(pk=key_figure_pages["observation"].pk).update(value=Decimal("5555"))
    assert shown("5555") not in client.get("/").content.decode()  # still the cached page
    version = content_version()
    invalidate_public_pages()
    assert content_version() == version + 1
    assert shown("5555") in client.get("/").content.decode()


def test_invalidate_without_a_version_yet():
    ContentVersion.objects.all().delete()
    invalidate_public_pages()
    assert content_version() == 1


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.org", "pw-for-tests")


def test_logged_in_pages_are_never_cached(client, key_figure_pages, superuser):
    client.get("/")  # cached for visitors
    client.force_login(superuser)
    client.cookies[SIGNED_IN_COOKIE] = marker_value()  # what the login form sets
    response = client.get("/")
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control
    assert b"wagtail-userbar" in response.content  # the editor's own page, not the visitor's
    # And the visitors' copy does not contain the editor's userbar.
    assert b"wagtail-userbar" not in Client().get("/").content


def test_admin_and_previews_are_never_cached(client, key_figure_pages, superuser):
    client.force_login(superuser)
    home = key_figure_pages["home"]
    for url in (
        "/admin/",
        f"/admin/pages/{home.pk}/edit/",
        f"/admin/pages/{home.pk}/view_draft/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url
    # The live preview of the edit form.
    preview_url = f"/admin/pages/{home.pk}/edit/preview/"
    response = client.get(preview_url, {"mode": ""})
    assert "no-store" in response["Cache-Control"]


def test_a_draft_seen_by_an_editor_never_reaches_a_visitor(client, key_figure_pages, superuser):
    home = key_figure_pages["home"]
    home.title = "Draft title"
    home.save_revision()
    client.force_login(superuser)
    assert b"Draft title" in client.get(f"/admin/pages/{home.pk}/view_draft/").content
    assert b"Draft title" not in Client().get("/").content


@pytest.fixture
def production_static(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    # Only the portal's own files, to keep the test fast.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_fingerprinted_static_files_are_immutable(production_static):
    url = staticfiles_storage.url("css/portal.css")
    assert re.search(r"/css/portal\.[0-9a-f]{12}\.css$", url), url
    response = Client().get(url)
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"public", "immutable"} <= directives
    (max_age,) = (int(d.split("=")[1]) for d in directives if d.startswith("max-age="))
    assert max_age >= 365 * 24 * 60 * 60
    assert not response.cookies
    # The unfingerprinted name is served too, but only for a short while.
    plain = Client().get("/static/css/portal.css")
    assert plain.status_code == 200
    assert "immutable" not in plain.get("Cache-Control", "")


# --- Compression ---------------------------------------------------------------------------


def test_a_cached_page_is_served_gzipped_without_compressing_it_again(
    key_figure_pages, monkeypatch
):
    import gzip

    import portal.cache

    client = Client()
    plain = client.get("/test-topic/")
    assert "Content-Encoding" not in plain
    assert "Accept-Encoding" in plain["Vary"]

    calls = []
    real = portal.cache.compress_string
    monkeypatch.setattr(portal.cache, "compress_string", lambda s: calls.append(1) or real(s))
    for _ in range(3):
        response = client.get("/test-topic/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert int(response["Content-Length"]) == len(response.content) < len(plain.content)
        assert gzip.decompress(response.content) == plain.content
    assert calls == []  # stored compressed at the first visit, never compressed again


def test_a_page_rendered_uncached_is_gzipped_too(key_figure_pages, settings):
    import gzip

    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "portal.cache.PublicPageCacheMiddleware"
    ]
    response = Client().get("/test-topic/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert b"Test topic" in gzip.decompress(response.content)


def test_json_is_gzipped_and_an_xlsx_download_is_not(key_figure_pages):
    client = Client()
    api = client.get("/api/observations", HTTP_ACCEPT_ENCODING="gzip")
    assert api.status_code == 200
    assert api["Content-Encoding"] == "gzip"
    xlsx = client.get("/data/download/xlsx/", HTTP_ACCEPT_ENCODING="gzip")
    assert xlsx.status_code == 200
    assert "Content-Encoding" not in xlsx  # a zip file already: gzipping it again gains nothing


def test_a_process_serves_a_page_from_its_memory_reading_only_the_version(
    key_figure_pages, monkeypatch
):
    import portal.cache

    client = Client()
    first = client.get("/test-topic/")
    read = []
    real_get = portal.cache.cache.get

    def get(key, *args, **kwargs):
        read.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(portal.cache.cache, "get", get)
    again = client.get("/test-topic/")
    assert again.content == first.content
    assert read == []  # the page came from this process's memory, the versions from the database

    # Another process (its memory empty) takes the page from the shared cache, rendering nothing.
    caches["pages-local"].clear()
    portal.cache._recent.clear()
    read.clear()
    with CaptureQueriesContext(connection) as queries:
        other = client.get("/test-topic/")
    assert other.content == first.content and len(queries) == VERSIONS
    assert len(read) == 1

    # A change reaches this process's copy too: the version in the key moves on.
    invalidate_public_pages()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/test-topic/").status_code == 200
    assert len(queries) > 0  # rendered anew, not served from memory


@pytest.mark.parametrize("left_active", ["en", "es"])
def test_whether_a_path_is_a_page_does_not_depend_on_the_previous_request(
    key_figure_pages, left_active
):
    """The page cache looks before LocaleMiddleware, while the thread may still hold the last
    request's language: an English page is a page and the Spanish search the search, either
    way."""
    from django.utils import translation

    from portal.cache import _path_view

    _path_view.cache_clear()
    with translation.override(left_active):
        assert _path_view("/test-topic/") == "wagtail_serve"
        assert _path_view("/es/search/") == "search"
        assert _path_view("/search/") == "search"
        assert _path_view("/es/no-such-path/") == "wagtail_serve"  # Wagtail answers its 404
