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

What is cached: status 200 responses of `wagtail_serve` (public pages) to GET requests without a
session cookie, that set no cookie, are not previews, and whose query string holds only the
parameters in settings.PUBLIC_PAGE_CACHE_QUERY_PARAMS (none by default). Those get
`Cache-Control: public, max-age=PUBLIC_PAGE_MAX_AGE`. The admin, previews and every response
to a signed-in user get `Cache-Control: private, no-store` (Django's never_cache headers).
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import get_language_from_path

VERSION_KEY = "portal:public-pages:version"


def max_age():
    """Seconds browsers and proxies may keep a public page (short: figures change)."""
    return getattr(settings, "PUBLIC_PAGE_MAX_AGE", 60)


def cache_timeout():
    """Seconds the server keeps a rendered page. Changes bump the version; this is a backstop."""
    return getattr(settings, "PUBLIC_PAGE_CACHE_TIMEOUT", 60 * 60)


def allowed_query_params():
    return frozenset(getattr(settings, "PUBLIC_PAGE_CACHE_QUERY_PARAMS", ()))


def current_version():
    version = cache.get(VERSION_KEY)
    if version is None:
        # Start from the clock, not from 1: if the cache lost the key (restart, eviction), the
        # new version cannot collide with one that keyed pages stored before.
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def invalidate_public_pages():
    """Make every cached public page stale, on every server sharing the cache."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: nothing cached under a version we would reuse
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)


def invalidate_on_commit(**kwargs):
    """Signal receiver: invalidate once the current transaction commits (once per transaction).

    Invalidating before the commit would let a concurrent request cache the old figures under
    the new version. An import of many rows queues one invalidation, not one per row.
    """
    from django.db import connection

    if any(func is invalidate_public_pages for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(invalidate_public_pages)


def _admin_prefix():
    from django.urls import reverse

    return reverse("wagtailadmin_home")


def _has_session(request):
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def cache_key(request):
    """The key of a request's cached page, or None when the request must not be cached."""
    if request.method != "GET" or _has_session(request):
        return None
    params = allowed_query_params()
    if any(name not in params for name in request.GET):
        return None
    query = "&".join(f"{k}={v}" for k, v in sorted(request.GET.items()))
    # The language a page is served in comes from its path (/es/...), read here because this
    # middleware runs before LocaleMiddleware has activated it.
    language = get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    url = f"{language}:{request.scheme}://{request.get_host()}{request.path}?{query}"
    digest = hashlib.sha256(url.encode()).hexdigest()
    return f"portal:public-page:{current_version()}:{digest}"


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
    )


def _is_private(request):
    if getattr(request, "is_preview", False) or request.path.startswith(_admin_prefix()):
        return True
    # Only look at the user when there is a session cookie: for a visitor this reads nothing
    # and runs no query.
    user = getattr(request, "user", None)
    return _has_session(request) and user is not None and user.is_authenticated


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = cache_key(request)
        if key is not None:
            cached = cache.get(key)
            if cached is not None:
                status, headers, content = cached
                return HttpResponse(content, status=status, headers=headers)

        response = self.get_response(request)

        if key is not None and _is_public_page(request, response):
            patch_cache_control(response, public=True, max_age=max_age())
            cache.set(
                key,
                (response.status_code, dict(response.items()), response.content),
                cache_timeout(),
            )
        elif _is_private(request):
            add_never_cache_headers(response)
        return response
