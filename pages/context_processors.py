"""What every public page's header needs, read once per request with the site settings."""

from django.utils.functional import SimpleLazyObject

from pages.models import SiteSettings
from resources.models import SafetyGuidance, localized


def _live(hotline):
    """The hotline while it is live, in the page's language when it is translated."""
    return localized(hotline) if hotline is not None and hotline.live else None


def safety_guidance(site):
    """The site's first published safety guidance ("in immediate danger, call 911"), in the
    page's language, or None."""
    if site is None:
        return None
    return SafetyGuidance.objects.for_site(site).order_by("sort_order", "pk").first()


def header_hotlines(request):
    """The site's national hotline and state tipline, each only while it is live, the Get
    help page their entries are on, and the site's safety guidance.

    Lazy: nothing is read unless a template (the header, a hotline call-out block) asks.
    """

    def read():
        site_settings = SiteSettings.for_request(request)
        help_page = localized(site_settings.help_page)
        national = _live(site_settings.national_hotline)
        tipline = _live(site_settings.state_tipline)
        return {
            "national": national,
            "tipline": tipline,
            "listed": [hotline for hotline in (national, tipline) if hotline],
            "help_url": (
                help_page.get_url(request) if help_page is not None and help_page.live else ""
            ),
            # Read only where a call-out or a list of hotlines shows it.
            "guidance": SimpleLazyObject(lambda: safety_guidance(site_settings.site_id)),
        }

    return {"header_hotlines": SimpleLazyObject(read)}
