"""The page cache can only be wrong on the safe side: a cache that refuses or loses writes,
comes back from an old snapshot or turns read-only serves nothing withdrawn. Keys name the site
Wagtail serves and the normalised host; absolute URLs come from the site, never the request;
one site's pages, embeds and CSVs are not found on another's host; HEAD, embeds and searches
come from the cache; every error response carries the site's security headers."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.test import Client
from wagtail.models import Page, Site
from wagtail.models.sites import SITE_ROOT_PATHS_CACHE_KEY, SITE_ROOT_PATHS_CACHE_VERSION

from pages.models import HomePage, SiteSettings, TopicPage
from stats.models import Jurisdiction, Metric

pytestmark = pytest.mark.django_db

FILE_CACHE = "portal.cache_backends.FailSafeFileBasedCache"


@pytest.fixture
def sites(db):
    """Missouri on testserver (the default site), Kansas on other.localhost."""
    metric = Metric.objects.create(slug="test-cases", label="Test cases", unit="count")
    root = Page.get_first_root_node()
    made = {}
    for code, hostname, default in (("MO", "testserver", True), ("KS", "other.localhost", False)):
        state = Jurisdiction.objects.get_or_create(
            code=code, defaults={"name": f"State {code}", "kind": "state"}
        )[0]
        home = root.add_child(
            instance=HomePage(
                title=f"Home of {code}",
                slug=f"home-{code.lower()}",
                body=[
                    ("key_figure", {"metric": metric, "jurisdiction": state, "show_national": 0})
                ],
            )
        )
        topic = home.add_child(instance=TopicPage(title=f"Topic of {code}", slug="topic"))
        site = Site.objects.update_or_create(
            hostname=hostname,
            defaults={"port": 80, "root_page": home, "is_default_site": default},
        )[0]
        SiteSettings.objects.update_or_create(site=site, defaults={"jurisdiction": state})
        made[code] = {"home": home, "topic": topic, "site": site}
    return made


def visit(path, data=None, **headers):
    return Client().get(path, data, **headers)


# --- Faults of the cache ------------------------------------------------------------------


def test_a_cache_that_refuses_writes_serves_nothing_withdrawn(sites, monkeypatch):
    assert b"Topic of MO" in visit("/topic/").content  # cached
    for method in ("set", "add", "delete", "incr", "set_many", "delete_many"):
        monkeypatch.setattr(cache, method, lambda *a, **k: None)  # silently refused (noeviction)
    sites["MO"]["topic"].unpublish()
    assert visit("/topic/").status_code == 404


def test_a_cache_whose_writes_raise_serves_nothing_withdrawn(sites, monkeypatch):
    assert visit("/topic/").status_code == 200

    def refuse(*args, **kwargs):
        raise ConnectionError("OOM command not allowed when used memory > 'maxmemory'")

    for method in ("set", "add", "delete", "incr"):
        monkeypatch.setattr(cache, method, refuse)
    sites["MO"]["topic"].unpublish()
    caches["pages-local"].clear()  # another process: only the shared cache holds the page
    assert visit("/topic/").status_code == 404


def test_a_cache_restored_from_an_old_snapshot_serves_nothing_withdrawn(sites):
    assert visit("/topic/").status_code == 200
    snapshot = dict(cache._cache)  # the test settings' local-memory cache: its whole store
    expiry = dict(cache._expire_info)
    sites["MO"]["topic"].unpublish()
    assert visit("/topic/").status_code == 404
    cache._cache.clear()
    cache._cache.update(snapshot)  # Redis restarted from its snapshot
    cache._expire_info.update(expiry)
    caches["pages-local"].clear()
    assert visit("/topic/").status_code == 404


def test_a_read_only_file_cache_serves_nothing_withdrawn(sites, settings, tmp_path, monkeypatch):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": FILE_CACHE, "LOCATION": str(tmp_path / "cache")},
    }
    assert visit("/topic/").status_code == 200
    assert any((tmp_path / "cache").iterdir())  # the page is on disk

    def read_only(*args, **kwargs):
        raise PermissionError(30, "Read-only file system")

    for method in ("set", "add", "delete", "touch"):
        monkeypatch.setattr(FileBasedCache, method, read_only)
    sites["MO"]["topic"].unpublish()
    caches["pages-local"].clear()
    assert visit("/topic/").status_code == 404
    assert visit("/").status_code == 200  # and the rest of the site still answers


# --- Keys, hosts and absolute URLs --------------------------------------------------------


@pytest.mark.parametrize("host", ["other.localhost.", "OTHER.localhost", "other.localhost.:8820"])
def test_a_spelling_of_a_host_gets_its_site_and_never_poisons_another(sites, host):
    assert b"Home of KS" in visit("/", HTTP_HOST=host).content
    home = visit("/").content
    assert b"Home of MO" in home and b"Home of KS" not in home
    assert b"Home of KS" in visit("/", HTTP_HOST="other.localhost").content


def test_absolute_urls_come_from_the_site_never_the_request(sites):
    response = visit("/topic/", HTTP_HOST="testserver:6666", HTTP_X_FORWARDED_PROTO="https")
    html = response.content.decode()
    assert '<link rel="canonical" href="http://testserver/topic/">' in html
    assert '<meta property="og:url" content="http://testserver/topic/">' in html
    assert "6666" not in html and "https://testserver" not in html
    robots = visit("/robots.txt", HTTP_HOST="testserver:6666").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots
    sitemap = visit("/sitemap.xml", HTTP_HOST="other.localhost:6666").content.decode()
    assert "<loc>http://other.localhost/topic/</loc>" in sitemap and "6666" not in sitemap


def figure_paths(page):
    block = page.body[0].id
    return f"/embed/{page.pk}/{block}/", f"/figures/{page.pk}/{block}.csv"


def test_one_sites_embed_and_csv_are_not_found_on_another_host(sites):
    embed, csv = figure_paths(sites["KS"]["home"])
    for path in (embed, csv):
        assert visit(path, HTTP_HOST="other.localhost").status_code == 200, path
        assert visit(path).status_code == 404, path  # Missouri's host
    assert visit("/topic/", HTTP_HOST="other.localhost").content != visit("/topic/").content


def test_a_site_loaded_by_another_process_is_served_at_once_with_its_links(sites):
    """This process has served pages (Wagtail's site root paths are in its cache); another
    process then adds a site. Its first request on the new host has the new site's links."""
    assert visit("/").status_code == 200
    stale = cache.get(SITE_ROOT_PATHS_CACHE_KEY, version=SITE_ROOT_PATHS_CACHE_VERSION)
    assert stale is not None
    home = Page.get_first_root_node().add_child(instance=HomePage(title="Home of IA", slug="ia"))
    home.add_child(instance=TopicPage(title="Topic of IA", slug="topic"))
    Site.objects.create(hostname="third.localhost", port=80, root_page=home)
    # What the other process did not reach: this process's memory of the root paths.
    cache.set(SITE_ROOT_PATHS_CACHE_KEY, stale, version=SITE_ROOT_PATHS_CACHE_VERSION)
    html = visit("/topic/", HTTP_HOST="third.localhost").content.decode()
    assert "Topic of IA" in html
    assert '<link rel="canonical" href="http://third.localhost/topic/">' in html
    assert 'href="None"' not in html
    sitemap = visit("/sitemap.xml", HTTP_HOST="third.localhost").content.decode()
    assert "<loc>None</loc>" not in sitemap and "http://third.localhost/topic/" in sitemap


# --- HEAD, embeds, search -----------------------------------------------------------------


def test_head_is_answered_from_the_cache_without_a_body(sites, django_assert_num_queries):
    get = visit("/topic/")
    with django_assert_num_queries(1):  # the versions only
        head = Client().head("/topic/")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(get.content))
    assert head["Content-Type"] == get["Content-Type"]
    # A HEAD first stores the page for the GETs after it.
    first = Client().head("/")
    assert first.status_code == 200 and first.content == b""
    with django_assert_num_queries(1):
        assert b"Home of MO" in visit("/").content


