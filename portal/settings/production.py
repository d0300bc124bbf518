"""Production. Refuses to start unless SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
PORTAL_BASE_URL are set."""

import os
import sys
from urllib.parse import urlsplit

from portal.settings.base import *  # noqa: F403


def _required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        # One line, no traceback: this is an operator's mistake, not a bug.
        sys.exit(
            f"portal: {name} is not set. Production needs SECRET_KEY, ALLOWED_HOSTS, "
            "DATABASE_URL and PORTAL_BASE_URL in the environment (see README, 'Deploying')."
        )
    return value


SECRET_KEY = _required("SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
_required("DATABASE_URL")
# The default site's public address: canonical links, og:url, the sitemap and the admin's links
# name it, and load_initial_data gives the default site its host and port.
WAGTAILADMIN_BASE_URL = _required("PORTAL_BASE_URL").rstrip("/")
_base = urlsplit(WAGTAILADMIN_BASE_URL)
if _base.scheme not in ("http", "https") or not _base.hostname:
    sys.exit("portal: PORTAL_BASE_URL must be an address such as https://portal.example.org.")
DEBUG = False

# Several gunicorn workers must share one cache, or an edit would invalidate only the cached
# pages (and API rate counts) of the worker that handled it. Without CACHE_URL (Redis), the
# workers of one machine share a folder; more machines need CACHE_URL.
if not os.environ.get("CACHE_URL"):
    CACHES = {
        **CACHES,  # noqa: F405
        "default": {
            # A full or read-only disk degrades to no cache, never a 500 (portal/cache_backends.py).
            "BACKEND": "portal.cache_backends.FailSafeFileBasedCache",
            "LOCATION": os.environ.get("PORTAL_CACHE_DIR", str(BASE_DIR / "var" / "cache")),  # noqa: F405
        },
    }

CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

LOGGING["root"]["level"] = "INFO"  # noqa: F405
# Failed logins and lockouts are logged as warnings; axes' start-up and success notes are not
# (so `check --deploy` prints nothing but its verdict).
LOGGING["loggers"] = {"axes": {"level": "WARNING"}}  # noqa: F405
