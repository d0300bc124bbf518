"""Per-site request settings: the site's time zone, and only the languages the site has."""

import zoneinfo

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import translate_url
from django.utils import timezone
from django.utils.translation import get_language
from wagtail.models import Site

from pages.models import SiteSettings


def site_languages(request):
    """The language codes the request's site has a home page in, from Wagtail's cached site
    root paths (no query): a state whose pack has no Spanish has no Spanish tree. Every
    language when no site is found."""
    site = Site.find_for_request(request)
    if site is None:
        return {code for code, _name in settings.LANGUAGES}
    found = {root.language_code for root in Site.get_site_root_paths() if root.site_id == site.pk}
    return found or {settings.LANGUAGE_CODE}


class SiteMiddleware:
    """After LocaleMiddleware: a path in a language the site does not have (`/es/...` on a
    state without Spanish) redirects to the site's English page rather than showing English
    inside Spanish chrome; times are shown in the site's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = get_language()
        if language != settings.LANGUAGE_CODE and language not in site_languages(request):
            english = translate_url(request.get_full_path(), settings.LANGUAGE_CODE)
            return HttpResponseRedirect(english if english != request.get_full_path() else "/")
        if Site.find_for_request(request) is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(SiteSettings.for_request(request).time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()  # a bad value in the database: the install's UTC
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