def test_embeds_are_cached_like_pages(sites, django_assert_num_queries):
    embed, _csv = figure_paths(sites["MO"]["home"])
    first = visit(embed)
    assert first.status_code == 200 and "s-maxage=" in first["Cache-Control"]
    with django_assert_num_queries(1):
        again = visit(embed)
    assert again.content == first.content
    # Still framable by other sites, as the view says, when served from the cache.
    assert "frame-ancestors *" in again["Content-Security-Policy"]
    assert "X-Frame-Options" not in again


def test_searches_are_cached_per_normalised_query_and_language(sites, django_assert_num_queries):
    first = visit("/search/", {"q": "topic"})
    assert first.status_code == 200 and b"Topic of MO" in first.content
    with django_assert_num_queries(3):  # the versions, once a request
        for query in ("topic", "  topic ", "topic&utm_source=x"):
            assert visit(f"/search/?q={query}").content == first.content
    spanish = visit("/es/search/", {"q": "topic"})
    assert spanish.content != first.content
    kansas = visit("/search/", {"q": "topic"}, HTTP_HOST="other.localhost")
    assert b"Topic of MO" not in kansas.content and b"Topic of KS" in kansas.content


# --- Security headers on every response ---------------------------------------------------


def assert_site_headers(response):
    assert "default-src 'self'" in response["Content-Security-Policy"], response.status_code
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_error_responses_carry_the_site_headers(sites, settings, monkeypatch):
    import portal.cache

    client = Client(raise_request_exception=False)
    nul = client.get("/search/?q=a%00b")
    assert nul.status_code == 400
    assert_site_headers(nul)
    settings.PORTAL_MAX_REQUEST_BYTES = 10
    big = client.post("/search/", data="x" * 100, content_type="text/plain")
    assert big.status_code == 413
    assert_site_headers(big)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    many = client.get("/search/?" + "&".join(f"p{n}=1" for n in range(10)))
    assert many.status_code == 400
    assert_site_headers(many)
    settings.ALLOWED_HOSTS = ["testserver"]
    bad_host = client.get("/", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400
    assert_site_headers(bad_host)

    def broken(*args, **kwargs):
        raise RuntimeError("the cache layer failed")

    monkeypatch.setattr(portal.cache, "cache_key", broken)
    failed = client.get("/")
    assert failed.status_code == 500
    assert_site_headers(failed)


def test_a_malformed_page_edit_post_answers_400(sites, django_user_model):
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "pw-for-tests")
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    topic = sites["MO"]["topic"]
    # Without the block editor's hidden fields (body-count and the rest).
    response = client.post(f"/admin/pages/{topic.pk}/edit/", {"title": "Changed", "slug": "t"})
    assert response.status_code == 400
    assert_site_headers(response)
    assert Page.objects.get(pk=topic.pk).title == "Topic of MO"


@pytest.mark.parametrize(
    "fields",
    [
        {"body-count": "abc"},  # the stream's count, not a number
        {"body-count": "1", "body-0-type": "heading", "body-0-deleted": "", "body-0-order": "x"},
        # Raw HTML where the rich-text editor posts its JSON (contentstate).
        {"body-count": "0", "intro": "<p>x</p><script>alert(1)</script>"},
    ],
)
def test_a_page_edit_post_with_malformed_editor_data_answers_400(sites, django_user_model, fields):
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "pw-for-tests")
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    topic = sites["MO"]["topic"]
    response = client.post(
        f"/admin/pages/{topic.pk}/edit/", {"title": "Changed", "slug": "t", **fields}
    )
    assert response.status_code == 400
    assert_site_headers(response)
    assert Page.objects.get(pk=topic.pk).title == "Topic of MO"
