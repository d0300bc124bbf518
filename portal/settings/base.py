"""Settings shared by every environment. Secrets and hosts come from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

INSTALLED_APPS = [
    "portal",
    "pages",
    "stats",
    "resources",
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    # Not "wagtail.contrib.frontend_cache": its app only connects handlers that purge a page on
    # publish before the commit, through the task worker. portal/purge.py uses its backends and
    # purges after the commit, directly, everything that shows the change.
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "axes",
    "corsheaders",
    "csp",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The site's framing and content policies on every response, the ones produced before the
    # inner middleware run included (the 413, the NUL 400, a bad Host's 400, a cache failure's
    # 500). Both leave a header the inner copies below set alone, so a view's own policy (the
    # embeds') and the headers stored with a cached page stand.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.security.PortalCSPMiddleware",
    # Permissions-Policy on every response (PERMISSIONS_POLICY below).
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # A cap on request bodies (portal/security.py).
    "portal.security.RequestSizeLimitMiddleware",
    # A NUL character in the path or query string: 400 with a message (portal/security.py).
    "portal.security.NullCharacterMiddleware",
    # Any origin may read the API (CORS_URLS_REGEX below); before anything that answers.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Text responses gzipped for browsers that accept it; after WhiteNoise, which serves its
    # own compressed files, and before the page cache, which stores pages compressed once.
    "portal.compression.TextGZipMiddleware",
    # Answers visitors' page requests from the cache before any query (portal/cache.py).
    "portal.cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Public pages take their language from the URL alone (/es/...; no prefix is English), never
    # from the browser's preference, since a shared device may be set by someone else (with
    # prefix_default_language=False Django does not redirect by Accept-Language). After the
    # page cache, whose key names the language of the path (portal/cache.py).
    "django.middleware.locale.LocaleMiddleware",
    # Only the languages the site has, in the site's time zone (pages/middleware.py).
    "pages.middleware.SiteMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's CSPMiddleware, with a looser policy for /admin/ (portal/security.py).
    "portal.security.PortalCSPMiddleware",
    # No CSV export of the admin starts a formula in a spreadsheet (portal/security.py).
    "portal.security.AdminSpreadsheetGuardMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # A post missing fields its form always sends (the block editor's): 400, not 500.
    "portal.security.MalformedFormMiddleware",
    # Swaps the login page's response for the lockout page when axes refused the attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "pages.context_processors.header_hotlines",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# SQLite out of the box; DATABASE_URL (PostgreSQL) when set.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        # A connection kept across requests is checked before a request uses it, so the first
        # request after a PostgreSQL restart reconnects instead of answering 500.
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out user is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The install keeps and shows UTC; one install serves several states, each in its own zone.
TIME_ZONE = "UTC"
USE_I18N = True
# Spanish thousands grouped with a period, read as one number by screen readers (portal/formats).
FORMAT_MODULE_PATH = ["portal.formats"]
# English at /, Spanish under /es/ (portal/urls.py). The interface strings are in
# locale/<lang>/LC_MESSAGES/django.po; pages and snippets are translated by staff in the admin.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # The full downloads, built per data version (stats/opendata/files.py). Object storage:
    # set another backend here, such as django-storages' S3 backend with its OPTIONS.
    "downloads": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": os.environ.get("PORTAL_DOWNLOADS_ROOT", str(BASE_DIR / "var" / "downloads"))
        },
    },
}

# Static files are fingerprinted, so they may be cached for a year.
WHITENOISE_MAX_AGE = 31536000

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "portal",
    }
}
if os.environ.get("CACHE_URL"):
    CACHES["default"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
        # Redis down: reads miss and writes do nothing, logged, rather than a 500. Pages render
        # uncached and the API's rate limit lets requests through (it fails open).
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Each process keeps the public pages it served last in memory, in front of the shared cache
# (portal/cache.py): a page's key holds the shared version, so a change still reaches every
# process at once, and a visit reads only the small version from the shared cache.
CACHES["pages-local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portal-pages-local",
    "TIMEOUT": 60 * 60,
    "OPTIONS": {"MAX_ENTRIES": 400},
}

# Sessions only exist for staff; visitors get no cookie. A staff session ends after
# SESSION_COOKIE_AGE (8 hours) or when the browser closes, whichever comes first.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 60 * 60 * 8))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# The one cookie a visitor may get: a page's password form needs a CSRF token; it is forgotten
# when the browser closes, not kept for a year. A right password opens a session like staff's.
CSRF_COOKIE_AGE = None
# That form shows nothing of the page (its title, introduction...), inside the site's chrome.
WAGTAIL_PASSWORD_REQUIRED_TEMPLATE = "password_required.html"

# Upload limits (spreadsheets, images, documents).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# No SVG: an SVG is a document that can carry script.
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILDOCS_EXTENSIONS = ["pdf", "csv", "xlsx", "docx", "txt"]
# Documents go through Wagtail's view, which adds Content-Disposition: attachment (inline for
# PDF only), X-Content-Type-Options: nosniff and "Content-Security-Policy: default-src 'none'".
# The web server must not serve MEDIA_ROOT/documents/ itself.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_INLINE_CONTENT_TYPES = ["application/pdf"]
WAGTAILDOCS_BLOCK_EMBEDDED_CONTENT = True
# Any request body above this is refused with 413 before it is read (portal/security.py).
PORTAL_MAX_REQUEST_BYTES = int(os.environ.get("PORTAL_MAX_REQUEST_BYTES", 25 * 1024 * 1024))

# Import of figures.
STATS_IMPORT_MAX_BYTES = int(os.environ.get("STATS_IMPORT_MAX_BYTES", 10 * 1024 * 1024))
STATS_IMPORT_MAX_ROWS = int(os.environ.get("STATS_IMPORT_MAX_ROWS", 200_000))
# An upload that is previewed but never confirmed keeps its whole file in the database until
# `manage.py clear_stale_previews` deletes it, this many hours after the upload.
STATS_PREVIEW_MAX_AGE_HOURS = int(os.environ.get("STATS_PREVIEW_MAX_AGE_HOURS", 72))
STATS_IMPORT_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("STATS_IMPORT_MAX_UNCOMPRESSED_BYTES", 10 * STATS_IMPORT_MAX_BYTES)
)
STATS_IMPORT_MAX_TEXT_LENGTH = int(os.environ.get("STATS_IMPORT_MAX_TEXT_LENGTH", 2000))
# The longest a background check or import of a file may run, in seconds; it then ends
# with a message and changes nothing (stats/exchange/tasks.py).
STATS_IMPORT_TIME_BUDGET = int(os.environ.get("STATS_IMPORT_TIME_BUDGET", 900))
# The public API's rate limit per client (stats/opendata/api.py).
PORTAL_API_RATE = os.environ.get("PORTAL_API_RATE", "120/min")
# The downloads' rate limit per client (stats/opendata/views.py), counted apart from the API's.
PORTAL_DOWNLOAD_RATE = os.environ.get("PORTAL_DOWNLOAD_RATE", "30/min")
# A filtered download of more figures than this is refused, pointing to the full files.
STATS_FILTERED_DOWNLOAD_MAX_ROWS = int(os.environ.get("STATS_FILTERED_DOWNLOAD_MAX_ROWS", 100_000))
# Any origin may read the API (a read-only GET API without credentials); nothing else.
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD"]
# The public page cache (portal/cache.py): Cache-Control max-age, how long a page is kept, and
# the query parameters a cached page may vary by (any other parameter bypasses the cache).
PUBLIC_PAGE_MAX_AGE = 60
# How long the HTTP cache in front (Varnish) may keep a public page: it is purged of the pages
# a change shows (portal/purge.py), so this bounds only a purge that could not be delivered.
PUBLIC_PAGE_SHARED_MAX_AGE = int(os.environ.get("PUBLIC_PAGE_SHARED_MAX_AGE", 600))
PUBLIC_PAGE_CACHE_TIMEOUT = 60 * 60
PUBLIC_PAGE_CACHE_QUERY_PARAMS = ()

# The HTTP cache in front (deploy/varnish/portal.vcl), purged through Wagtail's frontend cache
# (portal/purge.py) when PORTAL_VARNISH_URL names it, e.g. http://127.0.0.1:6081.
WAGTAILFRONTENDCACHE = {}
if os.environ.get("PORTAL_VARNISH_URL"):
    WAGTAILFRONTENDCACHE["varnish"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": os.environ["PORTAL_VARNISH_URL"],
    }
# Each translation is a page of its own with its own URL: purge the URLs as they are.
WAGTAILFRONTENDCACHE_LANGUAGES = []

# Wagtail
# Background tasks (imports): the database backend, so no other server is needed. Run a
# worker beside the web server: `python manage.py db_worker` (see README, "Workers").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

WAGTAIL_SITE_NAME = os.environ.get("PORTAL_SITE_NAME", "Human Trafficking Data Portal")
# The default site's public address (production requires PORTAL_BASE_URL).
WAGTAILADMIN_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ALLOW_UNICODE_SLUGS = False
# No avatars from gravatar.com: the admin loads nothing from other sites.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# The state packs `load_initial_data` loads, each as one site (README, "State packs"): a
# comma-separated list of folders in PORTAL_STATE_PACKS, else every pack in packs/. The first
# is the default site, served for any host no other site claims.
PORTAL_STATE_PACKS = [
    Path(p.strip()) for p in os.environ.get("PORTAL_STATE_PACKS", "").split(",") if p.strip()
] or sorted(p.parent for p in (BASE_DIR / "packs").glob("*/manifest.json"))

# A US map block is shown only when the store holds its figure for at least this many states.
PORTAL_MAP_MIN_STATES = int(os.environ.get("PORTAL_MAP_MIN_STATES", 40))

# django-axes: lock out a user or an address after repeated failed logins.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 10))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
# Renders AXES_LOCKOUT_TEMPLATE with the time the lockout ends (portal/security.py).
AXES_LOCKOUT_CALLABLE = "portal.security.lockout_response"
# The client's address, for the lockout and the API's rate limit (axes' get_client_ip_address,
# through django-ipware). Behind PORTAL_TRUSTED_PROXY_COUNT reverse proxies REMOTE_ADDR is the
# nearest proxy's: each trusted proxy appends the address it received the request from to
# X-Forwarded-For, so the client is that many entries from the right, and entries further left
# are whatever the client sent. ipware reads the header client-first ("left-most") and takes
# the entry PROXY_COUNT + 1 from the right, PROXY_COUNT counting the proxies named in the
# header (all but the nearest). Not strict: a client that sends its own X-Forwarded-For adds
# entries on the left, which must not void the chain (strict ipware would then count every
# such client under the proxy's address). Left at 0, X-Forwarded-For is not read at all.
PORTAL_TRUSTED_PROXY_COUNT = int(os.environ.get("PORTAL_TRUSTED_PROXY_COUNT", 0))
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if PORTAL_TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)
AXES_IPWARE_PROXY_ORDER = "left-most"
AXES_IPWARE_PROXY_COUNT = PORTAL_TRUSTED_PROXY_COUNT - 1 if PORTAL_TRUSTED_PROXY_COUNT else None
IPWARE_STRICT = False
# Who a locked-out editor should ask (shown on the lockout page), e.g. an e-mail address.
PORTAL_ADMIN_CONTACT = os.environ.get("PORTAL_ADMIN_CONTACT", "")

# Content-Security-Policy (django-csp 4). Everything is served by the portal itself.
SELF = "'self'"
NONE = "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Browser features no page of the portal uses: denied to the page and to anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
# Every snippet kind has a menu of its own (Resources, Statistics); the Snippets index lists
# them all too, so /admin/snippets/ does not answer a superuser "no permission".
WAGTAILSNIPPETS_MENU_SHOW_ALL = True
