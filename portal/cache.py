"""Whole-response caching of public pages, and its invalidation.

A visitor's GET or HEAD of a published Wagtail page, of a figure's embed view or of a search is
answered from the cache (Django's default cache: local memory on one machine, a file cache
shared by one machine's workers, Redis when CACHE_URL is set). Every key carries the versions of
what pages show, read from the database with one small query per request: stats' DataVersion
(bumped in the transaction of every change of figures) and pages' ContentVersion (bumped in the
transaction of every publish, unpublish, move or delete of a page, a view restriction, a
snippet, the site settings or a Site; portal/signals.py). The validity of a copy therefore lives
with the truth: a cache that refuses a write, loses one, comes back from an old snapshot or
turns read-only may hold old copies, but under keys no request asks for any more. The bound: a
withdrawn or changed page is never served from this cache once its change has committed; a
fault of the cache costs speed (pages render uncached), never correctness.

Why a middleware and not Wagtail's `before_serve_page` hook: the hook runs only after Wagtail
has looked up the site and routed the path to a page (several queries), and after the session
and authentication middleware. The middleware answers a cached page after one query (the
versions). It sits right after WhiteNoise in settings.MIDDLEWARE, so the headers the inner
middleware add (CSP, X-Frame-Options, Vary, Content-Length) are stored with the page.

What is cached: status 200 responses of `wagtail_serve` (public pages), `figure_embed` and
`search` to GET and HEAD requests that are not from a signed-in editor, that set no cookie, are
not previews and were not rendered for a signed-in user. Those get `Cache-Control: public,
max-age=PUBLIC_PAGE_MAX_AGE, s-maxage=PUBLIC_PAGE_SHARED_MAX_AGE` (the s-maxage for the HTTP
cache in front, which portal/signals.py purges). The admin, previews and every response to a
signed-in user get `Cache-Control: private, no-store`. A HEAD is answered like a GET, from the
same entry, without the body.

The key cannot be inflated by a client: it holds the path and only the query parameters the
view reads (search: the query as the view normalises it, and the page number; other views:
settings.PUBLIC_PAGE_CACHE_QUERY_PARAMS, none by default), so `?utm_source=x` gets the cached
page. It names the Wagtail site that serves the request, found exactly as Wagtail finds it
(`get_site_for_hostname` with the host as Django normalises it: lowercase, no trailing dot, the
server's port), and that normalised host: `Host: other.example.` is the site of `other.example`,
never the default site's key. No absolute URL in a page comes from the request (they come from
the Site's configured hostname and port), so the host in the key is a second safeguard. Only a
real sign-in skips the cache: a cookie signed with SECRET_KEY that the login sets and the logout
clears (SIGNED_IN_COOKIE), not any cookie that happens to be called `sessionid`.

A page is stored twice over: as rendered, and gzipped once at store time (with its length
and `Content-Encoding`), so a browser that accepts gzip gets the compressed bytes without any
compression work per request. Both answers say `Vary: Accept-Encoding`.

Each process also keeps the pages it served in memory (settings.CACHES["pages-local"], a
bounded LocMemCache), under the same key, so a visit costs the versions' query and no read of
the shared cache.

Site structure: what a process remembers about sites (the hostname to site memo here, and
Wagtail's site root paths in the default cache, which page URLs are built from) is keyed by the
content version too: when it moves, the memo is dropped and the root paths are cleared, so a
state loaded by `load_state` in another process is served at once, with its links.

A cache that fails (Redis down or full, a disk full or read-only) never fails a request: every
call here is guarded, logs the failure and carries on as a miss, so the page is rendered
uncached.
"""

import functools
import hashlib
import logging
import threading
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError
from django.db.models import Subquery
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.text import compress_string
from django.utils.translation import get_language_from_path
from wagtail.models import Site
from wagtail.models.sites import get_site_for_hostname

from pages.models import ContentVersion
from portal import memo
from portal.compression import accepts_gzip
from stats.models import DataVersion

logger = logging.getLogger(__name__)

