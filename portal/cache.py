"""Whole-response caching of public pages, and its invalidation.

A visitor's GET of a published Wagtail page is answered from the cache (Django's default cache:
local memory on one machine, Redis when CACHE_URL is set, shared by every server). Every key
carries a version number that is itself kept in the cache, so `invalidate_public_pages()` makes
every cached page stale at once, on every server, with one increment. portal.signals calls it
(after the transaction commits) when a page is published, unpublished, moved or deleted, and when
any statistic, resource snippet or the site settings change; bulk imports call it themselves.

Why a middleware and not Wagtail's `before_serve_page` hook: the hook runs only after Wagtail
has looked up the site and routed the path to a page (several queries), and after the session
and authentication middleware. The middleware answers a cached page before any of that, with
no database query at all. It sits right after WhiteNoise in settings.MIDDLEWARE, so the headers
the inner middleware add (CSP, X-Frame-Options, Vary, Content-Length) are stored with the page.

What is cached: status 200 responses of `wagtail_serve` (public pages) to GET requests that
are not from a signed-in editor, that set no cookie, are not previews and were not rendered for
a signed-in user. Those get `Cache-Control: public, max-age=PUBLIC_PAGE_MAX_AGE`. The admin,
previews and every response to a signed-in user get `Cache-Control: private, no-store`.

The key cannot be inflated by a client: it holds the page's path and only the query parameters
listed in settings.PUBLIC_PAGE_CACHE_QUERY_PARAMS (none by default; pages read no parameter),
so `?utm_source=x` or any unknown parameter gets the cached page. Nor does the request's Host
go into the key as sent: the key holds the id of the Wagtail site that serves it (one site per
state; an unknown host gets the default site, as Wagtail routes it), so another port or a
made-up host adds no entry. Only a real sign-in skips the cache: a cookie signed with
SECRET_KEY that the login sets and the logout clears (SIGNED_IN_COOKIE), not any cookie that
happens to be called `sessionid`.

A page is stored twice over: as rendered, and gzipped once at store time (with its length
and `Content-Encoding`), so a browser that accepts gzip gets the compressed bytes without any
compression work per request. Both answers say `Vary: Accept-Encoding`.

Each process also keeps the pages it served in memory (settings.CACHES["pages-local"], a
bounded LocMemCache), under the same key. The key holds the shared version, so a change still
makes every process's copy stale at once; a visit then costs one read of the small version
from the shared cache, not a read of the whole page.

A cache that fails (Redis down, a disk full or read-only) never fails a request: every call
here is guarded, logs the failure and carries on as a miss, so the page is rendered uncached.
"""

import functools
import hashlib
import logging
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.core.exceptions import EmptyResultSet
from django.db import transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.text import compress_string
from django.utils.translation import get_language_from_path

from portal.compression import accepts_gzip

logger = logging.getLogger(__name__)

VERSION_KEY = "portal:public-pages:version"


def max_age():
    """Seconds browsers and proxies may keep a public page (short: figures change)."""
    return getattr(settings, "PUBLIC_PAGE_MAX_AGE", 60)


def cache_timeout():
    """Seconds the server keeps a rendered page. Changes bump the version; this is a backstop."""
    return getattr(settings, "PUBLIC_PAGE_CACHE_TIMEOUT", 60 * 60)


def allowed_query_params():
    return frozenset(getattr(settings, "PUBLIC_PAGE_CACHE_QUERY_PARAMS", ()))


def _guarded(what, default=None):
    """Run a cache call; on any failure of the backend, log it and return `default`."""
    try:
        return what()
    except Exception:
        logger.warning("Cache unavailable; serving without it.", exc_info=True)
        return default


def current_version():
    """The version that keys current pages, or None when the cache does not answer."""

    def read():
        version = cache.get(VERSION_KEY)
        if version is None:
            # Start from the clock, not from 1: if the cache lost the key (restart, eviction),
            # the new version cannot collide with one that keyed pages stored before.
            cache.add(VERSION_KEY, time.time_ns(), timeout=None)
            version = cache.get(VERSION_KEY)
        return version

    return _guarded(read)


def invalidate_public_pages():
    """Make every cached public page stale, on every server sharing the cache.

    Never raises: a figure that was saved stays saved when the cache does not answer (the
    failure is logged; a cache that is down holds no page to go stale)."""

    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet: nothing cached under a version we would reuse
            cache.add(VERSION_KEY, time.time_ns(), timeout=None)

    _guarded(bump)


