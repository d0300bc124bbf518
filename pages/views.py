import re

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from wagtail.models import Page, Site
from wagtail.search.backends import get_search_backend

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
        found.extend(get_search_backend().search(words, items)[:SNIPPET_RESULTS])
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
    from .models import TopicPage

    found = {}
    for page in TopicPage.objects.live().public().descendant_of(site.root_page).order_by("path"):
        for child in page.body.raw_data:
            if child.get("type") in block_types:
                found.setdefault(child["type"], page)
        if len(found) == len(block_types):
            break
    return found


@require_GET
def search(request):
    from resources.models import Organization, Statute

    query = request.GET.get("q", "").strip()[:200]
    site = Site.find_for_request(request)
    results = Page.objects.none()
    statutes = organizations = []
    if query and site is not None:
        words = query.replace("§", " ").strip()
        if words:
            pages = Page.objects.live().public().descendant_of(site.root_page, inclusive=True)
            results = pages.specific().search(words)
        listing = _pages_listing(site, "statutes", "organizations")
        statutes = _snippet_results(Statute, site, query, listing.get("statutes"))
        organizations = _snippet_results(Organization, site, query, listing.get("organizations"))
    page = Paginator(results, 10).get_page(request.GET.get("page"))
    return render(
        request,
        "pages/search.html",
        {
            "query": query,
            "results": page,
            "statutes": statutes,
            "organizations": organizations,
            "total": page.paginator.count + len(statutes) + len(organizations),
        },
    )


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
