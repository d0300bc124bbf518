"""Wagtail's page serving, routed from the site's home page in the request's language without
looking the home page's translation up on every request.

Wagtail's `serve` routes from `site.root_page.localized`: a query for the active Locale, and in
any language but the default one a query for the home page's translation, so a Spanish page
cost one query more than its English page. The site's home page in each language is site
structure (Wagtail's own site root paths hold its address): its id and page type are
remembered per structure version (portal.memo.remembered), so routing costs the same in every
language. The rest is Wagtail's view as it is: its hooks, then the page's own serve.
"""

from django.http import Http404, HttpResponse
from django.utils.translation import get_language
from wagtail import hooks
from wagtail.models import Page, Site

from portal.memo import remembered


def _home_pages(site):
    """{language code: (page id, specific model, tree path)} of a site's home page in each
    language it is published in (a draft translation is not routed to, as in Wagtail's
    `localized`)."""
    roots = [r for r in Site.get_site_root_paths() if r.site_id == site.pk]
    pages = Page.objects.filter(url_path__in=[r.root_path for r in roots])
    by_path = {
        p.url_path: (p.pk, p.specific_class or Page, p.path)
        for p in pages
        if p.live or p.pk == site.root_page_id
    }
    return {r.language_code: by_path[r.root_path] for r in roots if r.root_path in by_path}


def _home(site):
    homes = remembered(("home-pages", site.pk), lambda: _home_pages(site))
    return homes.get(get_language())


def home_page(site):
    """The site's home page in the active language (else its own root page), specific: one
    query, in every language alike."""
    found = _home(site)
    if found is None:
        return site.root_page.specific
    pk, model, _path = found
    return model.objects.get(pk=pk)


def home_tree_path(site):
    """The tree path (`Page.path`) of the site's home page in the active language, for a
    filter on its descendants (`path__startswith`): no query once remembered."""
    found = _home(site)
    return found[2] if found is not None else site.root_page.path


def _target(request, site, path):
    """(id, type) of the page a path routes to when the route takes no arguments (no page
    here is routable), else None; Http404 when it routes nowhere."""
    page, args, kwargs = home_page(site).route(request, [c for c in path.split("/") if c])
    return None if args or kwargs else (page.pk, type(page))


def route(request, site, path):
    """Wagtail's route from home_page() (its page, args and kwargs). Which page a path reaches
    is the page tree's: remembered per structure version, so a visit costs one query for the
    page itself (a path that routes nowhere is not remembered)."""
    found = remembered(
        ("route", site.pk, get_language(), path), lambda: _target(request, site, path)
    )
    if found is None:
        return home_page(site).route(request, [c for c in path.split("/") if c])
    pk, model = found
    return model.objects.get(pk=pk), [], {}


def serve(request, path):
    """wagtail.views.serve, routed by route()."""
    site = Site.find_for_request(request)
    if site is None:
        raise Http404
    page, args, kwargs = route(request, site, path)
    chain = _serve_chain
    for fn in reversed(hooks.get_hooks("on_serve_page")):
        chain = fn(chain)
    for fn in hooks.get_hooks("before_serve_page"):
        result = fn(page, request, args, kwargs)
        if isinstance(result, HttpResponse):
            return result
    return chain(page, request, args, kwargs)


def _serve_chain(page, request, args, kwargs):
    return page.serve(request, *args, **kwargs)
