"""Settings for the local benchmarks and the two-server demo: production, on plain HTTP.

Production settings (DEBUG off, fingerprinted and compressed static files, the page cache),
but served on 127.0.0.1 without TLS, so no HTTPS redirect, no HSTS and no Secure-only cookies.
Never use this for a deployment. The callers set DATABASE_URL to a temporary database and
BENCH_STATIC_ROOT to a temporary folder; CACHE_URL shares a Redis cache between servers.
BENCH_PAGE_CACHE=0 takes the public page cache out, to measure pages without it.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("PORTAL_BASE_URL", "http://127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from portal.settings.production import *  # noqa: E402, F403

STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

if os.environ.get("BENCH_PAGE_CACHE") == "0":
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "portal.cache.PublicPageCacheMiddleware"]  # noqa: F405
