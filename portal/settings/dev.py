"""Local development: `make run`. Never used in production."""

import os

from portal.settings.base import *  # noqa: F403

DEBUG = os.environ.get("DEBUG", "1") == "1"
# A development-only key; production refuses to start without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-not-for-production")
# Any *.localhost host too, so a second state's site can be tried on one machine
# (load_state PACK --hostname other.localhost).
ALLOWED_HOSTS = ["127.0.0.1", "localhost", ".localhost", "[::1]"]
# The address `make run` serves (it passes PORT): canonical links and the sitemap name it.
WAGTAILADMIN_BASE_URL = os.environ.get(
    "PORTAL_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
)