# The views whose answers are cached, and the query parameters each reads (search: the query
# and the page of results; the others: PUBLIC_PAGE_CACHE_QUERY_PARAMS).
# The public views cached (by their URL names), each with the query parameters it reads
# besides PUBLIC_PAGE_CACHE_QUERY_PARAMS: in the key, any other parameter ignored, so it
# cannot inflate the cache.
SEARCH_PARAMS = ("q", "page")
CACHED_VIEWS = {
    "wagtail_serve": ("as_of",),
    "figure_embed": ("as_of",),
    "search": SEARCH_PARAMS,
    "revisions": ("metric", "year", "place", "breakdown"),
    "revisions_feed": ("metric", "year", "place", "breakdown"),
    "releases": (),
    "releases_ics": (),
}
SEARCH_QUERY_LENGTH = 200  # as pages.views.search reads it
# Wagtail's site root paths were last cleared for this content version (portal/cache.py).
ROOT_PATHS_VERSION_KEY = "portal:site-root-paths:version"


def max_age():
    """Seconds browsers may keep a public page (short: figures change)."""
    return settings.PUBLIC_PAGE_MAX_AGE


def shared_max_age():
    """Seconds an HTTP cache in front may keep a public page: it is purged on every change."""
    return settings.PUBLIC_PAGE_SHARED_MAX_AGE


def cache_timeout():
    """Seconds the server keeps a rendered page. Changes change the key; this bounds memory."""
    return settings.PUBLIC_PAGE_CACHE_TIMEOUT


def allowed_query_params():
    return frozenset(settings.PUBLIC_PAGE_CACHE_QUERY_PARAMS)


def _guarded(what, default=None):
    """Run a cache call; on any failure of the backend, log it and return `default`."""
    try:
        return what()
    except Exception:
        logger.warning("Cache unavailable; serving without it.", exc_info=True)
        return default


def current_versions():
    """(data version, content version, site structure version), read from the database in one
    query, or None when the database does not answer (then nothing is served from the cache)."""
    data = DataVersion.objects.filter(pk=DataVersion.SINGLETON).values("value")
    try:
        row = (
            ContentVersion.objects.filter(pk=ContentVersion.SINGLETON)
            .annotate(data=Subquery(data[:1]))
            .values_list("data", "value", "structure")
            .first()
        )
        if row is None:  # no content change yet
            row = (DataVersion.current(), 0, 0)
    except DatabaseError:
        logger.warning("Versions unreadable; serving without the cache.", exc_info=True)
        return None
    return tuple(v or 0 for v in row)


def current_version():
    """The versions that key cached pages, as one string, or None (see current_versions)."""
    versions = current_versions()
    return None if versions is None else ".".join(map(str, versions))


def invalidate_public_pages(structure=False):
    """Make every cached public page stale, on every server: bumps the content version in the
    caller's transaction, so the change and its invalidation commit (or roll back) together.
    `structure`: the change is one of sites or of the page tree (what processes remember of
    sites is dropped too)."""
    ContentVersion.bump(structure=structure)


def cached_count(queryset):
    """`queryset.count()`, kept under the public pages' version.

    The changes that make cached pages stale (every figure, import, revert, snippet and
    setting) bump the same version, so a count is never older than a cached page. Counting
    every current figure reads the whole index at national scale; this reads one cache entry.
    Without a cache (down, or failing) it counts."""
    version = current_version()
    if version is None:
        return queryset.count()
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return 0
    digest = hashlib.sha256(f"{queryset.db}|{sql}|{params!r}".encode()).hexdigest()
    key = f"portal:count:{version}:{digest}"
    count = _guarded(lambda: cache.get(key))
    if count is None:
        count = queryset.count()
        _guarded(lambda: cache.set(key, count, cache_timeout()))
    return count


def _admin_prefix():
    return reverse("wagtailadmin_home")


# --- Who is signed in, without a query --------------------------------------------------------

SIGNED_IN_COOKIE = "portal_signed_in"
_SALT = "portal.cache.signed-in"


def mark_signed_in(sender, request, user, **kwargs):
    """user_logged_in receiver: the response will carry the signed marker cookie."""
    request._portal_signed_in = True


def mark_signed_out(sender, request, user=None, **kwargs):
    """user_logged_out receiver: the response will clear the marker cookie."""
    request._portal_signed_in = False


def marker_value():
    """The signed value of the marker cookie (what set_signed_cookie writes)."""
    return signing.get_cookie_signer(salt=SIGNED_IN_COOKIE + _SALT).sign("1")


