"""What every public page's header needs, read once per request with the site settings."""

from django.utils.functional import SimpleLazyObject

from pages.models import SiteSettings
from resources.models import localized


def _live(hotline):
    """The hotline while it is live, in the page's language when it is translated."""
    return localized(hotline) if hotline is not None and hotline.live else None


def header_hotlines(request):
    """The site's national hotline and state tipline, each only while it is live.

    Lazy: nothing is read unless a template (the header, a hotline call-out block) asks.
    """

    def read():
        site_settings = SiteSettings.for_request(request)
        return {
            "national": _live(site_settings.national_hotline),
            "tipline": _live(site_settings.state_tipline),
        }

    return {"header_hotlines": SimpleLazyObject(read)}