def invalidate_on_commit(**kwargs):
    """Signal receiver: invalidate once the current transaction commits (once per transaction).

    Invalidating before the commit would let a concurrent request cache the old figures under
    the new version. An import of many rows queues one invalidation, not one per row.
    """
    from django.db import connection

    # Django offers no public way to see what a transaction has queued (see the closing note).
    if any(func is invalidate_public_pages for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(invalidate_public_pages)


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
    from django.urls import reverse

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

# Hostname -> site id, and the default site's id, read once per process and again whenever the
# version changes (saving a Site invalidates, see portal.signals). Only the sites' own hostnames
# are held, so a made-up Host header cannot grow it.
_sites = {"version": None, "hosts": {}, "default": None}


def _serves_a_page(request):
    """Whether the path goes to Wagtail's page view: only pages are cached (no query)."""
    return _path_serves_a_page(request.path_info)


@functools.lru_cache(maxsize=4096)
def _path_serves_a_page(path):
    # Resolving walks every URL pattern before Wagtail's catch-all: remembered per path (the
    # URLconf does not change while a process runs; the bound keeps made-up paths from growing it).
    # The language prefix of i18n_patterns is matched against the active language, and this runs
    # before LocaleMiddleware, when the thread may still hold the previous request's: resolve in
    # the path's own language, so the answer is the same whatever request came before.
    try:
        with translation.override(_path_language(path)):
            return resolve(path).url_name == "wagtail_serve"
    except Resolver404:
        return False


@functools.lru_cache(maxsize=4096)
def _path_language(path):
    """The language a path is served in (/es/... is Spanish; no prefix, the default).

    Remembered per path, as _path_serves_a_page is: it depends only on the path and the
    settings, and a cached page's visit asks it on every request."""
    return get_language_from_path(path) or settings.LANGUAGE_CODE


def site_id_for(request, version=None):
    """The id of the Wagtail site that serves the request, matched by hostname (any port)."""
    version = version if version is not None else current_version()
    if _sites["version"] != version or version is None:
        from wagtail.models import Site

        rows = list(Site.objects.values_list("id", "hostname", "is_default_site"))
        _sites["hosts"] = {hostname.lower(): pk for pk, hostname, _default in rows}
        _sites["default"] = next((pk for pk, _h, default in rows if default), None)
        _sites["version"] = version
    hostname = request.get_host().rsplit(":", 1)[0].strip("[]").lower()
    return _sites["hosts"].get(hostname, _sites["default"])


def cache_key(request):
    """The key of a request's cached page, or None when the request must not be cached."""
    if request.method != "GET" or _is_signed_in(request) or not _serves_a_page(request):
        return None
    params = allowed_query_params()
    query = "&".join(
        f"{k}={v}" for k, values in sorted(request.GET.lists()) if k in params for v in values
    )
    version = current_version()
    if version is None:
        return None
    site = site_id_for(request, version)
    # The language a page is served in comes from its path (/es/...), read here because this
    # middleware runs before LocaleMiddleware has activated it.
    language = _path_language(request.path_info)
    digest = hashlib.sha256(f"{site}:{language}:{request.path}?{query}".encode()).hexdigest()
    return f"portal:public-page:2:{version}:{digest}"  # 2: the entry format below


def _is_public_page(request, response):
    match = getattr(request, "resolver_match", None)
    return (
        match is not None
        and match.url_name == "wagtail_serve"
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
    entry = _local().get(key)
    if entry is None:
        entry = _guarded(lambda: cache.get(key))
        if entry is not None:
            _local().set(key, entry, cache_timeout())
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
    response = HttpResponse(content, status=status, headers=headers)
    response.from_page_cache = True  # complete as stored: portal.compression leaves it alone
    return response


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = cache_key(request)
        if key is not None:
            cached = _read(key)
            if cached is not None:
                return _from_entry(request, cached)

        response = self.get_response(request)
        _set_marker(request, response)

        if key is not None and _is_public_page(request, response):
            patch_cache_control(response, public=True, max_age=max_age())
            patch_vary_headers(response, ("Accept-Encoding",))
            entry = _entry(response)
            _guarded(lambda: cache.set(key, entry, cache_timeout()))
            _local().set(key, entry, cache_timeout())
            return _from_entry(request, entry)
        elif _is_private(request):
            add_never_cache_headers(response)
        return response
