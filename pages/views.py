import re

from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe
from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Page, Site
from wagtail.search.backends import get_search_backend

from pages.models import TopicPage
from pages.routing import home_tree_path
from pages.search import corrected, with_synonyms
from portal.memo import remembered
from resources.models import Organization, Statute

# A section number such as 566.206 or 566.215.1, with or without the section sign.
CITATION = re.compile(r"\d+(?:\.\d+)+")
SNIPPET_RESULTS = 20


def _snippet_results(model, site, query, listing_page):
    """Live snippets of the site's state matching the query, each with the page listing it."""
    items = model.objects.for_site(site)
    found = []
    if model.__name__ == "Statute":
        # Exact section numbers first: they read the same on every database.
        for citation in CITATION.findall(query):
            found.extend(items.filter(citation__contains=citation))
    words = query.replace("§", " ").strip()
    if words:
        # The search backend filters on indexed fields only; the language filter (a join on
        # the locale) is applied to what it finds, keeping its order.
        hits = get_search_backend().search(words, model.objects.filter(live=True))
        hits = list(hits[: SNIPPET_RESULTS * 4])
        shown = set(items.filter(pk__in=[h.pk for h in hits]).values_list("pk", flat=True))
        found.extend(h for h in hits if h.pk in shown)
    found = list(dict.fromkeys(found))[:SNIPPET_RESULTS]
    if not found:
        return []
    anchor = model._meta.model_name
    return [
        {
            "object": item,
            "url": f"{listing_page.url}#{anchor}-{item.pk}" if listing_page else None,
        }
        for item in found
    ]


def _pages_listing(site, *block_types):
    """For each block type, the first live public page of the site whose body holds one (e.g.
    the Laws page for "statutes"), reading the pages once."""
    return remembered(
        ("pages-listing", site.pk, get_language(), block_types),
        lambda: _first_pages_holding(site, block_types),
    )


def _first_pages_holding(site, block_types):
    """_pages_listing, read: the page tree's, so remembered per site structure version."""
    found = {}
    home = home_tree_path(site)  # the home page in the page's language
    pages = TopicPage.objects.live().public().filter(path__startswith=home).exclude(path=home)
    for page in pages.order_by("path"):
        for child in page.body.raw_data:
            if child.get("type") in block_types:
                found.setdefault(child["type"], page)
        if len(found) == len(block_types):
            break
    return found


def _search(site, query):
    """The site's pages, statutes and organizations matching a query, in the page's language."""
    results = Page.objects.none()
    words = query.replace("§", " ").strip()
    if words:
        # The site's pages in the language of the search page (/es/search/: Spanish).
        pages = Page.objects.live().public().filter(path__startswith=home_tree_path(site))
        results = pages.specific().search(words)
    listing = _pages_listing(site, "statutes", "organizations")
    statutes = _snippet_results(Statute, site, query, listing.get("statutes"))
    organizations = _snippet_results(Organization, site, query, listing.get("organizations"))
    return results, statutes, organizations


def _found(results, statutes, organizations):
    return bool(statutes or organizations or results.count())


def _search_again(site, query):
    """When nothing matched: the query in the words the language's pages use (a synonym of the
    list, then a misspelt word corrected towards that language's own words)."""
    for attempt in (with_synonyms(query), corrected(query)):
        if attempt:
            found = _search(site, attempt)
            if not _found(*found) and with_synonyms(attempt):
                attempt = with_synonyms(attempt)
                found = _search(site, attempt)
            if _found(*found):
                return attempt, found
    return None, None


@require_safe
def search(request):
    # Runs of spaces are one space: the page cache keys a search by the query as read here.
    query = " ".join(request.GET.get("q", "").split())[:200]
    site = Site.find_for_request(request)
    results = Page.objects.none()
    statutes = organizations = []
    searched_for = None
    if query and site is not None:
        results, statutes, organizations = _search(site, query)
        if not _found(results, statutes, organizations):
            # Nothing matched: perhaps a word is misspelt ("trafficing") or not the pages' own.
            searched_for, found = _search_again(site, query)
            if found:
                results, statutes, organizations = found
    page = Paginator(results, 10).get_page(request.GET.get("page"))
    return render(
        request,
        "pages/search.html",
        {
            "query": query,
            "searched_for": searched_for,
            "results": page,
            "statutes": statutes,
            "organizations": organizations,
            "total": page.paginator.count + len(statutes) + len(organizations),
        },
    )


@require_safe
def robots_txt(request):
    # The site's configured address, never the request's host, port or scheme.
    site = Site.find_for_request(request)
    root = site.root_url if site is not None else ""
    lines = ["User-agent: *", "Disallow: /admin/", f"Sitemap: {root}{reverse('sitemap')}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def favicon(request):
    """The site's icon where browsers look for it first, /favicon.ico, from its static files."""
    found = finders.find("favicon.ico")
    if not found:
        raise Http404("No favicon.")
    response = FileResponse(open(found, "rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def site_pages(site):
    """The live public pages of a site in every language (each translation of its home page is
    a root of its own)."""
    under_a_root = Q()
    for root in site.root_page.get_translations(inclusive=True):
        under_a_root |= Q(path__startswith=root.path)
    return Page.objects.live().public().filter(under_a_root)


class PagesSitemap(Sitemap):
    """Every live public page of the site in every language: Wagtail's own sitemap lists the
    tree under the site's root page only, and each translation of the home page is a sibling
    of it (English at /, Spanish under /es/)."""

    def items(self):
        return site_pages(self.get_wagtail_site()).order_by("path").defer_streamfields().specific()


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
