"""Small template helpers for the public pages."""

from datetime import date
from types import SimpleNamespace
from urllib.parse import urljoin

from django import template
from django.conf import settings
from django.db.models import Max, Q
from django.urls import reverse, translate_url
from django.utils.translation import get_language, override
from wagtail.models import Page, Site

from pages.models import SiteSettings
from portal.memo import remembered
from resources.models import localized
from stats.models import Observation
from stats.opendata.metadata import download_scope, scope_facts

register = template.Library()


# A snippet (a hotline in the header) or page in the page's language, when translated.
register.filter("localized", localized)


@register.filter
def model_name(obj):
    """The lower-case model name of an object: "statute", "hotline"..."""
    return obj._meta.model_name


def _site_root_path(request):
    """The url_path of the request's site's root page, from Wagtail's cached site root paths."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return None
    paths = [r for r in Site.get_site_root_paths() if r.site_id == site.pk]
    # The home page in the active language (each translation of it is a root path of the site).
    language = get_language()
    return next(
        (r.root_path for r in paths if r.language_code == language),
        paths[0].root_path if paths else None,
    )


def _depth(url_path):
    """The tree depth of the page at a url_path: "/home/" is 2 (the tree's root is 1)."""
    return url_path.strip("/").count("/") + 2


@register.simple_tag(takes_context=True)
def breadcrumbs(context, page):
    """The live ancestors of a page, from the site's home page down (not the page itself).
    The page tree's: remembered per site structure version (portal.memo.remembered)."""
    root_path = _site_root_path(context.get("request"))
    if root_path is None:
        return []
    return remembered(
        ("breadcrumbs", page.pk, root_path),
        lambda: list(page.get_ancestors().live().filter(depth__gte=_depth(root_path))),
    )


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The site's home page and its live children shown in menus, in one query.

    The site's root path comes from Wagtail's cached site root paths, so no query is spent on
    the Site or its root page; the menu is the page tree's, remembered per site structure
    version (portal.memo.remembered).
    """
    root_path = _site_root_path(context.get("request"))
    if root_path is None:
        return []
    menu = (
        Page.objects.live()
        .filter(
            Q(url_path=root_path)
            | Q(url_path__startswith=root_path, depth=_depth(root_path) + 1, show_in_menus=True)
        )
        .order_by("path")
    )
    return remembered(("main-menu", root_path), lambda: list(menu))


@register.simple_tag
def sections(page):
    """A home page's live public children, its sections: the page tree's, remembered per site
    structure version (portal.memo.remembered)."""
    return remembered(("sections", page.pk), lambda: list(page.get_children().live().public()))


@register.simple_tag(takes_context=True)
def figures_last_updated(context):
    """When the portal last changed one of its site's state's figures (one query on the state's
    rows); None when it holds none."""
    state = SiteSettings.for_request(context["request"]).jurisdiction_id
    rows = Observation.objects.filter(jurisdiction_id=state)
    return remembered(
        ("figures-last-updated", state),
        lambda: rows.aggregate(latest=Max("updated_at"))["latest"],
        figures=True,
    )


@register.simple_tag(takes_context=True)
def state_source_dates(context):
    """The sources of the site's state's figures, newest edition first, each with its own
    dates (published, data as of): a source's date is not the day the portal loaded it. Each
    is titled in the state's own words (StateSourceText), as its figures cite it. Read from the
    scope's facts, kept per data version (stats.opendata.metadata): no pass over the figures."""
    state = SiteSettings.for_request(context["request"]).jurisdiction
    if state is None:
        return []
    return remembered(("state-source-dates", state.pk), lambda: _source_dates(state), figures=True)


def _source_dates(state):
    facts = scope_facts(download_scope(state))
    cited = [s for s in (facts or {}).get("sources", ()) if state.pk in s["jurisdiction_ids"]]
    return [
        SimpleNamespace(
            citation=s["citation"],
            title=s["title"],
            published_on=date.fromisoformat(s["published_on"]) if s["published_on"] else None,
            data_as_of=date.fromisoformat(s["data_as_of"]) if s["data_as_of"] else None,
        )
        for s in sorted(cited, key=lambda s: (-s["edition_year"], s["title"]))
    ]


def _home_urls(request):
    """{language code: URL} of the site's home page in each language it is translated into,
    from Wagtail's cached site root paths (no query)."""
    site = Site.find_for_request(request)
    if site is None:
        return {}
    urls = {}
    for root in Site.get_site_root_paths():
        if root.site_id == site.pk:
            with override(root.language_code):
                urls[root.language_code] = reverse("wagtail_serve", args=[""])
    return urls


def _source_changed(page, translations):
    """When the default language's version of a translated page was published, if after the
    page itself (read from the translations already fetched: no query)."""
    default = settings.LANGUAGE_CODE
    if page.locale_id is None:
        return None
    source = next((t for t in translations if t.locale.language_code == default), None)
    if source is None or source.pk == page.pk or not page.last_published_at:
        return None
    changed = source.last_published_at
    return changed if changed and changed > page.last_published_at else None


def _language_urls(request, page):
    """({language: this page's address in it}, the languages it is translated into, when its
    English changed after it): a Wagtail page's live translations (one query), else the same
    path in each language."""
    if not isinstance(page, Page):
        urls = {code: translate_url(request.path, code) for code, _name in settings.LANGUAGES}
        # A view outside the translated URLs (the API docs) has one address: no alternates.
        return urls, (set(urls) if len(set(urls.values())) > 1 else set()), None
    site = Site.find_for_request(request)
    # The page tree's (a publish, move or view restriction bumps the structure version).
    translations = remembered(
        ("translations", getattr(site, "pk", None), page.pk),
        lambda: list(
            page.get_translations(inclusive=True).live().public().select_related("locale")
        ),
    )
    urls = {t.locale.language_code: t.get_url(request) for t in translations}
    translated = set(urls)
    if len(urls) < len(settings.LANGUAGES):
        urls = {**_home_urls(request), **urls}
    return urls, translated, _source_changed(page, translations)


@register.simple_tag(takes_context=True)
def languages(context):
    """This page in each language, for the language link and the hreflang alternates.

    [{"code", "name", "url", "full_url", "current", "translated"}], one a language of
    settings.LANGUAGES. A Wagtail page links its live translations (one query); where a
    language has none, the link goes to that language's home page and `translated` is false
    (hreflang names only real translations). Other views (search, not found) link the same
    path in the other language.
    """
    request = context.get("request")
    if request is None:
        return []
    page = context.get("page")
    urls, translated, source_changed = _language_urls(request, page)
    # The language link keeps what the visitor asked (a search's query and page).
    query = f"?{request.GET.urlencode()}" if request.GET and not isinstance(page, Page) else ""
    current = get_language()
    # A language the site has no home page in is not offered (pages.middleware).
    offered = set(_home_urls(request)) or {code for code, _name in settings.LANGUAGES}
    # Absolute addresses from the site's configured hostname and port, never the request's host,
    # port or X-Forwarded-Proto: the page is cached for every visitor.
    site = Site.find_for_request(request)
    root = site.root_url if site is not None else ""
    return [
        {
            "code": code,
            "name": name,
            "url": f"{urls.get(code) or '/'}{query}",
            "full_url": urljoin(root + "/", urls.get(code) or "/"),
            "current": code == current,
            "translated": code in translated,
            # On a translation whose English was published after it: when the English changed.
            "source_changed": source_changed if code == current else None,
        }
        for code, name in settings.LANGUAGES
        if code in offered
    ]
