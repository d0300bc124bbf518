"""What every public page's header and footer need, read once per request with the site
settings: the hotlines and the linked pages, each in the page's language in one query a model
(as many queries in Spanish as in English)."""

from django.utils.functional import SimpleLazyObject
from wagtail.models import Page

from pages.models import SiteSettings
from portal.memo import remembered
from resources.models import Hotline, SafetyGuidance, active_language, localized_by_pk


def _live(hotline):
    return hotline if hotline is not None and hotline.live else None


def safety_guidance(site):
    """The site's first published safety guidance ("in immediate danger, call 911"), in the
    page's language, or None."""
    if site is None:
        return None
    return SafetyGuidance.objects.for_site(site).order_by("sort_order", "pk").first()


def _pages(site_settings, pks):
    """localized_by_pk(Page, pks): pages and their translations are the page tree's, and the
    site settings that name them bump the structure version too, so this is remembered per
    structure version (portal.memo.remembered) and language."""
    key = ("settings-pages", site_settings.pk, active_language(), tuple(pks))
    return remembered(key, lambda: localized_by_pk(Page, pks))


def header_hotlines(request):
    """The site's national hotline and state tipline, each only while it is live, the Get
    help page their entries are on, the site's safety guidance, and the quick exit's safety
    page and the footer's links.

    Lazy: nothing is read unless a template (the header, a hotline call-out block) asks.
    """

    def hotlines():
        site_settings = SiteSettings.for_request(request)
        ids = site_settings.national_hotline_id, site_settings.state_tipline_id
        found = localized_by_pk(Hotline, ids)
        national, tipline = (_live(found.get(pk)) for pk in ids)
        help_page = _pages(site_settings, [site_settings.help_page_id]).get(
            site_settings.help_page_id
        )
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

    def links():
        site_settings = SiteSettings.for_request(request)
        footer = [link["value"] for link in site_settings.footer_links.raw_data]
        found = _pages(site_settings, [site_settings.safety_page_id, *(f["page"] for f in footer)])
        safety = found.get(site_settings.safety_page_id)
        return {
            "safety_page": safety if safety is not None and safety.live else None,
            # An English link keeps the editors' title; a translation shows its own. A page
            # withdrawn (unpublished) is not linked.
            "footer": [
                {"page": page, "title": link["title"] if page.pk == link["page"] else page.title}
                for link in footer
                if (page := found.get(link["page"])) is not None and page.live
            ],
        }

    return {"header_hotlines": SimpleLazyObject(hotlines), "site_links": SimpleLazyObject(links)}