def _set_marker(request, response):
    signed_in = getattr(request, "_portal_signed_in", None)
    if signed_in is True:
        response.set_cookie(
            SIGNED_IN_COOKIE,
            marker_value(),
            max_age=settings.SESSION_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    elif signed_in is False:
        response.delete_cookie(SIGNED_IN_COOKIE, samesite="Lax")


def _is_signed_in(request):
    """A marker cookie that this site signed at a login (no query; a forged one is refused)."""
    if SIGNED_IN_COOKIE not in request.COOKIES:
        return False
    value = request.get_signed_cookie(
        SIGNED_IN_COOKIE, default=None, salt=_SALT, max_age=settings.SESSION_COOKIE_AGE
    )
    return value == "1"


def _has_session(request):
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _rendered_for_user(request):
    # Only look at the user when there is a session cookie: for a visitor this reads nothing
    # and runs no query.
    user = getattr(request, "user", None)
    return _has_session(request) and user is not None and user.is_authenticated


# --- The key -------------------------------------------------------------------------------

# What this thread remembers of sites, for the content version it was read at (a Site change
# bumps it): (hostname, port) -> the id of the site Wagtail serves there. Bounded, so made-up
# hosts cannot grow it. Per thread (portal.memo says why).


class _Sites(threading.local):
    def __init__(self):
        self.version, self.ids = None, {}


_sites = _Sites()
SITES_MEMO_SIZE = 256


def _cached_view(request):
    """The name of the cached view the path goes to, or None (no query)."""
    return _path_view(request.path_info)


@functools.lru_cache(maxsize=4096)
def _path_view(path):
    # Resolving walks every URL pattern before Wagtail's catch-all: remembered per path (the
    # URLconf does not change while a process runs; the bound keeps made-up paths from growing it).
    # The language prefix of i18n_patterns is matched against the active language, and this runs
    # before LocaleMiddleware, when the thread may still hold the previous request's: resolve in
    # the path's own language, so the answer is the same whatever request came before.
    try:
        with translation.override(_path_language(path)):
            name = resolve(path).url_name
    except Resolver404:
        return None
    return name if name in CACHED_VIEWS else None


@functools.lru_cache(maxsize=4096)
def _path_language(path):
    """The language a path is served in (/es/... is Spanish; no prefix, the default).

    Remembered per path, as _path_view is: it depends only on the path and the
    settings, and a cached page's visit asks it on every request."""
    return get_language_from_path(path) or settings.LANGUAGE_CODE


def normalised_host(request):
    """(hostname, port) as Wagtail matches a site: the Host header lowercased, without port or
    trailing dot (Django's split_domain_port), and the server's port. Raises DisallowedHost for
    a host outside ALLOWED_HOSTS (answered 400)."""
    hostname, _port = split_domain_port(request.get_host())
    return hostname, str(request.get_port())


def sync_site_structure(version):
    """Forget what this process remembers of sites when the structure version moved, and clear
    Wagtail's site root paths (page URLs are built from them) when the shared cache holds them
    for an older version (a site loaded by another process, or a cache restored from an old
    snapshot)."""
    if _sites.version == version:
        return
    _sites.ids = {}
    if _guarded(lambda: cache.get(ROOT_PATHS_VERSION_KEY)) != version:
        _guarded(Site.clear_site_root_paths_cache)
        _guarded(lambda: cache.set(ROOT_PATHS_VERSION_KEY, version, timeout=None))
    _sites.version = version


def structure_version(version):
    """The site structure's part of the versions string (current_version)."""
    return version.rsplit(".", 1)[-1]


def site_id_for(request, version):
    """The id of the Wagtail site that serves the request (None: no site at all)."""
    sync_site_structure(structure_version(version))
    host = normalised_host(request)
    ids = _sites.ids
    if host not in ids:
        try:
            site_id = get_site_for_hostname(*host).pk
        except Site.DoesNotExist:
            site_id = None
        if len(ids) >= SITES_MEMO_SIZE:
            ids.clear()
        ids[host] = site_id
    return ids[host]


def _query(request, view):
    """The query parameters that go into the key: only those the view reads, normalised."""
    if view == "search":
        words = " ".join(request.GET.get("q", "").split())[:SEARCH_QUERY_LENGTH]
        return f"q={words}&page={request.GET.get('page', '')}"
    params = allowed_query_params() | set(CACHED_VIEWS[view])
    return "&".join(
        f"{k}={v}" for k, values in sorted(request.GET.lists()) if k in params for v in values
    )


def cache_key(request, version=None):
    """The key of a request's cached answer, or None when the request must not be cached.
    `version`: the current versions, when the caller has read them."""
    if request.method not in ("GET", "HEAD") or _is_signed_in(request):
        return None
    view = _cached_view(request)
    version = current_version() if view is not None and version is None else version
    if view is None or version is None:
        return None
    site = site_id_for(request, version)
    hostname, port = normalised_host(request)
    # The language a page is served in comes from its path (/es/...), read here because this
    # middleware runs before LocaleMiddleware has activated it.
    language = _path_language(request.path_info)
    what = f"{site}:{hostname}:{port}:{language}:{request.path}?{_query(request, view)}"
    digest = hashlib.sha256(what.encode()).hexdigest()
    return f"portal:public-page:3:{version}:{digest}"  # 3: the entry format below


def _is_public_page(request, response):
    match = getattr(request, "resolver_match", None)
    return (
        match is not None
        and match.url_name in CACHED_VIEWS
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not getattr(request, "is_preview", False)
        and not response.has_header("Cache-Control")
        and not _rendered_for_user(request)
    )


def _is_private(request):
    if getattr(request, "is_preview", False) or request.path.startswith(_admin_prefix()):
        return True
    return _rendered_for_user(request)


def _local():
    """This process's memory of the pages it served (settings.CACHES["pages-local"])."""
    return caches["pages-local"]


# The pages read last, as read (LocMemCache unpickles a copy on every get): {key: (deadline,
# entry)}. The key holds the version, so a change makes these stale with the rest; the
# deadline keeps the cache timeout; emptied when full, so it stays small.
_recent = {}
RECENT = 16


def _read(key):
    """A stored page: from this process's memory, else from the shared cache (and kept)."""
    deadline, entry = _recent.get(key, (0, None))
    if entry is not None and time.monotonic() < deadline:
        return entry
    entry = _guarded(lambda: _local().get(key))
    if entry is None:
        entry = _guarded(lambda: cache.get(key))
        if entry is not None:
            _guarded(lambda: _local().set(key, entry, cache_timeout()))
    if entry is not None:
        if len(_recent) >= RECENT:
            _recent.clear()
        _recent[key] = (time.monotonic() + cache_timeout(), entry)
    return entry


def _entry(response):
    """What the cache holds of a page: status, headers, the body, and the body gzipped."""
    headers = dict(response.items())
    return (response.status_code, headers, response.content, compress_string(response.content))


def _from_entry(request, entry):
    status, headers, content, gzipped = entry
    if accepts_gzip(request) and len(gzipped) < len(content):
        headers = {**headers, "Content-Encoding": "gzip", "Content-Length": str(len(gzipped))}
        content = gzipped
    if request.method == "HEAD":
        content = b""  # the GET's headers, Content-Length included, and no body
    response = HttpResponse(content, status=status, headers=headers)
    response.from_page_cache = True  # complete as stored: portal.compression leaves it alone
    # Stored without X-Frame-Options only when its view allowed framing (the embeds): the outer
    # XFrameOptionsMiddleware must not add one now.
    response.xframe_options_exempt = "X-Frame-Options" not in headers
    return response


def public_cache_control(response):
    """What a public page says to browsers and to the HTTP cache in front."""
    patch_cache_control(response, public=True, max_age=max_age(), s_maxage=shared_max_age())


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        version = current_version()
        key = None
        # No version: what the process remembers of sites is forgotten, not trusted.
        structure = structure_version(version) if version is not None else None
        sync_site_structure(structure)
        memo.at_versions(structure, version.split(".", 1)[0] if version is not None else None)
        if version is not None:
            key = cache_key(request, version)
        if key is not None:
            cached = _read(key)
            if cached is not None:
                return _from_entry(request, cached)

        response = self.get_response(request)
        _set_marker(request, response)

        if key is not None and _is_public_page(request, response):
            public_cache_control(response)
            patch_vary_headers(response, ("Accept-Encoding",))
            entry = _entry(response)
            _guarded(lambda: cache.set(key, entry, cache_timeout()))
            _guarded(lambda: _local().set(key, entry, cache_timeout()))
            return _from_entry(request, entry)
        elif _is_private(request) or _for_one_browser(request, response):
            add_never_cache_headers(response)
        return response


def _for_one_browser(request, response):
    """An answer to a form (a page's password, posted) or one that sets a cookie, which says
    nothing itself of caching: no browser or cache in between keeps it."""
    if response.has_header("Cache-Control"):
        return False
    return request.method not in ("GET", "HEAD") or bool(response.cookies)
